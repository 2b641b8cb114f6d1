"""Scan a batch of submissions against the corpus and against each other, then find clusters of submissions sharing reused text."""

from __future__ import annotations

import dataclasses
import datetime
import time

import numpy as np

from detector import api
from detector.errors import InputError
from detector.fingerprint import fingerprint
from detector.ingest.manifest import as_manifest
from detector.ingest import find_input_files, read_document
from detector.paths import resolved
from detector.model import COUNTED_KINDS, Document, Report
from detector.store import SqliteStore

# ids of the batch's own documents and segments are shifted past any corpus id (on equal evidence the
# aligner prefers the lower id: the archive document over a colleague's submission)
BATCH_IDS = 1 << 40
BATCH_SEGMENTS = 1 << 48


@dataclasses.dataclass
class BatchScan:
    """The reports of one batch (in input order), the batch position behind each peer source, and the clusters."""

    reports: list
    clusters: list
    peers: list  # per report: per passage, the batch position of its source (None: a corpus document)
    started_at: str
    seconds: float
    paths: list = dataclasses.field(default_factory=list)
    corpus_documents: int = 0
    skipped: list = dataclasses.field(default_factory=list)  # (path, reason): links that loop or point nowhere


# ---------------------------------------------------------------- scanning


def scan_batch(corpus: api.Corpus, paths, encoding=None, progress=None, meta=None, manifest=None) -> BatchScan:
    """Read files and folders, then scan every submission against the corpus and the other submissions.

    `meta` (DocumentMeta) applies to every submission, `manifest` (CSV) per file; what neither gives is inferred.
    """
    found = find_input_files(paths)
    given = as_manifest(manifest)
    items = [api.failed_report(folder, reason) for folder, reason in found.failed]
    items += [_read(path, corpus, encoding, given.get(resolved(path), meta))
              for path in api.progress_bar(found.files, progress, "reading")]
    result = scan_documents(corpus, items, progress)
    result.paths = [str(p) for p in paths]
    result.skipped = found.skipped
    return result


def _read(path, corpus: api.Corpus, encoding, meta=None) -> Document | Report:
    try:
        return read_document(path, encoding=encoding, settings=corpus.settings,
                             meta=dataclasses.replace(meta) if meta else None)
    except InputError as err:
        return api.failed_report(path, err.reason)


def scan_documents(corpus: api.Corpus, items: list, progress=None) -> BatchScan:
    """Scan documents (failed reports pass through) against the corpus and each other; nothing is written to the corpus."""
    started, clock = _now(), time.perf_counter()
    readable = [(pos, doc) for pos, doc in enumerate(items) if isinstance(doc, Document)]
    reports = list(items)
    with BatchStore.of(corpus.store, [doc for _, doc in readable], corpus.settings) as store:
        batch_corpus = _BatchCorpus(store, corpus.settings)
        for n, (pos, doc) in enumerate(api.progress_bar(readable, progress, "scanning")):
            reports[pos] = store.scan(batch_corpus, n, doc)
    to_position = {BATCH_IDS + n: pos for n, (pos, _) in enumerate(readable)}
    peers = [_peer_positions(r, to_position) for r in reports]
    return BatchScan(reports=reports, clusters=find_clusters(reports, peers), peers=peers, started_at=started,
                     seconds=round(time.perf_counter() - clock, 3), corpus_documents=corpus.store.document_count())


def _peer_positions(report: Report, to_position: dict) -> list:
    return [to_position.get(getattr(p.source, "doc_id", None)) for p in report.passages]


