"""Scan a batch of submissions against the corpus and against each other, then find clusters of submissions sharing reused text."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import multiprocessing
import os
import time

import numpy as np

from detector.corpus import Corpus
from detector.errors import InputError, NestedWatermarks, StoreUnavailable
from detector.fingerprint import Fingerprint
from detector.index import index_entries, lost_workers, signed_text, worker_pool
from detector.ingest.manifest import as_manifest, files_named, not_listed, unlisted
from detector.metadata import owner
from detector.ingest import find_input_files, read_document
from detector.paths import resolved
from detector.model import COUNTED_KINDS, Document, Report
from detector.normalize import refuse_nested_watermarks
from detector.progress import progress_bar
from detector.scan import Timings, failed_report, not_scanned_report, scan_document, stored_self, warm_up
from detector.store import Postings, Store, memory_store
from detector.store.base import IndexEntry

# ids of the batch's own documents and segments are shifted past any corpus id (on equal evidence the
# aligner prefers the lower id: the archive document over a colleague's submission)
BATCH_IDS = 1 << 40


@dataclasses.dataclass
class BatchScan:
    """The reports of one batch (in input order), the batch position behind each peer source, and the clusters."""

    reports: list
    clusters: list
    peers: list  # per report: per passage, the batch position of its source (None: a corpus document)
    started_at: str
    seconds: float
    paths: list = dataclasses.field(default_factory=list)
    corpus_documents: int | None = 0  # None: the store stopped answering before the corpus was counted
    skipped: list = dataclasses.field(default_factory=list)  # (path, reason): links that loop or point nowhere; files
    # of a type not read; files the manifest does not list (warnings)
    stopped: StoreUnavailable | None = None  # the store's failure that left the submissions after it not scanned


# ---------------------------------------------------------------- scanning


SCAN_MAX_WORKERS = 4  # scanning processes `chachong scan FOLDER` starts at most, one per core below that


def default_workers() -> int:
    """How many processes a batch scans in when not told: one per core, at most SCAN_MAX_WORKERS."""
    return min(os.cpu_count() or 1, SCAN_MAX_WORKERS)


def scan_batch(corpus: Corpus, paths, encoding=None, progress=None, meta=None, manifest=None,
               timings: Timings | None = None, workers: int = 1) -> BatchScan:
    """Read files and folders, then scan every submission against the corpus and the other submissions.

    `meta` (DocumentMeta) applies to every submission, `manifest` (CSV) per file; what neither gives is inferred.
    `workers` > 1 reads and fingerprints the files, then scans them, in that many processes (see scan_documents).
    """
    found = find_input_files(paths)
    given = as_manifest(manifest)
    metas = [given.get(resolved(path), meta) for path in found.files]
    read, signed = _read_all(found.files, metas, corpus.settings, encoding, progress, workers)
    items = [failed_report(folder, reason) for folder, reason in found.failed] + read
    result = scan_documents(corpus, items, progress, timings, workers, signed=[None] * len(found.failed) + signed)
    result.paths = [str(p) for p in paths]
    warned = set() if meta else {str(path) for path in unlisted(found.files, given)}  # said by not_listed already
    result.skipped = (found.skipped + ([] if meta else not_listed(found.files, given))
                      + unknown_authors(result.reports, warned))
    return result


def unknown_authors(reports: list, skip=frozenset()) -> list[tuple[str, str]]:
    """(folder, warning) for the submissions with passages 'copied' where one side's author is unknown (none given,
    none inferred): the submission's (files in `skip` are warned of already) or the source's. Those passages may be
    the submitter's own earlier reports."""
    copying = [r for r in reports if not r.error and any(p.kind == "copied" for p in r.passages)]
    unknown = [r.submission.path for r in copying if r.submission.path not in skip and owner(r.submission.meta) is None]
    from_unknown = [r.submission.path for r in copying if owner(r.submission.meta) is not None
                    and any(p.kind == "copied" and owner(p.source) is None for p in r.passages)]
    warnings = []
    if unknown:
        folder, counted = files_named(unknown, "of unknown author")
        whose = "its passages copied from another author's report may be its author's" if len(unknown) == 1 else \
            "their passages copied from another author's report may be their authors'"
        warnings.append((folder, f"{counted}: {whose} own earlier text; give the authors (--manifest or --author)"))
    if from_unknown:
        folder, counted = files_named(from_unknown, "with passages copied from reports of unknown author")
        warnings.append((folder, f"{counted}: they may be the submitter's own earlier text; give the archive's authors "
                                 "(chachong meta ID --author NAME, or add --manifest)"))
    return warnings


