"""Cut normalised text into sentences and, where sentences are long, clauses: the units that are signed and matched."""

from __future__ import annotations

import re

import numpy as np

from detector.model import Segment
from detector.normalize import NormalizedText, content_mask
from detector.settings import Settings

_SENTENCE_END = re.compile(r"(?:[。!?;\n]|(?<![0-9])\.(?![0-9]))+")
_CLAUSE_END = re.compile(r"[,:]+")


def segment(norm: NormalizedText, settings: Settings) -> list[Segment]:
    """Segments of a normalised text, each with its content characters and their original offsets."""
    mask = content_mask(norm.text)
    content_positions = np.nonzero(mask)[0]
    codes = np.frombuffer(norm.text.encode("utf-32-le"), dtype=np.uint32)
    content_text = codes[mask].tobytes().decode("utf-32-le")
    counts = np.concatenate([[0], np.cumsum(mask)])  # content characters before each position
    pieces, sentence_starts = [], []
    for start, end in _spans(_SENTENCE_END, norm.text):
        sentence_starts.append(start)
        pieces.extend(_clauses(norm.text, start, end, counts, settings))
    pieces = _glue_short(pieces, counts, settings.min_segment_chars)
    sentences = np.searchsorted(np.array(sentence_starts), [a for a, _ in pieces], side="right") - 1
    return [_make_segment(i, counts[a], counts[b], norm, content_positions, content_text, int(sentence))
            for i, ((a, b), sentence) in enumerate(zip(pieces, sentences))]


def _spans(pattern: re.Pattern, text: str, start: int = 0, end: int | None = None):
    """[start, end) spans between the separators matched by `pattern` (separators stay with the left piece)."""
    end = len(text) if end is None else end
    cursor = start
    for match in pattern.finditer(text, start, end):
        if match.end() > cursor:
            yield cursor, match.end()
        cursor = match.end()
    if cursor < end:
        yield cursor, end


def _clauses(text: str, start: int, end: int, counts: np.ndarray, settings: Settings) -> list[tuple[int, int]]:
    """A sentence as is, or, if it has too many content characters, packed runs of its clauses."""
    if counts[end] - counts[start] <= settings.max_segment_chars:
        return [(start, end)]
    packed, current, size = [], None, 0
    for a, b in _spans(_CLAUSE_END, text, start, end):
        length = int(counts[b] - counts[a])
        if current and size + length > settings.max_segment_chars and size >= settings.min_segment_chars:
            packed.append(current)
            current, size = None, 0
        current = (current[0], b) if current else (a, b)
        size += length
    if current:
        packed.append(current)
    return [cut for piece in packed for cut in _cut_long(piece, counts, settings.max_segment_chars)]


def _cut_long(piece: tuple[int, int], counts: np.ndarray, maximum: int) -> list[tuple[int, int]]:
    """A piece with more content characters than `maximum` (no punctuation to cut at) in equal runs of at most that many."""
    start, end = piece
    total = int(counts[end] - counts[start])
    if total <= maximum:
        return [piece]
    parts = -(-total // maximum)
    size = -(-total // parts)
    targets = counts[start] + size * np.arange(1, parts)
    cuts = np.searchsorted(counts, targets, side="left").tolist()
    return [(a, b) for a, b in zip([start, *cuts], [*cuts, end])]


def _glue_short(pieces: list, counts: np.ndarray, minimum: int) -> list:
    """Join pieces with fewer than `minimum` content characters (numbering, short headings) to the next piece."""
    glued, pending, last_end = [], None, 0
    for a, b in pieces:
        last_end = b
        if pending is not None:
            a = pending
            pending = None
        if counts[b] - counts[a] < minimum:
            pending = a
            continue
        glued.append((a, b))
    if pending is not None:
        if glued:
            glued[-1] = (glued[-1][0], last_end)
        else:
            glued.append((pending, last_end))
    return [(a, b) for a, b in glued if counts[b] > counts[a]]


def _make_segment(index: int, lo: int, hi: int, norm: NormalizedText, content_positions: np.ndarray, content_text: str,
                  sentence: int) -> Segment:
    """A segment from its range [lo, hi) of content characters."""
    positions = content_positions[lo:hi]
    return Segment(
        index=index,
        sentence=sentence,
        start=int(norm.starts[positions[0]]),
        end=int(norm.ends[positions[-1]]),
        content=content_text[lo:hi],
        content_offsets=positions,
    )
