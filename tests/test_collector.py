"""The cyclic garbage collector is paused while a scan runs, resumed after, and scans leave no cyclic garbage."""

from __future__ import annotations

import gc

import pytest

from detector import api
from detector.collector import collector_paused
from detector.scan import scan_document


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_resumed_after_even_on_error(collector_on):
    with pytest.raises(RuntimeError):
        with collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("a scan failed")
    assert gc.isenabled()


def test_only_the_outermost_block_resumes_it(collector_on):
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()  # the inner block did not pause it, so it does not resume it
    assert gc.isenabled()


def test_a_caller_that_paused_it_keeps_it_paused(collector_on):
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_a_scan_runs_with_it_paused(collector_on, seed_corpus, planted, monkeypatch):
    seen = []
    original = scan_document.__globals__["_scan"]
    monkeypatch.setitem(scan_document.__globals__, "_scan", lambda *a: seen.append(gc.isenabled()) or original(*a))
    with api.open_corpus(seed_corpus) as corpus:
        report = api.scan_text(corpus, planted[0], path="planted.txt")
    assert seen == [False] and report.passages and gc.isenabled()


def test_scans_leave_no_cyclic_garbage(collector_on, corpus_without_base, planted):
    """What makes pausing safe: were a scan to make reference cycles, they would pile up until a full collection."""
    with api.open_corpus(corpus_without_base) as corpus:
        api.scan_text(corpus, planted[0], path="warm-up.txt")  # first-use caches (patterns, lookups) are no garbage
        gc.collect()
        gc.disable()
        for n in range(5):
            assert api.scan_text(corpus, planted[0], path=f"planted-{n}.txt").passages
        assert gc.collect() == 0
