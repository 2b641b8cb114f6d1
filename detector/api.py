"""The public functions — open a corpus, add documents, scan submissions, compare two files — that the CLI and users call."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections import OrderedDict
from pathlib import Path

from detector import align
from detector import rebuild as rebuilding
from detector import metadata, quotes
from detector.classify import Context, judge
from detector.errors import DetectorError, InputError
from detector.fingerprint import Fingerprint, fingerprint
from detector.ingest import InputFiles, find_input_files, read_document
from detector.ingest.manifest import as_manifest
from detector.measure import measure, rank_sources, section_measures
from detector.model import Document, DocumentMeta, Passage, Report, TemplateTrace
from detector.normalize import template_traces
from detector.paths import canonical_path, resolved
from detector.sections import find_sections
from detector.settings import DEFAULT, Settings, remember_bands_rows
from detector.store import SqliteStore

_INDEX_FIELDS = ("num_perm", "seed", "shingling", "max_segment_chars", "min_segment_chars", "lsh_threshold")


class Corpus:
    """An open corpus database with the settings it was built with and a cache of source fingerprints."""

    def __init__(self, store: SqliteStore, settings: Settings, cache_size: int = 512):
        self.store = store
        self.settings = settings
        self._fingerprints: OrderedDict = OrderedDict()
        self._cache_size = cache_size

    def close(self) -> None:
        self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def source_fingerprint(self, doc_id: int) -> tuple[Document, Fingerprint]:
        """A stored document and its fingerprint (recomputed from the stored text, kept in an LRU cache)."""
        if doc_id in self._fingerprints:
            self._fingerprints.move_to_end(doc_id)
            return self._fingerprints[doc_id]
        doc = self.store.document(doc_id)
        entry = (doc, fingerprint(doc.text, self.settings, signed=False))
        self._fingerprints[doc_id] = entry
        if len(self._fingerprints) > self._cache_size:
            self._fingerprints.popitem(last=False)
        return entry

    @contextlib.contextmanager
    def reading(self):
        """A read transaction: queries inside see one committed index; cached sources go when another process changed it."""
        with self.store.snapshot() as snapshot:
            if snapshot.changed:
                self._fingerprints.clear()  # a rebuild may have given the ids to other documents
            yield


@dataclasses.dataclass
class AddSummary:
    """What an add run did, file by file."""

    added: list = dataclasses.field(default_factory=list)
    duplicates: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)  # (path, reason)
    skipped: list = dataclasses.field(default_factory=list)  # (path, reason): links that loop or point nowhere


def open_corpus(path, settings: Settings | None = None, create: bool = False) -> Corpus:
    """Open (or create) a corpus database; without `settings`, use the index settings it was built with."""
    store = SqliteStore(path, create=create)
    try:
        remember_bands_rows(store.meta().get("index") or {})  # opening an index needs no band/row integration
        wanted = settings or DEFAULT
        stored = store.ensure_signature(wanted.index_signature(), explicit=settings is not None)
        return Corpus(store, settings or _settings_from_signature(stored))
    except BaseException:
        store.close()
        raise


def _settings_from_signature(stored: dict) -> Settings:
    from detector.errors import SettingsMismatch
    from detector.settings import NORMALISER_VERSION

    if stored.get("normaliser_version") != NORMALISER_VERSION:
        raise SettingsMismatch(
            f"the index was built with normaliser version {stored.get('normaliser_version')}, this chachong has "
            f"{NORMALISER_VERSION}; rebuild it with `chachong rebuild --full`"
        )
    fields = {k: stored[k] for k in _INDEX_FIELDS if k in stored}
    if "lsh_weights" in stored:
        fields["lsh_weights"] = tuple(stored["lsh_weights"])
    return DEFAULT.replace(**fields)


# ---------------------------------------------------------------- adding


def add_document(corpus: Corpus, doc: Document) -> tuple[str, int]:
    """Index one document; ('added', id), or ('duplicate', id) when the same content is already stored."""
    return add_documents(corpus, [doc])[0]


def add_documents(corpus: Corpus, docs: list) -> list[tuple[str, int]]:
    """Index documents in one transaction (all or nothing); a document whose content is stored already is skipped."""
    outcomes, fresh, seen = [], [], {}
    for doc in docs:
        existing = corpus.store.document_id_by_sha(doc.sha256)
        if existing is None and doc.sha256 not in seen:
            seen[doc.sha256] = doc
            fresh.append((doc, fingerprint(doc.text, corpus.settings)))
        else:
            doc.meta = metadata.complete(doc.meta, doc.text, doc.path)
        outcomes.append(existing)
    with corpus.store.transaction():
        _given_meta(corpus.store, [doc for doc, _ in fresh])
        ids = corpus.store.insert_documents([(doc, fp.keys, fp.hashes) for doc, fp in fresh])
    for (doc, _), doc_id in zip(fresh, ids):
        doc.id = doc_id
    results = []
    for doc, existing in zip(docs, outcomes):
        if existing is not None:
            results.append(("duplicate", existing))
        else:  # new content: the first document carrying it was added, later copies in the batch are duplicates
            first = seen[doc.sha256]
            results.append(("added" if first is doc else "duplicate", first.id))
    return results


def _given_meta(store, docs: list) -> None:
    """Record the metadata given with new documents (it is data: it outlives their rows), then complete each document's
    metadata: what people said of its content or path (latest first), then what its text and name tell."""
    store.remember_given_meta([(doc.sha256, doc.path, doc.meta) for doc in docs], "add")
    given = metadata.GivenMeta(store.given_meta_rows([d.sha256 for d in docs], [d.path for d in docs]))
    for doc in docs:
        said = given.apply(DocumentMeta(), doc.sha256, doc.path)
        doc.meta = metadata.complete(metadata.edited(said, metadata.known(doc.meta)), doc.text, doc.path)


def add_text(corpus: Corpus, text: str, path: str, meta: DocumentMeta | None = None) -> int:
    """Index a text given directly (path is only a label); returns its document id."""
    return add_document(corpus, document_from_text(text, path, meta))[1]


def add_texts(corpus: Corpus, items) -> list[int]:
    """Index many (path, text, meta) items in one transaction; returns their ids."""
    return [doc_id for _, doc_id in add_documents(corpus, [document_from_text(t, p, m) for p, t, m in items])]


def add_paths(corpus: Corpus, paths, meta: DocumentMeta | None = None, manifest=None, encoding=None, progress=None,
              batch_size: int = 100) -> AddSummary:
    """Index files and folders; a file that cannot be read is listed in `failed` and the others go on."""
    manifest_meta = as_manifest(manifest)
    found = find_input_files(paths) if paths else InputFiles(files=sorted(manifest_meta))
    summary, batch = AddSummary(failed=list(found.failed), skipped=list(found.skipped)), []
    for path in progress_bar(found.files, progress, "adding"):
        file_meta = manifest_meta.get(resolved(path), meta)
        try:
            doc = read_document(path, encoding=encoding, settings=corpus.settings,
                                meta=dataclasses.replace(file_meta) if file_meta else None)
            batch.append(dataclasses.replace(doc, path=canonical_path(path)))
        except InputError as err:
            summary.failed.append((str(path), err.reason))
        if len(batch) >= batch_size:
            _add_batch(corpus, batch, summary)
            batch = []
    _add_batch(corpus, batch, summary)
    return summary


def _add_batch(corpus: Corpus, docs: list, summary: AddSummary) -> None:
    for doc, (status, _) in zip(docs, add_documents(corpus, docs)):
        (summary.added if status == "added" else summary.duplicates).append(doc.path)


def remove_document(corpus: Corpus, doc_id: int) -> None:
    """Remove a stored document and its index entries, keeping document frequencies consistent."""
    doc, fp = corpus.source_fingerprint(doc_id)
    with corpus.store.transaction():
        corpus.store.delete_document(doc_id)
        corpus.store.uncount_segments(fp.hashes)
    corpus._fingerprints.pop(doc_id, None)


def remove_paths(corpus: Corpus, targets) -> tuple[list, list]:
    """Remove documents named by id, by the path they were added from, or by a folder above it.

    Returns ([(id, path) removed], [targets that named no document]).
    """
    removed, unknown = [], []
    for target in map(str, targets):
        found = _documents_named(corpus, target)
        if not found:
            unknown.append(target)
        for doc_id, path in found:
            remove_document(corpus, doc_id)
            removed.append((doc_id, path))
    return removed, unknown


def _documents_named(corpus: Corpus, target: str) -> list:
    rows = corpus.store.documents()
    if target.isdigit() and any(doc_id == int(target) for doc_id, _, _ in rows):
        return [(doc_id, path) for doc_id, path, _ in rows if doc_id == int(target)]
    wanted = resolved(target)
    return [(doc_id, path) for doc_id, path, _ in rows
            if path == target or resolved(path) == wanted or wanted in resolved(path).parents]


def rebuild(db_path, archive, manifest=None, **options):
    """Bring the corpus at `db_path` in line with an archive folder: locked, atomic, incremental (see detector/rebuild.py)."""
    return rebuilding.rebuild(db_path, archive, manifest, **options)


def document_from_text(text: str, path: str, meta: DocumentMeta | None = None) -> Document:
    import hashlib

    return Document(path=path, text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), encoding="utf-8",
                    format="txt", meta=meta or DocumentMeta())


# ---------------------------------------------------------------- scanning


def scan_document(corpus: Corpus, doc: Document, exclude_ids=()) -> Report:
    """Every passage of `doc` found in the corpus, classified, with the measures."""
    with corpus.reading():  # one committed state of the index, even while a rebuild commits
        return _scan_document(corpus, doc, exclude_ids)


def _scan_document(corpus: Corpus, doc: Document, exclude_ids) -> Report:
    settings = corpus.settings
    sub = fingerprint(doc.text, settings)
    exclude = set(exclude_ids)
    same = corpus.store.document_id_by_sha(doc.sha256)
    if same is not None:
        exclude.add(same)  # a corpus document is not its own source
    doc.meta = _submission_meta(corpus, doc, same)
    alignments = []
    for doc_id in align.candidate_documents(sub, corpus.store, settings, exclude):
        _, src = corpus.source_fingerprint(doc_id)
        alignments.extend(align.align_pair(sub, src, doc_id, settings))
    citations = quotes.find_citations(doc.text, settings.quotation_max_chars)
    passages = _passages(corpus, doc, sub, alignments, citations)
    return _report(doc, passages, citations)


def _submission_meta(corpus: Corpus, doc: Document, stored_id) -> DocumentMeta:
    """The submission's metadata: as given, then as stored for the same content, then inferred."""
    meta = doc.meta
    if stored_id is not None:
        stored = corpus.store.document(stored_id).meta
        meta = dataclasses.replace(stored, **{k: getattr(meta, k) for k in metadata.FIELDS if getattr(meta, k) is not None})
    return metadata.complete(meta, doc.text, doc.path)


