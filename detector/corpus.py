"""An open corpus: its store, the settings its index was built with, and a cache of source fingerprints read from stored layouts."""

from __future__ import annotations

import contextlib
import sys
from collections import OrderedDict

from detector.errors import SettingsMismatch
from detector.fingerprint import Fingerprint
from detector.settings import DEFAULT, NORMALISER_VERSION, SOURCE_CACHE_BYTES, Settings, remember_bands_rows
from detector.store import Store, open_store

_INDEX_FIELDS = ("num_perm", "seed", "shingling", "max_segment_chars", "min_segment_chars", "lsh_threshold")


class Corpus:
    """An open corpus with the settings it was built with and two LRU caches bounded by the memory they take: full
    sources (text and layout: what aligning reads) and segment contents (what verifying reads). A batch against 10^4
    reports meets several thousand sources, and each read costs a scan more than keeping it."""

    def __init__(self, store: Store, settings: Settings, cache_bytes: int = SOURCE_CACHE_BYTES):
        self.store = store
        self.settings = settings
        self._sources = _Cache(cache_bytes, lambda entry: source_bytes(*entry))  # id → (Document, Fingerprint)
        self._contents = _Cache(cache_bytes // 4, lambda entry: contents_bytes(entry[1]))  # id → (DocumentMeta, Fingerprint)

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def sources(self, doc_ids) -> dict:
        """id → (Document, Fingerprint) of stored documents, from their stored layouts (kept in an LRU cache)."""
        wanted = list(dict.fromkeys(doc_ids))
        read = self.store.layouts(self._sources.missing(wanted))
        self._sources.keep({doc_id: (doc, Fingerprint.of_layout(layout, self.settings)) for doc_id, (doc, layout) in read.items()})
        return self._sources.found(wanted)

    def verify_sources(self, doc_ids) -> dict:
        """id → (DocumentMeta, Fingerprint) of stored documents as verifying reads them: a full source when it is
        cached, else its stored segment contents (their own LRU cache) — no text, no offsets."""
        wanted = list(dict.fromkeys(doc_ids))
        full = self._sources.found(wanted)
        rest = [doc_id for doc_id in wanted if doc_id not in full]
        read = self.store.contents(self._contents.missing(rest))
        self._contents.keep({doc_id: (meta, Fingerprint.of_layout(contents, self.settings)) for doc_id, (meta, contents) in read.items()})
        found = {doc_id: (doc.meta, fp) for doc_id, (doc, fp) in full.items()}
        found.update(self._contents.found(rest))
        return found

    def source_fingerprint(self, doc_id: int) -> tuple:
        """(Document, Fingerprint) of one stored document."""
        return self.sources([doc_id])[doc_id]

    def forget(self, doc_id: int) -> None:
        """Drop a cached source (its metadata changed, or it was removed)."""
        self._sources.forget(doc_id)
        self._contents.forget(doc_id)

    def forget_sources(self) -> None:
        """Drop every cached source."""
        self._sources.clear()
        self._contents.clear()

    @property
    def cached_sources(self) -> tuple[int, int]:
        """(sources cached, bytes they take)."""
        return len(self._sources.entries), self._sources.bytes

    @contextlib.contextmanager
    def reading(self):
        """One committed state of the index for the block; cached sources go when another process changed it."""
        with self.store.reading() as state:
            if state.changed:
                self.forget_sources()  # a rebuild may have given the ids to other documents
            yield


class _Cache:
    """Entries by document id, the least recently used dropped once they take more than `limit` bytes."""

    def __init__(self, limit: int, size_of):
        self.entries: OrderedDict = OrderedDict()
        self.limit, self.bytes = limit, 0
        self._size_of, self._sizes = size_of, {}

    def missing(self, doc_ids: list) -> list:
        return [doc_id for doc_id in doc_ids if doc_id not in self.entries]

    def keep(self, read: dict) -> None:
        """Cache entries read just now (only those missing are read)."""
        for doc_id, entry in read.items():
            self.entries[doc_id] = entry
            self._sizes[doc_id] = self._size_of(entry)
            self.bytes += self._sizes[doc_id]

    def found(self, doc_ids: list) -> dict:
        """The cached entries of `doc_ids` (now the most recently used); then the least recently used go while the
        cache is over its limit."""
        found = {}
        for doc_id in doc_ids:
            if doc_id in self.entries:
                self.entries.move_to_end(doc_id)
                found[doc_id] = self.entries[doc_id]
        while self.bytes > self.limit and self.entries:
            self.forget(next(iter(self.entries)))  # the least recently used (this call's are still in `found`)
        return found

    def forget(self, doc_id: int) -> None:
        if self.entries.pop(doc_id, None) is not None:
            self.bytes -= self._sizes.pop(doc_id)

    def clear(self) -> None:
        self.entries.clear()
        self._sizes.clear()
        self.bytes = 0


def contents_bytes(fp: Fingerprint) -> int:
    """About what cached segment contents take in memory (or a layout standing in for them)."""
    layout = fp.layout
    return sum(a.nbytes for a in (layout.lengths, layout.sentences, layout.codes, *(layout.set_sizes or ())) if a is not None)


def source_bytes(doc, fp: Fingerprint) -> int:
    """About what a cached source takes in memory: its text, its content and its layout's arrays (the tables scans
    derive from it and keep with it add some tens of percent)."""
    layout = fp.layout
    offsets = layout.starts.nbytes + layout.ends.nbytes
    return sys.getsizeof(doc.text) + sys.getsizeof(layout.content) + offsets + contents_bytes(fp)


def open_corpus(target, settings: Settings | None = None, create: bool = False) -> Corpus:
    """Open (or create) a corpus (`target`: a database path or a redis:// URL); without `settings`, use the index settings it was built with."""
    store = open_store(target, create=create)
    try:
        remember_bands_rows(store.meta().get("index") or {})  # opening an index needs no band/row integration
        wanted = settings or DEFAULT
        stored = store.ensure_signature(wanted.index_signature(), explicit=settings is not None)
        return Corpus(store, settings or settings_from_signature(stored))
    except BaseException:
        store.close()
        raise


def settings_from_signature(stored: dict) -> Settings:
    """The Settings an index was built with; refused when this chachong normalises differently."""
    if stored.get("normaliser_version") != NORMALISER_VERSION:
        raise SettingsMismatch(
            f"the index was built with normaliser version {stored.get('normaliser_version')}, this chachong has "
            f"{NORMALISER_VERSION}; rebuild it with `chachong rebuild --full`"
        )
    fields = {k: stored[k] for k in _INDEX_FIELDS if k in stored}
    if "lsh_weights" in stored:
        fields["lsh_weights"] = tuple(stored["lsh_weights"])
    return DEFAULT.replace(**fields)
