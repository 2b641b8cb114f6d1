"""The command line's allocator setting: glibc's mallopt reached through ctypes, harmless where it is absent."""

from __future__ import annotations

import ctypes
import sys

import pytest

from detector import allocator


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is a Linux matter")
def test_the_thresholds_are_set_on_glibc():
    assert allocator.keep_freed_memory() is True


class _LibraryWithoutMalloc:
    """A C library that is not glibc: neither mallopt nor malloc_trim."""

    def __init__(self, name):
        pass


def test_a_c_library_without_mallopt_leaves_the_allocator_alone(monkeypatch):
    monkeypatch.setattr(ctypes, "CDLL", _LibraryWithoutMalloc)
    assert allocator.keep_freed_memory() is False


def test_the_command_line_sets_it_before_any_work(monkeypatch):
    from detector import cli

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append("allocator"))
    monkeypatch.setattr(cli, "cli", lambda **kwargs: calls.append("cli"))
    cli.main()
    assert calls == ["allocator", "cli"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim is a Linux matter")
def test_freed_memory_is_handed_back_on_glibc():
    assert allocator.return_freed_memory() is True


def test_a_c_library_without_malloc_trim_is_left_alone(monkeypatch):
    monkeypatch.setattr(ctypes, "CDLL", _LibraryWithoutMalloc)
    assert allocator.return_freed_memory() is False


def test_an_add_hands_freed_memory_back_after_each_batch(tmp_path, seeds, monkeypatch):
    """A long add's heap fragments and only grows (3.3 GB resident after 10^5 reports): each stored batch trims it."""
    from detector import api

    calls = []
    monkeypatch.setattr(api, "return_freed_memory", lambda: calls.append("trim"))
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        for _ in api.add_batches(corpus, [[api.document_from_text(p.read_text(encoding="utf-8"), p.name)] for p in seeds[:3]]):
            calls.append("batch")
    assert calls == ["trim", "batch"] * 3 + ["trim"]
