"""Compressed stored bytes (texts, layouts): written as zstd frames, read as zstd or as zlib (indexes written before).

Texts can be compressed with a dictionary trained on a corpus's first large batch of texts: reports share their
formulae and their frame, which a dictionary holds once instead of once per document (measured on the benchmark
reports: 1.23 → 0.90 bytes per character). A frame names its dictionary by id; a store registers the dictionaries
it holds (`register_dictionary`) before anything reads its texts."""

from __future__ import annotations

import threading
import zlib

import zstandard

from detector.errors import DatabaseError
from detector.settings import (STORED_BLOB_MAX_BYTES, STORED_ZSTD_LEVEL, TEXT_DICTIONARY_BYTES, TEXT_DICTIONARY_MIN_SAMPLES,
                               TEXT_DICTIONARY_MIN_SAVING)

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # every zstd frame starts with it; no zlib stream can (0x28b5 is no valid zlib header)
_contexts = threading.local()  # zstandard's compressor and decompressor must not be shared between threads (the web server)
_dictionaries: dict = {}  # dictionary id → zstandard.ZstdCompressionDict, as stores registered them


class DamagedBlob(DatabaseError):
    """Stored compressed bytes do not decompress: the database file is damaged."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"a stored text or layout cannot be read ({reason}); restore a backup or rebuild the index")


def compress(data: bytes, dictionary: int | None = None) -> bytes:
    """A zstd frame of `data`, with its size and a checksum (damage is detected, as zlib's Adler-32 detects it);
    with `dictionary` (a registered dictionary's id), compressed with that dictionary."""
    compressors = _thread_local("compressors")
    if dictionary not in compressors:
        compressors[dictionary] = zstandard.ZstdCompressor(
            level=STORED_ZSTD_LEVEL, write_checksum=True, dict_data=_dictionaries[dictionary] if dictionary else None)
    return compressors[dictionary].compress(data)


def train_dictionary(samples: list[bytes]) -> bytes | None:
    """A zstd dictionary trained on `samples` (the bytes of some hundreds of texts, as they will be compressed), or
    None when they are too little to learn from or it would not save TEXT_DICTIONARY_MIN_SAVING of their size:
    the first dictionary an index trains compresses every text it takes after, so a poor one is not kept."""
    if sum(len(sample) for sample in samples) < TEXT_DICTIONARY_MIN_SAMPLES * TEXT_DICTIONARY_BYTES:
        return None
    held_out = samples[::4]  # the dictionary must help texts it was not trained on
    try:
        trained = zstandard.train_dictionary(TEXT_DICTIONARY_BYTES, [s for k, s in enumerate(samples) if k % 4],
                                             level=STORED_ZSTD_LEVEL)
    except zstandard.ZstdError:
        return None
    plain = zstandard.ZstdCompressor(level=STORED_ZSTD_LEVEL)
    with_it = zstandard.ZstdCompressor(level=STORED_ZSTD_LEVEL, dict_data=trained)
    tried = held_out[:: max(1, len(held_out) // 50)]  # ~50 of them tell
    saved = 1 - sum(len(with_it.compress(s)) for s in tried) / max(1, sum(len(plain.compress(s)) for s in tried))
    return trained.as_bytes() if saved >= TEXT_DICTIONARY_MIN_SAVING else None


def register_dictionary(raw: bytes) -> int:
    """Make a dictionary (as train_dictionary made it) known to compress and decompress; returns its id."""
    dictionary = zstandard.ZstdCompressionDict(raw)
    _dictionaries.setdefault(dictionary.dict_id(), dictionary)
    return dictionary.dict_id()


def _thread_local(name: str) -> dict:
    if not hasattr(_contexts, name):
        setattr(_contexts, name, {})
    return getattr(_contexts, name)


def decompress(blob: bytes) -> bytes:
    """The bytes of a zstd frame or a zlib stream; DamagedBlob (one line, no traceback) when they do not decompress."""
    if blob[:4] == ZSTD_MAGIC:
        try:
            return _unzstd(blob)
        except zstandard.ZstdError as err:
            raise DamagedBlob(f"damaged zstd frame: {err}") from None
    try:
        return zlib.decompress(blob)
    except zlib.error as err:
        raise DamagedBlob(f"damaged zlib stream: {err}") from None


def _unzstd(blob: bytes) -> bytes:
    if zstandard.frame_content_size(blob) > STORED_BLOB_MAX_BYTES:  # a damaged header: allocate nothing
        raise zstandard.ZstdError("the frame claims an impossible size")
    dictionary = zstandard.get_frame_parameters(blob).dict_id or None
    if dictionary is not None and dictionary not in _dictionaries:
        raise zstandard.ZstdError(f"it was compressed with dictionary {dictionary}, which the database does not hold")
    decompressors = _thread_local("decompressors")
    if dictionary not in decompressors:
        decompressors[dictionary] = zstandard.ZstdDecompressor(dict_data=_dictionaries[dictionary] if dictionary else None)
    return decompressors[dictionary].decompress(blob)