def _read_all(paths: list, metas: list, settings, encoding, progress, workers: int) -> tuple[list, list]:
    """(the Document, or failed Report, of each file; the fingerprint of each Document made as it was read, or None).

    With `workers` > 1 and at least two files for each, the files are read and fingerprinted in that many processes:
    converting .docx and .pdf files and fingerprinting are a batch's work before scanning, and one core did it all."""
    if workers <= 1 or len(paths) < 2 * workers:
        read = [_read(path, settings, encoding, meta)
                for path, meta in progress_bar(list(zip(paths, metas)), progress, "reading")]
        return read, [None] * len(read)
    with worker_pool(workers) as pool, lost_workers(  # stopped early (Ctrl-C): the files not yet begun are not read
            "a process reading and fingerprinting the submissions ended before it answered (out of memory, or "
            "killed): nothing was scanned; run the same command again, with fewer files at a time if memory is short"):
        done = pool.map(_read_and_signed, paths, metas, [settings] * len(paths), [encoding] * len(paths))
        pairs = [next(done) for _ in progress_bar(list(range(len(paths))), progress, "reading")]
    return [item for item, _ in pairs], [sign for _, sign in pairs]


def _read(path, settings, encoding, meta=None) -> Document | Report:
    try:
        return read_document(path, encoding=encoding, settings=settings,
                             meta=dataclasses.replace(meta) if meta else None)
    except InputError as err:
        return failed_report(path, err.reason, meta=dataclasses.replace(meta) if meta else None)


def _read_and_signed(path, meta, settings, encoding) -> tuple:
    """In a worker process: (the file's Document, or failed Report; the Document's fingerprint, or None)."""
    item = _screened(_read(path, settings, encoding, meta))
    return (item, signed_text(item.text, settings)) if isinstance(item, Document) else (item, None)


def scan_documents(corpus: Corpus, items: list, progress=None, timings: Timings | None = None,
                   workers: int = 1, signed: list | None = None) -> BatchScan:
    """Scan documents (failed reports pass through) against the corpus and each other; nothing is written to the corpus.
    `signed`: per item, its fingerprint (signed_text's) when made already, else None.

    With `workers` > 1 (and a corpus that can be opened again in a child process) the submissions are scanned in
    that many forked processes, each with its own connection; the reports are the same as in one process. A store
    that stops answering ends the batch (`stopped`): the reports finished stand, the rest are not_scanned reports."""
    started, clock = _now(), time.perf_counter()
    items = [_screened(item) for item in items]
    readable = [(pos, doc) for pos, doc in enumerate(items) if isinstance(doc, Document)]
    docs = [doc for _, doc in readable]
    signs = [signed[pos] for pos, _ in readable] if signed else None
    done, counted, stopped = _scan_readable(corpus, docs, progress, timings or Timings(), workers, signs)
    reports = list(items)
    for n, (pos, doc) in enumerate(readable):
        reports[pos] = done[n] if n in done else not_scanned_report(doc, corpus.store.location)
    to_position = {BATCH_IDS + n: pos for n, (pos, _) in enumerate(readable)}
    peers = [_peer_positions(r, to_position) for r in reports]
    return BatchScan(reports=reports, clusters=find_clusters(reports, peers), peers=peers, started_at=started,
                     seconds=round(time.perf_counter() - clock, 3), corpus_documents=counted, stopped=stopped)


def _screened(item: Document | Report) -> Document | Report:
    """A document whose text nests watermarks as only a crafted text does becomes a failed report, as a file that cannot
    be read: the batch fingerprints its documents together, and one refused there would end the whole batch. Files are
    refused when read already (detector/ingest); this catches texts given otherwise (a recorded scan re-checked)."""
    if not isinstance(item, Document):
        return item
    try:
        refuse_nested_watermarks(item.text, item.path)
    except NestedWatermarks as err:
        return failed_report(item.path, err.reason, meta=item.meta)
    return item


