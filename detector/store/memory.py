"""A corpus held in memory (dicts): the two-file comparison and a batch's own submissions; nothing is written anywhere."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections import Counter

import numpy as np

from detector.errors import DatabaseError, SettingsMismatch
from detector.fingerprint import distinct
from detector.model import Document, DocumentMeta, SourceRef
from detector.store.base import NEWS, IndexEntry, Postings, contents_from_layouts, place_in_time, repeated_seqs


@dataclasses.dataclass
class _Unchanged:
    changed: bool = False


class MemoryStore:
    """The Store interface over Python dicts; document ids start at `first_id`."""

    def __init__(self, first_id: int = 1):
        self.location = ":memory:"
        self._next_id = first_id
        self._meta: dict = {}
        self._docs: dict = {}  # id → (Document, layout)
        self._keys: dict = {}  # id → band keys (segments, bands)
        self._hashes: dict = {}  # id → segment content hashes
        self._runs: tuple | None = None  # the postings, made from _keys as key-sorted arrays (_posting_runs); None after a change
        self._df: Counter = Counter()
        self._files: dict = {}
        self._given: dict = {}  # (sha256, path, field, origin) → (value, seq)
        self._given_seq = 0  # the latest seq given
        self._scans: list = []

    # --- settings and consistency ---
    def meta(self) -> dict:
        return dict(self._meta)

    def set_meta(self, key: str, value) -> None:
        self._meta[key] = value

    def ensure_signature(self, signature: dict, explicit: bool) -> dict:
        stored = self._meta.setdefault("index", signature)
        if explicit and stored != signature:
            raise SettingsMismatch("the in-memory index was built with other settings")
        return stored

    def reading(self):
        return contextlib.nullcontext(_Unchanged())

    @contextlib.contextmanager
    def writing(self):
        """All of the block's changes or none: the state is copied first and put back on an exception."""
        saved = copy.deepcopy(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__ = saved
            raise

    def writer_lock(self, command: str):
        return contextlib.nullcontext()

    def waiting(self, seconds: float):
        return contextlib.nullcontext()  # one process: nobody else to wait for

    def close(self) -> None:
        pass

    def reopened(self) -> "MemoryStore":
        """For a forked process: its copy of the memory is its own."""
        return self

    # --- documents ---
    def insert_documents(self, entries: list[IndexEntry], ids: list | None = None) -> list[int]:
        stored = []
        for entry, wanted in zip(entries, ids or [None] * len(entries)):
            if wanted is not None and wanted in self._docs:
                raise DatabaseError(f"{self.location}: document id {wanted} is in use")
            doc_id = self._next_id if wanted is None else wanted
            self._next_id = max(self._next_id, doc_id + 1)
            self._docs[doc_id] = (dataclasses.replace(entry.document, id=doc_id), entry.full_layout())
            self._keys[doc_id], self._hashes[doc_id] = entry.keys, list(entry.hashes)
            self._runs = None
            self._df.update(set(entry.hashes))
            stored.append(doc_id)
        return stored

    def delete_documents(self, doc_ids) -> None:
        doomed = set(doc_ids) & self._docs.keys()
        self._runs = None
        for doc_id in doomed:
            del self._keys[doc_id]
            self._df.subtract(set(self._hashes.pop(doc_id)))
            del self._docs[doc_id]
        self._df = +self._df

    def document(self, doc_id: int) -> Document:
        if doc_id not in self._docs:
            raise DatabaseError(f"{self.location}: no document with id {doc_id}")
        return self._docs[doc_id][0]

    def document_id_by_sha(self, sha256: str):
        return next((i for i, (doc, _) in self._docs.items() if doc.sha256 == sha256), None)

    def document_ids_by_path(self, path: str) -> list[int]:
        return [i for i, (doc, _) in self._docs.items() if doc.path == path]

    def documents(self) -> list:
        return [(i, doc.path, doc.sha256) for i, (doc, _) in sorted(self._docs.items())]

    def documents_with_meta(self) -> list:
        return [(i, doc.path, doc.meta) for i, (doc, _) in sorted(self._docs.items())]

    def document_metas(self) -> dict:
        return {i: doc.meta for i, (doc, _) in self._docs.items()}

    def document_count(self) -> int:
        return len(self._docs)

    def source_ref(self, doc_id: int) -> SourceRef:
        doc = self.document(doc_id)
        meta = doc.meta
        return SourceRef(path=doc.path, author=meta.author, unit=meta.unit, year=meta.year, doc_id=doc_id,
                         meeting=meta.meeting, team=meta.team)

    def update_meta(self, doc_id: int, meta: DocumentMeta) -> None:
        doc, layout = self._docs[doc_id]
        self._docs[doc_id] = (dataclasses.replace(doc, meta=meta), layout)

    def move_document(self, doc_id: int, path: str) -> None:
        doc, layout = self._docs[doc_id]
        self._docs[doc_id] = (dataclasses.replace(doc, path=path), layout)

    # --- metadata people gave ---
    def remember_given_meta(self, entries, origin: str) -> int:
        statements = [(sha, path, field, value) for sha, path, meta in entries for field, value in _known(meta)]
        repeats = repeated_seqs(self.given_meta_rows({st[0] for st in statements}, {st[1] for st in statements}), statements)
        written = 0
        for sha, path, field, value in statements:
            place = place_in_time(origin, value, self._given.get((sha, path, field, origin)), repeats[(sha, path, field, value)])
            if place == NEWS:
                self._given_seq += 1
                place = self._given_seq
            if place is not None:
                self._given[(sha, path, field, origin)] = (value, place)
                written += 1
        return written

    def given_meta_unchanged(self, entries, origin: str) -> bool:
        return all(self._given.get((sha, path, field, origin), (None,))[0] == value
                   for sha, path, meta in entries for field, value in _known(meta))

    def given_meta_rows(self, shas=None, paths=None) -> list[tuple]:
        rows = sorted(((sha, path, field, value, seq) for (sha, path, field, _), (value, seq) in self._given.items()),
                      key=lambda row: row[4])
        if shas is None and paths is None:
            return rows
        shas, paths = set(shas or ()), set(paths or ())
        return [row for row in rows if row[0] in shas or row[1] in paths]

    # --- the index ---
    def postings(self, keys, cap: int) -> Postings:
        """Each key's first `cap` postings, in key order: binary searches in the key-sorted arrays, no per-key Python."""
        run_keys, run_starts, run_lengths, pairs = self._posting_runs()
        wanted = np.asarray(list(keys), dtype=np.int64)
        if len(wanted) > 1 and not (wanted[1:] > wanted[:-1]).all():
            wanted = distinct(wanted)  # not np.unique: it imports numpy.ma (~10 ms) in each scanning process
        at = np.minimum(np.searchsorted(run_keys, wanted), max(len(run_keys) - 1, 0))
        runs = at[run_keys[at] == wanted] if len(run_keys) else at[:0]
        taken = np.minimum(run_lengths[runs], cap)
        runs, taken = runs[taken > 0], taken[taken > 0]
        rows = np.repeat(run_starts[runs], taken) + np.arange(taken.sum()) - np.repeat(np.cumsum(taken) - taken, taken)
        counts = dict(zip(run_keys[runs].tolist(), run_lengths[runs].tolist()))
        return Postings(np.repeat(run_keys[runs], taken), pairs[rows], counts)

    def prepare_postings(self) -> None:
        """Make the key-sorted postings now (a batch's parent does, once, before its scanning processes fork: each
        would otherwise make them for itself)."""
        self._posting_runs()

    def _posting_runs(self) -> tuple:
        """(keys, first row, rows) of every key with postings, ascending, and its (document, segment) rows in the
        order they were added: made from the documents' key arrays once after a change."""
        if self._runs is None:
            keys, docs, segments = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
            for doc_id, band_keys in self._keys.items():
                rows, bands = band_keys.shape if band_keys.ndim == 2 else (0, 0)
                keys.append(band_keys.ravel().astype(np.int64))
                docs.append(np.full(rows * bands, doc_id, dtype=np.int64))
                segments.append(np.repeat(np.arange(rows, dtype=np.int64), bands))
            keys, docs, segments = np.concatenate(keys), np.concatenate(docs), np.concatenate(segments)
            order = np.lexsort((segments, docs, keys))
            keys, docs, segments = keys[order], docs[order], segments[order]
            distinct = np.r_[True, (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1]) | (segments[1:] != segments[:-1])][:len(keys)]
            keys, pairs = keys[distinct], np.stack([docs[distinct], segments[distinct]], axis=1)
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.int64)
            self._runs = (keys[starts], starts, np.diff(np.r_[starts, len(keys)]), pairs)
        return self._runs

    def segment_total(self) -> int:
        return sum(len(keys) for keys in self._keys.values())

    def segment_document_frequency(self, hashes) -> dict:
        return {h: self._df[h] for h in set(hashes) if self._df.get(h)}

    def layouts(self, doc_ids) -> dict:
        return {i: self._docs[i] for i in doc_ids if i in self._docs}

    def contents(self, doc_ids) -> dict:
        """(metadata, layout) by id: the layouts in memory are what verifying reads."""
        return contents_from_layouts(self, doc_ids)

    # --- rebuild support ---
    def file_states(self) -> dict:
        return dict(self._files)

    def replace_file_states(self, states: dict) -> None:
        self._files = dict(states)

    def clear_index(self) -> None:
        self.delete_documents(list(self._docs))

    def recount_segment_df(self) -> int:
        self._df = Counter(h for hashes in self._hashes.values() for h in set(hashes))
        return len(self._df)

    def recount_follows(self) -> None:
        """Nothing to skip: inserts keep no counts that a recount redoes."""

    def compact(self) -> dict:
        return {}

    def settle(self, announce=None) -> bool:
        """Nothing waits to be merged: the postings are made from the documents' keys when read."""
        return False

    def stats(self) -> dict:
        return {"documents": len(self._docs), "characters": sum(doc.chars for doc, _ in self._docs.values()),
                "segments": self.segment_total(), "postings": len(self._posting_runs()[3]),
                "database_bytes": 0, "settings": self._meta.get("index")}

    def index_problems(self) -> list[str]:
        return []

    def problems(self) -> list[str]:
        return self.index_problems()

    def backup(self, out):
        raise DatabaseError("an index kept in memory has no file to back up; back up the database it was read from")

    # --- scan history ---
    def record_scan(self, scan: dict, reports: list[dict]) -> int:
        self._scans.append((dict(scan, id=len(self._scans) + 1), list(reports)))
        return len(self._scans)

    def scans(self) -> list[dict]:
        return [scan for scan, _ in reversed(self._scans)]

    def scan_record(self, scan_id: int):
        return self._scans[scan_id - 1] if 0 < scan_id <= len(self._scans) else None


def _known(meta: DocumentMeta) -> list:
    return [(field, getattr(meta, field)) for field in ("author", "unit", "year", "meeting", "team")
            if getattr(meta, field) is not None and field not in meta.inferred]
