"""One process-wide setting the command line makes (glibc's malloc keeps freed memory for reuse instead of handing it back to the system at once), and handing it back when a long add asks."""

from __future__ import annotations

import ctypes
import sys

from detector.settings import MALLOC_MMAP_THRESHOLD_BYTES, MALLOC_TRIM_THRESHOLD_BYTES

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds, so a scan's short-lived numpy arrays (a few MB each, thousands per
    batch) reuse the heap instead of mapping fresh pages that the kernel must fault in and zero. The process's
    peak is unchanged; it hands memory back later. False where the C library has no mallopt (not glibc)."""
    mallopt = _glibc("mallopt", (ctypes.c_int, ctypes.c_int))
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD_BYTES))


def return_freed_memory() -> bool:
    """Hand the heap's free pages back to the system (glibc's malloc_trim): with the thresholds raised, a long add's
    batches — arrays of tens of MB, made and freed in a different order each time — fragment a heap that then only
    grows (3.3 GB resident at the end of adding 10^5 reports, of which under 1 GB in use: SQLite's page cache and the
    batches in flight). Called after each stored batch (milliseconds against seconds a batch). False where the C
    library has no malloc_trim (not glibc)."""
    malloc_trim = _glibc("malloc_trim", (ctypes.c_size_t,))
    if malloc_trim is None:
        return False
    malloc_trim(0)
    return True


def _glibc(name: str, argtypes: tuple):
    """The C library's function `name` (returning an int), or None off Linux or where the library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = argtypes, ctypes.c_int
    return function
