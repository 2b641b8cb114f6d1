"""The public functions — open a corpus, add documents, scan submissions, compare two files — that the CLI and users call."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Iterator

from detector import messages, metadata
from detector.allocator import return_freed_memory
from detector.corpus import Corpus, open_corpus
from detector.errors import DetectorError, InputError, storage_error, StorageError, WorkerLost
from detector.index import indexed_batches
from detector.ingest import InputFiles, find_input_files, read_document
from detector.ingest.manifest import as_manifest
from detector.model import Document, DocumentMeta, Report
from detector.paths import canonical_path, resolved, shown
from detector.progress import progress_bar
from detector.scan import Timings, failed_report, scan_document
from detector.settings import DEFAULT, Settings
from detector.store import driver_errors, memory_store, open_store

__all__ = ["Corpus", "open_corpus", "add_paths", "add_batches", "add_texts", "scan_paths", "scan_batch", "scan_text", "scan_document",
           "compare_paths", "compare_documents", "remove_paths", "rebuild", "update_metadata", "list_documents", "stats",
           "failed_report", "Timings"]


@dataclasses.dataclass
class AddSummary:
    """What an add run did, file by file."""

    added: list = dataclasses.field(default_factory=list)
    duplicates: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)  # (path, reason)
    skipped: list = dataclasses.field(default_factory=list)  # (path, reason): links that loop or point nowhere


# ---------------------------------------------------------------- adding


def add_document(corpus: Corpus, doc: Document) -> tuple[str, int]:
    """Index one document; ('added', id), or ('duplicate', id) when the same content is already stored."""
    return add_documents(corpus, [doc])[0]


def add_documents(corpus: Corpus, docs: list) -> list[tuple[str, int]]:
    """Index documents in one transaction (all or nothing); a document whose content is stored already is skipped."""
    ((_, outcomes),) = add_batches(corpus, [docs])
    return outcomes


def add_batches(corpus: Corpus, batches, announce=None) -> Iterator[tuple[list, list[tuple[str, int]]]]:
    """Index batches of documents, one transaction each, in order; yields (documents, outcomes) of each batch once it
    is stored, an outcome per document:
    ('added', id), or ('duplicate', id) when the same content is stored already or came earlier in these batches.

    Fingerprinting runs in worker processes outside the write transactions, one batch ahead: while a batch is
    written, the next is fingerprinted (indexed_batches). Stop early (an error) and nothing after that batch is stored.
    At the end the store merges what it deferred (`announce()` is called first when that is work: minutes at 10^5).
    """
    seen: dict = {}  # sha256 → the first document of these batches carrying it; once it is stored, only its id
    plans = (_plan(corpus, docs, seen) for docs in batches)
    for plan, entries in indexed_batches(plans, corpus.settings, documents=lambda p: p.fresh):
        with corpus.store.writing():
            _given_meta(corpus.store, plan.fresh)
            ids = corpus.store.insert_documents(entries)
        for doc, doc_id in zip(plan.fresh, ids):
            doc.id = doc_id
        outcomes = [_outcome(doc, existing, seen) for doc, existing in zip(plan.docs, plan.existing)]
        for doc in plan.fresh:  # kept whole, every text added stayed in memory: 1 GB and more adding 10^5 reports
            seen[doc.sha256] = doc.id
        return_freed_memory()  # the batch's arrays are freed: a long add's heap would otherwise only grow
        yield plan.docs, outcomes
    corpus.store.settle(announce)
    return_freed_memory()


@dataclasses.dataclass
class _Plan:
    """One batch to add: its documents, the stored id of each one's content (or None), those to fingerprint and store."""

    docs: list
    existing: list
    fresh: list


