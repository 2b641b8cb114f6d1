"""Scan history: every batch scan with its files, settings and typed reports, kept in the corpus database to list, re-render and re-check.

The store keeps (detector/store/sqlite.py, "scan history"): one row per scan (when, how long, the paths given,
the settings, the options, file and failure counts, the highest copy ratio, corpus size, the clusters,
`rechecks`: the scan whose submissions this one scanned again) and one row per submission (position, path,
content hash, encoding, format, decoded text, copy ratio, error, the report in the JSON contract, and `peers`:
per passage, the batch position of its source, null for a corpus document). Reports come back as typed Reports.
"""

from __future__ import annotations

import dataclasses

from detector.scan import failed_report
from detector.batch import BatchScan, scan_documents
from detector.errors import DatabaseError
from detector.paths import shown
from detector.report.json_report import report_dict, report_from_dict
from detector.labels import DEFAULT_RANKING
from detector.report.view import ScanInfo, ScanView, build_view


def record_scan(store, result: BatchScan, settings, options: dict | None = None, rechecks: int | None = None) -> int:
    """Write a batch scan and its reports to the database; returns the scan id."""
    rows = [_row(pos, report, peers) for pos, (report, peers) in enumerate(zip(result.reports, result.peers))]
    return store.record_scan(_scan_fields(result, settings, options, rechecks), rows)


def _scan_fields(result: BatchScan, settings, options: dict | None, rechecks: int | None) -> dict:
    ratios = [r.metrics.get("copy_ratio", 0) for r in result.reports if not r.error]
    warnings = [[shown(path), reason] for path, reason in getattr(result, "skipped", [])]  # kept with the options
    options = {**(options or {}), **({"warnings": warnings} if warnings else {})}
    return {"started_at": result.started_at, "seconds": result.seconds, "paths": [shown(p) for p in result.paths],
            "settings": _settings_dict(settings), "options": options, "files": len(result.reports),
            "failed": sum(1 for r in result.reports if r.error and not r.not_scanned), "max_copy_ratio": max(ratios, default=None),
            "corpus_documents": result.corpus_documents, "clusters": result.clusters, "rechecks": rechecks}


def unrecorded_view(result: BatchScan, settings, options: dict | None = None, db: str = "", rechecks: int | None = None,
                    rank_by: str = DEFAULT_RANKING) -> ScanView:
    """The view of a scan not (yet) recorded (id None): its results are shown and written before the history record."""
    fields = _scan_fields(result, settings, options, rechecks)
    fields["clusters"] = len(fields["clusters"])
    fields["not_scanned"] = sum(1 for r in result.reports if r.not_scanned)
    fields["stopped"] = None if result.stopped is None else str(result.stopped)
    return build_view(result, ScanInfo(id=None, **fields, db=db), rank_by=rank_by)


def _row(position: int, report, peers: list) -> dict:
    doc = report.submission
    return {"position": position, "path": shown(doc.path), "sha256": doc.sha256 or None, "encoding": doc.encoding or None,
            "format": doc.format, "text": doc.text, "copy_ratio": report.metrics.get("copy_ratio"), "error": report.error,
            "report": report_dict(report), "peers": peers}


def _settings_dict(settings) -> dict:
    data = dataclasses.asdict(settings)
    data["index"] = settings.index_signature()
    return data


def list_scans(store) -> list[ScanInfo]:
    """Every recorded scan, newest first."""
    return [_info(row, store) for row in store.scans()]


def _info(row: dict, store) -> ScanInfo:
    fields = {k: row[k] for k in ("id", "started_at", "seconds", "paths", "files", "failed", "corpus_documents", "rechecks",
                                 "max_copy_ratio")}
    return ScanInfo(**fields, clusters=len(row["clusters"]), settings=row.get("settings") or {},
                    options=row.get("options") or {}, db=store.location)


def load_scan(store, scan_id: int) -> tuple[ScanInfo, BatchScan]:
    """A recorded scan: what the history says of it, and its typed reports, peers and clusters as they were."""
    record = store.scan_record(scan_id)
    if record is None:
        raise DatabaseError(f"{store.location}: no scan with id {scan_id}; `chachong scans --db {store.location}` lists them")
    scan, rows = record
    reports = [_report(row) for row in rows]
    result = BatchScan(reports=reports, clusters=scan["clusters"], peers=[row["peers"] for row in rows],
                       started_at=scan["started_at"], seconds=scan["seconds"], paths=scan["paths"],
                       corpus_documents=scan["corpus_documents"])
    return _info(scan, store), result


def _report(row: dict):
    if row["error"]:
        return failed_report(row["path"], row["error"], meta=report_from_dict(row["report"]).submission.meta)
    return report_from_dict(row["report"], text=row["text"] or "", sha256=row["sha256"] or "",
                            encoding=row["encoding"] or "", fmt=row["format"] or "txt")


def view(store, scan_id: int, rank_by: str = DEFAULT_RANKING) -> ScanView:
    """A recorded scan ready for the renderers."""
    info, result = load_scan(store, scan_id)
    return build_view(result, info, rank_by=rank_by)


def submissions(store, scan_id: int) -> list:
    """The submissions of a recorded scan, as Documents again (or failed Reports), to be re-checked against today's corpus."""
    _, result = load_scan(store, scan_id)
    return [r if r.error else _given(r.submission) for r in result.reports]


def _given(doc):
    """The submission as given to the scan: inferred metadata is left to be inferred again."""
    meta = dataclasses.replace(doc.meta, **{k: None for k in doc.meta.inferred if hasattr(doc.meta, k)}, inferred=())
    return dataclasses.replace(doc, meta=meta)


def recheck(corpus, scan_id: int, progress=None, workers: int = 1) -> BatchScan:
    """Scan the submissions of a recorded scan again, against the corpus as it is now (the result is not recorded);
    in `workers` processes, as a batch scan."""
    _, old = load_scan(corpus.store, scan_id)
    result = scan_documents(corpus, submissions(corpus.store, scan_id), progress, workers=workers)
    result.paths = old.paths
    return result
