"""hot_keys kept exact as documents are added: of a batch's band keys, the listed ones grow, the ones that crossed are listed.

A band key with more than HOT_KEY_POSTINGS postings is listed in hot_keys with its count (scans weigh it by
rarity without counting its postings). The rebuild's recount lists them all; between recounts, each added batch
of postings keeps the list exact for its own keys:

- a listed key's count grows by its new (key, segment) rows;
- a key not listed crossed the threshold when it had more than HOT_KEY_POSTINGS - new rows before: one probe for
  that row (no counting), then a full count of the few that have it.

The probe reads every key of the batch once (~1 µs a key at 10^4 documents, ~1 s of CPU for 500 reports). For the
first batch of a write transaction that has not changed postings before (an `add`), it runs on a second connection,
which sees the index as it was before the batch (the writer holds the write lock, so nothing else commits
meanwhile), in a thread while the writer inserts the batch: the core the writer leaves idle does it. A later batch
of the same transaction is probed on the writer's connection, before the next batch goes in or at COMMIT. A
transaction that removes postings or recounts them (rebuild) needs none of it.
"""

from __future__ import annotations

import json
import sqlite3
import threading

import numpy as np

from detector.store.sqlite_postings import KEY_POSTINGS_SQL


class HotKeyCensus:
    """The hot_keys bookkeeping of one batch of new postings: made before they are inserted, applied after."""

    def __init__(self, keys: np.ndarray, segments: np.ndarray, threshold: int):
        """keys, segments: the batch's (key, segment) rows, ordered by key then segment (a repeated row counts once)."""
        fresh = np.r_[True, (keys[1:] != keys[:-1]) | (segments[1:] != segments[:-1])] if len(keys) else np.zeros(0, bool)
        self.keys, self.added = np.unique(keys[fresh], return_counts=True)  # distinct keys, new rows of each
        self.threshold = threshold
        self._found: tuple | None = None
        self._thread: threading.Thread | None = None

    def start_on_snapshot(self, path: str, busy_seconds: float) -> None:
        """Probe the index as committed (without this batch) on a connection of its own, in a thread."""
        def probe():
            try:
                conn = sqlite3.connect(path, timeout=busy_seconds, isolation_level=None, check_same_thread=False)
                try:
                    conn.execute("PRAGMA query_only=1")
                    self._found = self._probe_before(conn)
                finally:
                    conn.close()
            except sqlite3.Error:
                self._found = None  # apply() probes on the writer's connection instead

        self._thread = threading.Thread(target=probe, name="hot-key-census", daemon=True)
        self._thread.start()

    def apply(self, conn: sqlite3.Connection) -> None:
        """Update hot_keys on the writer's connection, after the batch's postings are inserted (and no others)."""
        if self._thread is not None:
            self._thread.join()
        listed, crossed = self._found if self._found is not None else self._probe_after(conn)
        conn.executemany("UPDATE hot_keys SET postings = postings + ? WHERE key = ?",
                         zip(self.added[listed].tolist(), self.keys[listed].tolist()))
        conn.executemany(f"INSERT INTO hot_keys (key, postings) SELECT ?1, {KEY_POSTINGS_SQL}",
                         ((key, -1) for key in crossed))  # LIMIT -1: every recent posting counted

    def _listed(self, conn) -> np.ndarray:
        hot = np.array([key for (key,) in conn.execute("SELECT key FROM hot_keys")], dtype=np.int64)
        return np.isin(self.keys, hot)

    def _probe_before(self, conn) -> tuple:
        """(listed mask, keys that cross) from the index before the batch: a key with n new rows crosses when it had
        its (threshold + 1 - n)-th posting already."""
        listed = self._listed(conn)
        crossed = []
        for count in np.unique(self.added[~listed]).tolist():
            group = self.keys[~listed & (self.added == count)].tolist()
            crossed += group if count > self.threshold else self._having_row(conn, group, self.threshold - count)
        return listed, crossed

    def _probe_after(self, conn) -> tuple:
        """The same from the index with the batch inserted: a key not listed crossed when it has a posting past the threshold."""
        listed = self._listed(conn)
        return listed, self._having_row(conn, self.keys[~listed].tolist(), self.threshold)

    @staticmethod
    def _having_row(conn, keys: list, offset: int) -> list:
        """The keys that have a posting at position `offset` (0-based) or later."""
        counted = KEY_POSTINGS_SQL.replace("?1", "q.value").replace("?2", "?2 + 1")  # recent ones: no more than needed
        return [key for (key,) in conn.execute(f"SELECT value FROM json_each(?1) AS q WHERE {counted} > ?2",
                                               (json.dumps(keys), offset))]
