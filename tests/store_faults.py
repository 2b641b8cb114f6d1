"""Faults injected into a store for tests: a write that fails partway through an add."""

from __future__ import annotations


def fail_second_insert(monkeypatch, store, error: Exception) -> list:
    """Make `store.insert_documents` raise `error` on its second call (the first and any later ones work); returns how
    many entries each call was given, in call order, so a test can see how far the add got."""
    real, calls = store.insert_documents, []

    def failing_second_time(entries):
        calls.append(len(entries))
        if len(calls) == 2:
            raise error
        return real(entries)

    monkeypatch.setattr(store, "insert_documents", failing_second_time)
    return calls
