"""A simple exact matcher to score beside chachong: runs of 20 identical characters (whitespace ignored).

Every 20-character run of a submission is looked up in a sorted array of the corpus's 20-gram
hashes; hits on the same diagonal of the same source are chained into runs, and runs close on both
sides are merged into one detection.  It scores well on verbatim copies and near zero on heavy edits.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from benchmarks.quality.kgrams import hashes, strip_whitespace

MAX_POSTINGS = 20  # a gram found in more places than this is boilerplate: skipped
MERGE_GAP = 10  # content characters between two runs on the submission side that still join them
MERGE_SOURCE_GAP = 50


class Hit(NamedTuple):
    """A reported passage: [start, end) in the submission, the source label and [start, end) there."""

    susp_start: int
    susp_end: int
    src_label: str
    src_start: int
    src_end: int
    kind: str = "copied"


class ExactMatcher:
    """Index of k-gram hashes over source documents, scanned by exact lookup."""

    name = "exact-20"

    def __init__(self, k: int = 20):
        self.k = k
        self.labels: list[str] = []
        self.offsets: list[np.ndarray] = []
        self._parts: list[tuple] = []
        self._sorted = None

    def add(self, label: str, text: str) -> None:
        content, offsets = strip_whitespace(text)
        grams = hashes(content, self.k)
        doc = len(self.labels)
        self.labels.append(label)
        self.offsets.append(offsets)
        self._parts.append((grams, np.full(len(grams), doc, np.int64), np.arange(len(grams), dtype=np.int64)))
        self._sorted = None

    def _index(self) -> tuple:
        if self._sorted is None:
            grams, docs, positions = (np.concatenate(p) for p in zip(*self._parts)) if self._parts else (np.zeros(0, np.uint64),) * 3
            order = np.argsort(grams, kind="stable")
            self._sorted = (grams[order], docs[order], positions[order])
        return self._sorted

    def _matches(self, grams: np.ndarray) -> np.ndarray:
        """Rows (submission position, source doc, source position) of every gram hit."""
        values, docs, positions = self._index()
        low = np.searchsorted(values, grams, "left")
        high = np.searchsorted(values, grams, "right")
        counts = np.where(high - low <= MAX_POSTINGS, high - low, 0)
        sub = np.repeat(np.arange(len(grams)), counts)
        firsts = np.repeat(low, counts)
        within = np.arange(len(sub)) - np.repeat(np.cumsum(counts) - counts, counts)
        where = firsts + within
        return np.stack([sub, docs[where], positions[where]], axis=1) if len(sub) else np.zeros((0, 3), np.int64)

    def _runs(self, matches: np.ndarray) -> list[tuple]:
        """Chains of hits on one diagonal of one source: (doc, sub start, sub end, src start, src end)."""
        if not len(matches):
            return []
        sub, doc, pos = matches.T
        diagonal = pos - sub
        order = np.lexsort((sub, diagonal, doc))
        sub, doc, diagonal = sub[order], doc[order], diagonal[order]
        breaks = np.flatnonzero((np.diff(sub) != 1) | (np.diff(doc) != 0) | (np.diff(diagonal) != 0)) + 1
        starts = np.concatenate(([0], breaks))
        ends = np.concatenate((breaks, [len(sub)])) - 1
        return [
            (int(doc[a]), int(sub[a]), int(sub[b]) + self.k, int(sub[a] + diagonal[a]), int(sub[b] + diagonal[b]) + self.k)
            for a, b in zip(starts, ends)
        ]

    @staticmethod
    def _merge(runs: list[tuple]) -> list[list]:
        merged: list[list] = []
        for run in sorted(runs):
            last = merged[-1] if merged else None
            if last and last[0] == run[0] and run[1] <= last[2] + MERGE_GAP and last[3] - MERGE_SOURCE_GAP <= run[3] <= last[4] + MERGE_SOURCE_GAP:
                last[2], last[3], last[4] = max(last[2], run[2]), min(last[3], run[3]), max(last[4], run[4])
            else:
                merged.append(list(run))
        return merged

    def scan(self, text: str) -> list[Hit]:
        """Exact runs of k or more characters shared with an indexed document, in original offsets."""
        content, offsets = strip_whitespace(text)
        runs = self._runs(self._matches(hashes(content, self.k)))
        hits = []
        for doc, a, b, c, d in self._merge(runs):
            source = self.offsets[doc]
            hits.append(Hit(int(offsets[a]), int(offsets[b - 1]) + 1, self.labels[doc], int(source[c]), int(source[d - 1]) + 1))
        return hits

    def close(self) -> None:
        pass
