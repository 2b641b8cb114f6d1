"""Where the corpus lives: `open_store(target)` picks the backend (a path: SQLite; redis://…: a Redis Cluster) behind the Store interface."""

from __future__ import annotations

from detector.store.base import IndexEntry, Postings, Store

__all__ = ["IndexEntry", "Postings", "Store", "driver_errors", "open_store", "memory_store"]


def open_store(target, create: bool = False) -> Store:
    """The store named by `target` (what the user gives as --db)."""
    target = str(target)
    if target.startswith(("redis://", "rediss://")):
        from detector.store.redis import RedisStore

        return RedisStore(target, create=create)
    from detector.store.sqlite import SqliteStore

    return SqliteStore(target, create=create)


def memory_store(first_id: int = 1) -> Store:
    """An empty store in memory (a two-file comparison, a batch's own submissions); ids start at `first_id`."""
    from detector.store.memory import MemoryStore

    return MemoryStore(first_id)


def driver_errors() -> tuple:
    """The exception types the storage drivers raise (SQLite's, and Redis's when it is installed): the CLI turns
    them into one-line messages without naming a backend."""
    import sqlite3

    errors = [sqlite3.Error]
    try:
        from redis.exceptions import RedisError
    except ImportError:
        pass
    else:
        errors.append(RedisError)
    return tuple(errors)
