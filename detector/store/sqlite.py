"""The corpus in SQLite (the default backend): documents with their original text and layout, LSH band postings, segment document frequencies, build settings."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import os
import tempfile
import json
import sqlite3
from pathlib import Path

import numpy as np

from detector.compression import DamagedBlob, compress, decompress, register_dictionary, train_dictionary
from detector.errors import DatabaseError, SettingsMismatch, missing_folder, storage_error
from detector.fingerprint import distinct, segment_hashes
from detector.layout import decode as decode_layout
from detector.layout import decode_contents, encode_contents
from detector.model import Document, DocumentMeta, SourceRef
from detector.files import create_private_file
from detector.paths import from_sql, shown, to_sql
from detector.store.base import RESTATED_ORIGINS, Postings, contents_from_layouts
from detector.store import sqlite_postings
from detector.store.sqlite_hot_keys import HotKeyCensus

SCHEMA_VERSION = 7  # 3: documents.layout, hot_keys; content_segments gone (hashes come from the layouts);
# 4: postings split into postings_main and postings_recent (the view `postings` reads both); 5: text_dictionaries;
# 6: postings_main packed into posting_lists, a row per band key (sqlite_postings.py); 7: documents.contents
BUSY_WAIT_MS = 60_000  # how long a write waits for another writer's transaction before it gives up
WAL_KEPT_BYTES = 64 * 2**20  # a checkpointed WAL is cut back to this (a merge of postings makes it gigabytes)
# SQLite's page cache per connection. A scan reads ~4,300 pages at 10^5 reports, few of them again in the next scans
# but the B-trees' upper pages and the boilerplate keys': at 256 MiB a process's first scans kept growing it (a page
# fault per new page, 26 MB a scan at 10^5) for no later hits. 64 MiB against 256: batch at 10^3 0.92x, at 10^4 0.91x
# (paired), a process at 10^5 210 MB smaller, the first pass over 20 submissions 101-108 -> 89-95 ms, adding 10^4
# reports 90.4-90.6 -> 92.1 s
PAGE_CACHE_KIB = 65_536
APPLICATION_ID = 0x43484348  # "CHCH": marks a file as a chachong database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    encoding TEXT,
    format TEXT,
    text BLOB NOT NULL,  -- the original text, compressed UTF-8 or UTF-16 (see _pack_text)
    layout BLOB,  -- the segment layout the aligner needs (detector/layout.py), so scans never re-normalise
    contents BLOB,  -- the segments' contents without offsets: what verifying a candidate reads (layout.encode_contents)
    chars INTEGER NOT NULL,
    author TEXT, unit TEXT, year INTEGER, meeting TEXT, team INTEGER,
    inferred TEXT,
    first_segment INTEGER NOT NULL,
    segment_count INTEGER NOT NULL,
    added_at TEXT NOT NULL
);
-- which document owns a segment id; and the segment total (a scan's key weights) read from the index alone, not
-- from every row of the table (123 ms at 10^4 reports on each new connection: each scanning process of a batch)
CREATE INDEX IF NOT EXISTS documents_segments ON documents (first_segment, segment_count);
DROP INDEX IF EXISTS documents_first_segment;  -- what documents_segments replaced (it leads with the same column)
CREATE TABLE IF NOT EXISTS hot_keys (  -- band keys with more than HOT_KEY_POSTINGS postings: the recount's, kept by adds
    key INTEGER PRIMARY KEY,
    postings INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS text_dictionaries (  -- zstd dictionaries the stored texts are compressed with (compression.py)
    id INTEGER PRIMARY KEY,  -- the dictionary's own id, which each frame compressed with it names
    dictionary BLOB NOT NULL,
    trained_on INTEGER NOT NULL,  -- how many texts it was trained on
    trained_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS segment_df (
    hash INTEGER PRIMARY KEY,
    docs INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS given_meta (
    sha256 TEXT NOT NULL,  -- the content and the path the statement was made about
    path TEXT NOT NULL,
    field TEXT NOT NULL,  -- author, unit, year, meeting, team
    value TEXT NOT NULL,  -- JSON
    origin TEXT NOT NULL,  -- meta (chachong meta), manifest (rebuild --manifest), add (add's options or manifest), stored
    seq INTEGER NOT NULL,  -- when it was said, in order: the latest statement wins
    PRIMARY KEY (sha256, path, field, origin)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS given_meta_path ON given_meta (path);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    seconds REAL NOT NULL,
    paths TEXT NOT NULL,
    settings TEXT NOT NULL,
    options TEXT NOT NULL,
    files INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    max_copy_ratio REAL,
    corpus_documents INTEGER,
    clusters TEXT NOT NULL,
    rechecks INTEGER REFERENCES scans (id)
);
CREATE TABLE IF NOT EXISTS scan_reports (
    scan_id INTEGER NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT,
    encoding TEXT,
    format TEXT,
    text TEXT,
    copy_ratio REAL,
    error TEXT,
    report TEXT NOT NULL,
    peers TEXT NOT NULL,
    PRIMARY KEY (scan_id, position)
) WITHOUT ROWID;
"""

_META_COLUMNS = ("author", "unit", "year", "meeting", "team")
HOT_KEY_POSTINGS = 64  # the recount lists keys with more postings than this (their counts weigh them by rarity)
# (not Settings.hot_key_postings, 200: the sample a scan reads of a key; hot_keys lists every key that may exceed it)
SEGMENT_OWNER_TABLE_MAX = 1 << 25  # segments mapped to their document by a table (int32: 128 MB at most); beyond, a binary search
HOT_KEY_COUNT_CAP = 5000  # a hot key the recount has not listed yet is counted up to this many postings
HOT_SAMPLE_CACHE_KEYS = 16384  # hot keys whose samples a connection remembers (~3.2 KB each at a cap of 200)
_SQLITE_DEFAULT_MAX_LENGTH = 1_000_000_000  # SQLite's longest string or blob unless built otherwise (SQLITE_MAX_LENGTH)
_LISTED_NUMBER_CHARS = 21  # characters a listed number takes at most: an int64 in decimal, its sign and a comma


