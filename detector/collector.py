"""Python's cyclic garbage collector paused while a scan runs: a scan makes ~10^5 short-lived containers and no cycles."""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def collector_paused():
    """Pause the cyclic garbage collector for the block, then let it run as usual again.

    A scan makes about a hundred thousand lists, tuples and dicts, nearly all freed by their reference counts, and
    keeps its sources' tables (long lists of ints) in the corpus's caches. Left running, the collector passes over
    those young objects every 700 allocations and over the caches now and then: about a twentieth of a scan's time,
    and in a forked scanning process it also writes into (so copies) the pages of every object inherited from the
    parent. A batch scanned with the collector paused leaves no cyclic garbage worth the name (tests/test_collector.py
    counts it). Only the block that paused it resumes it (nested scans, a caller that paused it itself)."""
    paused_here = gc.isenabled()
    if paused_here:
        gc.disable()
    try:
        yield
    finally:
        if paused_here:
            gc.enable()