def _report(doc: Document, passages: list, citations: list) -> Report:
    """The measures, sources, sections and template-site traces of a scanned submission."""
    sections = find_sections(doc.text)
    traces = [TemplateTrace((start, end), text) for start, end, text in template_traces(doc.text)]
    return Report(submission=doc, passages=passages,
                  metrics=measure(doc.text, passages, citations, sections, traces),
                  sources=rank_sources(doc.text, passages, citations),
                  sections=section_measures(doc.text, passages, sections, citations),
                  template_traces=traces)


def _passages(corpus: Corpus, doc: Document, sub: Fingerprint, alignments: list, citations=()) -> list[Passage]:
    context = Context(submission=doc.meta, source=corpus.store.source_ref, citations=list(citations),
                      segment_df=corpus.store.segment_document_frequency(sub.hashes))
    passages = []
    for alignment, others in align.one_source_per_stretch(alignments):
        verdict = judge(alignment, others, sub, context, corpus.settings)
        if verdict is not None:
            passages.append(_passage(corpus, doc, sub, verdict))
    return passages


def _passage(corpus: Corpus, doc: Document, sub: Fingerprint, verdict) -> Passage:
    alignment, carriers = verdict.alignment, verdict.carriers
    source_doc, src = corpus.source_fingerprint(alignment.doc_id)
    sub_span = _closed(doc.text, sub.original_span(*alignment.sub_span))
    src_span = _closed(source_doc.text, src.original_span(*alignment.src_span))
    years = {c.year for c in carriers if c.year is not None}
    return Passage(
        kind=verdict.kind,
        source=carriers[0],
        submission_span=sub_span,
        source_span=src_span,
        similarity=round(alignment.similarity, 4),
        matched_chars=alignment.matched_chars,
        document_count=len(carriers),
        other_sources=carriers[1:],
        submission_text=doc.text[sub_span[0] : sub_span[1]],
        source_text=source_doc.text[src_span[0] : src_span[1]],
        unit_count=len({c.unit for c in carriers if c.unit}),
        year_count=len(years),
        earliest_year=min(years, default=None),
        years=verdict.years,
        cited=verdict.cited,
    )


