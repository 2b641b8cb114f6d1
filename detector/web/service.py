"""What the pages and the API do, on the library's public functions: scan an upload, re-check, compare, list and correct the archive."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import shutil
from pathlib import Path

from detector import api, history
from detector.batch import scan_documents
from detector.errors import DetectorError, InputError
from detector.ingest import read_document
from detector.web.rendering import for_the_web
from detector.labels import DEFAULT_RANKING, RANKING_MEASURES
from detector.messages import both
from detector.model import Document, DocumentMeta

SEARCH_FIELDS = ("author", "unit", "year")


def scan_upload(db, upload, job, archive: Path | None = None) -> int:
    """Scan uploaded files against the corpus and each other, record the scan, add them to the archive if asked; returns the scan id."""
    try:
        with api.open_corpus(db) as corpus:
            items = _read_upload(corpus, upload, job)
            result = scan_documents(corpus, items, progress=job.progress)
            if result.stopped is not None:  # the store went away: the job fails with its one line, as a read that failed
                raise result.stopped
            result.paths = [name for name, _ in upload.files] + [name for name, _ in upload.refused]
            job.progress("recording", 0, 1)
            scan_id = history.record_scan(corpus.store, result, corpus.settings, options={"via": "web"})
        if archive is not None:
            add_to_archive(db, upload, archive, [doc for doc in items if isinstance(doc, Document)])
        return scan_id
    finally:
        upload.remove()


def _read_upload(corpus, upload, job) -> list:
    """A Document per readable file (named as the user named it), a failed Report per unreadable or refused one."""
    items = []
    for n, (name, path) in enumerate(upload.files):
        job.progress("reading", n, len(upload.files))
        meta = upload.meta.get(name)
        try:
            doc = read_document(path, settings=corpus.settings, meta=dataclasses.replace(meta) if meta else None)
        except InputError as err:
            items.append(api.failed_report(name, for_the_web(err.reason)))
            continue
        doc.path = name
        items.append(doc)
    return items + [api.failed_report(name, reason) for name, reason in upload.refused]


def add_to_archive(db, upload, archive: Path, docs: list) -> list:
    """Copy the readable uploads into ARCHIVE/web-uploads/DATE/ and add them to the corpus under the writer lock."""
    folder = Path(archive) / "web-uploads" / datetime.date.today().isoformat()
    saved = dict(upload.files)
    for doc in docs:
        target = _free_path(folder / doc.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved[doc.path], target)
        doc.path = str(target.resolve())
    with _writing(db) as corpus:
        return api.add_documents(corpus, docs)


def _free_path(path: Path) -> Path:
    n = 1
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def recheck(db, scan_id: int, job) -> int:
    """Scan a recorded scan's submissions again against today's corpus; returns the new scan's id."""
    with api.open_corpus(db) as corpus:
        result = history.recheck(corpus, scan_id, progress=job.progress)
        if result.stopped is not None:
            raise result.stopped
        job.progress("recording", 0, 1)
        return history.record_scan(corpus.store, result, corpus.settings, options={"via": "web"}, rechecks=scan_id)


def scan_view(db, scan_id: int, rank_by: str = DEFAULT_RANKING):
    """A recorded scan's view, ranked by `rank_by` (one of detector.labels.RANKING_MEASURES)."""
    if rank_by not in RANKING_MEASURES:
        raise DetectorError(both("web_rank_by", measure=repr(rank_by), measures=", ".join(RANKING_MEASURES)))
    with api.open_corpus(db) as corpus:
        return history.view(corpus.store, scan_id, rank_by=rank_by)


def scans(db) -> list[dict]:
    with api.open_corpus(db) as corpus:
        return history.list_scans(corpus.store)


def compare(submission, source) -> object:
    """The CLI's `compare` on two uploaded files (each (name, saved path)); nothing is stored."""
    docs = []
    for name, path in (submission, source):
        doc = read_document(path)
        doc.path = name
        docs.append(doc)
    return api.compare_documents(*docs)


# ---------------------------------------------------------------- archive


@dataclasses.dataclass
class ArchiveRow:
    id: int
    path: str
    meta: DocumentMeta


def documents(db, query: dict) -> list[ArchiveRow]:
    """Stored documents whose author/unit (substring) and year (exact) match the query; all without one."""
    with api.open_corpus(db) as corpus:
        rows = [ArchiveRow(i, p, m) for i, p, m in api.list_documents(corpus)]
    return [row for row in rows if _matches(row, query)]


def _matches(row: ArchiveRow, query: dict) -> bool:
    for field in ("author", "unit"):
        wanted = (query.get(field) or "").strip()
        if wanted and wanted not in (getattr(row.meta, field) or ""):
            return False
    year = (query.get("year") or "").strip()
    text = (query.get("q") or "").strip()
    if year and str(row.meta.year or "") != year:
        return False
    return not text or text in row.path


def correct(db, doc_id: int, changes: dict) -> DocumentMeta:
    """Set metadata fields of one document (what `chachong meta` does), under the writer lock."""
    with _writing(db) as corpus:
        return api.update_metadata(corpus, doc_id, **changes)[1]


def remove(db, doc_id: int) -> list:
    """Remove one document from the corpus (what `chachong remove` does), under the writer lock."""
    with _writing(db) as corpus:
        removed, unknown = api.remove_paths(corpus, [str(doc_id)])
    if unknown:
        raise DetectorError(both("web_no_document", id=doc_id))
    return removed


@contextlib.contextmanager
def _writing(db):
    """The corpus with its writer lock held (the store's own: a file lock for SQLite, a lock key for Redis);
    IndexLocked at once when a rebuild, add or remove holds it."""
    with api.open_corpus(db) as corpus, corpus.store.writer_lock("serve"):
        yield corpus


def corpus_facts(db) -> dict:
    """The corpus statistics, with the last rebuild's summary (when there was one)."""
    with api.open_corpus(db) as corpus:
        return api.stats(corpus)


REBUILD_LOG_TAIL_BYTES = 256 * 1024
REBUILD_LOG_MAX_LINES = 200


def last_rebuild_log(log_file) -> list[str]:
    """The lines of the last run in a rebuild log (the file cron appends `rebuild`'s stderr to): from its last
    'lock: holding' line (how every run starts; '加锁：已取得' in Chinese) to the end; [] when there is no such file."""
    if not log_file:
        return []
    try:
        with open(log_file, "rb") as handle:
            handle.seek(max(0, handle.seek(0, 2) - REBUILD_LOG_TAIL_BYTES))
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
    except OSError as err:
        return [f"{log_file}: cannot be read ({err.strerror})"]
    starts = [n for n, line in enumerate(lines) if " lock: holding " in line or " 加锁：已取得 " in line]  # --lang zh
    return lines[starts[-1] if starts else 0:][-REBUILD_LOG_MAX_LINES:]