class SqliteStore:
    """Documents and the LSH index in one SQLite file; the matching code talks to it only through these methods."""

    def __init__(self, path, create: bool = False):
        self.path = self.location = str(path)
        if self.path != ":memory:" and not create and not Path(self.path).exists():
            raise DatabaseError(f"{self.path}: no such database; create one with `chachong add PATH... --db {self.path}`")
        self.read_only = False
        self._row_postings = None  # the table of every posting as a row, in an older index read where it cannot be packed
        try:
            if create and self.path != ":memory:":
                create_private_file(self.path)  # SQLite gives -wal and -shm the database file's mode
            self._connect(create)
        except sqlite3.DatabaseError as err:
            raise _open_error(self.path, err) from None
        self._segment_starts = None
        self._cached: dict = {}
        self._postings_written = self._postings_removed = self._recount_follows = False  # in the current write transaction
        self._census: HotKeyCensus | None = None  # its new postings' hot_keys bookkeeping, applied before COMMIT
        self._merged = False  # postings merged since the last settle(): an add compacts after them
        self._postings_added = 0  # postings this process's adds wrote since its last merge at a settle (a bulk add?)

    def _migrate(self) -> None:
        """Bring the tables of an index written by an older chachong to this schema (its documents then need
        `rebuild`, which the index signature's version asks for)."""
        columns = {row[1] for row in self.conn.execute("PRAGMA table_info(documents)")}
        if "layout" in columns and not self._is_table("content_segments"):
            return  # the current schema: sqlite-utils (~60 ms to import) is not loaded
        import sqlite_utils

        db = sqlite_utils.Database(self.conn)
        if "layout" not in columns:
            db["documents"].add_column("layout", bytes)
        if self._is_table("content_segments"):
            db["content_segments"].drop()

    def _connect(self, create: bool) -> None:
        """Open for reading and writing; an existing index on a read-only file or disk is opened read-only."""
        self.conn = sqlite3.connect(self.path, timeout=BUSY_WAIT_MS / 1000, isolation_level=None, check_same_thread=False)
        try:
            self._configure()
            self._check_application()
            self.conn.executescript(_SCHEMA)
            self._pack_postings()  # an older index: its tables made in the transaction that packs its rows
            sqlite_postings.create_tables(self.conn)
            self._migrate()
            self._keep_older_corrections()
            self._register_dictionaries()
            self._store_contents()  # reads the texts: after their dictionaries are known
        except sqlite3.OperationalError as err:
            self.conn.close()
            if create or self.path == ":memory:" or not _read_only_trouble(err):
                raise
            self._connect_read_only()
        except BaseException:
            self.conn.close()
            raise

    def _row_postings_table(self) -> str | None:
        """The table of an index from before schema 6 holding its postings as rows: `postings` (schema 3: one table)
        or `postings_main` (schemas 4–5, beside postings_recent and the view `postings` of both); None: packed."""
        return next((table for table in ("postings", "postings_main") if self._is_table(table)), None)

    def _pack_postings(self) -> None:
        """An index from before schema 6 has its postings as rows: they are packed into posting_lists once, by the
        first process that opens it for writing (about half a minute for 10^4 reports), in one transaction that also
        makes the new tables — an upgrade that did not finish leaves no empty posting_lists a read-only opening would
        take for the index — and the space the rows took is given back when it is over a quarter of the file."""
        if self._row_postings_table() is None:
            return
        with self.transaction():
            table = self._row_postings_table()
            if table is None:  # another process packed them while this one waited
                return
            _say_upgrade("postings_upgrade", self.path)
            sqlite_postings.create_tables(self.conn)
            sqlite_postings.from_rows(self.conn, table)
            if table == "postings_main":  # the view of both tables and its trigger go with it
                self.conn.execute("DROP TRIGGER IF EXISTS postings_delete")
                self.conn.execute("DROP VIEW IF EXISTS postings")
            self.conn.execute(f"DROP TABLE {table}")
            self.merge_postings()  # schemas 4–5: postings_recent's rows, above every one of postings_main
            self._set_meta("schema_version", SCHEMA_VERSION)
        with contextlib.suppress(sqlite3.OperationalError):  # a reader keeps the old pages: the next rebuild compacts
            self.compact()

    def _store_contents(self) -> None:
        """An index from before schema 7 has no documents.contents: the column is added and filled from the layouts
        once, by the first process that opens it for writing (44 s for 10^5 reports; said on stderr), a thousand
        documents read at a time (all at once: every text and layout of the index in memory)."""
        if self._has_contents():
            return
        with self.transaction():
            if self._has_contents():  # another process added them while this one waited
                return
            if self.document_count():
                _say_upgrade("contents_upgrade", self.path)
            self.conn.execute("ALTER TABLE documents ADD COLUMN contents BLOB")
            last = -1
            while rows := self.conn.execute("SELECT id, text, layout FROM documents WHERE layout IS NOT NULL AND id > ?"
                                            " ORDER BY id LIMIT 1000", (last,)).fetchall():
                self.conn.executemany("UPDATE documents SET contents = ? WHERE id = ?", (
                    (_contents_of(packed, blob), doc_id) for doc_id, packed, blob in rows))
                last = rows[-1][0]
            self._set_meta("schema_version", SCHEMA_VERSION)

    def _has_contents(self) -> bool:
        return any(row[1] == "contents" for row in self.conn.execute("PRAGMA table_info(documents)"))

    def _register_dictionaries(self) -> None:
        """Make the dictionaries this index's texts are compressed with known to the decompressor."""
        if self._is_table("text_dictionaries"):
            for (raw,) in self.conn.execute("SELECT dictionary FROM text_dictionaries"):
                register_dictionary(raw)

    def _text_dictionary(self, texts: list) -> int | None:
        """The dictionary new texts are compressed with: the latest trained, else one trained on `texts` when they
        are enough and it helps (TEXT_DICTIONARY_MIN_DOCS, compression.train_dictionary); None: none yet. Call
        inside writing() (a new one is stored with the batch)."""
        from detector.settings import TEXT_DICTIONARY_ATTEMPTS, TEXT_DICTIONARY_MIN_DOCS

        row = self.conn.execute("SELECT dictionary FROM text_dictionaries ORDER BY rowid DESC LIMIT 1").fetchone()
        if row is not None:
            return register_dictionary(row[0])
        tried = self.meta().get("text_dictionary_attempts", 0)
        if len(texts) < TEXT_DICTIONARY_MIN_DOCS or tried >= TEXT_DICTIONARY_ATTEMPTS:
            return None
        raw = train_dictionary([_text_bytes(text)[1] for text in texts])
        if raw is None:  # texts a dictionary would not help (too short, nothing shared): stored without one
            self._set_meta("text_dictionary_attempts", tried + 1)
            return None
        dictionary = register_dictionary(raw)
        self.conn.execute("INSERT OR IGNORE INTO text_dictionaries (id, dictionary, trained_on, trained_at) VALUES (?, ?, ?, ?)",
                          (dictionary, raw, len(texts), _now()))
        return dictionary

    def _is_table(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None

    def _connect_read_only(self) -> None:
        """mode=ro; on a read-only mount, where SQLite cannot make the WAL's shared-memory file, immutable=1 (nobody can write there)."""
        uri = Path(self.path).resolve().as_uri()
        options = ["mode=ro", "immutable=1"] if _on_read_only_mount(self.path) else ["mode=ro"]
        for n, option in enumerate(options):
            try:
                self.conn = sqlite3.connect(f"{uri}?{option}", uri=True, timeout=60, isolation_level=None, check_same_thread=False)
                self.conn.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
                self._check_application()
                break
            except BaseException:
                self.conn.close()
                if n == len(options) - 1:
                    raise
        self.read_only = True
        self._forget()  # an older index that cannot be upgraded here is read as it is (its postings as rows)
        self._register_dictionaries()

    @contextlib.contextmanager
    def waiting(self, seconds: float):
        """Wait at most `seconds` for another writer in the block (scan history must not hold up a scan's results)."""
        self.conn.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")

    def _configure(self) -> None:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"busy_timeout={BUSY_WAIT_MS}",
                       f"cache_size=-{PAGE_CACHE_KIB}", "temp_store=MEMORY", f"journal_size_limit={WAL_KEPT_BYTES}"):
            self.conn.execute(f"PRAGMA {pragma}")

    def _check_application(self) -> None:
        app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        tables = self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id == 0 and tables == 0:
            self.conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        elif app_id != APPLICATION_ID:
            raise DatabaseError(f"{self.path}: this SQLite file is not a chachong database; choose another --db path")

    def close(self) -> None:
        self.conn.close()

    def reopened(self) -> "SqliteStore":
        """The same database on a new connection, for a forked process (the parent's connection stays the parent's)."""
        return self if self.path == ":memory:" else SqliteStore(self.path)  # a copied memory database is the child's own

    # --- settings ---
    def meta(self) -> dict:
        return {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM meta")}

    def ensure_signature(self, signature: dict, explicit: bool) -> dict:
        """Record the index settings in a new DB, or check them against an existing one; returns the stored ones."""
        stored = self.meta().get("index")
        if stored is None:
            with self.transaction():
                self._set_meta("index", signature)
                self._set_meta("schema_version", SCHEMA_VERSION)
                self._set_meta("created_at", _now())
            return signature
        if explicit and stored != signature:
            raise SettingsMismatch(_mismatch_message(self.path, stored, signature))
        return stored

    def _set_meta(self, key: str, value) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value, ensure_ascii=False)),
        )

    # --- consistency ---
    def transaction(self):
        return _Transaction(self.conn, self._began_writing, self._settle_hot_keys)

    def writing(self):
        """One SQLite write transaction: all of the block's changes or none."""
        return _Transaction(self.conn, self._began_writing, self._settle_hot_keys)

    def _journal_mode(self) -> str:
        return self.conn.execute("PRAGMA journal_mode").fetchone()[0].lower()

    def _began_writing(self) -> None:
        self._postings_written = self._postings_removed = self._recount_follows = False
        self._census = None

    def _settle_hot_keys(self) -> None:
        """Before COMMIT: hot_keys brought up to date for the postings this transaction added."""
        census, self._census = self._census, None
        if census is not None:
            census.apply(self.conn)

    def reading(self):
        """One read transaction (WAL): the block sees one committed index, even while a writer commits."""
        return _Snapshot(self)

    def writer_lock(self, command: str):
        from detector.locking import writer_lock

        return writer_lock(self.path, command)

    # --- documents ---
    def document_id_by_sha(self, sha256: str):
        row = self.conn.execute("SELECT id FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def insert_documents(self, entries: list, ids: list | None = None) -> list[int]:
        """Store IndexEntry items (document, layout, band keys, segment hashes); call inside writing(). `ids`: per
        entry, the id to store it under, or None for the next never given (see Store.insert_documents).

        Postings of the whole batch are written in key order into postings_recent, a table of rows small enough that
        a batch rewrites few pages of it; at RECENT_POSTINGS_MERGE_ROWS, or at the command's end past a share of the
        packed ones, it is merged into posting_lists (see _merge_postings_if_due, settle). Segments are numbered contiguously inside this file (first_segment + index):
        SQLite's own bookkeeping, translated to (document, segment index) pairs by postings(). hot_keys stays exact
        for the batch's keys (sqlite_hot_keys.py), unless postings were removed in this transaction (a recount follows).
        """
        first = self._next_segment_id()
        self._refuse_segments_past_packing(first, sum(len(entry.keys) for entry in entries))
        keys, segments = _batch_postings(entries, first)
        self._gather_hot_keys(keys, segments)
        dictionary = self._text_dictionary([entry.document.text for entry in entries])
        given, stored, hash_counts = ids or [None] * len(entries), [], {}
        last = max([self._last_document_id(), *(i for i in given if i is not None)])
        for entry, wanted in zip(entries, given):
            if wanted is None:
                last += 1
            stored.append(self._insert_document_row(last if wanted is None else wanted, entry.document, entry, first,
                                                    dictionary))
            for h in set(entry.hashes):
                hash_counts[h] = hash_counts.get(h, 0) + 1
            first += len(entry.keys)
        if stored:
            self._set_meta("last_document_id", last)
        if len(keys):
            recent, before = self._recent_postings(), self.conn.total_changes
            self.conn.executemany("INSERT OR IGNORE INTO postings_recent (key, segment) VALUES (?, ?)",
                                  zip(keys.tolist(), segments.tolist()))
            self._note_recent_postings(recent + self.conn.total_changes - before)
            self._postings_added += self.conn.total_changes - before
            self._merge_postings_if_due()
        self._postings_written = True
        self._count_segments(hash_counts, +1)
        self._forget()
        return stored

    def _refuse_segments_past_packing(self, first: int, count: int) -> None:
        """Segment ids are never given twice (a changed or removed document's stay unused until `rebuild --full`
        numbers from 0 again) and are packed as uint32: a batch that would pass 2^32 - 1 is refused before anything
        is written, where its postings would have stopped every later merge (and so every add and rebuild)."""
        if first + count - 1 > sqlite_postings.LARGEST_SEGMENT:
            raise DatabaseError(f"{shown(self.path)}: the index has used {first:,} segment numbers and {count:,} more would "
                                f"pass {sqlite_postings.LARGEST_SEGMENT:,}, the most it stores; nothing was changed — "
                                "number them from 0 again with `chachong rebuild --full`, then add again")

    def _gather_hot_keys(self, keys: np.ndarray, segments: np.ndarray) -> None:
        """Make a batch's hot_keys bookkeeping, applied after its postings are in (before the next batch's, or at COMMIT).
        The first batch of a transaction that has not changed postings yet is probed at once, on a snapshot, in a
        thread. Nothing when the transaction removed postings or will recount them (rebuild)."""
        self._settle_hot_keys()
        if self._postings_removed or self._recount_follows or not len(keys):
            return
        self._census = HotKeyCensus(keys, segments, HOT_KEY_POSTINGS)
        if not self._postings_written and self.path != ":memory:" and self._journal_mode() == "wal":
            self._census.start_on_snapshot(self.path, BUSY_WAIT_MS / 1000)  # a WAL reader is never blocked by this writer

    def recount_follows(self) -> None:
        """This transaction recounts segment frequencies and hot keys before COMMIT: adds skip their upkeep of hot_keys."""
        self._recount_follows, self._census = True, None

    # --- postings: packed lists, and a small table of recent postings merged into them when it grows ---
    def _recent_postings(self) -> int:
        """Rows of postings_recent, as recorded in meta by the writes (counted when not recorded)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'recent_postings'").fetchone()
        return json.loads(row[0]) if row else self.conn.execute("SELECT count(*) FROM postings_recent").fetchone()[0]

    def _note_recent_postings(self, rows: int) -> None:
        self._set_meta("recent_postings", rows)

    def _merge_postings_if_due(self) -> None:
        """Inside a command that adds: merge postings_recent into posting_lists only once it holds
        RECENT_POSTINGS_MERGE_ROWS. Merged a batch or two at a time (the share rule) postings cost ~1.4 µs each, every
        key a batch touches rewritten each time; in one merge of a whole 10^4-report build, 0.56 µs. So the share
        rule waits for the command's end (settle): such an add merges twice (at 16 M rows, then the rest), not 14 times."""
        from detector.settings import RECENT_POSTINGS_MERGE_ROWS

        if self._recent_postings() >= RECENT_POSTINGS_MERGE_ROWS:
            self.merge_postings()

    def _merge_due_at_end(self) -> bool:
        """Whether a command's end merges postings_recent: when it holds at least FIRST_POSTINGS_MERGE_ROWS, and
        RECENT_POSTINGS_SHARE of the packed postings (a scan would list too many keys row by row), or this process
        added at least that share of the postings the index held before (a bulk add, building an index from nothing
        among them: the merge is a small part of its cost — 19 s after adding 10^5 reports in 1,056 s — and the up
        to 16 M postings it would leave recent cost every later scan ~10 ms until the share is reached)."""
        from detector.settings import FIRST_POSTINGS_MERGE_ROWS, RECENT_POSTINGS_SHARE

        recent = self._recent_postings()
        if recent < FIRST_POSTINGS_MERGE_ROWS:
            return False
        bands = (self.meta().get("index") or {}).get("bands") or 1
        postings = bands * self._segments_stored()
        packed, before = max(postings - recent, 0), max(postings - self._postings_added, 0)
        return recent >= RECENT_POSTINGS_SHARE * packed or self._postings_added >= RECENT_POSTINGS_SHARE * before

    def merge_postings(self) -> None:
        """Move every recent posting into posting_lists (appended to its key's list); call inside writing()."""
        sqlite_postings.merge_recent(self.conn)
        self._note_recent_postings(0)
        self._merged = True

    def settle(self, announce=None) -> bool:
        """At the end of a command that added (or of a rebuild that changed nothing): merge the recent postings when
        they are past the share or this process added in bulk (_merge_due_at_end) — also those a command killed before
        its end left — in a transaction of their own; then, when this process merged, compact (VACUUM if over a
        quarter of the file is free: the lists a merge rewrote and the recent rows leave their old pages). Whether it
        merged now. A merge or compacting the disk or a reader refuses is no error: the postings stay recent (scans
        read them, a little slower) and the next command's end merges them; the next rebuild compacts. `announce()`
        is called before merging or compacting (on a large index they take minutes)."""
        if self.read_only:
            return False
        merged_now, due = False, self._merge_due_at_end()
        if announce is not None and (due or self._merged):
            announce()
        if due:
            with contextlib.suppress(sqlite3.OperationalError):  # a full disk; another writer past the busy wait
                with self.writing():
                    if self._merge_due_at_end():  # as committed when this transaction began
                        self.merge_postings()
                        merged_now, self._postings_added = True, 0
        merged, self._merged = self._merged, False
        if merged:
            with contextlib.suppress(sqlite3.OperationalError):  # a full disk, a reader holding the WAL
                self.compact()
        return merged_now

    def _last_document_id(self) -> int:
        """The highest id this database has given: a removed document's id is never given again (people write ids
        down: `meta 3`, `remove 3`), so it is kept in meta as well as read from the documents."""
        row = self.conn.execute("SELECT max(id) FROM documents").fetchone()
        kept = self.conn.execute("SELECT value FROM meta WHERE key = 'last_document_id'").fetchone()
        return max(row[0] or 0, json.loads(kept[0]) if kept else 0)

    def _insert_document_row(self, doc_id: int, doc: Document, entry, first_segment: int,
                             dictionary: int | None = None) -> int:
        meta = doc.meta
        self.conn.execute(
            "INSERT INTO documents (id, path, sha256, encoding, format, text, layout, contents, chars, author, unit, year,"
            " meeting, team, inferred, first_segment, segment_count, added_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (doc_id, to_sql(doc.path), doc.sha256, doc.encoding, doc.format, _pack_text(doc.text, dictionary),
             entry.stored_layout(), entry.stored_contents(), doc.chars, meta.author, meta.unit, meta.year, meta.meeting,
             None if meta.team is None else int(meta.team), json.dumps(list(meta.inferred)), first_segment,
             len(entry.keys), _now()),
        )
        return doc_id

    def _count_segments(self, counts: dict, sign: int) -> None:
        """Add (sign=+1) or subtract (sign=-1) documents per segment hash."""
        self.conn.executemany(
            "INSERT INTO segment_df (hash, docs) VALUES (?, ?) ON CONFLICT(hash) DO UPDATE SET docs = docs + excluded.docs",
            ((h, sign * n) for h, n in sorted(counts.items())),
        )
        if sign < 0:
            self.conn.execute("DELETE FROM segment_df WHERE docs <= 0")

    def _next_segment_id(self) -> int:
        row = self.conn.execute(
            "SELECT first_segment + segment_count FROM documents ORDER BY first_segment DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else 0

    def document(self, doc_id: int) -> Document:
        row = self.conn.execute(
            "SELECT id, path, sha256, encoding, format, text, author, unit, year, meeting, team, inferred"
            " FROM documents WHERE id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            raise DatabaseError(f"{self.path}: no document with id {doc_id}")
        try:
            return _row_to_document(row)
        except (DamagedBlob, UnicodeDecodeError) as err:
            raise self._unreadable(row, err) from None

    def source_ref(self, doc_id: int) -> SourceRef:
        row = self.conn.execute("SELECT path, author, unit, year, meeting, team FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return SourceRef(path=from_sql(row[0]), author=row[1], unit=row[2], year=row[3], doc_id=doc_id, meeting=row[4],
                         team=None if row[5] is None else bool(row[5]))

    def update_meta(self, doc_id: int, meta: DocumentMeta) -> None:
        """Replace a document's metadata and the list of its inferred fields; call inside a transaction."""
        self.conn.execute(
            "UPDATE documents SET author = ?, unit = ?, year = ?, meeting = ?, team = ?, inferred = ? WHERE id = ?",
            (meta.author, meta.unit, meta.year, meta.meeting, None if meta.team is None else int(meta.team),
             json.dumps(list(meta.inferred)), doc_id),
        )

    def document_ids_by_path(self, path: str) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM documents WHERE path = ? ORDER BY id", (to_sql(path),))]

    def documents_with_meta(self) -> list:
        """(id, path, DocumentMeta) of every stored document, without the texts."""
        rows = self.conn.execute("SELECT id, path, author, unit, year, meeting, team, inferred FROM documents ORDER BY id")
        return [(r[0], from_sql(r[1]), _meta_from_row(r[2:])) for r in rows]

    def documents(self):
        """(id, path, sha256) of every stored document."""
        rows = self.conn.execute("SELECT id, path, sha256 FROM documents ORDER BY id")
        return [(doc_id, from_sql(path), sha) for doc_id, path, sha in rows]

    def document_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM documents").fetchone()[0]

    # --- index queries ---
    def postings(self, keys, cap: int) -> Postings:
        """(document, segment) pairs of each band key: all of them for a cold key, `cap` for a hot one (boilerplate).

        No counting over the postings: one statement reads each key's first cap + 1 rows (one index probe per
        key). A key that has more is hot: it keeps its first `cap`, and its count comes from hot_keys (the last
        recount) or a count capped at HOT_KEY_COUNT_CAP rows. A hot key's sample is remembered for the committed
        state (HOT_SAMPLE_CACHE_KEYS): the submissions of a batch share their boilerplate keys, which are most of
        the rows read.
        """
        keys = _ascending_distinct(keys)
        samples = self._hot_samples(cap)
        found_keys, per_key, segments = self._listed([k for k in keys if k not in samples], cap)
        table = _capped_runs(found_keys, per_key, segments, cap)  # cold runs, then the hot ones
        cold_runs = per_key <= cap
        cold = int(per_key[cold_runs].sum())
        counts = dict(zip(found_keys[cold_runs].tolist(), per_key[cold_runs].tolist()))
        owners, indices = self.segment_owner(table[:, 1])
        pairs = np.stack([owners, indices], axis=1)
        self._remember_samples(samples, table[cold:, 0], pairs[cold:])
        hot = [k for k in keys if k in samples]
        counts.update(self._hot_counts(hot))
        hot_pairs = [samples[k] for k in hot]
        hot_keys = np.repeat(np.array(hot, dtype=np.int64), [len(p) for p in hot_pairs])
        return Postings(np.concatenate([table[:cold, 0], hot_keys]),
                        np.concatenate([pairs[:cold]] + hot_pairs).reshape(-1, 2), counts)

    def _listed(self, keys: list, cap: int) -> tuple:
        """(keys found, postings listed per key, their segments in key order): the first cap + 1 of each key's
        postings, lowest segment first — its packed ones, then its recent ones (see sqlite_postings.py)."""
        if self._row_postings:
            return self._rows_listed(keys, cap, self._row_postings)
        try:
            packed = sqlite_postings.packed_listing(self.conn, json.dumps(keys), cap)
        except sqlite_postings.DamagedList as err:
            raise DatabaseError(f"{shown(self.path)}: {err}") from None
        if not self._recent_postings():
            return packed
        return sqlite_postings.joined(packed, self._rows_listed(keys, cap, "postings_recent"), cap)

    def _rows_listed(self, keys: list, cap: int, table: str) -> tuple:
        """_listed's postings of a (key, segment) table: the recent ones. The keys go by as many statements as keep each one's string within SQLite's
        longest (SQLITE_LIMIT_LENGTH, 10^9 bytes by default): one for a report, a few for a book-length submission
        whose keys are mostly hot (cap + 1 listed each), which would otherwise fail with "string or blob too big"."""
        at_once = max(1, self._longest_string() // ((int(cap) + 3) * _LISTED_NUMBER_CHARS))
        parts = [self._rows_at_once(keys[lo : lo + at_once], cap, table) for lo in range(0, max(1, len(keys)), at_once)]
        return parts[0] if len(parts) == 1 else tuple(np.concatenate(column) for column in zip(*parts))

    def _longest_string(self) -> int:
        """SQLite's longest string or blob on this connection (Python 3.10 cannot ask: the default)."""
        getlimit = getattr(self.conn, "getlimit", None)
        return getlimit(sqlite3.SQLITE_LIMIT_LENGTH) if getlimit is not None else _SQLITE_DEFAULT_MAX_LENGTH

    def _rows_at_once(self, keys: list, cap: int, table: str) -> tuple:
        """_rows_listed's keys by one statement giving one string — each found key's run as "-1,key,segment,…"
        (keys and segments are never negative) — parsed at once (a row per key cost more in Python than the reads)."""
        listed = self.conn.execute(
            "SELECT group_concat('-1,' || q.value || ',' || (SELECT group_concat(segment) FROM (SELECT segment FROM"
            f" {table} WHERE key = q.value ORDER BY segment LIMIT ?))) FROM json_each(?) AS q",
            (int(cap) + 1, json.dumps(keys))).fetchone()[0]  # a key without postings gives NULL, which is left out
        if not listed:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        numbers = np.fromstring(listed, dtype=np.int64, sep=",")
        marks = np.flatnonzero(numbers < 0)
        per_key = np.diff(np.r_[marks, len(numbers)]) - 2
        segment_rows = np.ones(len(numbers), dtype=bool)
        segment_rows[marks] = segment_rows[marks + 1] = False
        return numbers[marks + 1], per_key, numbers[segment_rows]

    def _hot_samples(self, cap: int) -> dict:
        """Hot key → its sample's (document, segment) pairs, for the committed state; emptied when it holds
        HOT_SAMPLE_CACHE_KEYS keys (a service scanning for months meets many)."""
        samples = self._cached.setdefault(("hot_samples", cap), {})
        if len(samples) > HOT_SAMPLE_CACHE_KEYS:
            samples.clear()
        return samples

    @staticmethod
    def _remember_samples(samples: dict, keys: np.ndarray, pairs: np.ndarray) -> None:
        """Keep the samples of hot keys just read (`keys`: one per row, each key's rows together)."""
        if not len(keys):
            return
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        for key, a, b in zip(keys[starts].tolist(), starts.tolist(), np.r_[starts[1:], len(keys)].tolist()):
            samples[key] = pairs[a:b].copy()

    def _hot_counts(self, keys: list) -> dict:
        """Postings of hot keys: from hot_keys, else counted up to HOT_KEY_COUNT_CAP — once per committed state
        (the boilerplate keys of one batch's submissions are mostly the same)."""
        remembered = self._cached.setdefault("hot_counts", {})
        wanted = [k for k in keys if k not in remembered]
        known = dict(self._batched("SELECT key, postings FROM hot_keys WHERE key IN ({})", wanted))
        for key in (k for k in wanted if k not in known):
            counted = sqlite_postings.key_postings_sql(self._row_postings)
            found = self.conn.execute(f"SELECT {counted}", (key, HOT_KEY_COUNT_CAP)).fetchone()[0]
            known[key] = min(found, HOT_KEY_COUNT_CAP)
        remembered.update(known)
        return {k: remembered[k] for k in keys}

    def segment_total(self) -> int:
        """Segments in the index (for weighting band keys by rarity); counted once per committed state."""
        if "segment_total" not in self._cached:
            self._cached["segment_total"] = self._segments_stored()
        return self._cached["segment_total"]

    def _segments_stored(self) -> int:
        return self.conn.execute("SELECT coalesce(sum(segment_count), 0) FROM documents").fetchone()[0]

    def layouts(self, doc_ids) -> dict:
        """id → (Document, Layout) of stored documents, from the stored layouts (nothing re-normalised)."""
        rows = list(self._batched("SELECT id, path, sha256, encoding, format, text, author, unit, year, meeting, team,"
                                  " inferred, layout FROM documents WHERE id IN ({})", list(doc_ids)))
        found = {}
        for row in rows:
            if row[12] is None:
                raise DatabaseError(f"{self.path}: the index was written by an older chachong; "
                                    "rebuild it with `chachong rebuild --full`")
            found[row[0]] = self._document_with_layout(row)
        return found

    def contents(self, doc_ids) -> dict:
        """id → (metadata, SegmentContents) of stored documents: what verifying reads, without their texts or
        offsets; a document stored before contents were kept (none after an upgrade's first write): its layout."""
        if self.read_only and not self._has_contents():  # an older index that cannot be upgraded here
            return contents_from_layouts(self, doc_ids)
        found, older = {}, []
        for row in self._batched("SELECT id, author, unit, year, meeting, team, inferred, contents, path FROM documents"
                                 " WHERE id IN ({})", list(doc_ids)):
            if row[7] is None:
                older.append(row[0])
                continue
            try:
                found[row[0]] = (_meta_from_row(row[1:7]), decode_contents(row[7]))
            except (DamagedBlob, DatabaseError) as err:
                raise self._unreadable((row[0], row[8]), err) from None
        found.update(contents_from_layouts(self, older))
        return found

    def _document_with_layout(self, row) -> tuple:
        try:
            doc = _row_to_document(row[:12])
            return doc, decode_layout(row[12], doc.text)
        except (DamagedBlob, UnicodeDecodeError) as err:
            raise self._unreadable(row, err) from None

    def _unreadable(self, row, err: Exception) -> DatabaseError:
        """The one-line error for a document row (id, path, …) whose stored text or layout does not decode."""
        return DatabaseError(f"{self.path}: document {row[0]} ({shown(from_sql(row[1]))}): its stored text or layout "
                             f"cannot be read ({_damage(err)}); restore a backup or rebuild the index "
                             "(`chachong rebuild --full`)")

    def _batched(self, sql: str, values):
        """Run `sql` with its IN (…) list filled by `values`, 900 at a time; yields the rows."""
        values = list(values)
        for i in range(0, len(values), 900):
            batch = values[i : i + 900]
            yield from self.conn.execute(sql.format(",".join("?" * len(batch))), batch)

    def segment_owner(self, segment_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For global segment ids: (document id, segment index inside that document).

        A binary search over every document's first segment; from the second lookup of a committed state on (a
        batch, a service), a table of segment → document instead (SEGMENT_OWNER_TABLE_MAX)."""
        if self._segment_starts is None:
            self._segment_starts = self._documents_by_first_segment()
            self._owner_lookups, self._owner_table = 0, None
        starts, ids = self._segment_starts
        self._owner_lookups += 1
        if self._owner_lookups == 2 and len(starts):  # one lookup alone does not pay for the table
            self._owner_table = self._segment_owner_table(starts, ids)
        table = self._owner_table
        offsets = segment_ids - starts[0] if len(starts) else segment_ids
        if table is not None and len(offsets) and offsets.min() >= 0 and offsets.max() < len(table):
            where = table[offsets]
        else:
            where = np.searchsorted(starts, segment_ids, side="right") - 1
        return ids[where], segment_ids - starts[where]

    def _documents_by_first_segment(self) -> tuple[np.ndarray, np.ndarray]:
        """(every document's first segment, ascending; the documents' ids), read as two strings of numbers parsed at
        once: a row as a Python tuple, then two lists, cost a fresh process's first scan ~70 ms at 10^5 reports."""
        firsts, ids = self.conn.execute("SELECT group_concat(first_segment), group_concat(id) FROM"
                                        " (SELECT first_segment, id FROM documents ORDER BY first_segment)").fetchone()
        return _numbers(firsts), _numbers(ids)

    def _segment_owner_table(self, starts: np.ndarray, ids: np.ndarray):
        """Segment (from the first document's first) → position of its document in `starts`; None when too many."""
        end = self.conn.execute("SELECT first_segment + segment_count FROM documents WHERE id = ?", (int(ids[-1]),)).fetchone()[0]
        if end - starts[0] > SEGMENT_OWNER_TABLE_MAX:
            return None
        ends = np.r_[starts[1:], end]  # a gap left by a removed document goes to the one before, as the search has it
        return np.repeat(np.arange(len(starts), dtype=np.int32), ends - starts)

    def segment_document_frequency(self, hashes) -> dict:
        """content hash → number of corpus documents with a segment of that content."""
        return dict(self._batched("SELECT hash, docs FROM segment_df WHERE hash IN ({})", set(hashes)))

    def stats(self) -> dict:
        docs, chars = self.conn.execute("SELECT count(*), coalesce(sum(chars), 0) FROM documents").fetchone()
        segments = self.conn.execute("SELECT coalesce(sum(segment_count), 0) FROM documents").fetchone()[0]
        postings = sqlite_postings.total(self.conn, self._row_postings)
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        size = pages * self.conn.execute("PRAGMA page_size").fetchone()[0]
        return {"documents": docs, "characters": chars, "segments": segments, "postings": postings,
                "database_bytes": size, "settings": self.meta().get("index")}

    # --- rebuild support: archive files seen, bulk changes, recount, compaction ---
    def _note_data_version(self) -> bool:
        """Whether another connection committed since the last call (drops caches built from the old index)."""
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        changed = getattr(self, "_data_version", version) != version
        self._data_version = version
        if changed:
            self._forget()
        return changed

    def _forget(self) -> None:
        """Drop what was cached from the index (it changed); read-only, see again whether its postings are rows (an
        older index another process may have packed since: a service opened on a full disk goes on scanning)."""
        self._segment_starts = None
        self._cached = {}
        if self.read_only:
            self._row_postings = "postings" if self._row_postings_table() else None

    def set_meta(self, key: str, value) -> None:
        self._set_meta(key, value)

    def file_states(self) -> dict:
        """path → (size, mtime_ns, sha256) of the archive files the last rebuild saw."""
        return {from_sql(row[0]): tuple(row[1:]) for row in self.conn.execute("SELECT path, size, mtime_ns, sha256 FROM files")}

    def replace_file_states(self, states: dict) -> None:
        """Record the archive's files (path → (size, mtime_ns, sha256)); call inside a transaction."""
        self.conn.execute("DELETE FROM files")
        rows = ((to_sql(path), *state) for path, state in sorted(states.items()))
        self.conn.executemany("INSERT INTO files (path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)", rows)

    def document_metas(self) -> dict:
        """id → DocumentMeta of every stored document, without loading the texts."""
        rows = self.conn.execute("SELECT id, author, unit, year, meeting, team, inferred FROM documents")
        return {row[0]: _meta_from_row(row[1:]) for row in rows}

    def move_document(self, doc_id: int, path: str) -> None:
        self.conn.execute("UPDATE documents SET path = ? WHERE id = ?", (to_sql(path), doc_id))

    def delete_documents(self, doc_ids) -> None:
        """Remove documents, their postings and their segment counts; call inside writing(). The postings are found
        by the documents' band keys, made again from their layouts (or, for many documents, by one pass over all)."""
        doc_ids = list(doc_ids)
        layouts = {doc_id: layout for doc_id, (_, layout) in self.layouts(doc_ids).items()}
        hash_counts: dict = {}
        for layout in layouts.values():
            for h in set(segment_hashes(layout)):
                hash_counts[h] = hash_counts.get(h, 0) + 1
        self._count_segments(hash_counts, -1)
        ranges = dict((r[0], r[1:]) for r in self._batched(
            "SELECT id, first_segment, segment_count FROM documents WHERE id IN ({})", doc_ids))
        expected = self._postings_of(layouts, ranges)
        self._count_hot_keys_again(sqlite_postings.remove_segments(self.conn, list(ranges.values()), expected))
        self._note_recent_postings(self.conn.execute("SELECT count(*) FROM postings_recent").fetchone()[0])
        for _ in self._batched("DELETE FROM documents WHERE id IN ({})", doc_ids):
            pass
        self._postings_written = self._postings_removed = True  # a later add's probe of the snapshot would count them
        self._census = None
        self._forget()

    def _postings_of(self, layouts: dict, ranges: dict) -> tuple | None:
        """(keys, segments) of documents' postings, distinct, as indexing their layouts made them (the index's
        settings); None where one pass over every list is the way: settings this chachong would not index with, a
        layout of another segment count, or documents holding over REMOVAL_BY_KEYS_SHARE of the postings."""
        from detector.settings import REMOVAL_BY_KEYS_SHARE
        from detector.sign import band_keys, signatures

        settings = _recorded_settings(self.meta().get("index"))
        total = self.conn.execute("SELECT coalesce(sum(segment_count), 0) FROM documents").fetchone()[0]
        if (settings is None or layouts.keys() != ranges.keys()
                or sum(count for _, count in ranges.values()) > REMOVAL_BY_KEYS_SHARE * total):
            return None
        keys, segments = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for doc_id, layout in layouts.items():
            first, count = ranges[doc_id]
            found = band_keys(signatures([layout.content[a:b] for a, b in layout.bounds.tolist()], settings), *settings.bands_rows)
            if len(found) != count:
                return None
            keys.append(found.ravel())
            segments.append(np.repeat(np.arange(first, first + count, dtype=np.int64), found.shape[1]))
        pairs = np.unique(np.stack([np.concatenate(keys), np.concatenate(segments)], axis=1), axis=0)
        return pairs[:, 0], pairs[:, 1]

    def _count_hot_keys_again(self, keys: list) -> None:
        """The hot_keys counts of keys that lost postings, counted again (from the lists' lengths and the recent rows),
        a key back at HOT_KEY_POSTINGS or under taken off: a removal leaves them exact, where they over-counted until
        the next rebuild's recount."""
        listed = json.dumps(keys)
        counted = sqlite_postings.KEY_POSTINGS_SQL.replace("?1", "hot_keys.key").replace("?2", "-1")
        self.conn.execute(f"UPDATE hot_keys SET postings = {counted} WHERE key IN (SELECT value FROM json_each(?))", (listed,))
        self.conn.execute("DELETE FROM hot_keys WHERE postings <= ? AND key IN (SELECT value FROM json_each(?))",
                          (HOT_KEY_POSTINGS, listed))

    def clear_index(self) -> None:
        """Empty documents, postings and statistics (a full rebuild starts here); call inside a transaction. The
        highest id given stays known: the rebuild stores documents under the ids they had, new ones above them."""
        self._set_meta("last_document_id", self._last_document_id())  # also where an older index did not record it
        for table in ("posting_lists", "postings_recent", "segment_df", "documents", "hot_keys"):
            self.conn.execute(f"DELETE FROM {table}")
        self._note_recent_postings(0)
        self._postings_written = self._postings_removed = True  # the rebuild that clears the index recounts it
        self._census = None
        self._forget()

    def recount_segment_df(self) -> int:
        """Recount segment document frequencies and the hot band keys from scratch; returns the segment_df rows.

        Segment hashes come from each document's stored layout, so no text is normalised again.
        """
        blobs = [np.unique(np.array(segment_hashes(decode_layout(blob, _unpack_text(packed))), dtype=np.int64))
                 for packed, blob in self.conn.execute("SELECT text, layout FROM documents WHERE layout IS NOT NULL")]
        hashes, counts = np.unique(np.concatenate(blobs) if blobs else np.zeros(0, np.int64), return_counts=True)
        self.conn.execute("DELETE FROM segment_df")
        self.conn.executemany("INSERT INTO segment_df (hash, docs) VALUES (?, ?)", zip(hashes.tolist(), counts.tolist()))
        self.conn.execute("DELETE FROM hot_keys")
        self.merge_postings()  # all postings packed: a list's length is its key's count
        self.conn.execute("INSERT INTO hot_keys (key, postings) SELECT key, length(segments) / 4 FROM posting_lists"
                          " WHERE length(segments) > ?", (HOT_KEY_POSTINGS * sqlite_postings.SEGMENT_BYTES,))
        self._postings_written, self._census = True, None
        self._postings_removed = self._recount_follows = False  # hot_keys exact again
        self._forget()
        return len(hashes)

    def compact(self, vacuum_above: float = 0.25) -> dict:
        """PRAGMA optimize; VACUUM when over `vacuum_above` of the pages are free; fold the WAL back into the file."""
        self.conn.execute("PRAGMA optimize")
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        free = self.conn.execute("PRAGMA freelist_count").fetchone()[0]
        vacuumed = free > vacuum_above * pages
        if vacuumed:
            self._vacuum()
        self.conn.execute("PRAGMA busy_timeout=2000")  # a scan holding an old snapshot: leave the WAL for next time
        try:
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            self.conn.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
        return {"pages": pages, "free_pages": free, "vacuumed": vacuumed, "wal_truncated": not busy}

    def _vacuum(self) -> None:
        """VACUUM with its copy of the database made on disk, in SQLite's temporary folder (SQLITE_TMPDIR, else
        TMPDIR, else /var/tmp): under temp_store=MEMORY, which merges and removals want for their sorts, the copy is
        made in memory, as large as the file — 3.1 GB at the end of adding 10^5 reports (the 2 GiB target missed),
        against 550 MB on disk, in the same 26 s. A folder too small refuses it as a full disk does (said, nothing lost)."""
        self.conn.execute("PRAGMA temp_store=FILE")
        try:
            self.conn.execute("VACUUM")
        finally:
            self.conn.execute("PRAGMA temp_store=MEMORY")

    def index_problems(self, per_segment: tuple | None = None) -> list[str]:
        """What is wrong with the index, empty when it is intact: SQLite's integrity check and postings ↔ documents
        (`per_segment`: the postings of each segment, when counted already)."""
        problems = [f"SQLite's integrity check: {r[0]}; restore a backup or run `chachong rebuild --full`"
                    for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        ranges = self.conn.execute("SELECT first_segment, segment_count FROM documents ORDER BY first_segment").fetchall()
        expected = np.concatenate([np.arange(f, f + n) for f, n in ranges]) if ranges else np.zeros(0, np.int64)
        counts, outside, unordered = per_segment or self._postings_per_segment()
        found = np.flatnonzero(counts)
        if outside or not np.array_equal(found, expected.astype(np.int64)):
            problems.append(f"postings cover {len(found) + bool(outside)} segments, the documents own {len(expected)} "
                            "(not the same ones); run `chachong rebuild --full`")
        return problems + self._list_problems(unordered)

    def _list_problems(self, unordered: list) -> list[str]:
        """Packed lists that are not whole segment ids, or whose segments do not ascend."""
        damaged = [] if self._row_postings else sqlite_postings.damaged_lists(self.conn)
        problems = [f"posting lists damaged: {len(damaged)} (band key {damaged[0][0]}: {damaged[0][1]} bytes, not whole segment "
                    "ids); run `chachong rebuild --full`"] if damaged else []
        return problems + ([f"posting lists not in ascending order: {len(unordered)} (band key {unordered[0]}); "
                            "run `chachong rebuild --full`"] if unordered else [])

    def _postings_per_segment(self) -> tuple:
        """(postings of each segment id the documents may own, postings of segments beyond them)."""
        end = self.conn.execute("SELECT coalesce(max(first_segment + segment_count), 0) FROM documents").fetchone()[0]
        return sqlite_postings.postings_per_segment(self.conn, end, self._row_postings)

    # --- upkeep: a consistent copy, and everything that can be checked ---
    def backup(self, out) -> Path:
        """A consistent copy of the database at `out` (a file, or a folder to put it in), written owner-only under a
        temporary name and renamed. SQLite's online backup in one step: it reads one snapshot, so scans and a
        rebuild may run meanwhile (WAL: it does not block the writer, nor the writer it)."""
        out = Path(out) / Path(self.path).name if Path(out).is_dir() else Path(out)
        if out.exists() and out.resolve() == Path(self.path).resolve():
            raise DatabaseError(f"{shown(out)}: is the database itself; give another file to back up to")
        if not out.parent.is_dir():  # named as given, not as the temporary file that could not be made there
            raise DatabaseError(f"{shown(out)}: {missing_folder(out.parent)}")
        fd, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        os.close(fd)
        try:
            self._backup_to(temporary)
            os.replace(temporary, out)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return out

    def _backup_to(self, path: str) -> None:
        target = sqlite3.connect(path)
        try:
            self.conn.backup(target)  # pages=-1: every page in one step, from one snapshot
            verdict = target.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            target.close()
        if verdict != "ok":
            raise DatabaseError(f"{shown(path)}: the copy does not check out ({verdict}); the database may be damaged: "
                                f"run `chachong check --db {shown(self.path)}`")

    def problems(self) -> list[str]:
        """Everything wrong with the database and the index, empty when intact: SQLite's integrity check, postings ↔
        documents, each document's segment count against its layout, segment document frequencies, the settings."""
        per_segment = self._postings_per_segment()
        problems = self.index_problems(per_segment)
        problems += self._posting_count_problems(per_segment[0])
        problems += self._segment_problems()
        problems += self._frequency_problems()
        problems += self._signature_problems()
        return problems

    def _posting_count_problems(self, counts: np.ndarray) -> list[str]:
        """Every segment has one posting per LSH band (a chance key collision inside one segment: one in ~10^7)."""
        bands = (self.meta().get("index") or {}).get("bands")
        if not bands:
            return []
        wrong = int(((counts > 0) & (counts != bands)).sum())
        return [f"{wrong} segments do not have one posting per band ({bands}); rebuild with `chachong rebuild --full`"] if wrong else []

    def _segment_problems(self) -> list[str]:
        problems, previous_end = [], 0
        contents = "contents" if self._has_contents() else "NULL"  # an older index read where it cannot be upgraded
        rows = self.conn.execute(f"SELECT id, path, text, layout, first_segment, segment_count, {contents} FROM documents"
                                 " ORDER BY first_segment")
        for doc_id, path, packed, blob, first, count, contents in rows:
            where = f"document {doc_id} ({shown(from_sql(path))})"
            if first < previous_end:
                problems.append(f"{where}: its segments {first}–{first + count - 1} overlap the previous document's; "
                                "run `chachong rebuild --full`")
            previous_end = max(previous_end, first + count)
            problems += self._layout_problems(where, packed, blob, count, contents)
        return problems

    def _layout_problems(self, where: str, packed, blob, count: int, contents=None) -> list[str]:
        if blob is None:
            return [f"{where}: no segment layout (indexed by an older chachong); run `chachong rebuild --full`"]
        try:
            layout = decode_layout(blob, _unpack_text(packed))
            stored = decode_contents(contents) if contents is not None else None
        except Exception as err:  # decompression, UTF-8 or layout decoding: the stored bytes are damaged
            return [f"{where}: its text or layout cannot be read ({_damage(err)}); restore a backup or rebuild"]
        if len(layout.lengths) != count:
            return [f"{where}: {count} segments recorded, its layout has {len(layout.lengths)}; run `chachong rebuild --full`"]
        if stored is not None and not _same_contents(stored, layout):
            return [f"{where}: its stored segment contents differ from its layout; run `chachong rebuild --full`"]
        return []

    def _frequency_problems(self) -> list[str]:
        """segment_df must be what a recount from the layouts gives (they are rebuilt from them)."""
        expected: dict = {}
        for packed, blob in self.conn.execute("SELECT text, layout FROM documents WHERE layout IS NOT NULL"):
            with contextlib.suppress(Exception):  # an unreadable layout is reported by _layout_problems
                for h in set(segment_hashes(decode_layout(blob, _unpack_text(packed)))):
                    expected[h] = expected.get(h, 0) + 1
        stored = dict(self.conn.execute("SELECT hash, docs FROM segment_df"))
        wrong = sum(1 for h in expected.keys() | stored.keys() if expected.get(h) != stored.get(h))
        if wrong:
            return [f"segment document frequencies: {wrong} of {len(expected)} segment hashes counted wrong; "
                    "`chachong rebuild --from ARCHIVE` recounts them"]
        return []

    def _signature_problems(self) -> list[str]:
        from detector.settings import NORMALISER_VERSION

        stored = self.meta().get("index")
        if not stored:
            return ["no index settings recorded (meta 'index'); rebuild the index with `chachong rebuild --full`"]
        if stored.get("normaliser_version") != NORMALISER_VERSION:
            return [f"built with normaliser version {stored.get('normaliser_version')}, this chachong has "
                    f"{NORMALISER_VERSION}; run `chachong rebuild --full`"]
        try:
            derived = _settings_of(stored).index_signature()
        except Exception as err:
            return [f"the recorded index settings are not valid ({err}); run `chachong rebuild --full`"]
        differing = sorted(k for k in derived.keys() | stored.keys() if derived.get(k) != stored.get(k))
        return ([f"the recorded index settings do not match what they imply ({', '.join(differing)}); run `chachong rebuild --full`"]
                if differing else [])

    # --- metadata set by people: data, not a cache (kept by content and by path, whatever happens to the documents) ---
    def remember_given_meta(self, entries, origin: str) -> int:
        """Record the known fields of (sha256, path, DocumentMeta) entries as said by `origin`; call inside a transaction.

        When a statement takes the latest place in time is said in store/base.py (RESTATED_ORIGINS): a field whose
        value from that origin is unchanged, or that repeats what was said already, keeps its place (a manifest
        read every night does not overrule a later correction). Returns how many fields were written.
        """
        rows = [(sha, to_sql(path), field, _json(value), origin) for sha, path, meta in entries
                for field, value in _known_fields(meta)]
        restated = origin in RESTATED_ORIGINS
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT INTO given_meta (sha256, path, field, value, origin, seq) VALUES (?1, ?2, ?3, ?4, ?5,"
            f" {_NEXT_SEQ if restated else f'coalesce({_SAID_BEFORE}, {_NEXT_SEQ})'})"
            f" ON CONFLICT (sha256, path, field, origin) DO UPDATE SET value = excluded.value, seq = {_NEXT_SEQ}"
            f" WHERE {'1' if restated else 'value IS NOT excluded.value'}", rows)
        return self.conn.total_changes - before

    def given_meta_unchanged(self, entries, origin: str) -> bool:
        """Whether every known field of the entries is recorded already with that value from `origin` (nothing to write)."""
        recorded = {(r[0], from_sql(r[1]), r[2]): r[3] for r in self.conn.execute(
            "SELECT sha256, path, field, value FROM given_meta WHERE origin = ?", (origin,))}
        return all(recorded.get((sha, path, field)) == _json(value) for sha, path, meta in entries
                   for field, value in _known_fields(meta))

    def given_meta_rows(self, shas=None, paths=None) -> list[tuple]:
        """(sha256, path, field, value, seq) of what people said (about these contents or paths; None: everything), oldest first."""
        columns = "SELECT sha256, path, field, value, seq FROM given_meta"
        if shas is None and paths is None:
            rows = set(self.conn.execute(columns))
        else:
            rows = set(self._batched(columns + " WHERE sha256 IN ({})", set(shas or ())))
            rows |= set(self._batched(columns + " WHERE path IN ({})", {to_sql(p) for p in paths or ()}))
        return [(sha, from_sql(path), field, json.loads(value), seq) for sha, path, field, value, seq in sorted(rows, key=lambda r: r[4])]

    def _keep_older_corrections(self) -> None:
        """A database from before given_meta: the metadata its documents were given (not inferred) is recorded once."""
        if self.conn.execute("SELECT 1 FROM meta WHERE key = 'given_meta'").fetchone():
            return
        entries = [(sha, from_sql(path), _meta_from_row(row)) for sha, path, *row in self.conn.execute(
            "SELECT sha256, path, author, unit, year, meeting, team, inferred FROM documents")]
        self.conn.execute("PRAGMA busy_timeout=100")  # never make a command wait for this
        try:
            with self.transaction():
                self.remember_given_meta(entries, "stored")
                self._set_meta("given_meta", {"since": _now()})
        except sqlite3.OperationalError:
            pass  # a read-only or busy database: recorded by the next command that can write
        finally:
            self.conn.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")

    # --- scan history ---
    def record_scan(self, scan: dict, reports: list[dict]) -> int:
        """Write a scan (a row of `scans`) and its reports (rows of `scan_reports`, in batch order); returns the scan id.

        Values of the JSON columns (paths, settings, options, clusters, report, peers) are given as Python data.
        """
        row = {k: _json(scan[k]) if k in _JSON_COLUMNS else scan[k] for k in _SCAN_COLUMNS}
        with self.transaction():
            cursor = self.conn.execute(
                f"INSERT INTO scans ({', '.join(_SCAN_COLUMNS)}) VALUES ({', '.join('?' * len(_SCAN_COLUMNS))})",
                tuple(row[k] for k in _SCAN_COLUMNS))
            scan_id = cursor.lastrowid
            self.conn.executemany(
                f"INSERT INTO scan_reports (scan_id, {', '.join(_REPORT_COLUMNS)}) VALUES ({', '.join('?' * (len(_REPORT_COLUMNS) + 1))})",
                [(scan_id, *(_json(r[k]) if k in _JSON_COLUMNS else r[k] for k in _REPORT_COLUMNS)) for r in reports])
        return scan_id

    def scans(self) -> list[dict]:
        """Every recorded scan (without settings and options), newest first; JSON columns decoded."""
        keys = ("id", *(k for k in _SCAN_COLUMNS if k not in ("settings", "options")))
        rows = self.conn.execute(f"SELECT {', '.join(keys)} FROM scans ORDER BY id DESC").fetchall()
        return [_decoded(keys, row) for row in rows]

    def scan_record(self, scan_id: int):
        """(scan, [report rows in batch order]) of a recorded scan, JSON columns decoded; None when there is no such scan."""
        keys = ("id", *_SCAN_COLUMNS)
        row = self.conn.execute(f"SELECT {', '.join(keys)} FROM scans WHERE id = ?", (scan_id,)).fetchone()
        if row is None:
            return None
        cursor = self.conn.execute(
            f"SELECT {', '.join(_REPORT_COLUMNS)} FROM scan_reports WHERE scan_id = ? ORDER BY position", (scan_id,))
        return _decoded(keys, row), [_decoded(_REPORT_COLUMNS, r) for r in cursor]


_SCAN_COLUMNS = ("started_at", "seconds", "paths", "settings", "options", "files", "failed", "max_copy_ratio",
                 "corpus_documents", "clusters", "rechecks")
_REPORT_COLUMNS = ("position", "path", "sha256", "encoding", "format", "text", "copy_ratio", "error", "report", "peers")
_JSON_COLUMNS = ("paths", "settings", "options", "clusters", "report", "peers")


_NEXT_SEQ = "(SELECT coalesce(max(seq), 0) + 1 FROM given_meta)"
_SAID_BEFORE = "(SELECT max(seq) FROM given_meta WHERE field = ?3 AND value = ?4 AND (sha256 = ?1 OR path = ?2))"


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _known_fields(meta: DocumentMeta):
    """(field, value) of the metadata fields that are known and were not guessed."""
    for field in _META_COLUMNS:
        value = getattr(meta, field)
        if value is not None and field not in meta.inferred:
            yield field, value


def _decoded(keys, row) -> dict:
    return {k: json.loads(v) if k in _JSON_COLUMNS and v is not None else v for k, v in zip(keys, row)}


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any exception: nothing is ever half-written."""

    def __init__(self, conn, on_begin=None, before_commit=None):
        self.conn = conn
        self.on_begin, self.before_commit = on_begin, before_commit

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        if self.on_begin:
            self.on_begin()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            try:
                if self.before_commit:
                    self.before_commit()
                self.conn.execute("COMMIT")
            except BaseException:  # disk full or I/O error at the commit: nothing of the transaction stays
                self._rollback()
                raise
        else:
            self._rollback()
        return False

    def _rollback(self) -> None:
        if self.conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the connection is unusable; the journal restores the last commit when the file is next opened


def _ascending_distinct(keys) -> list[int]:
    """Band keys as distinct Python ints, ascending: only checked when they come so (a scan's do), else sorted (a set
    and a sort of a scan's ~3,000 keys cost ~0.8 ms, the check a tenth of it)."""
    array = keys.astype(np.int64, copy=False) if isinstance(keys, np.ndarray) else np.fromiter(keys, dtype=np.int64)
    if len(array) > 1 and not (array[1:] > array[:-1]).all():
        array = distinct(array)
    return array.tolist()


class _Snapshot:
    """BEGIN … COMMIT around reads: in WAL mode a reader keeps its snapshot while a writer commits.

    `changed` says whether another connection committed since this store's previous snapshot.
    """

    def __init__(self, store):
        self.store = store
        self.changed = False
        self.own = False

    def __enter__(self):
        conn = self.store.conn
        self.own = not conn.in_transaction
        if self.own:
            conn.execute("BEGIN")
            conn.execute("SELECT count(*) FROM meta").fetchone()  # the snapshot starts at the first read
        self.changed = self.store._note_data_version()
        return self

    def __exit__(self, *exc):
        if self.own:
            self.store.conn.execute("COMMIT")
        return False


def _contents_of(packed: bytes, blob: bytes):
    """The stored segment contents of a stored text and layout; None when they do not decode (`check` says so)."""
    try:
        return encode_contents(decode_layout(blob, _unpack_text(packed)))
    except (DamagedBlob, DatabaseError, UnicodeDecodeError):  # damaged: read through its layout, which `check` reports
        return None


def _same_contents(stored, layout) -> bool:
    """Whether stored segment contents are those of the layout (what verifying reads is what aligning reads). A text
    of no segments has no set sizes to store: its contents read as none, its layout as two empty arrays — alike."""
    same_sizes = not len(layout.lengths) or (stored.set_sizes is None) == (layout.set_sizes is None) and all(
        np.array_equal(a, b) for a, b in zip(stored.set_sizes or (), layout.set_sizes or ()))
    return (np.array_equal(stored.codes, layout.codes) and np.array_equal(stored.lengths, layout.lengths)
            and np.array_equal(stored.sentences, layout.sentences) and same_sizes)


def _settings_of(stored: dict):
    """The Settings an index's recorded signature names (an exception when it names none)."""
    from detector.settings import Settings

    names = {f.name for f in dataclasses.fields(Settings)}
    return Settings(**{k: tuple(v) if k == "lsh_weights" else v for k, v in stored.items() if k in names})


def _recorded_settings(stored: dict | None):
    """The Settings the index was built with, when this chachong's normaliser built it; else None."""
    from detector.settings import NORMALISER_VERSION

    if not stored or stored.get("normaliser_version") != NORMALISER_VERSION:
        return None
    try:
        return _settings_of(stored)
    except Exception:  # not valid settings: check says so
        return None


def _say_upgrade(message: str, path: str) -> None:
    """One line on stderr: this process is upgrading the index (once after an upgrade of chachong; it takes a while)."""
    import sys

    from detector.messages import say

    print(say(message, db=shown(path)), file=sys.stderr, flush=True)


def _row_to_document(row) -> Document:
    doc_id, path, sha, encoding, fmt, text = row[:6]
    return Document(path=from_sql(path), text=_unpack_text(text), sha256=sha, encoding=encoding, format=fmt,
                    meta=_meta_from_row(row[6:]), id=doc_id)


_UTF16_TEXT = b"\x16"  # first byte of a text stored as compressed UTF-16-LE (a zstd frame starts with 0x28, zlib with 0x78)


def _pack_text(text: str, dictionary: int | None = None) -> bytes:
    """Original texts are stored compressed (zstd, with the index's text dictionary when it has one; older indexes:
    zlib), as UTF-16 when most characters are not ASCII: Chinese text then takes ~1.19 bytes per character without
    a dictionary (as UTF-8: ~1.27; uncompressed: 3), ~0.9 with one."""
    prefix, data = _text_bytes(text)
    return prefix + compress(data, dictionary)


def _text_bytes(text: str) -> tuple[bytes, bytes]:
    """(marker, bytes) of a text as it is compressed: UTF-16-LE when most characters are not ASCII, else UTF-8."""
    utf8 = text.encode("utf-8")
    if len(utf8) > 2 * len(text):
        return _UTF16_TEXT, text.encode("utf-16-le")
    return b"", utf8


def _unpack_text(packed) -> str:
    if not isinstance(packed, bytes):
        return packed
    if packed[:1] == _UTF16_TEXT:
        return decompress(packed[1:]).decode("utf-16-le")
    return decompress(packed).decode("utf-8")


def _damage(err: Exception) -> str:
    """What is wrong with stored bytes that would not decode, in a few words."""
    return err.reason if isinstance(err, DamagedBlob) else type(err).__name__


def _meta_from_row(row) -> DocumentMeta:
    author, unit, year, meeting, team, inferred = row
    return DocumentMeta(author=author, unit=unit, year=year, meeting=meeting,
                        team=None if team is None else bool(team), inferred=_inferred_fields(inferred or "[]"))


@functools.lru_cache(maxsize=64)
def _inferred_fields(stored: str) -> tuple:
    """The fields a document's metadata inferred, from their stored JSON (a scan reads hundreds of rows, and a corpus
    has a handful of distinct lists)."""
    return tuple(json.loads(stored))


def _read_only_trouble(err: sqlite3.Error) -> bool:
    """Could the database not be opened for writing (read-only file or disk, or a full disk)? Then it is read-only."""
    text = str(err).lower()
    return any(words in text for words in ("readonly", "read-only", "unable to open", "disk is full", "i/o error"))


def _on_read_only_mount(path: str) -> bool:
    """A read-only mount, or a full disk: SQLite cannot make the WAL's shared-memory file there, and no other
    process can commit either, so the file may be read as immutable."""
    try:
        info = os.statvfs(Path(path).resolve().parent)
        return bool(info.f_flag & os.ST_RDONLY) or info.f_bavail == 0
    except OSError:
        return False


def _open_error(path: str, err: sqlite3.DatabaseError) -> DatabaseError:
    """Why an index could not be opened: a file of another kind, or a disk or permission problem (said as such)."""
    if isinstance(err, sqlite3.OperationalError) or "malformed" not in str(err) and "not a database" not in str(err):
        return storage_error(err, path)
    return DatabaseError(f"{path}: not a usable chachong database ({err}); check the --db path")


def _mismatch_message(path: str, stored: dict, asked: dict) -> str:
    differences = ", ".join(f"{k}={stored.get(k)!r} (asked {asked.get(k)!r})" for k in sorted(asked) if stored.get(k) != asked.get(k))
    return (f"{path}: the index was built with other settings: {differences}. "
            "Use the settings it was built with, or rebuild it with `chachong rebuild --full`.")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _numbers(listed: str | None) -> np.ndarray:
    """The integers of a comma-separated string from group_concat (None: no rows)."""
    return np.fromstring(listed, dtype=np.int64, sep=",") if listed else np.zeros(0, dtype=np.int64)


def _capped_runs(keys: np.ndarray, per_key: np.ndarray, segments: np.ndarray, cap: int) -> np.ndarray:
    """The rows of _capped_rows from the statement's runs (each key's segments listed together, ascending): when
    the keys ascend, the first `cap` of each run are taken, hot runs last, without sorting the rows."""
    if len(keys) > 1 and not (np.diff(keys) > 0).all():
        return _capped_rows(np.repeat(keys, per_key), segments, cap, keys[per_key > cap].tolist())
    first = np.cumsum(per_key) - per_key
    runs = np.r_[np.flatnonzero(per_key <= cap), np.flatnonzero(per_key > cap)]
    taken = np.minimum(per_key[runs], cap)
    rows = np.repeat(first[runs], taken) + np.arange(taken.sum()) - np.repeat(np.cumsum(taken) - taken, taken)
    return np.stack([np.repeat(keys[runs], taken), segments[rows]], axis=1)


def _batch_postings(entries: list, first_segment: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys, segments) of a batch's postings, ordered by key then segment; segments numbered from first_segment."""
    if not entries:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    counts = [len(entry.keys) for entry in entries]
    keys = np.concatenate([entry.keys.ravel() for entry in entries]).astype(np.int64)
    per_segment = [entry.keys.shape[1] if entry.keys.ndim == 2 else 0 for entry in entries]
    segments = np.concatenate([np.repeat(np.arange(start, start + n, dtype=np.int64), width) for start, n, width
                               in zip(np.cumsum([first_segment] + counts[:-1]).tolist(), counts, per_segment)])
    if len(keys) and keys.min() >= 0 and keys.max() < 1 << 31 and segments.max() < 1 << 32:
        both = np.sort((keys << 32) | segments)  # one sort of 64-bit values: about half a lexsort's time
        return both >> 32, both & 0xFFFFFFFF
    order = np.lexsort((segments, keys))
    return keys[order], segments[order]


def _capped_rows(keys: np.ndarray, segments: np.ndarray, cap: int, hot: list) -> np.ndarray:
    """(key, segment) rows ordered by key then segment, at most `cap` per key (the lowest segments, as an
    index-ordered LIMIT reads them), the hot keys' rows last."""
    if len(keys) > 1 and not _ascending(keys, segments):
        order = np.lexsort((segments, keys))
        keys, segments = keys[order], segments[order]
    first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, dtype=bool)
    rank = np.arange(len(keys)) - np.maximum.accumulate(np.where(first, np.arange(len(keys)), 0))
    keys, segments = keys[rank < cap], segments[rank < cap]
    is_hot = np.isin(keys, np.array(hot, dtype=np.int64))
    return np.concatenate([np.stack([keys[~is_hot], segments[~is_hot]], axis=1),
                           np.stack([keys[is_hot], segments[is_hot]], axis=1)])


def _ascending(keys: np.ndarray, segments: np.ndarray) -> bool:
    """Whether (key, segment) rows are already in order (as the statement reads them for sorted keys)."""
    step = np.diff(keys)
    return bool((step >= 0).all() and (np.diff(segments)[step == 0] > 0).all())
