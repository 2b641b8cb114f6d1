"""A text's segment layout — content characters, their original offsets, segment bounds and sentences — and its compact stored form.

The layout is what the aligner needs of a document besides its original text. It is written at index
time, so a scan never normalises, segments or counts a corpus document again. Stored form (`encode`), version 1:

    b"L1" | zstd( header | start deltas | span lengths | segment lengths | sentence steps | exceptions )

(layouts written before zstd hold a zlib stream after the magic; both read, see detector/compression.py)

    header          4 × uint32 little-endian: content chars, segments, exceptions, width code
    start deltas    content char k starts at original offset starts[k]; stored as starts[k] - starts[k-1]
                    (starts[-1] = 0), non-negative because normalised characters keep the original order
    span lengths    ends[k] - starts[k] (1 for nearly every character; a year or placeholder token spans more)
    segment lengths content characters per segment
    sentence steps  sentence[i] - sentence[i-1] (0: another clause of the same sentence)
    exceptions      positions k where content[k] is not the original character at starts[k] (folded width,
                    case, traditional forms, tokens), then those content characters as UTF-32 code points

The four integer arrays share one width (uint8, uint16 or uint32: the smallest that holds them all,
given by the width code). The content itself is not stored: it is the original characters at `starts`,
with the exceptions patched in — about 0.3 bytes per character in all, where storing the content
again would cost ~1.4.

An optional trailing section, written when the indexer worked them out, holds the bigram-set size of each
segment and of each sentence's whole text (what verification compares), so a scan need not count them:

    set sizes       b"S" | width (1 byte: 2 or 4) | one size per segment | one size per sentence

Readers that predate it stop at the exceptions and never see it; layouts without it read as before.

A layout's SegmentContents (its content code points, segment lengths, sentences and set sizes, without offsets) are
stored apart as well (`encode_contents`): what verifying a candidate reads.
"""

from __future__ import annotations

import dataclasses
import struct

import numpy as np

from detector.compression import DamagedBlob, compress, decompress
from detector.errors import DatabaseError

_MAGIC = b"L1"
_SET_SIZES = b"S"  # starts the optional set-sizes section
_WIDTHS = {1: np.uint8, 2: np.uint16, 4: np.uint32}


@dataclasses.dataclass
class Layout:
    """Segments of a text as arrays: content characters with their original [start, end), segment lengths, sentences."""

    content: str  # all segments' normalised content characters, in order
    starts: np.ndarray  # original-text start of each content character
    ends: np.ndarray  # original-text end of each content character
    lengths: np.ndarray  # content characters of each segment
    sentences: np.ndarray  # sentence index of each segment (clauses of one sentence share it)
    codes: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)  # content's code points, when at hand
    set_sizes: tuple | None = dataclasses.field(default=None, compare=False, repr=False)  # (per segment, per sentence), if stored

    @property
    def bounds(self) -> np.ndarray:
        """(segments, 2) [start, end) of each segment in `content`."""
        return segment_bounds(self.lengths)


def segment_bounds(lengths: np.ndarray) -> np.ndarray:
    """(segments, 2) [start, end) of each segment in the content, from the segments' lengths."""
    ends = np.cumsum(lengths, dtype=np.int64)
    return np.stack([ends - lengths, ends], axis=1) if len(ends) else np.zeros((0, 2), dtype=np.int64)


def encode(layout: Layout, text: str) -> bytes:
    """The stored form of a text's layout (see the module docstring)."""
    codes = _code_points(text)
    content = _code_points(layout.content)
    starts = layout.starts.astype(np.int64)
    differs = np.ones(len(content), dtype=bool)
    inside = starts < len(codes)
    differs[inside] = codes[starts[inside]] != content[inside]
    positions = np.nonzero(differs)[0]
    arrays = [np.diff(starts, prepend=0), layout.ends - starts, layout.lengths, np.diff(layout.sentences, prepend=0),
              positions]
    width = _width(arrays)
    dtype = np.dtype(_WIDTHS[width]).newbyteorder("<")
    header = np.array([len(content), len(layout.lengths), len(positions), width], dtype="<u4")
    body = b"".join(a.astype(dtype).tobytes() for a in arrays)
    tail = _set_sizes_section(layout.set_sizes) if layout.set_sizes is not None else b""
    return _MAGIC + compress(header.tobytes() + body + content[positions].astype("<u4").tobytes() + tail)


