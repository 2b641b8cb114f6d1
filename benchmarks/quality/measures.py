"""The PAN text-alignment measures (Potthast et al. 2010, 2014) on character sets in both documents.

A case (ground truth) and a detection are both an `Alignment`: a span of a suspicious document and a
span of a source document.  Each stands for a set of characters: its suspicious-side characters plus
its source-side characters.  A detection *detects* a case when both name the same document pair and
their spans overlap on both sides; only then do their characters count as shared (s ⊓ r).

    precision = mean over detections r of |∪_s (s ⊓ r)| / |r|
    recall    = mean over cases s      of |∪_r (s ⊓ r)| / |s|
    granularity = mean over detected cases s of the number of detections that detect s
    plagdet   = F1 / log2(1 + granularity)

Empty sets: with no detections precision is 1 (nothing wrong was claimed); with no cases recall is 1
(nothing was there to find); granularity is 1 when no case is detected.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Iterable, NamedTuple


class Alignment(NamedTuple):
    """A case or a detection: [start, end) spans in a suspicious and in a source document."""

    susp_doc: str
    susp_start: int
    susp_end: int
    src_doc: str
    src_start: int
    src_end: int

    @property
    def size(self) -> int:
        """Characters on both sides together."""
        return max(0, self.susp_end - self.susp_start) + max(0, self.src_end - self.src_start)


@dataclasses.dataclass(frozen=True)
class Scores:
    """The four PAN measures and the counts they were computed on."""

    precision: float
    recall: float
    granularity: float
    cases: int
    detections: int

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 0.0 if total == 0 else 2 * self.precision * self.recall / total

    @property
    def plagdet(self) -> float:
        return self.f1 / math.log2(1 + self.granularity)


def _overlaps(a: tuple, b: tuple) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def detects(detection: Alignment, case: Alignment) -> bool:
    """Same document pair and overlapping on both sides."""
    return (
        detection.susp_doc == case.susp_doc
        and detection.src_doc == case.src_doc
        and _overlaps((detection.susp_start, detection.susp_end), (case.susp_start, case.susp_end))
        and _overlaps((detection.src_start, detection.src_end), (case.src_start, case.src_end))
    )


def union_length(spans: Iterable[tuple]) -> int:
    """Characters covered by a collection of [start, end) spans."""
    covered, reach = 0, None
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if reach is None or start >= reach:
            covered += end - start
            reach = end
        elif end > reach:
            covered += end - reach
            reach = end
    return covered


def _clip(span: tuple, window: tuple) -> tuple:
    return (max(span[0], window[0]), min(span[1], window[1]))


def covered_within(target: Alignment, others: list) -> int:
    """|∪_o (target ∩ o)| in characters, counting both sides, for alignments `others`."""
    susp = [_clip((o.susp_start, o.susp_end), (target.susp_start, target.susp_end)) for o in others]
    src = [_clip((o.src_start, o.src_end), (target.src_start, target.src_end)) for o in others]
    return union_length(susp) + union_length(src)


def _by_pair(alignments: list) -> dict:
    groups: dict = {}
    for a in alignments:
        groups.setdefault((a.susp_doc, a.src_doc), []).append(a)
    return groups


def _matching(target: Alignment, pool: dict, case_side: bool) -> list:
    """Members of `pool` (grouped by document pair) that detect `target` / are detected by it."""
    candidates = pool.get((target.susp_doc, target.src_doc), [])
    if case_side:
        return [r for r in candidates if detects(r, target)]
    return [s for s in candidates if detects(target, s)]


def macro_precision(cases: list, detections: list) -> float:
    if not detections:
        return 1.0
    pool = _by_pair(cases)
    shares = [covered_within(r, _matching(r, pool, False)) / r.size for r in detections if r.size]
    return sum(shares) / len(detections)


def macro_recall(cases: list, detections: list) -> float:
    if not cases:
        return 1.0
    pool = _by_pair(detections)
    shares = [covered_within(s, _matching(s, pool, True)) / s.size for s in cases if s.size]
    return sum(shares) / len(cases)


def granularity(cases: list, detections: list) -> float:
    pool = _by_pair(detections)
    counts = [len(_matching(s, pool, True)) for s in cases]
    detected = [c for c in counts if c]
    return sum(detected) / len(detected) if detected else 1.0


def score(cases: list, detections: list) -> Scores:
    """All PAN measures for one set of cases and the detections made on the same documents."""
    return Scores(
        precision=macro_precision(cases, detections),
        recall=macro_recall(cases, detections),
        granularity=granularity(cases, detections),
        cases=len(cases),
        detections=len(detections),
    )