class BatchStore:
    """The corpus store and an in-memory store of the batch's submissions, seen as one store.

    Batch document n has id BATCH_IDS + n and its segment ids are shifted by BATCH_SEGMENTS, so the
    aligner and the classifier treat a colleague's submission like any corpus document.
    """

    def __init__(self, base: SqliteStore, batch: SqliteStore, entries: list):
        self.base = base
        self.batch = batch
        self.entries = entries  # (document, fingerprint) per batch position
        self._own_hashes: set = set()

    @classmethod
    def of(cls, base: SqliteStore, docs: list, settings) -> "BatchStore":
        """Index `docs` into a fresh in-memory store; document n gets id BATCH_IDS + n."""
        batch = SqliteStore(":memory:", create=True)
        entries = [(doc, fingerprint(doc.text, settings)) for doc in docs]
        with batch.transaction():
            for n, (doc, fp) in enumerate(entries):
                # a unique hash per entry: two identical files in a batch must still find each other
                batch.insert_document(dataclasses.replace(doc, sha256=f"batch{n}:{doc.sha256}"), fp.keys, fp.hashes)
        return cls(base, batch, entries)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.batch.close()

    def __getattr__(self, name):
        if name in ("base", "batch", "entries"):
            raise AttributeError(name)
        # methods the batch does not need to answer for (statistics, metadata) come from the corpus
        return getattr(self.base, name)

    def scan(self, corpus: api.Corpus, n: int, doc: Document) -> Report:
        """Scan batch document n against the corpus and every other batch document."""
        self._own_hashes = set(self.entries[n][1].hashes)
        try:
            return api.scan_document(corpus, doc, exclude_ids={BATCH_IDS + n})
        finally:
            self._own_hashes = set()

    def entry(self, doc_id: int) -> tuple:
        """(document, fingerprint) of a batch document, by its id."""
        doc, fp = self.entries[doc_id - BATCH_IDS]
        return dataclasses.replace(doc, id=doc_id), fp

    # --- the store interface the aligner and classifier use ---
    def postings(self, keys, *limits) -> tuple[dict, dict]:
        keys = list(keys)
        found, counts = self.base.postings(keys, *limits)
        batch_found, batch_counts = self.batch.postings(keys, *limits)
        for key, segments in batch_found.items():
            found.setdefault(key, []).extend(s + BATCH_SEGMENTS for s in segments)
        for key, n in batch_counts.items():
            counts[key] = counts.get(key, 0) + n
        return found, counts

    def segment_total(self) -> int:
        return self.base.segment_total() + self.batch.segment_total()

    def segment_owner(self, segment_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        segment_ids = np.asarray(segment_ids, dtype=np.int64)
        in_batch = segment_ids >= BATCH_SEGMENTS
        owners = np.zeros(len(segment_ids), dtype=np.int64)
        indices = np.zeros(len(segment_ids), dtype=np.int64)
        if (~in_batch).any():
            owners[~in_batch], indices[~in_batch] = self.base.segment_owner(segment_ids[~in_batch])
        if in_batch.any():
            ids, idx = self.batch.segment_owner(segment_ids[in_batch] - BATCH_SEGMENTS)
            owners[in_batch], indices[in_batch] = ids - 1 + BATCH_IDS, idx
        return owners, indices

    def segment_document_frequency(self, hashes) -> dict:
        """Documents per segment hash in the corpus and the batch, not counting the submission being scanned."""
        hashes = list(hashes)
        counts = dict(self.base.segment_document_frequency(hashes))
        for h, docs in self.batch.segment_document_frequency(hashes).items():
            docs -= h in self._own_hashes
            if docs > 0:
                counts[h] = counts.get(h, 0) + docs
        return counts

    def document(self, doc_id: int) -> Document:
        return self.base.document(doc_id) if doc_id < BATCH_IDS else self.entry(doc_id)[0]

    def source_ref(self, doc_id: int):
        if doc_id < BATCH_IDS:
            return self.base.source_ref(doc_id)
        return dataclasses.replace(self.batch.source_ref(doc_id - BATCH_IDS + 1), doc_id=doc_id)

    def document_id_by_sha(self, sha256: str):
        return self.base.document_id_by_sha(sha256)


class _BatchCorpus(api.Corpus):
    """A corpus whose batch documents come with the fingerprints computed when the batch was indexed."""

    def source_fingerprint(self, doc_id: int) -> tuple:
        return self.store.entry(doc_id) if doc_id >= BATCH_IDS else super().source_fingerprint(doc_id)


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