_CLOSING = "。！？；!?;.…”’」』）)"


def _closed(text: str, span: tuple) -> tuple:
    """The span with the punctuation that closes its last sentence (matching stops at the last content character)."""
    start, end = span
    while end < len(text) and end - span[1] < 2 and text[end] in _CLOSING:
        end += 1
    return start, end


def scan_text(corpus: Corpus, text: str, path: str = "<text>", meta: DocumentMeta | None = None) -> Report:
    """Scan a text given directly."""
    return scan_document(corpus, document_from_text(text, path, meta))


def scan_paths(corpus: Corpus, paths, encoding=None, progress=None) -> list[Report]:
    """Scan files and folders; a file that cannot be read gives a Report with `error` set, and the others go on."""
    found = find_input_files(paths)
    reports = [failed_report(folder, reason) for folder, reason in found.failed]
    for path in progress_bar(found.files, progress, "scanning"):
        try:
            doc = read_document(path, encoding=encoding, settings=corpus.settings)
        except InputError as err:
            reports.append(failed_report(path, err.reason))
            continue
        reports.append(scan_document(corpus, doc))
    return reports


def scan_batch(corpus: Corpus, paths, encoding=None, progress=None, meta=None, manifest=None):
    """Scan files and folders against the corpus and against each other (detector.batch.BatchScan); nothing is added to the corpus."""
    from detector import batch  # batch builds on this module

    return batch.scan_batch(corpus, paths, encoding=encoding, progress=progress, meta=meta, manifest=manifest)