def _set_sizes_section(sizes: tuple) -> bytes:
    segments, sentences = (np.asarray(a, dtype=np.int64) for a in sizes)
    width = 2 if max(segments.max(initial=0), sentences.max(initial=0)) < 1 << 16 else 4
    dtype = np.dtype(_WIDTHS[width]).newbyteorder("<")
    return _SET_SIZES + bytes([width]) + segments.astype(dtype).tobytes() + sentences.astype(dtype).tobytes()


def _read_set_sizes(raw: bytes, offset: int, segments: int, sentences: int) -> tuple | None:
    """The stored set sizes after the exceptions, if the layout has them."""
    if raw[offset : offset + 1] != _SET_SIZES or len(raw) < offset + 2:
        return None
    width = raw[offset + 1]
    if width not in (2, 4) or len(raw) != offset + 2 + width * (segments + sentences):
        return None  # not as written: the sizes are counted again at scan time
    dtype = np.dtype(_WIDTHS[width]).newbyteorder("<")
    found = np.frombuffer(raw, dtype=dtype, count=segments + sentences, offset=offset + 2).astype(np.int32)
    return found[:segments], found[segments:]


def decode(blob: bytes, text: str) -> Layout:
    """A layout from its stored form and the original text it was made from."""
    if not blob.startswith(_MAGIC):
        raise DatabaseError("a stored layout has an unknown format; rebuild the index with `chachong rebuild --full`")
    raw = decompress(blob[len(_MAGIC):])
    try:
        return _parsed(raw, text)
    except (KeyError, ValueError, IndexError) as err:  # bytes that decompress but are no layout (UnicodeDecodeError too)
        raise DamagedBlob(f"the layout does not parse: {type(err).__name__}") from None


def _parsed(raw: bytes, text: str) -> Layout:
    """A layout from its decompressed stored form; KeyError, ValueError or IndexError when the bytes are not one."""
    chars, segments, exceptions, width = np.frombuffer(raw[:16], dtype="<u4").tolist()
    dtype = np.dtype(_WIDTHS[width]).newbyteorder("<")
    sizes = [chars, chars, segments, segments, exceptions]
    arrays, offset = [], 16
    for size in sizes:
        arrays.append(np.frombuffer(raw, dtype=dtype, count=size, offset=offset).astype(np.int64))
        offset += size * width
    deltas, spans, lengths, steps, positions = arrays
    replacements = np.frombuffer(raw, dtype="<u4", count=exceptions, offset=offset)
    sentence_numbers = np.cumsum(steps)
    set_sizes = _read_set_sizes(raw, offset + 4 * exceptions, segments, int(sentence_numbers[-1]) + 1 if segments else 0)
    starts = np.cumsum(deltas)
    content = _code_points(text)[starts] if chars else np.zeros(0, dtype="<u4")
    content[positions] = replacements  # fancy indexing made a copy: the text's buffer is not touched
    content = content.astype("<u4", copy=False)
    offsets = np.int32 if len(text) < 2**31 else np.int64  # half the memory of a cached source's offsets
    return Layout(content=content.tobytes().decode("utf-32-le"), starts=starts.astype(offsets),
                  ends=(starts + spans).astype(offsets), lengths=lengths, sentences=sentence_numbers, codes=content,
                  set_sizes=set_sizes)


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


def _width(arrays: list) -> int:
    """The smallest width (bytes) in which every value of the arrays fits."""
    top = max((int(a.max()) for a in arrays if len(a)), default=0)
    if min((int(a.min()) for a in arrays if len(a)), default=0) < 0:
        raise ValueError("layout arrays must be non-negative (normalised characters keep the original order)")
    return 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4


# ---------------------------------------------------------------- segment contents: what verification reads

_CONTENTS_MAGIC = b"C1"