def _scan_readable(corpus: Corpus, docs: list, progress, timings: Timings, workers: int,
                   signed: list | None = None) -> tuple[dict, int | None, StoreUnavailable | None]:
    """n → report of each batch document scanned, the corpus's document count (None: not known, the store stopped first), and the store's failure that stopped the
    rest (None when every one was scanned). A file that cannot be read never gets here (it is a failed report); a
    store that is gone would fail every submission after it, each after the failover wait, so the batch stops. Other
    store errors (damaged stored bytes, a deleted corpus) end the command as before: nothing says the next would scan."""
    done, counted = {}, None
    try:
        with corpus.reading():
            filed = [stored_self(corpus, doc) for doc in docs]  # submissions in the archive already
            counted = corpus.store.document_count()
        with BatchStore.of(corpus.store, docs, corpus.settings, filed, signed) as store:
            for n, report in _scanned(store, Corpus(store, corpus.settings), docs, progress, timings, workers):
                done[n] = report
    except StoreUnavailable as err:
        return done, counted, err
    return done, counted, None


_FORKED: tuple | None = None  # (store, corpus, documents) a forked scanning process inherits


def _scanned(store: "BatchStore", corpus: Corpus, docs: list, progress, timings: Timings, workers: int):
    """(n, report) of every batch document, scanned here or in `workers` forked processes."""
    global _FORKED
    if workers <= 1 or len(docs) < 2 * workers or not store.can_reopen():
        for n, doc in enumerate(progress_bar(docs, progress, "scanning")):
            yield n, store.scan(corpus, n, doc, timings)
        return
    _FORKED = (store, corpus, docs)
    warm_up(corpus.settings)  # made once here, each forked process has it
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=_reconnect) as pool:
            results = pool.imap_unordered(_scan_forked, _longest_first(docs))
            for _ in progress_bar(list(range(len(docs))), progress, "scanning"):
                n, report, seconds, counts = next(results)
                timings.merge(seconds, counts)
                yield n, report
    finally:
        _FORKED = None


def _longest_first(docs: list) -> list[int]:
    """Batch positions, the longest submission first: the processes take the next one as they finish, so the last
    ones handed out are short and the processes end together (in input order a long one left last kept one waiting)."""
    return sorted(range(len(docs)), key=lambda n: -len(docs[n].text))


def _reconnect() -> None:
    """In a forked scanning process: a connection of its own (a connection must not cross a fork)."""
    store = _FORKED[0]
    store.base = store.base.reopened()


def _scan_forked(n: int) -> tuple:
    store, corpus, docs = _FORKED
    timings = Timings()
    report = store.scan(corpus, n, docs[n], timings)
    return n, report, timings.seconds, timings.counts


def _peer_positions(report: Report, to_position: dict) -> list:
    return [to_position.get(getattr(p.source, "doc_id", None)) for p in report.passages]


def _entries(docs: list, settings, signed: list) -> list:
    """The IndexEntry of each document, from its fingerprint where made already."""
    made = iter(index_entries([doc for doc, sign in zip(docs, signed) if sign is None], settings))
    return [IndexEntry(doc, *sign) if sign is not None else next(made) for doc, sign in zip(docs, signed)]


