"""Where the corpus lives. The matching code calls only the methods of SqliteStore; another backend would offer the same ones."""

from detector.store.sqlite import SqliteStore

__all__ = ["SqliteStore"]
