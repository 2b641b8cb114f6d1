"""Scan history in the corpus database: every batch scan with its files, settings and reports, to list, re-render and re-check later.

Tables (created with the rest of the schema in detector/store/sqlite.py):
  scans         one row per scan: when, how long, the paths given, the settings (JSON), the options (JSON),
                file and failure counts, the highest copy ratio, corpus size, the clusters (JSON), and
                `rechecks`: the scan whose submissions this one scanned again.
  scan_reports  one row per submission: position in the batch, path, content hash, encoding, format, the
                decoded text (for the side-by-side view and for re-checks), copy ratio, error, the report in
                the JSON contract, and `peers`: per passage, the batch position of its source (null: corpus).
"""

from __future__ import annotations

import dataclasses
import json

from detector.api import failed_report
from detector.batch import BatchScan, scan_documents
from detector.errors import DatabaseError
from detector.model import Document, DocumentMeta
from detector.report.json_report import report_dict


def record_scan(store, result: BatchScan, settings, options: dict | None = None, rechecks: int | None = None) -> int:
    """Write a batch scan and its reports to the database; returns the scan id."""
    reports = result.reports
    ratios = [r.metrics.get("copy_ratio", 0) for r in reports if not r.error]
    with store.transaction():
        cursor = store.conn.execute(
            "INSERT INTO scans (started_at, seconds, paths, settings, options, files, failed, max_copy_ratio,"
            " corpus_documents, clusters, rechecks) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (result.started_at, result.seconds, _json(result.paths), _json(_settings_dict(settings)), _json(options or {}),
             len(reports), sum(1 for r in reports if r.error), max(ratios, default=None), result.corpus_documents,
             _json(result.clusters), rechecks),
        )
        scan_id = cursor.lastrowid
        store.conn.executemany(
            f"INSERT INTO scan_reports (scan_id, {', '.join(_ROW_KEYS)}) VALUES ({', '.join('?' * (len(_ROW_KEYS) + 1))})",
            [_report_row(scan_id, pos, r, peers) for pos, (r, peers) in enumerate(zip(reports, result.peers))],
        )
    return scan_id


_ROW_KEYS = ("position", "path", "sha256", "encoding", "format", "text", "copy_ratio", "error", "report", "peers")


def _row(position: int, report, peers: list) -> dict:
    """One submission of a scan, with the report in the JSON contract (as it reads back from JSON)."""
    doc = report.submission
    return {"position": position, "path": doc.path, "sha256": doc.sha256 or None, "encoding": doc.encoding or None,
            "format": doc.format, "text": doc.text, "copy_ratio": report.metrics.get("copy_ratio"), "error": report.error,
            "report": json.loads(_json(report_dict(report))), "peers": peers}


def _report_row(scan_id: int, position: int, report, peers: list) -> tuple:
    row = _row(position, report, peers)
    row["report"], row["peers"] = _json(row["report"]), _json(row["peers"])
    return (scan_id, *(row[k] for k in _ROW_KEYS))


def _settings_dict(settings) -> dict:
    data = dataclasses.asdict(settings)
    data["index"] = settings.index_signature()
    return data


def list_scans(store) -> list[dict]:
    """Every recorded scan, newest first: id, when, files, failures, highest copy ratio, clusters, paths."""
    rows = store.conn.execute(
        "SELECT id, started_at, seconds, paths, files, failed, max_copy_ratio, corpus_documents, clusters, rechecks"
        " FROM scans ORDER BY id DESC"
    ).fetchall()
    return [_scan_summary(row) for row in rows]


def _scan_summary(row) -> dict:
    scan_id, started, seconds, paths, files, failed, top, docs, clusters, rechecks = row
    return {"id": scan_id, "started_at": started, "seconds": seconds, "paths": json.loads(paths), "files": files,
            "failed": failed, "max_copy_ratio": top, "corpus_documents": docs, "clusters": len(json.loads(clusters)),
            "rechecks": rechecks}


def load_scan(store, scan_id: int) -> dict:
    """A recorded scan as the renderers take it: {"scan": {...}, "rows": [...], "clusters": [...]}."""
    row = store.conn.execute(
        "SELECT id, started_at, seconds, paths, files, failed, max_copy_ratio, corpus_documents, clusters, rechecks,"
        " settings, options FROM scans WHERE id = ?", (scan_id,)
    ).fetchone()
    if row is None:
        raise DatabaseError(f"{store.path}: no scan with id {scan_id}; `chachong scans --db {store.path}` lists them")
    scan = _scan_summary(row[:10]) | {"settings": json.loads(row[10]), "options": json.loads(row[11]), "db": store.path}
    return {"scan": scan, "rows": _rows(store, scan_id), "clusters": json.loads(row[8])}


def _rows(store, scan_id: int) -> list[dict]:
    cursor = store.conn.execute(f"SELECT {', '.join(_ROW_KEYS)} FROM scan_reports WHERE scan_id = ? ORDER BY position", (scan_id,))
    rows = [dict(zip(_ROW_KEYS, row)) for row in cursor]
    for row in rows:
        row["report"], row["peers"] = json.loads(row["report"]), json.loads(row["peers"])
    return rows


def rows_of(result: BatchScan) -> list[dict]:
    """The rows load_scan would give for a scan not (yet) recorded."""
    return [_row(pos, r, peers) for pos, (r, peers) in enumerate(zip(result.reports, result.peers))]


def submissions(store, scan_id: int) -> list:
    """The submissions of a recorded scan, as Documents again (or failed Reports), to be re-checked against today's corpus."""
    return [_document(row) for row in load_scan(store, scan_id)["rows"]]


def _document(row: dict):
    if row["error"]:
        return failed_report(row["path"], row["error"])
    sub = row["report"]["submission"]
    meta = DocumentMeta(author=sub.get("author"), unit=sub.get("unit"), year=sub.get("year"))
    return Document(path=row["path"], text=row["text"], sha256=row["sha256"], encoding=row["encoding"],
                    format=row["format"] or "txt", meta=meta)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def view(store, scan_id: int) -> dict:
    """A recorded scan ready for the renderers (detector.report.batch_view.build_view)."""
    from detector.report.batch_view import build_view

    return build_view(**load_scan(store, scan_id))


def recheck(corpus, scan_id: int, progress=None) -> BatchScan:
    """Scan the submissions of a recorded scan again, against the corpus as it is now (the result is not recorded)."""
    result = scan_documents(corpus, submissions(corpus.store, scan_id), progress)
    result.paths = load_scan(corpus.store, scan_id)["scan"]["paths"]
    return result