def _plan(corpus: Corpus, docs: list, seen: dict) -> _Plan:
    existing, fresh = [], []
    for doc in docs:
        stored = corpus.store.document_id_by_sha(doc.sha256)
        if stored is None and doc.sha256 not in seen:
            seen[doc.sha256] = doc
            fresh.append(doc)
        else:
            doc.meta = metadata.complete(doc.meta, doc.text, doc.path)
        existing.append(stored)
    return _Plan(docs, existing, fresh)


def _outcome(doc: Document, existing, seen: dict) -> tuple[str, int]:
    if existing is not None:
        return "duplicate", existing
    first = seen[doc.sha256]  # new content: the first document carrying it was added, later copies are duplicates
    if not isinstance(first, Document):  # stored by an earlier batch: its id
        return "duplicate", first
    return ("added" if first is doc else "duplicate"), first.id


def _given_meta(store, docs: list) -> None:
    """Record the metadata given with new documents (it is data: it outlives their rows), then complete each document's
    metadata: what people said of its content or path (latest first), then what its text and name tell."""
    store.remember_given_meta([(doc.sha256, doc.path, doc.meta) for doc in docs], "add")
    given = metadata.GivenMeta(store.given_meta_rows([d.sha256 for d in docs], [d.path for d in docs]))
    carried = []
    for doc in docs:
        said = given.apply(DocumentMeta(), doc.sha256, doc.path)
        carried.append((doc.sha256, doc.path, said))  # for the next move or edit of the file
        doc.meta = metadata.complete(metadata.edited(said, metadata.known(doc.meta)), doc.text, doc.path)
    store.remember_given_meta([c for c in carried if c[2] != DocumentMeta()], "carried")


def add_text(corpus: Corpus, text: str, path: str, meta: DocumentMeta | None = None) -> int:
    """Index a text given directly (path is only a label); returns its document id."""
    return add_document(corpus, document_from_text(text, path, meta))[1]


def add_texts(corpus: Corpus, items) -> list[int]:
    """Index many (path, text, meta) items in one transaction; returns their ids."""
    return [doc_id for _, doc_id in add_documents(corpus, [document_from_text(t, p, m) for p, t, m in items])]


def add_paths(corpus: Corpus, paths, meta: DocumentMeta | None = None, manifest=None, encoding=None, progress=None,
              batch_size: int = 100) -> AddSummary:
    """Index files and folders, `batch_size` files a transaction; a file that cannot be read is listed in `failed` and
    the others go on. Files are read and stored here while worker processes fingerprint the next batch."""
    manifest_meta = as_manifest(manifest)
    found = find_input_files(paths) if paths else _manifest_files(manifest_meta)
    summary = AddSummary(failed=list(found.failed), skipped=list(found.skipped))
    readable = _read_batches(corpus, found.files, manifest_meta, meta, encoding, progress, batch_size, summary)
    try:
        for docs, outcomes in add_batches(corpus, readable, _settling_said if progress is True else None):
            for doc, (status, doc_id) in zip(docs, outcomes):
                (summary.added if status == "added" else summary.duplicates).append(doc.path)
                if status != "added":
                    summary.skipped += _another_authors_copy(corpus, doc, doc_id)
    except (*driver_errors(), OSError, WorkerLost) as err:  # such an error says how many files earlier batches added
        if not summary.added:
            raise
        if isinstance(err, WorkerLost):
            raise WorkerLost(f"{err} (the {len(summary.added)} files added before stay added; the same `chachong add` "
                             "again adds the rest)") from None
        problem = str(storage_error(err, getattr(corpus.store, "path", None)))
        raise StorageError(f"{problem.replace('nothing was changed', 'this batch was not written')} (the "
                           f"{len(summary.added)} files added before it stay added; the same `chachong add` again adds the rest)") from None
    return summary


def _settling_said() -> None:
    """On a terminal, say that the add's last step may take a while (its progress bar has ended)."""
    print(messages.say("settling"), file=sys.stderr, flush=True)


MANIFEST_FILE_MISSING = ("the manifest lists it, but there is no such file; check its path in the manifest (paths are "
                         "relative to the manifest's folder)")


