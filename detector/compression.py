"""Compressed stored bytes (texts, layouts): written as zstd frames, read as zstd or as zlib (indexes written before)."""

from __future__ import annotations

import threading
import zlib

import zstandard

from detector.errors import DatabaseError
from detector.settings import STORED_BLOB_MAX_BYTES, STORED_ZSTD_LEVEL

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # every zstd frame starts with it; no zlib stream can (0x28b5 is no valid zlib header)
_contexts = threading.local()  # zstandard's compressor and decompressor must not be shared between threads (the web server)


class DamagedBlob(DatabaseError):
    """Stored compressed bytes do not decompress: the database file is damaged."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"a stored text or layout cannot be read ({reason}); restore a backup or rebuild the index")


def compress(data: bytes) -> bytes:
    """A zstd frame of `data`, with its size and a checksum (damage is detected, as zlib's Adler-32 detects it)."""
    if not hasattr(_contexts, "compressor"):
        _contexts.compressor = zstandard.ZstdCompressor(level=STORED_ZSTD_LEVEL, write_checksum=True)
    return _contexts.compressor.compress(data)


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
    if not hasattr(_contexts, "decompressor"):
        _contexts.decompressor = zstandard.ZstdDecompressor()
    return _contexts.decompressor.decompress(blob)