class BatchStore:
    """The corpus store and an in-memory store of the batch's submissions, read as one store (a scan never writes).

    Batch document n has id BATCH_IDS + n, so the aligner and the classifier treat a colleague's
    submission like any corpus document.
    """

    def __init__(self, base: Store, batch: Store, entries: list, filed=()):
        self.base = base
        self.batch = batch
        self.entries = entries  # IndexEntry of each batch document, in batch order
        self.filed = list(filed) or [None] * len(entries)  # per batch document: the corpus id it is stored under
        self._filed_hashes = collections.Counter(h for doc_id, hashes in self._filed_once().items() for h in hashes)
        self.location = base.location
        self._own_hashes: set = set()
        self._own_filed: set = set()

    def _filed_once(self) -> dict:
        """Corpus id → the content hashes of the batch document filed under it."""
        found: dict = {}
        for n, doc_id in enumerate(self.filed):
            if doc_id is not None and doc_id not in found:
                found[doc_id] = set(self.entries[n].hashes)
        return found

    @classmethod
    def of(cls, base: Store, docs: list, settings, filed=(), signed: list | None = None) -> "BatchStore":
        """Index `docs` into a fresh in-memory store; document n gets id BATCH_IDS + n. `filed`: per document, the id
        of the corpus document it is (the year's reports filed in the archive before the batch is scanned or
        re-checked), or None. `signed`: per document, its fingerprint (signed_text's) when made already, or None."""
        batch = memory_store(first_id=BATCH_IDS)
        # a unique hash per entry: two identical files in a batch must still find each other
        unique = [dataclasses.replace(doc, sha256=f"batch{n}:{doc.sha256}") for n, doc in enumerate(docs)]
        entries = _entries(unique, settings, signed or [None] * len(unique))
        batch.insert_documents(entries)
        batch.prepare_postings()
        return cls(base, batch, entries, filed)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.batch.close()

    def can_reopen(self) -> bool:
        """Whether the corpus can be opened again by a forked process (SQLite can; a Redis batch scans in one)."""
        return callable(getattr(self.base, "reopened", None))

    def scan(self, corpus: Corpus, n: int, doc: Document, timings: Timings) -> Report:
        """Scan batch document n against the corpus and every other batch document."""
        entry = self.entries[n]
        self._own_hashes = set(entry.hashes)
        self._own_filed = self._own_hashes if self.filed[n] is not None else set()
        # a submission filed in the archive is its batch document: the stored one is no source or carrier of its own
        exclude = {BATCH_IDS + n} | (set(self.filed) - {None})
        signed = Fingerprint(layout=entry.full_layout(), signatures=np.zeros((0, 0), dtype=np.uint32), keys=entry.keys,
                             _hashes=list(entry.hashes))  # fingerprinted once, when the batch was indexed
        try:
            return scan_document(corpus, doc, exclude_ids=exclude, timings=timings, fingerprinted=signed)
        finally:
            self._own_hashes, self._own_filed = set(), set()

    # --- the reading side of the Store interface ---
    def meta(self) -> dict:
        return self.base.meta()

    def reading(self):
        return self.base.reading()

    def close(self) -> None:
        self.batch.close()

    def postings(self, keys, cap: int) -> Postings:
        keys = list(keys)
        return self.base.postings(keys, cap).merged(self.batch.postings(keys, cap))

    def segment_total(self) -> int:
        return self.base.segment_total() + self.batch.segment_total()

    def segment_document_frequency(self, hashes) -> dict:
        """Documents per segment hash in the corpus and the batch, not counting the submission being scanned in the
        batch (the scan leaves out the corpus document it is) nor twice another submission filed in the corpus."""
        hashes = list(hashes)
        counts = dict(self.base.segment_document_frequency(hashes))
        for h, docs in self.batch.segment_document_frequency(hashes).items():
            docs -= h in self._own_hashes
            docs -= self._filed_hashes[h] - (h in self._own_filed)
            if docs:
                counts[h] = counts.get(h, 0) + docs
        return {h: n for h, n in counts.items() if n > 0}

    def layouts(self, doc_ids) -> dict:
        doc_ids = list(doc_ids)
        found = self.base.layouts([d for d in doc_ids if d < BATCH_IDS])
        found.update(self.batch.layouts([d for d in doc_ids if d >= BATCH_IDS]))
        return found

    def contents(self, doc_ids) -> dict:
        doc_ids = list(doc_ids)
        found = self.base.contents([d for d in doc_ids if d < BATCH_IDS])
        found.update(self.batch.contents([d for d in doc_ids if d >= BATCH_IDS]))
        return found

    def _owner(self, doc_id: int) -> Store:
        return self.batch if doc_id >= BATCH_IDS else self.base

    def document(self, doc_id: int) -> Document:
        return self._owner(doc_id).document(doc_id)

    def source_ref(self, doc_id: int):
        return self._owner(doc_id).source_ref(doc_id)

    @staticmethod
    def is_peer(doc_id: int) -> bool:
        """Whether a document is one of the batch's submissions (not a document of the corpus)."""
        return doc_id >= BATCH_IDS

    def document_id_by_sha(self, sha256: str):
        return self.base.document_id_by_sha(sha256)

    def document_count(self) -> int:
        return self.base.document_count()


# ---------------------------------------------------------------- clusters


@dataclasses.dataclass
class _Stretch:
    """A stretch of one document's text that a counted passage links to a stretch of another."""

    owner: tuple  # ("batch", position) or ("corpus", doc_id)
    start: int
    end: int
    position: int  # the submission whose passage this comes from
    passage: int  # index of that passage in its report