def _manifest_files(manifest_meta: dict) -> InputFiles:
    """The files a manifest lists (given no paths), those it lists that are not there as failures saying so."""
    there = {p: Path(p).exists() for p in sorted(manifest_meta)}
    return InputFiles(files=[p for p, found in there.items() if found],
                      failed=[(str(p), MANIFEST_FILE_MISSING) for p, found in there.items() if not found])


def _another_authors_copy(corpus: Corpus, doc: Document, stored_id: int) -> list:
    """A (path, warning) when a file not stored again (the same text is stored) was given another author than the
    stored one: two cadres handed in one text, which the office wants to compare."""
    stored = corpus.store.source_ref(stored_id)
    given = metadata.known(doc.meta).get("author")
    if not given or not stored.author or metadata.name_key(given) == metadata.name_key(stored.author):
        return []
    return [(doc.path, metadata.same_text_warning(given, shown(stored.path), stored.author))]


def _read_batches(corpus: Corpus, files: list, manifest_meta: dict, meta, encoding, progress, batch_size: int,
                  summary: AddSummary):
    """The readable files as batches of `batch_size` documents (the last one shorter, perhaps empty); a file that
    cannot be read goes to `summary.failed`."""
    batch = []
    for path in progress_bar(files, progress, "adding"):
        file_meta = manifest_meta.get(resolved(path), meta)
        try:
            doc = read_document(path, encoding=encoding, settings=corpus.settings,
                                meta=dataclasses.replace(file_meta) if file_meta else None)
            batch.append(dataclasses.replace(doc, path=canonical_path(path)))
        except InputError as err:
            summary.failed.append((str(path), err.reason))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    yield batch


def remove_document(corpus: Corpus, doc_id: int) -> None:
    """Remove a stored document and its index entries, keeping document frequencies consistent."""
    remove_documents(corpus, [doc_id])


def remove_documents(corpus: Corpus, doc_ids: list) -> None:
    """Remove stored documents and their index entries in one transaction — all of them or none, and one pass over
    the packed postings (SQLite) however many they are — keeping document frequencies consistent."""
    with corpus.store.writing():
        corpus.store.delete_documents(doc_ids)
    for doc_id in doc_ids:
        corpus.forget(doc_id)


def remove_paths(corpus: Corpus, targets) -> tuple[list, list]:
    """Remove documents named by id, by the path they were added from, or by a folder above it (a document named
    twice is removed once).

    Returns ([(id, path) removed], [targets that named no document]).
    """
    removed, unknown = {}, []
    for target in map(str, targets):
        found = _documents_named(corpus, target)
        if not found:
            unknown.append(target)
        removed.update(found)
    if removed:
        remove_documents(corpus, list(removed))
    return list(removed.items()), unknown


def _documents_named(corpus: Corpus, target: str) -> list:
    rows = corpus.store.documents()
    if target.isdigit() and any(doc_id == int(target) for doc_id, _, _ in rows):
        return [(doc_id, path) for doc_id, path, _ in rows if doc_id == int(target)]
    wanted = resolved(target)
    return [(doc_id, path) for doc_id, path, _ in rows
            if path == target or resolved(path) == wanted or wanted in resolved(path).parents]


def rebuild(db_path, archive, manifest=None, **options):
    """Bring the corpus at `db_path` in line with an archive folder: locked, atomic, incremental (see detector/rebuild.py)."""
    from detector import rebuild as rebuilding

    return rebuilding.rebuild(db_path, archive, manifest, **options)


def archive_is_there(archive, manifest=None) -> None:
    """Before a rebuild reads its manifest: an empty archive folder whose manifest is missing is a share not mounted
    (the manifest lives on it), said as such rather than as a wrong --manifest path."""
    from detector import rebuild as rebuilding

    rebuilding.archive_is_there(archive, manifest)


