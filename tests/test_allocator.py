"""The command line's allocator setting: glibc's mallopt reached through ctypes, harmless where it is absent."""

from __future__ import annotations

import ctypes
import sys

import pytest

from detector import allocator


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is a Linux matter")
def test_the_thresholds_are_set_on_glibc():
    assert allocator.keep_freed_memory() is True


def test_a_c_library_without_mallopt_leaves_the_allocator_alone(monkeypatch):
    class NoMallopt:
        def __init__(self, name):
            pass

    monkeypatch.setattr(ctypes, "CDLL", NoMallopt)
    assert allocator.keep_freed_memory() is False


def test_the_command_line_sets_it_before_any_work(monkeypatch):
    from detector import cli

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append("allocator"))
    monkeypatch.setattr(cli, "cli", lambda **kwargs: calls.append("cli"))
    cli.main()
    assert calls == ["allocator", "cli"]
