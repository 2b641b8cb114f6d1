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
    """An open corpus with the settings it was built with and an LRU cache of source fingerprints, bounded by the
    memory they take (a batch against 10^4 reports meets several thousand sources, and each read costs a scan more
    than keeping it)."""

    def __init__(self, store: Store, settings: Settings, cache_bytes: int = SOURCE_CACHE_BYTES):
        self.store = store
        self.settings = settings
        self._sources: OrderedDict = OrderedDict()  # id → (Document, Fingerprint)
        self._sizes: dict = {}  # id → bytes its cached entry takes
        self._cache_bytes = cache_bytes
        self._cached_bytes = 0

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def sources(self, doc_ids) -> dict:
        """id → (Document, Fingerprint) of stored documents, from their stored layouts (kept in an LRU cache)."""
        wanted = list(dict.fromkeys(doc_ids))
        missing = [d for d in wanted if d not in self._sources]
        for doc_id, (doc, layout) in self.store.layouts(missing).items():
            self._keep(doc_id, (doc, Fingerprint.of_layout(layout, self.settings)))
        found = {}
        for doc_id in wanted:
            if doc_id in self._sources:
                self._sources.move_to_end(doc_id)
                found[doc_id] = self._sources[doc_id]
        while self._cached_bytes > self._cache_bytes and self._sources:
            self.forget(next(iter(self._sources)))  # the least recently used (this call's are still in `found`)
        return found

    def _keep(self, doc_id: int, entry: tuple) -> None:
        """Cache a source read just now (sources() reads only those not cached)."""
        self._sources[doc_id] = entry
        self._sizes[doc_id] = source_bytes(*entry)
        self._cached_bytes += self._sizes[doc_id]

    def source_fingerprint(self, doc_id: int) -> tuple:
        """(Document, Fingerprint) of one stored document."""
        return self.sources([doc_id])[doc_id]

    def forget(self, doc_id: int) -> None:
        """Drop a cached source (its metadata changed, or it was removed)."""
        if self._sources.pop(doc_id, None) is not None:
            self._cached_bytes -= self._sizes.pop(doc_id)

    def forget_sources(self) -> None:
        """Drop every cached source."""
        self._sources.clear()
        self._sizes.clear()
        self._cached_bytes = 0

    @property
    def cached_sources(self) -> tuple[int, int]:
        """(sources cached, bytes they take)."""
        return len(self._sources), self._cached_bytes

    @contextlib.contextmanager
    def reading(self):
        """One committed state of the index for the block; cached sources go when another process changed it."""
        with self.store.reading() as state:
            if state.changed:
                self.forget_sources()  # a rebuild may have given the ids to other documents
            yield


def source_bytes(doc, fp: Fingerprint) -> int:
    """About what a cached source takes in memory: its text, its content and its layout's arrays (the tables scans
    derive from it and keep with it add some tens of percent)."""
    layout = fp.layout
    arrays = (layout.starts, layout.ends, layout.lengths, layout.sentences, layout.codes, *(layout.set_sizes or ()))
    return sys.getsizeof(doc.text) + sys.getsizeof(layout.content) + sum(a.nbytes for a in arrays if a is not None)


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
