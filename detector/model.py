"""Typed records that flow through the pipeline: documents, segments, passages and reports."""

from __future__ import annotations

import dataclasses
from typing import Optional

from detector.paths import shown

KINDS = ("copied", "template", "self_reuse", "formula", "quotation")
COUNTED_KINDS = ("copied", "template", "self_reuse")  # kinds that count toward the copy ratio
MEETINGS = ("民主生活会", "组织生活会", "other")


@dataclasses.dataclass
class DocumentMeta:
    """Who wrote a document and when; every field may be unknown."""

    author: Optional[str] = None
    unit: Optional[str] = None
    year: Optional[int] = None
    meeting: Optional[str] = None
    team: Optional[bool] = None
    inferred: tuple = ()  # names of the fields above that were guessed from the text or file name

    def as_dict(self) -> dict:
        return {"author": self.author, "unit": self.unit, "year": self.year, "meeting": self.meeting,
                "team": self.team, "inferred": list(self.inferred)}


@dataclasses.dataclass
class Document:
    """A report as read from a file: the decoded original text is what every span points into."""

    path: str
    text: str
    sha256: str
    encoding: str
    format: str = "txt"
    meta: DocumentMeta = dataclasses.field(default_factory=DocumentMeta)
    id: Optional[int] = None  # row id once stored in a corpus

    @property
    def chars(self) -> int:
        return len(self.text)


@dataclasses.dataclass
class Segment:
    """A sentence or clause: its span in the original text and its normalised content for matching."""

    index: int
    start: int  # [start, end) in the original text
    end: int
    content: str  # normalised content characters (punctuation and spaces removed)
    content_offsets: tuple = ()  # normalised-text index of each content character
    sentence: int = 0  # index of the sentence this segment belongs to (clauses of one sentence share it)


@dataclasses.dataclass
class SourceRef:
    """The document a passage was found in, as the JSON contract names it."""

    path: str
    author: Optional[str] = None
    unit: Optional[str] = None
    year: Optional[int] = None
    doc_id: Optional[int] = None
    meeting: Optional[str] = None
    team: Optional[bool] = None

    def as_dict(self) -> dict:
        return {"path": shown(self.path), "author": self.author, "unit": self.unit, "year": self.year,
                "meeting": self.meeting, "team": self.team}


@dataclasses.dataclass
class Passage:
    """A stretch of the submission that reuses a stretch of one source document."""

    kind: str
    source: SourceRef
    submission_span: tuple  # [start, end) in the submission's original text
    source_span: tuple  # [start, end) in the source's original text
    similarity: float
    matched_chars: int = 0  # normalised characters of the submission that match the source
    document_count: int = 1  # corpus documents found carrying this passage among those verified (a lower bound for boilerplate)
    other_sources: list = dataclasses.field(default_factory=list)  # SourceRef of other carriers
    submission_text: str = ""
    source_text: str = ""
    unit_count: int = 0  # distinct units among the carrying documents (template evidence)
    year_count: int = 0  # distinct years among the carrying documents
    earliest_year: Optional[int] = None  # earliest year a carrying document was written
    years: Optional[str] = None  # self_reuse: "2022 → 2024" (source year → submission year)
    cited: Optional[str] = None  # quotation: whom the report cites (习近平总书记, 《党章》 …)

    @property
    def length(self) -> int:
        return self.submission_span[1] - self.submission_span[0]


@dataclasses.dataclass
class SourceShare:
    """One source document of a submission's counted passages, with the share of the submission it supplied."""

    source: SourceRef
    kind: str  # the kind of most of its characters
    chars: int  # counted characters of the submission taken from it
    share: float  # chars / counted characters of the submission
    passages: int
    years: Optional[str] = None  # "2022 → 2024" when it is the author's own earlier report


@dataclasses.dataclass
class SectionMeasure:
    """The measures over one section of a report (问题 / 原因 / 措施 …)."""

    name: str  # problems, causes, measures, opening, other, unsectioned
    label: str  # the Chinese name users know
    spans: list  # [start, end) ranges of the original text that belong to it
    metrics: dict


@dataclasses.dataclass
class TemplateTrace:
    """A watermark or paywall marker a template site left in the text: evidence of where it came from."""

    span: tuple  # [start, end) in the original text
    text: str


@dataclasses.dataclass
class Report:
    """Everything found for one submission."""

    submission: Document
    passages: list
    metrics: dict
    error: Optional[str] = None
    not_scanned: bool = False  # read, but the store stopped answering before its turn (`error` says so)
    sources: list = dataclasses.field(default_factory=list)  # SourceShare, largest first
    sections: list = dataclasses.field(default_factory=list)  # SectionMeasure in text order
    template_traces: list = dataclasses.field(default_factory=list)  # TemplateTrace in text order
    capped_sources: list = dataclasses.field(default_factory=list)  # paths of sources aligned only around their matches
