"""One text through normalise → segment → sign: everything the index and the aligner need to know about it (a source's comes from its stored layout)."""

from __future__ import annotations

import dataclasses

import numpy as np

from detector.layout import Layout
from detector.model import Segment
from detector.normalize import normalize
from detector.segment import segment
from detector.settings import Settings
from detector.sign import band_keys, content_hash, signatures


@dataclasses.dataclass
class Fingerprint:
    """A text's segment layout and, for a submission, the segments' signatures, band keys and content hashes."""

    layout: Layout
    signatures: np.ndarray
    keys: np.ndarray
    _hashes: list | None = dataclasses.field(default=None, repr=False)
    _tables: dict = dataclasses.field(default_factory=dict, repr=False)

    @classmethod
    def of_layout(cls, layout: Layout, settings: Settings) -> "Fingerprint":
        """A source's fingerprint from its stored layout: no signatures or band keys (sources are aligned, not looked up)."""
        return cls(layout=layout, signatures=np.zeros((0, settings.num_perm), dtype=np.uint32),
                   keys=np.zeros((0, settings.bands_rows[0]), dtype=np.int64))

    def remembered(self, key, make):
        """The value of `make()` kept under `key`: tables other modules derive from this text are made once."""
        if key not in self._tables:
            self._tables[key] = make()
        return self._tables[key]

    def remembers(self, key) -> bool:
        return key in self._tables

    def remember(self, key, value) -> None:
        """Keep a table made elsewhere (for many fingerprints at once) under `key`."""
        self._tables[key] = value

    @property
    def content(self) -> str:
        return self.layout.content

    @property
    def bounds(self) -> np.ndarray:
        if "bounds" not in self._tables:
            self._tables["bounds"] = self.layout.bounds
        return self._tables["bounds"]

    @property
    def sentences(self) -> np.ndarray:
        return self.layout.sentences

    @property
    def segment_count(self) -> int:
        return len(self.layout.lengths)

    @property
    def hashes(self) -> list:
        """Content hash of each segment; computed once."""
        if self._hashes is None:
            self._hashes = segment_hashes(self.layout)
        return self._hashes

    def window(self, lo: int, hi: int) -> "Fingerprint":
        """Segments [lo, hi) as a fingerprint of their own (content index 0 is segment lo's first character;
        original offsets are unchanged): a giant source is aligned window by window."""
        a, b = (int(x) for x in (self.bounds[lo][0], self.bounds[hi - 1][1]))
        layout = self.layout
        part = Layout(content=layout.content[a:b], starts=layout.starts[a:b], ends=layout.ends[a:b],
                      lengths=layout.lengths[lo:hi], sentences=layout.sentences[lo:hi] - layout.sentences[lo])
        return Fingerprint(layout=part, signatures=self.signatures[:0], keys=self.keys[:0])

    def segment_content(self, index: int) -> str:
        return self.segment_texts()[index]

    def segment_texts(self) -> list:
        """The content of each segment; computed once."""
        if "texts" not in self._tables:
            self._tables["texts"] = [self.content[a:b] for a, b in self.bounds.tolist()]
        return self._tables["texts"]

    def sentence_texts(self) -> list:
        """The content of each whole sentence (by sentence index); computed once."""
        if "sentence_texts" not in self._tables:
            texts = [""] * (int(self.sentences.max(initial=-1)) + 1)
            for text, sentence in zip(self.segment_texts(), self.sentences.tolist()):
                texts[sentence] += text
            self._tables["sentence_texts"] = texts
        return self._tables["sentence_texts"]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span of content characters [start, end) (an empty span sits before content char `start`)."""
        starts, ends = self.layout.starts, self.layout.ends
        if not len(starts):
            return 0, 0
        if end <= start:
            anchor = int(starts[min(start, len(starts) - 1)])
            return anchor, anchor
        return int(starts[start]), int(ends[end - 1])


def remembered_each(fps: list, key, make) -> list:
    """`fp.remembered(key, lambda: make(k, fp))` of each fingerprint (k: its place in `fps`), reading each table once
    where it is kept: verifying asks hundreds of sources for theirs in every scan, and a method call and a closure
    per source cost ~1 µs (0.8 of ~1.1 ms per scan)."""
    found = [fp._tables.get(key) for fp in fps]
    for k in [k for k, value in enumerate(found) if value is None]:
        found[k] = fps[k].remembered(key, lambda k=k: make(k, fps[k]))
    return found


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array: np.unique by sorting, which numpy 2.4's hash-based
    np.unique is up to 18 times slower than on 64-bit keys (measured: 0.74 s against 0.04 s for 425k keys)."""
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def fingerprint(text: str, settings: Settings, signed: bool = True) -> Fingerprint:
    """Normalise, segment and sign a text (`signed=False`: no signatures or band keys, for aligning a source)."""
    found = layout_of(text, settings)
    contents = [found.content[a:b] for a, b in found.bounds.tolist()]
    sigs = signatures(contents if signed else [], settings)
    return Fingerprint(layout=found, signatures=sigs, keys=band_keys(sigs, *settings.bands_rows),
                       _hashes=[content_hash(c) for c in contents])


def segment_hashes(layout: Layout) -> list:
    """Content hash of each segment of a layout (segment document frequencies count documents per hash)."""
    return [content_hash(layout.content[a:b]) for a, b in layout.bounds.tolist()]


def layout_of(text: str, settings: Settings) -> Layout:
    """Normalise and segment a text into its layout."""
    norm = normalize(text)
    segments: list[Segment] = segment(norm, settings)
    positions = np.concatenate([s.content_offsets for s in segments]) if segments else np.zeros(0, dtype=np.int64)
    return Layout(
        content="".join(s.content for s in segments),
        starts=norm.starts[positions].astype(np.int64),
        ends=norm.ends[positions].astype(np.int64),
        lengths=np.array([len(s.content) for s in segments], dtype=np.int64),
        sentences=np.array([s.sentence for s in segments], dtype=np.int64),
    )