def find_clusters(reports: list, peers: list, min_overlap: int = 12) -> list[dict]:
    """Groups of submissions sharing reused text (a template, a corpus document, or each other's text), with the shared passages.

    Each counted passage links a stretch of its submission to a stretch of its source; stretches of the
    same document that overlap by `min_overlap` characters are the same text. Connected stretches form
    one shared text; submissions connected through shared texts form a cluster.
    """
    stretches, links = _stretches(reports, peers)
    parent = list(range(len(stretches)))
    for a, b in links + _overlaps(stretches, min_overlap):
        _union(parent, a, b)
    groups: dict[int, list] = {}
    for i in range(len(stretches)):
        groups.setdefault(_find(parent, i), []).append(stretches[i])
    shared = [s for s in (_shared_text(g, reports, peers) for g in groups.values()) if len(s["members"]) >= 2]
    return _clusters_of(shared, reports)


def _stretches(reports: list, peers: list) -> tuple[list, list]:
    stretches, links = [], []
    for pos, report in enumerate(reports):
        for i, p in enumerate(report.passages):
            if p.kind not in COUNTED_KINDS:
                continue
            peer = peers[pos][i]
            source_owner = ("batch", peer) if peer is not None else ("corpus", getattr(p.source, "doc_id", None) or p.source.path)
            stretches.append(_Stretch(("batch", pos), *p.submission_span, pos, i))
            stretches.append(_Stretch(source_owner, *p.source_span, pos, i))
            links.append((len(stretches) - 2, len(stretches) - 1))
    return stretches, links


def _overlaps(stretches: list, min_overlap: int) -> list:
    """Pairs of stretches of the same document that overlap enough (a sweep over each document's stretches)."""
    by_owner: dict = {}
    for i, s in enumerate(stretches):
        by_owner.setdefault(s.owner, []).append(i)
    pairs = []
    for indices in by_owner.values():
        indices.sort(key=lambda i: stretches[i].start)
        reach = None  # the stretch reaching furthest so far
        for i in indices:
            if reach is not None and min(stretches[reach].end, stretches[i].end) - stretches[i].start >= min_overlap:
                pairs.append((reach, i))
            if reach is None or stretches[i].end > stretches[reach].end:
                reach = i
    return pairs


def _find(parent, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _union(parent, a: int, b: int) -> None:
    parent[_find(parent, a)] = _find(parent, b)


def _shared_text(group: list, reports: list, peers: list) -> dict:
    """One shared text: the submissions carrying it, where, the corpus documents it comes from, its longest wording."""
    spans: dict[int, list] = {}
    for s in group:
        if s.owner[0] == "batch":
            spans.setdefault(s.owner[1], []).append([s.start, s.end])
    passages = [reports[s.position].passages[s.passage] for s in group]
    sources = {}
    for s in group:
        if s.owner[0] == "corpus":
            ref = reports[s.position].passages[s.passage].source
            sources[ref.path] = ref.as_dict()
    longest = max(passages, key=lambda p: len(p.submission_text))
    return {"text": longest.submission_text, "chars": len(longest.submission_text), "members": sorted(spans),
            "spans": {str(k): _merge(v) for k, v in sorted(spans.items())}, "sources": list(sources.values()),
            "kinds": sorted({p.kind for p in passages})}


def _merge(spans: list) -> list:
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _clusters_of(shared: list, reports: list) -> list[dict]:
    """Submissions joined by shared texts, largest cluster first, each with its shared texts longest first."""
    readable = sum(1 for r in reports if not r.error)
    # text carried by most of the batch (a boilerplate line, a ubiquitous template) would join every group
    # into one: it is a cluster of its own and links nothing else
    wide = [s for s in shared if len(s["members"]) > max(6, readable // 2)]
    parent = {m: m for s in shared for m in s["members"]}
    for s in shared:
        if s not in wide:
            for m in s["members"][1:]:
                parent[_find(parent, m)] = _find(parent, s["members"][0])
    clusters: dict = {}
    for s in shared:
        key = ("wide", id(s)) if s in wide else _find(parent, s["members"][0])
        clusters.setdefault(key, {"members": set(), "shared": []})
        clusters[key]["members"].update(s["members"])
        clusters[key]["shared"].append(s)
    ordered = sorted(clusters.values(), key=lambda c: (-len(c["members"]), -_top_ratio(c, reports), min(c["members"])))
    return [{"id": n, "members": sorted(c["members"]), "shared": sorted(c["shared"], key=lambda s: (-len(s["members"]), -s["chars"]))}
            for n, c in enumerate(ordered, start=1)]


def _top_ratio(cluster: dict, reports: list) -> float:
    return max(reports[m].metrics.get("copy_ratio", 0) for m in cluster["members"])


# ---------------------------------------------------------------- helpers


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
