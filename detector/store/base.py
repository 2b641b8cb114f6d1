"""The storage interface: what the add, scan, remove and rebuild paths need of a corpus store, whatever the backend.

Every backend (SQLite, the default; a Redis Cluster for corpora past one machine; the in-memory store of
a batch) implements `Store`. Nothing outside `detector/store/` knows which backend it talks to.

Words used below:
- a *document* is a stored report: id, path, content hash (sha256), original text, metadata;
- a *segment* is a sentence or clause of a document, named by (document id, index inside the document):
  there is no global segment numbering, so a backend needs no cross-shard counter;
- a document's *layout* (`detector.layout.Layout`) is what the aligner needs of it besides its text
  (segment bounds, content-character → original-offset map, sentence of each segment); it is written at
  index time so a scan never normalises or segments a corpus document again;
- a *band key* is an LSH key of one segment (31-bit integer); its *postings* are the segments that have it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import ContextManager, Iterable, Protocol

import numpy as np

from detector.model import Document, DocumentMeta, SourceRef


# When a statement about a document's metadata (remember_given_meta) is news, i.e. takes the latest place in time:
# a `meta` correction is news each time a person gives it, even with the value it had; any other origin (add, a
# manifest, carried) is news when it says a new value; one that only repeats a value already said about the same
# content or path (the manifest `add` read, read again by the nightly rebuild) keeps that statement's place, so it
# does not overrule a later correction.
RESTATED_ORIGINS = frozenset({"meta"})
NEWS = "news"


def place_in_time(origin: str, value, recorded, repeated_seqs) -> int | str | None:
    """The seq a statement about one field takes, NEWS (the next one) or None (nothing to write).

    `recorded` is the (value, seq) its origin said before or None; `repeated_seqs` the seqs of statements of the
    same value about the same content or path, by any origin."""
    if origin in RESTATED_ORIGINS or (recorded is not None and recorded[0] != value):
        return NEWS
    if recorded is not None:
        return None
    return max(repeated_seqs, default=NEWS)


def repeated_seqs(rows, statements) -> dict:
    """(sha256, path, field, value) of each statement → the seqs of `rows` (given_meta_rows) saying that value of
    that field about the same content or the same path."""
    said: dict = {}
    for sha, path, field, value, seq in rows:
        said.setdefault(("content", sha, field, _canonical(value)), []).append(seq)
        said.setdefault(("path", path, field, _canonical(value)), []).append(seq)
    return {(sha, path, field, value): said.get(("content", sha, field, _canonical(value)), [])
            + said.get(("path", path, field, _canonical(value)), []) for sha, path, field, value, *_ in statements}


def _canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclasses.dataclass
class IndexEntry:
    """One document ready to store: the document, its layout, the band keys of each segment, its segment content hashes.

    A worker process of `add` sends back the layout's stored form only (`encoded`, a twentieth of the arrays' bytes):
    `full_layout()` decodes it for a store that keeps the arrays, `stored_layout()` encodes one made here.
    """

    document: Document
    layout: object  # detector.layout.Layout, or None when only its stored form is at hand
    keys: np.ndarray  # (segments, bands) int64 band keys
    hashes: list  # content hash of each segment (for segment document frequencies)
    encoded: bytes | None = None  # detector.layout.encode(layout, document.text), when made already
    contents: bytes | None = None  # detector.layout.encode_contents(layout), when made already

    def stored_contents(self) -> bytes:
        from detector.layout import encode_contents

        if self.contents is None:
            self.contents = encode_contents(self.full_layout())
        return self.contents

    def stored_layout(self) -> bytes:
        from detector.layout import encode

        if self.encoded is None:
            self.encoded = encode(self.layout, self.document.text)
        return self.encoded

    def full_layout(self):
        from detector.layout import decode

        if self.layout is None:
            self.layout = decode(self.encoded, self.document.text)
        return self.layout


@dataclasses.dataclass
class Postings:
    """What a batch of band keys points to, as flat arrays: row r says band key `keys[r]` is carried by segment
    `pairs[r, 1]` of document `pairs[r, 0]`.

    A hot key (boilerplate) has at most `cap` rows, a sample; `counts[key]` is every key's true number of
    postings (for weighting by rarity). Keys without postings have no rows and no count.
    """

    keys: np.ndarray  # (n,) int64
    pairs: np.ndarray  # (n, 2) int64: (document id, segment index)
    counts: dict

    @classmethod
    def of(cls, found: dict, counts: dict) -> "Postings":
        """From key → (m, 2) arrays of (document, segment) pairs."""
        found = {k: np.asarray(v, dtype=np.int64).reshape(-1, 2) for k, v in found.items() if len(v)}
        if not found:
            return cls.empty()
        keys = np.repeat(np.array(list(found), dtype=np.int64), [len(v) for v in found.values()])
        return cls(keys, np.concatenate(list(found.values())), counts)

    @classmethod
    def empty(cls) -> "Postings":
        return cls(np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.int64), {})

    def merged(self, other: "Postings") -> "Postings":
        """Both stores' postings (a batch: the corpus and the batch's own submissions), counts added."""
        counts = dict(self.counts)
        for key, n in other.counts.items():
            counts[key] = counts.get(key, 0) + n
        return Postings(np.concatenate([self.keys, other.keys]), np.concatenate([self.pairs, other.pairs]), counts)

    def of_key(self, key: int) -> np.ndarray:
        """The (document, segment) rows of one key."""
        return self.pairs[self.keys == key]


def contents_from_layouts(store, doc_ids) -> dict:
    """Store.contents() of a store without a lighter stored form (or of documents stored before it was kept): the
    (metadata, layout) of each document, the layout holding all that verifying reads."""
    return {doc_id: (doc.meta, layout) for doc_id, (doc, layout) in store.layouts(doc_ids).items()}


class ReadState(Protocol):
    changed: bool  # another process changed the index since this store's previous read: drop caches


class Store(Protocol):
    """A corpus: documents with metadata, their layouts, the LSH postings, segment document frequencies, history."""

    location: str  # what the user gave as --db (for messages)

    # --- settings the index was built with ---
    def meta(self) -> dict: ...
    def set_meta(self, key: str, value) -> None: ...  # inside writing()
    def ensure_signature(self, signature: dict, explicit: bool) -> dict: ...

    # --- consistency ---
    def reading(self) -> ContextManager[ReadState]:
        """One committed state of the index for the whole block (a scan), even while a writer commits."""
        ...

    def writing(self) -> ContextManager:
        """All changes of the block become visible together when it ends, or none of them (an exception)."""
        ...

    def writer_lock(self, command: str) -> ContextManager:
        """One writer at a time (add, remove, rebuild, meta); raises errors.IndexLocked at once when held elsewhere."""
        ...

    def waiting(self, seconds: float) -> ContextManager:
        """Writes in the block wait at most `seconds` for another writer (a scan's history must not hold up its results)."""
        ...

    def close(self) -> None: ...

    # --- documents ---
    def insert_documents(self, entries: list[IndexEntry], ids: list | None = None) -> list[int]:
        """Store the entries (inside writing()); returns their ids. `ids`: per entry, the id to store it under (a full
        rebuild keeps the ids people wrote down), or None for one never given before; a given id must be unused."""
        ...

    def delete_documents(self, doc_ids: Iterable[int]) -> None: ...  # with their postings and segment counts
    def document(self, doc_id: int) -> Document: ...
    def document_id_by_sha(self, sha256: str) -> int | None: ...
    def document_ids_by_path(self, path: str) -> list[int]: ...
    def documents(self) -> list[tuple[int, str, str]]: ...  # (id, path, sha256)
    def documents_with_meta(self) -> list[tuple[int, str, DocumentMeta]]: ...
    def document_metas(self) -> dict[int, DocumentMeta]: ...
    def document_count(self) -> int: ...
    def source_ref(self, doc_id: int) -> SourceRef: ...
    def update_meta(self, doc_id: int, meta: DocumentMeta) -> None: ...  # inside writing()
    def move_document(self, doc_id: int, path: str) -> None: ...  # inside writing()

    # --- metadata people gave (meta, manifests, add's options): data that outlives the document rows ---
    def remember_given_meta(self, entries, origin: str) -> int: ...  # (sha256, path, DocumentMeta) entries; inside writing()
    def given_meta_unchanged(self, entries, origin: str) -> bool: ...
    def given_meta_rows(self, shas=None, paths=None) -> list[tuple]: ...  # (sha256, path, field, value, seq), oldest first

    # --- the index, as the scan reads it ---
    def postings(self, keys: list[int], cap: int) -> Postings: ...
    def segment_total(self) -> int: ...  # segments in the index (rarity weights)
    def segment_document_frequency(self, hashes: Iterable[int]) -> dict[int, int]: ...
    def layouts(self, doc_ids: list[int]) -> dict[int, tuple[Document, object]]:
        """(document, layout) of stored documents, by id: the scan's fast path (no re-normalising)."""
        ...

    def contents(self, doc_ids: list[int]) -> dict[int, tuple[DocumentMeta, object]]:
        """(metadata, segment contents) of stored documents, by id: what verifying candidates reads (a store without
        a lighter stored form gives their layouts, which hold the same and more)."""
        ...

    # --- rebuild support ---
    def file_states(self) -> dict: ...  # path → (size, mtime_ns, sha256) of the archive files last seen
    def replace_file_states(self, states: dict) -> None: ...  # inside writing()
    def clear_index(self) -> None: ...  # inside writing(): a full rebuild starts here
    def recount_segment_df(self) -> int: ...  # inside writing(): from the stored layouts; returns the rows
    def recount_follows(self) -> None: ...  # inside writing(): the transaction recounts, so inserts may skip upkeep
    def compact(self) -> dict: ...
    def settle(self, announce=None) -> bool: ...  # after adding: what a store defers while a command adds (merging),
    # done; whether it merged. `announce()`, when given, is called before such work (it may take minutes)
    def stats(self) -> dict: ...
    def index_problems(self) -> list[str]: ...  # empty when the index is intact
    def problems(self) -> list[str]: ...  # index_problems and all else that can be checked (`chachong check`)
    def backup(self, out): ...  # a consistent copy at `out` (a file or a folder), owner-only; returns its path

    # --- scan history ---
    def record_scan(self, scan: dict, reports: list[dict]) -> int: ...
    def scans(self) -> list[dict]: ...  # newest first
    def scan_record(self, scan_id: int): ...  # (scan, [report rows]) or None
