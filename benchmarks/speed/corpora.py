"""Deterministic benchmark corpora and submissions built from the real news corpus in ../shared/corpora.

Two kinds of corpus document, both streamed:

* ``items``   — single news items in file order (~580 characters each; at most 19,876 exist);
* ``reports`` — report-length documents (~5,000 characters): first every day's items joined and cut at
  item boundaries (~2,300 real documents), then *composed* documents, each a collage of runs of 1–8
  consecutive sentences drawn from the whole news corpus with a per-document random generator. A corpus
  of n reports is the prefix of length n of this one sequence, so 10^3 ⊂ 10^4 ⊂ 2×10^4 ⊂ 10^5.

Composed documents are distinct collages, but every news sentence recurs in about
(corpus characters / 11.5 M) of them: at 10^5 reports each sentence is carried by ~40 documents. That is
a realistic load for a template archive and an unfavourable one for an index without sentence dedup.

Submissions are ~5,000-character documents of new text (sentences of the government work reports in
``cn-gov-reports.jsonl.gz``, which the news corpus does not contain) with verbatim passages copied from
corpus documents planted in them; each planted passage records its spans.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import re
from pathlib import Path
from typing import Iterable, Iterator, Optional

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CORPORA_DIR = Path(os.environ.get("CHACHONG_CORPORA", REPO.parent / "shared" / "corpora"))
NEWS = CORPORA_DIR / "xwlb-news.jsonl.gz"
GOV = CORPORA_DIR / "cn-gov-reports.jsonl.gz"
NEWS_ITEMS = 19_876
REPORT_CHARS = 5_000  # target length of a report-length document
SEED = 20240303
KINDS = ("items", "reports")
_SENTENCE_END = re.compile(r"[。！？!?；]+[”’」』）)]*|\n+")


@dataclasses.dataclass(frozen=True)
class CorpusDoc:
    """One corpus document: a stable label (used as its path) and its text."""

    label: str
    text: str


@dataclasses.dataclass(frozen=True)
class Plant:
    """A verbatim copy planted in a submission: where it sits and where it came from."""

    start: int  # [start, end) in the submission
    end: int
    source_label: str
    source_start: int  # [start, end) in the source document
    source_end: int


@dataclasses.dataclass(frozen=True)
class Submission:
    """A document to scan, with the planted copies it contains."""

    name: str
    text: str
    plants: tuple


def skip_reason() -> Optional[str]:
    """Why the corpus benchmarks cannot run here, or None when the corpora are present."""
    missing = [str(p) for p in (NEWS, GOV) if not p.is_file()]
    return f"corpora absent: {', '.join(missing)}" if missing else None


def _jsonl(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def news_items() -> Iterator[dict]:
    """The news items in file order (date order), streamed."""
    return _jsonl(NEWS)


def item_docs(n: int) -> Iterator[CorpusDoc]:
    """The first n single news items (all 19,876 when n is larger)."""
    for count, item in enumerate(news_items()):
        if count >= n:
            return
        yield CorpusDoc(f"news/{item['id']}.txt", item["text"])


def _days() -> Iterator[tuple[str, list]]:
    """(date, texts of that day's items), streamed: only one day is held at a time."""
    date, texts = None, []
    for item in news_items():
        if item["date"] != date and texts:
            yield date, texts
            texts = []
        date = item["date"]
        texts.append(item["text"])
    if texts:
        yield date, texts


def _cut_day(texts: list) -> list:
    """Join a day's items into ~REPORT_CHARS pieces at item boundaries; a short tail joins the last piece."""
    pieces, current = [], []
    for text in texts:
        current.append(text)
        if sum(map(len, current)) >= REPORT_CHARS * 0.9:
            pieces.append("\n".join(current))
            current = []
    if current:
        tail = "\n".join(current)
        if pieces and len(tail) < REPORT_CHARS * 0.3:
            pieces[-1] += "\n" + tail
        else:
            pieces.append(tail)
    return pieces


def day_docs() -> Iterator[CorpusDoc]:
    """Real report-length documents: each day's news joined and cut into ~5,000-character pieces."""
    for date, texts in _days():
        for part, text in enumerate(_cut_day(texts)):
            yield CorpusDoc(f"day/{date}-{part}.txt", text)


class SentencePool:
    """All news text as one string plus sentence boundaries: ~25 MB, what composing documents needs."""

    def __init__(self):
        self.text = "\n".join(item["text"] for item in news_items())
        ends = [m.end() for m in _SENTENCE_END.finditer(self.text)]
        self.bounds = np.array([0] + ends + ([len(self.text)] if ends[-1] != len(self.text) else []))

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def run(self, first: int, count: int) -> str:
        """The text of `count` consecutive sentences starting at sentence `first`."""
        last = min(first + count, len(self))
        return self.text[self.bounds[first]:self.bounds[last]].strip()


def composed_doc(pool: SentencePool, number: int) -> CorpusDoc:
    """Composed report number `number`: the same text on every run, independent of the others."""
    rng = np.random.default_rng((SEED, number))
    target = int(rng.integers(REPORT_CHARS * 8 // 10, REPORT_CHARS * 12 // 10))
    parts, length = [], 0
    while length < target:
        run = pool.run(int(rng.integers(0, len(pool))), int(rng.integers(1, 9)))
        parts.append(run)
        length += len(run) + 1
    return CorpusDoc(f"composed/{number:06d}.txt", "\n".join(parts))


def report_docs(n: int, pool: Optional[SentencePool] = None) -> Iterator[CorpusDoc]:
    """The first n report-length documents: real day documents first, then composed ones."""
    count = 0
    for doc in day_docs():
        if count >= n:
            return
        yield doc
        count += 1
    pool = pool or SentencePool()
    for number in range(n - count):
        yield composed_doc(pool, number)


def corpus_docs(kind: str, n: int) -> Iterator[CorpusDoc]:
    """The first n documents of a corpus kind ('items' or 'reports')."""
    if kind not in KINDS:
        raise ValueError(f"corpus kind must be one of {KINDS}")
    return item_docs(n) if kind == "items" else report_docs(n)


def corpus_size(kind: str, n: int) -> int:
    """How many documents a corpus of n requested documents really holds (items stop at 19,876)."""
    return min(n, NEWS_ITEMS) if kind == "items" else n


# ---------------------------------------------------------------- submissions


def filler_sentences(limit: int = 20_000) -> list:
    """New text for submissions: sentences of government work reports (not in the news corpus)."""
    sentences = []
    for record in _jsonl(GOV):
        if record.get("kind") != "government_work_report":
            continue
        body = record["text"][: int(len(record["text"]) * 0.95)]  # drop the library's trailing notice
        sentences.extend(s.strip() for s in _split_sentences(body) if len(s.strip()) >= 8)
        if len(sentences) >= limit:
            break
    return sentences


def _split_sentences(text: str) -> list:
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[start:match.end()])
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _sentence_spans(text: str) -> list:
    """(start, end) of each sentence of a document, end punctuation included, blank lines skipped."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if text[start:match.end()].strip():
            spans.append((start, match.end()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _pick_passage(doc: CorpusDoc, rng, want: int) -> tuple:
    """A run of whole sentences of about `want` characters from a document: (start, end)."""
    spans = _sentence_spans(doc.text)
    first = int(rng.integers(0, len(spans)))
    last = first
    while last + 1 < len(spans) and spans[last][1] - spans[first][0] < want:
        last += 1
    while first > 0 and spans[last][1] - spans[first][0] < want:  # reached the end: grow backwards
        first -= 1
    start, end = spans[first][0], spans[last][1]
    while doc.text[start].isspace():
        start += 1
    while doc.text[end - 1].isspace():
        end -= 1
    return start, end


PASSAGE_LENGTHS = ((30, 80), (150, 400), (500, 1200))  # one sentence, a paragraph, several paragraphs


def make_submission(name: str, sources: list, filler: list, rng, chars: int = REPORT_CHARS) -> Submission:
    """~`chars` characters of new text with one verbatim passage of each PASSAGE_LENGTHS band planted,
    the i-th band copied from sources[i]."""
    copies = []
    for doc, (low, high) in zip(sources, PASSAGE_LENGTHS):
        start, end = _pick_passage(doc, rng, int(rng.integers(low, high)))
        copies.append((doc, start, end))
    budget = chars - sum(end - start for _, start, end in copies)
    pieces = _filler_run(filler, rng, budget)
    slots = sorted(rng.choice(len(pieces) + 1, size=len(copies), replace=False))
    return _assemble(name, pieces, copies, slots)


def _filler_run(filler: list, rng, budget: int) -> list:
    """Consecutive filler sentences (a coherent stretch of one report) adding up to `budget` characters."""
    first = int(rng.integers(0, len(filler)))
    pieces, length = [], 0
    while length < budget:
        pieces.append(filler[(first + len(pieces)) % len(filler)])
        length += len(pieces[-1])
    return pieces


def _assemble(name: str, pieces: list, copies: list, slots: list) -> Submission:
    parts, plants, length = [], [], 0
    copy_at = dict(zip(slots, copies))
    for position in range(len(pieces) + 1):
        if position in copy_at:
            doc, start, end = copy_at[position]
            text = "\n" + doc.text[start:end] + "\n"
            plants.append(Plant(length + 1, length + len(text) - 1, doc.label, start, end))
            parts.append(text)
            length += len(text)
        if position < len(pieces):
            parts.append(pieces[position])
            length += len(pieces[position])
    return Submission(name, "".join(parts), tuple(plants))


def make_submissions(sources: list, count: int, seed: int = SEED) -> list:
    """`count` submissions copying from `sources` (corpus documents; each used once while there are
    enough, len(PASSAGE_LENGTHS) per submission), deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    filler = filler_sentences()
    per = len(PASSAGE_LENGTHS)
    picks = [[sources[(number * per + i) % len(sources)] for i in range(per)] for number in range(count)]
    return [make_submission(f"sub{number:03d}.txt", pick, filler, rng) for number, pick in enumerate(picks)]


def source_indices(n: int, count: int, seed: int = SEED) -> list:
    """Which of a corpus's n documents the submissions copy from (spread over the whole corpus)."""
    rng = np.random.default_rng((seed, n))
    return sorted(int(i) for i in rng.choice(n, size=min(count, n), replace=False))


def tap(docs: Iterable[CorpusDoc], wanted: list, into: list) -> Iterator[CorpusDoc]:
    """Pass documents through, keeping those at the `wanted` positions in `into` (to plant from later)."""
    wanted_set = set(wanted)
    for position, doc in enumerate(docs):
        if position in wanted_set:
            into.append(doc)
        yield doc
