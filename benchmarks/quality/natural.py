"""The natural test: real reuse nobody planted, between consecutive government work reports and
between consecutive NPC resolutions approving them (cn-gov-reports.jsonl.gz).

For each pair (older, newer) the ground truth is every character lying in an exact common substring
of 30 or more characters, whitespace removed (k-gram hashing, kgrams.shared_mask).  The older text
is the whole corpus; the newer is scanned.  Measured, in characters pooled over pairs:
recall = shared characters reported / shared characters, and inside = reported characters that are
shared / reported characters — on the scanned side (and the source side, for information).
The public-domain notice that closes most records is cut off first: it is boilerplate of the
library the texts come from, neither reuse nor content.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from benchmarks.quality import sources
from benchmarks.quality.kgrams import shared_mask, strip_whitespace

MIN_SHARED = 30
LOOSE_SHARED = 13  # CNKI's rule of thumb: 13 identical characters count as reuse
MAX_YEAR_GAP = 2  # 2019 → 2021 are neighbours (no 2020 report in the corpus)
NOTICE = "\n本作品"


@dataclasses.dataclass
class Pair:
    group: str  # work_report | resolution
    older: dict
    newer: dict


@dataclasses.dataclass
class Tally:
    """Characters pooled over pairs, on one side."""

    truth: int = 0
    reported: int = 0
    found: int = 0  # reported and in the truth
    found_loose: int = 0  # reported and in a common run of LOOSE_SHARED+ characters (for context)

    def add(self, truth: np.ndarray, reported: np.ndarray, loose: np.ndarray) -> None:
        self.truth += int(truth.sum())
        self.reported += int(reported.sum())
        self.found += int((truth & reported).sum())
        self.found_loose += int((loose & reported).sum())

    @property
    def inside_loose(self) -> float:
        return self.found_loose / self.reported if self.reported else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.truth if self.truth else 1.0

    @property
    def inside(self) -> float:
        return self.found / self.reported if self.reported else 1.0


def body(text: str) -> str:
    """The record without the closing public-domain notice."""
    cut = text.rfind(NOTICE)
    return text[:cut].rstrip() if cut > 0 else text


def pairs(records: list[dict]) -> list[Pair]:
    """Neighbouring work reports by year, and neighbouring resolutions by record order."""
    reports = sorted((dict(r, year=int(r["year"])) for r in records if r.get("year")), key=lambda r: r["year"])
    found = [Pair("work_report", a, b) for a, b in zip(reports, reports[1:]) if b["year"] - a["year"] <= MAX_YEAR_GAP]
    resolutions = [(i, r) for i, r in enumerate(records) if r.get("year") is None and "决议" in r["title"]]
    # records run from the newest backwards: the later record of two neighbours is the older text
    found += [Pair("resolution", b, a) for (i, a), (j, b) in zip(resolutions, resolutions[1:]) if j - i <= 3]
    return found


def truth_masks(older: str, newer: str, k: int = MIN_SHARED) -> tuple[np.ndarray, np.ndarray]:
    """Per original character of each text: does it lie in a shared run of k or more characters?"""
    (a, a_offsets), (b, b_offsets) = strip_whitespace(older), strip_whitespace(newer)
    in_a, in_b = shared_mask(a, b, k)
    return _to_original(in_a, a_offsets, len(older)), _to_original(in_b, b_offsets, len(newer))


def _to_original(content_mask: np.ndarray, offsets: np.ndarray, length: int) -> np.ndarray:
    mask = np.zeros(length, dtype=bool)
    mask[offsets[content_mask]] = True
    return mask


def span_mask(text: str, spans: list[tuple[int, int]]) -> np.ndarray:
    """Non-whitespace characters of `text` covered by the spans."""
    mask = np.zeros(len(text), dtype=bool)
    for start, end in spans:
        mask[start:end] = True
    return mask & ~np.array([ch.isspace() for ch in text], dtype=bool)


def run_pair(system_factory, pair: Pair) -> tuple[tuple, tuple]:
    """(truth, reported, loose truth) masks of the newer text and of the older text for one pair."""
    older, newer = body(pair.older["text"]), body(pair.newer["text"])
    truth_old, truth_new = truth_masks(older, newer)
    loose_old, loose_new = truth_masks(older, newer, LOOSE_SHARED)
    label = f"gov/{pair.older['id']}.txt"
    system = system_factory()
    try:
        system.add_many([(label, older, pair.older.get("year"))])
        hits = [h for h in system.scan(newer, f"gov/{pair.newer['id']}.txt") if h.src_label == label]
    finally:
        system.close()
    reported_new = span_mask(newer, [(h.susp_start, h.susp_end) for h in hits])
    reported_old = span_mask(older, [(h.src_start, h.src_end) for h in hits])
    return (truth_new, reported_new, loose_new), (truth_old, reported_old, loose_old)


def evaluate(system_factory, selected: list[Pair] | None = None) -> dict:
    """{group: {"scanned": Tally, "source": Tally}} including "all", for one system."""
    selected = pairs(sources.gov_records()) if selected is None else selected
    tallies: dict = {group: {"scanned": Tally(), "source": Tally(), "pairs": 0} for group in ("work_report", "resolution", "all")}
    for pair in selected:
        scanned, source = run_pair(system_factory, pair)
        for group in (pair.group, "all"):
            sides = tallies[group]
            sides["scanned"].add(*scanned)
            sides["source"].add(*source)
            sides["pairs"] += 1
    return tallies
