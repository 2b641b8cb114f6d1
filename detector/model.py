"""Typed records that flow through the pipeline: documents, segments, passages and reports."""

from __future__ import annotations

import dataclasses
from typing import Optional

KINDS = ("copied", "template", "self_reuse", "formula", "quotation")
COUNTED_KINDS = ("copied", "template", "self_reuse")  # kinds that count toward the copy ratio


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
        return {"author": self.author, "unit": self.unit, "year": self.year}


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


@dataclasses.dataclass
class SourceRef:
    """The document a passage was found in, as the JSON contract names it."""

    path: str
    author: Optional[str] = None
    unit: Optional[str] = None
    year: Optional[int] = None
    doc_id: Optional[int] = None

    def as_dict(self) -> dict:
        return {"path": self.path, "author": self.author, "unit": self.unit, "year": self.year}


@dataclasses.dataclass
class Passage:
    """A stretch of the submission that reuses a stretch of one source document."""

    kind: str
    source: SourceRef
    submission_span: tuple  # [start, end) in the submission's original text
    source_span: tuple  # [start, end) in the source's original text
    similarity: float
    matched_chars: int = 0  # normalised characters of the submission that match the source
    document_count: int = 1  # corpus documents that carry this passage
    other_sources: list = dataclasses.field(default_factory=list)  # SourceRef of other carriers
    submission_text: str = ""
    source_text: str = ""

    @property
    def length(self) -> int:
        return self.submission_span[1] - self.submission_span[0]


@dataclasses.dataclass
class Report:
    """Everything found for one submission."""

    submission: Document
    passages: list
    metrics: dict
    error: Optional[str] = None