def failed_report(path, reason: str) -> Report:
    """The report of a file that could not be read: no text, no passages, `error` saying why."""
    return Report(submission=Document(path=str(path), text="", sha256="", encoding=""), passages=[], metrics={}, error=reason)


# ---------------------------------------------------------------- comparing


def compare_documents(submission: Document, source: Document, settings: Settings | None = None) -> Report:
    """Passages of `submission` reused from `source` (the two-file comparison; nothing is stored)."""
    with open_corpus(":memory:", settings=settings, create=True) as corpus:
        corpus.settings = corpus.settings.replace(max_candidate_documents=1)
        add_document(corpus, source)
        if source.sha256 == submission.sha256:
            submission = dataclasses.replace(submission, sha256="compare:" + submission.sha256)
        return scan_document(corpus, submission)


def compare_paths(a, b, encoding=None, settings: Settings | None = None) -> Report:
    """Read two files and compare the first (submission) against the second (source)."""
    settings = settings or DEFAULT
    doc_a = read_document(a, encoding=encoding, settings=settings)
    doc_b = read_document(b, encoding=encoding, settings=settings)
    return compare_documents(doc_a, doc_b, settings)


# ---------------------------------------------------------------- metadata


def list_documents(corpus: Corpus) -> list[tuple[int, str, DocumentMeta]]:
    """(id, path, metadata) of every stored document."""
    return corpus.store.documents_with_meta()


def find_document(corpus: Corpus, target) -> int:
    """The id of a stored document named by its id, the path it was added from, or a file with the same content."""
    target = str(target)
    if target.isdigit():
        corpus.store.document(int(target))  # raises if there is none
        return int(target)
    for candidate in dict.fromkeys([target, str(Path(target)), canonical_path(target), str(resolved(target))]):
        ids = corpus.store.document_ids_by_path(candidate)
        if ids:
            return ids[-1]
    if Path(target).is_file():
        found = corpus.store.document_id_by_sha(read_document(target, settings=corpus.settings).sha256)
        if found is not None:
            return found
    raise DetectorError(f"{target}: no such document in {corpus.store.path}; `chachong meta --db DB` lists them")


def update_metadata(corpus: Corpus, target, **changes) -> tuple[int, DocumentMeta]:
    """Set metadata fields (author, unit, year, meeting, team) of a stored document; they are no longer marked inferred."""
    doc_id = find_document(corpus, target)
    doc = corpus.store.document(doc_id)
    said = metadata.edited(DocumentMeta(), {k: v for k, v in changes.items() if v is not None})
    meta = metadata.edited(doc.meta, {k: v for k, v in changes.items() if v is not None})
    with corpus.store.transaction():
        corpus.store.update_meta(doc_id, meta)
        corpus.store.remember_given_meta([(doc.sha256, doc.path, said)], "meta")  # survives any rebuild
    corpus._fingerprints.pop(doc_id, None)  # the cached Document carries the old metadata
    return doc_id, meta


def stats(corpus: Corpus) -> dict:
    """Counts and sizes of the corpus, and what built its index and when it was last rebuilt."""
    numbers, meta = corpus.store.stats(), corpus.store.meta()
    numbers.update({key: meta[key] for key in ("built_by", "last_rebuild") if key in meta})
    return numbers


def progress_bar(items: list, progress, label: str):
    """Wrap `items` in a progress bar on stderr when asked (True: show; False/None: no bar; a callable: told
    `progress(label, done, total)` before each item and at the end, as the web page's progress indicator is)."""
    if not progress:
        return items
    if callable(progress):
        return _reporting(items, progress, label)
    from tqdm import tqdm

    return tqdm(items, desc=label, unit="file", file=sys.stderr, leave=False)


def _reporting(items: list, report, label: str):
    for done, item in enumerate(items):
        report(label, done, len(items))
        yield item
    report(label, len(items), len(items))
