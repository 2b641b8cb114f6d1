"""One text through normalise → segment → sign: everything the index and the aligner need to know about it."""

from __future__ import annotations

import dataclasses

import numpy as np

from detector.model import Segment
from detector.normalize import NormalizedText, normalize
from detector.segment import segment
from detector.settings import Settings
from detector.sign import band_keys, content_hash, shingle_hashes, signatures


@dataclasses.dataclass
class Fingerprint:
    """A text's segments, their content laid end to end, and their signatures and band keys."""

    norm: NormalizedText
    segments: list
    content: str  # all segments' content characters, in order
    content_pos: np.ndarray  # normalised-text index of each content character
    bounds: np.ndarray  # (n, 2) [start, end) of each segment in `content`
    signatures: np.ndarray
    keys: np.ndarray
    hashes: list  # content hash of each segment
    _shingle_sets: tuple | None = dataclasses.field(default=None, repr=False)
    _tables: dict = dataclasses.field(default_factory=dict, repr=False)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span of content characters [start, end) (an empty span sits before content char `start`)."""
        if not len(self.content_pos):
            return 0, 0
        if end <= start:
            anchor = int(self.norm.starts[self.content_pos[min(start, len(self.content_pos) - 1)]])
            return anchor, anchor
        return int(self.norm.starts[self.content_pos[start]]), int(self.norm.ends[self.content_pos[end - 1]])

    def shingle_table(self, shingling: str, level: str) -> "ShingleTable":
        """The shingle sets of the segments (level "segment") or sentences ("sentence"), sorted by hash; computed once."""
        key = (shingling, level)
        if key not in self._tables:
            rows, hashes = self.shingle_sets(shingling)
            if level == "sentence":
                sentences = np.array([s.sentence for s in self.segments], dtype=np.int64)
                rows = sentences[rows] if len(rows) else rows
                count = int(sentences.max(initial=-1)) + 1
            else:
                count = len(self.segments)
            self._tables[key] = ShingleTable.of(rows, hashes, count)
        return self._tables[key]

    def sentence_members(self) -> dict:
        """Sentence index → indices of its segments; computed once."""
        if "members" not in self._tables:
            members: dict = {}
            for segment in self.segments:
                members.setdefault(segment.sentence, []).append(segment.index)
            self._tables["members"] = members
        return self._tables["members"]

    def shingle_sets(self, shingling: str) -> tuple[np.ndarray, np.ndarray]:
        """(segment index, shingle hash) pairs, each segment's shingles deduplicated; computed once."""
        if self._shingle_sets is None:
            self._shingle_sets = _segment_shingle_sets([s.content for s in self.segments], shingling)
        return self._shingle_sets


@dataclasses.dataclass
class ShingleTable:
    """Distinct (unit, shingle hash) pairs sorted by hash, with the number of units and each unit's set size."""

    units: np.ndarray
    hashes: np.ndarray
    count: int
    sizes: np.ndarray

    @classmethod
    def of(cls, units: np.ndarray, hashes: np.ndarray, count: int) -> "ShingleTable":
        keys = np.unique((hashes.astype(np.uint64) << np.uint64(32)) | units.astype(np.uint64))
        units = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
        return cls(units, (keys >> np.uint64(32)).astype(np.uint32), count, np.bincount(units, minlength=count))


def _segment_shingle_sets(contents: list, shingling: str) -> tuple[np.ndarray, np.ndarray]:
    if not contents:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32)
    hashes, starts = shingle_hashes(contents, shingling)
    rows = np.repeat(np.arange(len(contents)), np.diff(np.append(starts, len(hashes))))
    pairs = np.unique((rows.astype(np.uint64) << np.uint64(32)) | hashes.astype(np.uint64))
    return (pairs >> np.uint64(32)).astype(np.int64), (pairs & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def fingerprint(text: str, settings: Settings, signed: bool = True) -> Fingerprint:
    """Normalise, segment and sign a text (`signed=False`: no signatures or band keys, for aligning a source)."""
    norm = normalize(text)
    segments: list[Segment] = segment(norm, settings)
    contents = [s.content for s in segments]
    lengths = np.array([len(c) for c in contents], dtype=np.int64)
    ends = np.cumsum(lengths)
    bounds = np.stack([ends - lengths, ends], axis=1) if len(segments) else np.zeros((0, 2), dtype=np.int64)
    content_pos = np.concatenate([s.content_offsets for s in segments]) if segments else np.zeros(0, dtype=np.int64)
    sigs = signatures(contents if signed else [], settings)
    return Fingerprint(
        norm=norm,
        segments=segments,
        content="".join(contents),
        content_pos=content_pos,
        bounds=bounds,
        signatures=sigs,
        keys=band_keys(sigs, *settings.bands_rows),
        hashes=[content_hash(c) for c in contents],
    )
