"""Vectorised k-gram hashing of text with whitespace removed, and offset maps back to the original.

Shared by the generator (is a planted passage unique to its source?), the natural test (which
characters two reports share in runs of k or more) and the exact-match baseline.
"""

from __future__ import annotations

import re

import numpy as np

_BASE = np.uint64(0x100000001B3)  # odd multiplier; arithmetic wraps modulo 2**64
_WHITESPACE = re.compile(r"\s+")


def strip_whitespace(text: str) -> tuple[str, np.ndarray]:
    """Text without whitespace, and for each kept character its offset in `text`."""
    keep = [i for i, ch in enumerate(text) if not ch.isspace()]
    return "".join(text[i] for i in keep), np.asarray(keep, dtype=np.int64)


def codes(text: str) -> np.ndarray:
    """Unicode code points as uint64."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def hashes(text: str, k: int) -> np.ndarray:
    """Polynomial hash of every k-gram of `text` (empty when the text is shorter than k)."""
    points = codes(text)
    count = len(points) - k + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    value = np.zeros(count, dtype=np.uint64)
    for j in range(k):
        value = value * _BASE + points[j : j + count]
    return value


def covered_by_grams(hit: np.ndarray, k: int, length: int) -> np.ndarray:
    """Boolean mask of characters covered by the k-grams starting where `hit` is true."""
    marks = np.zeros(length + 1, dtype=np.int64)
    starts = np.flatnonzero(hit)
    np.add.at(marks, starts, 1)
    np.add.at(marks, starts + k, -1)
    return np.cumsum(marks[:length]) > 0


def shared_mask(a: str, b: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Characters of `a` and of `b` lying in a common substring of k or more characters."""
    ha, hb = hashes(a, k), hashes(b, k)
    in_b = np.isin(ha, hb)
    in_a = np.isin(hb, ha)
    return covered_by_grams(in_b, k, len(a)), covered_by_grams(in_a, k, len(b))


def mask_to_spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of true values as [start, end) spans."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2])]


class GramIndex:
    """Which k-grams occur in which documents of a collection (for uniqueness checks)."""

    def __init__(self, texts: list[str], k: int):
        self.k = k
        per_doc = [np.unique(hashes(_WHITESPACE.sub("", t), k)) for t in texts]
        doc_ids = np.concatenate([np.full(len(h), i, dtype=np.int64) for i, h in enumerate(per_doc)] or [np.zeros(0, np.int64)])
        every = np.concatenate(per_doc) if per_doc else np.zeros(0, np.uint64)
        values, first, counts = np.unique(every, return_index=True, return_counts=True)
        self._values = values
        self._counts = counts
        self._owner = doc_ids[first]  # a document holding the gram (the only one when counts == 1)

    def _lookup(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        grams = hashes(_WHITESPACE.sub("", text), self.k)
        where = np.searchsorted(self._values, grams)
        where = np.minimum(where, max(len(self._values) - 1, 0))
        found = (self._values[where] == grams) if len(self._values) else np.zeros(len(grams), bool)
        return where, found

    def shared_fraction(self, text: str, home: int) -> float:
        """Share of the text's k-grams that also occur in a document other than `home`."""
        where, found = self._lookup(text)
        if len(found) == 0:
            return 0.0
        elsewhere = found & ((self._counts[where] > 1) | (self._owner[where] != home))
        return float(elsewhere.mean())

    def any_present(self, text: str) -> bool:
        """Does any k-gram of the text occur anywhere in the collection?"""
        _, found = self._lookup(text)
        return bool(found.any())
