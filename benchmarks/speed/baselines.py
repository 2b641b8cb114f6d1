"""The competitors chachong is measured against, each behind the same small engine interface.

* ``BruteForce13``   — CNKI's rule, every 13-character run of the submission looked up in every corpus
  document. At index time each document's 13-grams (raw text, no normalisation) are hashed to 64-bit
  polynomial values and kept as one sorted numpy array per document (8 bytes per corpus character); a scan
  hashes the submission's 13-grams and binary-searches them in *every* document's array in turn.
* ``BruteForceIn``   — the same rule written the most literal way: ``gram in document_text`` for every
  13-gram and every document. Linear in corpus size by construction, so it is timed on a prefix and
  extrapolated (the table says so).
* ``DatasketchLSH``  — datasketch's own in-memory ``MinHashLSH``: one ``MinHash()`` built the ordinary way
  (constructor + ``update_batch`` of UTF-8 bigrams, default sha1 hash) per segment, the same segments as
  chachong. Candidate retrieval only: datasketch neither verifies nor aligns.
* ``Copydetect``     — copydetect 0.5's winnowing fingerprints (``CodeFingerprint`` with filtering off, k=13,
  window 8 i.e. every shared run of ≥ 20 characters is guaranteed a hit) and its pairwise
  ``compare_files`` against every corpus document, which is how its ``CopyDetector`` works.

An engine has ``name``, ``build(docs)``, ``scan(text) -> list[Hit]`` and ``close()``.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Iterable

import numpy as np

from benchmarks.speed.corpora import CorpusDoc

GRAM = 13  # CNKI's reported rule: 13 consecutive identical characters
_POLY = np.uint64(0x100000001B3)


@dataclasses.dataclass(frozen=True)
class Hit:
    """A stretch [start, end) of the submission that an engine ties to a corpus document."""

    start: int
    end: int
    source: str


def runs(positions: np.ndarray, width: int) -> list:
    """Merge the starts of matching windows of `width` characters into [start, end) runs."""
    if len(positions) == 0:
        return []
    positions = np.sort(positions)
    breaks = np.nonzero(np.diff(positions) > width)[0]
    starts = np.concatenate([[positions[0]], positions[breaks + 1]])
    ends = np.concatenate([positions[breaks], [positions[-1]]]) + width
    return list(zip(starts.tolist(), ends.tolist()))


def gram_hashes(text: str, width: int = GRAM) -> np.ndarray:
    """64-bit polynomial hash of every `width`-character window of `text`, in text order."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    count = len(codes) - width + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    acc = np.zeros(count, dtype=np.uint64)
    for offset in range(width):
        acc = acc * _POLY + codes[offset:offset + count]  # uint64 wrap-around is the modulo
    return acc


class BruteForce13:
    """Every 13-gram of the submission against every document's sorted 13-gram hash array."""

    name = "brute-force 13-gram"

    def __init__(self):
        self.labels, self.grams = [], []

    def build(self, docs: Iterable[CorpusDoc]) -> None:
        for doc in docs:
            self.labels.append(doc.label)
            self.grams.append(np.unique(gram_hashes(doc.text)))

    def scan(self, text: str) -> list:
        in_order = gram_hashes(text)
        wanted = np.unique(in_order)  # sorted queries: binary searches that walk memory in order
        hits = []
        for label, grams in zip(self.labels, self.grams):
            if len(grams) == 0:
                continue
            found = grams[np.minimum(np.searchsorted(grams, wanted), len(grams) - 1)] == wanted
            if found.any():
                positions = np.nonzero(np.isin(in_order, wanted[found]))[0]
                hits.extend(Hit(a, b, label) for a, b in runs(positions, GRAM))
        return hits

    def memory_bytes(self) -> int:
        return sum(g.nbytes for g in self.grams)

    def close(self) -> None:
        self.labels, self.grams = [], []


class BruteForceIn:
    """The literal rule: `gram in text` for every 13-gram of the submission and every document."""

    name = "brute-force `in`"

    def __init__(self):
        self.docs = []

    def build(self, docs: Iterable[CorpusDoc]) -> None:
        self.docs.extend(docs)

    def scan(self, text: str) -> list:
        grams = [text[i:i + GRAM] for i in range(len(text) - GRAM + 1)]
        hits = []
        for doc in self.docs:
            body = doc.text
            found = np.array([i for i, gram in enumerate(grams) if gram in body], dtype=np.int64)
            hits.extend(Hit(a, b, doc.label) for a, b in runs(found, GRAM))
        return hits

    def close(self) -> None:
        self.docs = []


def segment_contents(text: str) -> list:
    """The normalised contents of chachong's segments of a text (so every engine matches the same units)."""
    from detector.normalize import normalize
    from detector.segment import segment
    from detector.settings import DEFAULT

    return [(s.start, s.end, s.content) for s in segment(normalize(text), DEFAULT)]


class DatasketchLSH:
    """datasketch MinHashLSH in memory, one ordinary MinHash per segment, keys (document, segment)."""

    name = "datasketch MinHashLSH"

    def __init__(self, num_perm: int, threshold: float, weights: tuple):
        from datasketch import MinHashLSH

        self.num_perm = num_perm
        self.lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
        self.labels = []
        self.segments = 0

    def _minhash(self, content: str):
        from datasketch import MinHash

        sketch = MinHash(num_perm=self.num_perm)
        sketch.update_batch([content[i:i + 2].encode("utf-8") for i in range(max(1, len(content) - 1))])
        return sketch

    def build(self, docs: Iterable[CorpusDoc]) -> None:
        for doc in docs:
            number = len(self.labels)
            self.labels.append(doc.label)
            for index, (_, _, content) in enumerate(segment_contents(doc.text)):
                self.lsh.insert((number, index), self._minhash(content), check_duplication=False)
                self.segments += 1

    def scan(self, text: str) -> list:
        hits = []
        for start, end, content in segment_contents(text):
            for number, _ in self.lsh.query(self._minhash(content)):
                hits.append(Hit(start, end, self.labels[number]))
        return hits

    def close(self) -> None:
        self.lsh = None


class Copydetect:
    """copydetect's winnowed fingerprints and pairwise comparison, with plain text (no code filtering)."""

    name = "copydetect"

    def __init__(self, k: int = GRAM, guarantee: int = 20):
        self.k, self.window = k, guarantee - k + 1
        self.fingerprints = []

    def _fingerprint(self, label: str, text: str):
        from copydetect.detector import CodeFingerprint

        return CodeFingerprint(label, self.k, self.window, filter=False, fp=io.StringIO(text))

    def build(self, docs: Iterable[CorpusDoc]) -> None:
        for doc in docs:
            self.fingerprints.append(self._fingerprint(doc.label, doc.text))

    def scan(self, text: str) -> list:
        from copydetect.detector import compare_files

        submission = self._fingerprint("submission.txt", text)
        hits = []
        for reference in self.fingerprints:
            overlap, _, (slices, _) = compare_files(submission, reference)
            if overlap:
                hits.extend(Hit(int(a), int(b), reference.filename) for a, b in zip(*slices))
        return hits

    def close(self) -> None:
        self.fingerprints = []


def built_copydetect(docs: Iterable[CorpusDoc]):
    """copydetect built on `docs`, or None where it is not installed (it is optional: `pip install copydetect`)."""
    import importlib.util

    if importlib.util.find_spec("copydetect") is None:
        return None
    engine = Copydetect()
    engine.build(docs)
    return engine