def document_from_text(text: str, path: str, meta: DocumentMeta | None = None) -> Document:
    import hashlib

    return Document(path=path, text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), encoding="utf-8",
                    format="txt", meta=meta or DocumentMeta())


# ---------------------------------------------------------------- scanning


def scan_text(corpus: Corpus, text: str, path: str = "<text>", meta: DocumentMeta | None = None) -> Report:
    """Scan a text given directly."""
    return scan_document(corpus, document_from_text(text, path, meta))


def scan_paths(corpus: Corpus, paths, encoding=None, progress=None, timings: Timings | None = None) -> list[Report]:
    """Scan files and folders; a file that cannot be read gives a Report with `error` set, and the others go on."""
    found = find_input_files(paths)
    reports = [failed_report(folder, reason) for folder, reason in found.failed]
    for path in progress_bar(found.files, progress, "scanning"):
        try:
            doc = read_document(path, encoding=encoding, settings=corpus.settings)
        except InputError as err:
            reports.append(failed_report(path, err.reason))
            continue
        reports.append(scan_document(corpus, doc, timings=timings))
    return reports


def scan_batch(corpus: Corpus, paths, encoding=None, progress=None, meta=None, manifest=None, timings: Timings | None = None,
               workers: int = 1):
    """Scan files and folders against the corpus and against each other (detector.batch.BatchScan); nothing is added to
    the corpus. `workers` > 1: in that many processes (same reports)."""
    from detector import batch

    return batch.scan_batch(corpus, paths, encoding=encoding, progress=progress, meta=meta, manifest=manifest,
                            timings=timings, workers=workers)


# ---------------------------------------------------------------- comparing


def compare_documents(submission: Document, source: Document, settings: Settings | None = None) -> Report:
    """Passages of `submission` reused from `source` (the two-file comparison; nothing is stored). The source is
    compared whole, not only near the segments band keys joined (verified_neighbourhood, which spares a corpus scan
    comparing tens of documents): one source costs little, and a passage edited past every band key is still found."""
    settings = settings or DEFAULT
    corpus = Corpus(memory_store(), settings.replace(max_candidate_documents=1,
                                                     verified_neighbourhood=settings.max_source_segments))
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
    raise DetectorError(f"{target}: no such document in {corpus.store.location}; `chachong meta --db DB` lists them")


def update_metadata(corpus: Corpus, target, **changes) -> tuple[int, DocumentMeta]:
    """Set metadata fields (author, unit, year, meeting, team) of a stored document; they are no longer marked inferred."""
    doc_id = find_document(corpus, target)
    doc = corpus.store.document(doc_id)
    said = metadata.edited(DocumentMeta(), {k: v for k, v in changes.items() if v is not None})
    meta = metadata.edited(doc.meta, {k: v for k, v in changes.items() if v is not None})
    with corpus.store.writing():
        corpus.store.update_meta(doc_id, meta)
        corpus.store.remember_given_meta([(doc.sha256, doc.path, said)], "meta")  # survives any rebuild
    corpus.forget(doc_id)  # the cached Document carries the old metadata
    return doc_id, meta


def backup(target, out):
    """A consistent copy of the corpus database at `out` (a file or a folder): SQLite's online backup, so scans
    and a rebuild may run meanwhile. Returns the path written."""
    store = open_store(target)
    try:
        return store.backup(out)
    finally:
        store.close()


def check(target) -> list[str]:
    """What is wrong with a corpus database (empty when intact): integrity, postings ↔ documents, segment counts,
    segment document frequencies, the recorded index settings."""
    store = open_store(target)
    try:
        return store.problems()
    finally:
        store.close()


def stats(corpus: Corpus) -> dict:
    """Counts and sizes of the corpus, and what built its index and when it was last rebuilt."""
    numbers, meta = corpus.store.stats(), corpus.store.meta()
    numbers.update({key: meta[key] for key in ("built_by", "last_rebuild") if key in meta})
    return numbers