@dataclasses.dataclass
class SegmentContents:
    """A layout's segments without their offsets into the original text: content code points, segment lengths,
    sentence numbers, set sizes — all that verifying a candidate reads, stored apart from the layout so that a scan
    verifying hundreds of candidates reads neither their texts nor their offsets (~15 µs a report instead of ~85).
    Passages are never cut from it: aligning reads the full layout."""

    codes: np.ndarray  # the content's code points (uint32)
    lengths: np.ndarray  # content characters of each segment
    sentences: np.ndarray  # sentence index of each segment
    set_sizes: tuple | None = None  # (per segment, per sentence) bigram-set sizes, if stored

    @property
    def content(self) -> str:
        return self.codes.astype("<u4", copy=False).tobytes().decode("utf-32-le")

    @property
    def bounds(self) -> np.ndarray:
        return segment_bounds(self.lengths)


def encode_contents(layout: Layout) -> bytes:
    """The stored form of a layout's SegmentContents:

        b"C1" | zstd( header | segment lengths | sentence steps | set sizes | code points )

    header: 4 × uint32 little-endian — segments, sentences with set sizes (0: none stored), the integers' width and the
    code points' width (bytes: 1, 2 or 4; code points 2 or 4, as UTF-16 would not keep one number per character)."""
    codes = layout.codes if layout.codes is not None else _code_points(layout.content)
    sizes = [np.asarray(a, dtype=np.int64) for a in layout.set_sizes] if layout.set_sizes is not None else []
    integers = [np.asarray(layout.lengths, dtype=np.int64), np.diff(np.asarray(layout.sentences, dtype=np.int64), prepend=0),
                *sizes]
    width = _width(integers)
    code_width = 2 if not len(codes) or int(codes.max()) < 1 << 16 else 4
    header = np.array([len(layout.lengths), len(sizes[1]) if sizes else 0, width, code_width], dtype="<u4")
    dtype = np.dtype(_WIDTHS[width]).newbyteorder("<")
    body = b"".join(a.astype(dtype).tobytes() for a in integers)
    return _CONTENTS_MAGIC + compress(header.tobytes() + body + codes.astype(f"<u{code_width}").tobytes())


def decode_contents(blob: bytes) -> SegmentContents:
    """SegmentContents from their stored form."""
    if not blob.startswith(_CONTENTS_MAGIC):
        raise DatabaseError("stored segment contents have an unknown format; rebuild the index with `chachong rebuild --full`")
    raw = decompress(blob[len(_CONTENTS_MAGIC):])
    try:
        return _parsed_contents(raw)
    except (KeyError, ValueError, IndexError) as err:  # bytes that decompress but are no segment contents
        raise DamagedBlob(f"the segment contents do not parse: {type(err).__name__}") from None


_CONTENTS_HEADER = struct.Struct("<4I")
_LITTLE_ENDIAN = {width: np.dtype(kind).newbyteorder("<") for width, kind in _WIDTHS.items()}
_CODE_POINTS = np.dtype("<u4")


def _parsed_contents(raw: bytes) -> SegmentContents:
    """SegmentContents from their decompressed stored form; KeyError, ValueError or IndexError when the bytes are not.

    Read with as few numpy calls as the arrays need (the header by struct, the dtypes made once): a scan reads the
    contents of every candidate it has not met, hundreds in a process's first scans, and each call costs ~1 µs
    (23 -> 13 µs a report)."""
    if len(raw) < _CONTENTS_HEADER.size:
        raise ValueError("no header")
    segments, sentences, width, code_width = _CONTENTS_HEADER.unpack_from(raw)
    dtype, codes_dtype = _LITTLE_ENDIAN[width], _LITTLE_ENDIAN[code_width]
    if code_width == 1:
        raise ValueError("unknown widths")
    integers = 2 * segments + (segments + sentences if sentences else 0)
    numbers = np.frombuffer(raw, dtype=dtype, count=integers, offset=16).astype(np.int64)  # one read, then views
    codes = np.frombuffer(raw, dtype=codes_dtype, offset=16 + integers * width).astype(_CODE_POINTS)
    lengths = numbers[:segments]
    if int(lengths.sum()) != len(codes):
        raise ValueError("the segments' lengths do not add up to the content")
    set_sizes = None
    if sentences:
        sizes = numbers[2 * segments :].astype(np.int32)
        set_sizes = (sizes[:segments], sizes[segments:])
    return SegmentContents(codes=codes, lengths=lengths, sentences=numbers[segments : 2 * segments].cumsum(),
                           set_sizes=set_sizes)
