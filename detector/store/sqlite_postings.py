"""Band-key postings in SQLite: each key's segments packed in one row (posting_lists), the latest documents' as rows (postings_recent).

posting_lists holds, for each band key, the ascending ids of the segments that have it as one blob of 4-byte
little-endian integers. A scan reads a key with one probe of an integer primary key and takes the first cap + 1
segments (a hot key's sample; see packed_listing), where rows cost a B-tree step each: at 10^4 reports 3-4× less time
listing a submission's keys, and about 4 bytes a posting on disk instead of 14.

New postings go to postings_recent, a (key, segment) table small enough that a batch rewrites few of its pages;
once it is large, or at the end of the command that added them once they are a share of the packed ones, it is
merged into posting_lists (`merge_recent`; the policy is SqliteStore's). Segments are numbered upwards, so every recent
segment is above every packed one (a removed document's postings go with it): a merge appends to each list, and a
key's postings are its packed segments, then its recent ones, in order.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np

from detector.errors import DatabaseError

SEGMENT_BYTES = 4  # a packed segment id: uint32, little-endian
LARGEST_SEGMENT = (1 << 32) - 1
ROWS_AT_ONCE = 1_000_000  # rows read at a time by a merge, a removal or a check (bounds their memory)
# a listed list longer than this is read in part (packed_listing): opening a blob costs ~10 µs, reading 64 KB of a
# list whole from SQLite's page cache ~17 µs, from the system's ~80 µs
LONG_LIST_BYTES = 65_536
_NO_LIMIT = 1 << 62

TABLES = (
    """CREATE TABLE IF NOT EXISTS posting_lists (  -- each band key's segments, ascending, as packed uint32 (sqlite_postings.py)
    key INTEGER PRIMARY KEY,
    segments BLOB NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS postings_recent (  -- postings of the latest documents (segments above all of posting_lists)
    key INTEGER NOT NULL,
    segment INTEGER NOT NULL,
    PRIMARY KEY (key, segment)
) WITHOUT ROWID""",
)

# how many postings a key has (?1), packed and recent; the recent ones counted up to ?2 rows
KEY_POSTINGS_SQL = (f"coalesce((SELECT length(segments) FROM posting_lists WHERE key = ?1), 0) / {SEGMENT_BYTES}"
                    " + (SELECT count(*) FROM (SELECT 1 FROM postings_recent WHERE key = ?1 LIMIT ?2))")


def create_tables(conn: sqlite3.Connection) -> None:
    """Make the two tables where they are not (statement by statement: inside a transaction, as an upgrade needs)."""
    for statement in TABLES:
        conn.execute(statement)


def key_postings_sql(row_table: str | None = None) -> str:
    """KEY_POSTINGS_SQL, or its like for an older index whose postings are all rows of `row_table`."""
    if row_table is None:
        return KEY_POSTINGS_SQL
    return f"(SELECT count(*) FROM (SELECT 1 FROM {row_table} WHERE key = ?1 LIMIT ?2))"


def pack(segments: np.ndarray) -> bytes:
    """The stored form of ascending segment ids."""
    if len(segments) and (segments.min() < 0 or segments.max() > LARGEST_SEGMENT):
        raise ValueError("segment ids must lie in 0 … 2^32 - 1 to be packed")
    return segments.astype("<u4").tobytes()


class DamagedList(DatabaseError):
    """A packed list whose bytes are not whole segment ids: the database file is damaged."""

    def __init__(self, key: int, size: int):
        super().__init__(f"the postings of band key {key} are damaged ({size} bytes, not whole {SEGMENT_BYTES}-byte segment "
                         "ids); run `chachong check`, then restore a backup or rebuild with `chachong rebuild --full`")


def unpack(keys: list, blobs: list, whole_sizes: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(segments of each blob, all of them in order as int64) of the packed lists of `keys`; DamagedList when one is
    not whole segment ids (read as they are, every later list's ids would be shifted). `whole_sizes`: the lists'
    lengths, when the blobs are only their first bytes (judged by those)."""
    sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    judged = sizes if whole_sizes is None else np.asarray(whole_sizes, dtype=np.int64)
    damaged = np.flatnonzero(judged % SEGMENT_BYTES)
    if len(damaged):
        raise DamagedList(keys[damaged[0]], int(judged[damaged[0]]))
    return sizes // SEGMENT_BYTES, np.frombuffer(b"".join(blobs), dtype="<u4").astype(np.int64)


def packed_listing(conn: sqlite3.Connection, keys_json: str, cap: int) -> tuple:
    """(keys found, segments listed per key, the segments in key order) of the keys given as a JSON array (distinct,
    ascending): the first cap + 1 packed segments of each, keys ascending. The array is walked in order and each key
    looked up (a join: a quarter faster than `key IN (…)`, which first builds a list of the keys to probe).

    `substr` cuts the first segments from the whole list, read first with every overflow page: a boilerplate key's
    list at 10^5 reports is hundreds of KB, and the first scan of a process read 89 MB so. A list longer than
    LONG_LIST_BYTES is read in part, through SQLite's incremental blob I/O, when the connection holds a read
    transaction (a scan's snapshot: the blob opened is the row listed) and Python has it (3.11 on)."""
    wanted = (int(cap) + 1) * SEGMENT_BYTES
    in_part = conn.in_transaction and hasattr(conn, "blobopen")
    rows = conn.execute("SELECT p.key, CASE WHEN length(p.segments) <= ?3 THEN substr(p.segments, 1, ?1) END,"
                        " length(p.segments) FROM json_each(?2) AS wanted JOIN posting_lists AS p"
                        " ON p.key = wanted.value", (wanted, keys_json, LONG_LIST_BYTES if in_part else _NO_LIMIT)).fetchall()
    if any(rows[n][0] >= rows[n + 1][0] for n in range(len(rows) - 1)):  # keys not given ascending
        rows = sorted({row[0]: row for row in rows}.values())
    blobs = [blob if blob is not None else _first_bytes(conn, key, wanted) for key, blob, _ in rows]
    per_key, segments = unpack([key for key, _, _ in rows], blobs, [size for _, _, size in rows])
    return np.fromiter((key for key, _, _ in rows), dtype=np.int64, count=len(rows)), per_key, segments


def _first_bytes(conn: sqlite3.Connection, key: int, size: int) -> bytes:
    """The first `size` bytes of a key's packed list, read without the rest (its rowid is the key)."""
    with conn.blobopen("posting_lists", "segments", key, readonly=True) as blob:
        return blob.read(size)


def joined(packed: tuple, recent: tuple, cap: int) -> tuple:
    """The listing of both tables from each one's (keys ascending, per key, segments): a key's packed segments, then
    its recent ones (higher), the first cap + 1 of them."""
    if not len(recent[0]):
        return packed
    keys = np.concatenate([np.repeat(packed[0], packed[1]), np.repeat(recent[0], recent[1])])
    order = np.argsort(keys, kind="stable")  # each key's packed rows stay before its recent ones
    keys, segments = keys[order], np.concatenate([packed[2], recent[2]])[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    runs = np.diff(np.r_[starts, len(keys)])
    rank = np.arange(len(keys)) - np.repeat(starts, runs)
    return keys[starts], np.minimum(runs, cap + 1), segments[rank <= cap]


def merge_recent(conn: sqlite3.Connection) -> None:
    """Move every recent posting into posting_lists (appended to its key's list); call inside a write transaction."""
    from_rows(conn, "postings_recent")
    conn.execute("DELETE FROM postings_recent")


def _rows_in_order(conn: sqlite3.Connection, table: str):
    """The (key, segment) rows of a table whose primary key they are, in order, ROWS_AT_ONCE at a time: each part read
    as two strings of numbers, the keys' and the segments', parsed at once (a Python tuple per row cost ~0.6 µs, four
    times the parse; one string of `key || ',' || segment` ~0.3 µs a row, a third more than two)."""
    after = (-1, -1)
    while True:
        keys, segments = conn.execute(
            f"SELECT group_concat(key), group_concat(segment) FROM (SELECT key, segment FROM {table}"
            " WHERE (key, segment) > (?, ?) ORDER BY key, segment LIMIT ?)", (*after, ROWS_AT_ONCE)).fetchone()
        if not keys:
            return
        rows = np.stack([np.fromstring(keys, dtype=np.int64, sep=","), np.fromstring(segments, dtype=np.int64, sep=",")], axis=1)
        yield rows
        after = tuple(rows[-1].tolist())


def _append(conn: sqlite3.Connection, rows: np.ndarray) -> None:
    """Append (key, segment) rows, ordered by key then segment, to their keys' lists (a list is made for a new key)."""
    keys, segments = rows[:, 0], rows[:, 1]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.int64)
    data = pack(segments)
    bounds = (np.r_[starts, len(keys)] * SEGMENT_BYTES).tolist()
    conn.executemany("INSERT INTO posting_lists (key, segments) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET"
                     " segments = CAST(segments || excluded.segments AS BLOB)",
                     zip(keys[starts].tolist(), (data[a:b] for a, b in zip(bounds, bounds[1:]))))


def remove_segments(conn: sqlite3.Connection, ranges: list, expected: tuple | None = None) -> list[int]:
    """Remove the postings of the segments in the [first, first + count) `ranges` from both tables; returns the keys
    that lost postings. Call inside a write transaction.

    `expected`: (keys, segments) of those postings, as indexing them gives again (distinct pairs). Then only the
    lists of those keys are read and the recent rows deleted one by one — a few thousand probes a report where the
    whole index was read (~5 s a removal at 10^4 reports) — and when fewer postings than expected went (the keys
    computed otherwise than when indexed), one pass over every list and every recent row removes what is left."""
    ranges = sorted((int(first), int(first) + int(count)) for first, count in ranges if count > 0)
    if not ranges:
        return []
    lows, highs = np.array([r[0] for r in ranges]), np.array([r[1] for r in ranges])
    touched: list = []
    if expected is not None:
        touched, removed = _remove_expected(conn, lows, highs, *expected)
        if removed == len(expected[0]):
            return touched
    changed = _rewritten(conn, _all_lists(conn), lows, highs)[0]
    recent = _recent_rows_of(conn, ranges)
    conn.executemany("DELETE FROM postings_recent WHERE key = ? AND segment = ?", recent)
    return sorted({key for key, _ in changed} | {key for key, _ in recent} | set(touched))


def _remove_expected(conn: sqlite3.Connection, lows, highs, keys: np.ndarray, segments: np.ndarray) -> tuple[list, int]:
    """(keys that lost postings, postings removed) of removing the doomed segments from the lists of `keys` and the
    recent rows (key, segment)."""
    distinct = sorted(set(keys.tolist()))
    changed, removed = _rewritten(conn, _lists_of(conn, distinct), lows, highs)
    before = conn.total_changes
    conn.executemany("DELETE FROM postings_recent WHERE key = ? AND segment = ?", zip(keys.tolist(), segments.tolist()))
    return distinct, removed + conn.total_changes - before


def _lists_of(conn: sqlite3.Connection, keys: list):
    """(keys, segments per key, segments) of the packed lists of `keys` (those that have one), 10,000 keys at a time."""
    for start in range(0, len(keys), 10_000):
        rows = conn.execute("SELECT key, segments FROM posting_lists WHERE key IN (SELECT value FROM json_each(?))"
                            f" AND length(segments) % {SEGMENT_BYTES} = 0", (json.dumps(keys[start:start + 10_000]),)).fetchall()
        found = [key for key, _ in rows]
        yield (found, *unpack(found, [blob for _, blob in rows]))


def _rewritten(conn: sqlite3.Connection, lists, lows, highs) -> tuple[list, int]:
    """Write again (or delete, emptied) each of the `lists` that holds a segment of the [low, high) ranges, without
    them; ((key, its new list) of each, how many segments went). The lists are all read before any is written."""
    changed, removed = [], 0
    for keys, per_key, segments in lists:
        doomed = _inside(segments, lows, highs)
        if doomed.any():
            changed += _kept_lists(keys, np.repeat(np.arange(len(keys)), per_key), segments, doomed)
            removed += int(doomed.sum())
    conn.executemany("UPDATE posting_lists SET segments = ?2 WHERE key = ?1", [c for c in changed if c[1]])
    conn.executemany("DELETE FROM posting_lists WHERE key = ?", [(key,) for key, blob in changed if not blob])
    return changed, removed


def _recent_rows_of(conn: sqlite3.Connection, ranges: list) -> list[tuple[int, int]]:
    """The (key, segment) rows of postings_recent whose segment lies in one of the [low, high) ranges (one pass)."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS doomed_segments (segment INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM doomed_segments")
    conn.executemany("INSERT INTO doomed_segments (segment) VALUES (?)", ((s,) for low, high in ranges for s in range(low, high)))
    return conn.execute("SELECT key, segment FROM postings_recent WHERE segment IN (SELECT segment FROM doomed_segments)").fetchall()


def _kept_lists(keys: list, owner: np.ndarray, segments: np.ndarray, doomed: np.ndarray) -> list:
    """(key, its list without the doomed segments) of each list (`owner`: the list of each segment, ascending) that
    holds a doomed segment."""
    touched = np.unique(owner[doomed])
    kept_owner, kept = owner[~doomed], segments[~doomed]
    lo, hi = np.searchsorted(kept_owner, touched, side="left"), np.searchsorted(kept_owner, touched, side="right")
    return [(keys[i], pack(kept[a:b])) for i, a, b in zip(touched.tolist(), lo.tolist(), hi.tolist())]


def _inside(segments: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """Whether each segment lies in one of the sorted, disjoint [low, high) ranges."""
    at = np.searchsorted(lows, segments, side="right") - 1
    return (at >= 0) & (segments < highs[np.maximum(at, 0)])


def _all_lists(conn: sqlite3.Connection):
    """(keys, segments per key, segments) of every packed list of whole segment ids (a damaged one is left to
    `damaged_lists`, which check reports), a part at a time."""
    cursor = conn.execute(f"SELECT key, segments FROM posting_lists WHERE length(segments) % {SEGMENT_BYTES} = 0")
    while rows := cursor.fetchmany(ROWS_AT_ONCE // 8):
        keys = [key for key, _ in rows]
        yield (keys, *unpack(keys, [blob for _, blob in rows]))


def damaged_lists(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """(key, bytes) of the packed lists that are not whole segment ids (from their lengths: no list is read)."""
    return conn.execute(f"SELECT key, length(segments) FROM posting_lists WHERE length(segments) % {SEGMENT_BYTES} != 0"
                        " ORDER BY key").fetchall()


def _unordered(keys: list, per_key: np.ndarray, segments: np.ndarray) -> list:
    """The keys whose packed segments do not ascend strictly (a list out of order, or holding a segment twice)."""
    ends = np.cumsum(per_key)
    wrong = np.diff(segments) <= 0
    last = ends[:-1] - 1  # each list's last segment (but the final list's): its step goes to the next list's first
    wrong[last[(last >= 0) & (last < len(wrong))]] = False
    return sorted({keys[i] for i in np.searchsorted(ends, np.flatnonzero(wrong), side="right").tolist()})


def postings_per_segment(conn: sqlite3.Connection, segment_end: int, row_table: str | None = None) -> tuple:
    """(how many postings each segment id below `segment_end` has, postings of segments at or above it, the keys
    whose packed lists do not ascend), in both tables (or in an older index's `row_table`): what a check compares
    with the documents' segments."""
    counts, outside, unordered = np.zeros(max(int(segment_end), 0), dtype=np.int64), 0, []
    for keys, per_key, segments in () if row_table else _all_lists(conn):
        unordered += _unordered(keys, per_key, segments)
        outside += _count_into(counts, segments)
    for segments in _row_segments(conn, row_table or "postings_recent"):
        outside += _count_into(counts, segments)
    return counts, outside, unordered


def _count_into(counts: np.ndarray, segments: np.ndarray) -> int:
    """Add the segments' postings to `counts`; returns how many lie beyond it."""
    inside = segments < len(counts)
    counts += np.bincount(segments[inside], minlength=len(counts))
    return int((~inside).sum())


def _row_segments(conn: sqlite3.Connection, table: str):
    cursor = conn.execute(f"SELECT segment FROM {table}")
    while rows := cursor.fetchmany(ROWS_AT_ONCE):
        yield np.array(rows, dtype=np.int64).ravel()


def total(conn: sqlite3.Connection, row_table: str | None = None) -> int:
    """Postings in both tables (from the lists' lengths: no list is read), or in an older index's `row_table`."""
    if row_table:
        return conn.execute(f"SELECT count(*) FROM {row_table}").fetchone()[0]
    packed = conn.execute("SELECT coalesce(sum(length(segments)), 0) FROM posting_lists").fetchone()[0]
    return packed // SEGMENT_BYTES + conn.execute("SELECT count(*) FROM postings_recent").fetchone()[0]


def from_rows(conn: sqlite3.Connection, table: str) -> None:
    """Append the rows of a (key, segment) table — postings_recent, or an older index's — to posting_lists (the rows
    are left for the caller to delete or drop)."""
    for rows in _rows_in_order(conn, table):
        _append(conn, rows)


def all_postings(conn: sqlite3.Connection) -> tuple[np.ndarray, np.ndarray]:
    """(keys, segments) of every posting in both tables, ordered by key then segment (for checks and tests)."""
    parts = [(np.repeat(np.array(keys, dtype=np.int64), per_key), segments) for keys, per_key, segments in _all_lists(conn)]
    recent = np.array(conn.execute("SELECT key, segment FROM postings_recent").fetchall(), dtype=np.int64).reshape(-1, 2)
    keys = np.concatenate([p[0] for p in parts] + [recent[:, 0]])
    segments = np.concatenate([p[1] for p in parts] + [recent[:, 1]])
    order = np.lexsort((segments, keys))
    return keys[order], segments[order]
