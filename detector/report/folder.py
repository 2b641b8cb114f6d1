"""The report folder of a batch scan: index.html, a page per submission, results.csv, passages.csv and results.json."""

from __future__ import annotations

import json
from pathlib import Path

from detector.report.csv_report import write_csv
from detector.report.html_report import write_html
from detector.report.json_report import SCHEMA, report_dict
from detector.files import private_folder, write_text_atomically
from detector.report.view import ScanView


def write_reports(view: ScanView, out_dir) -> list[Path]:
    """Write every report file of a scan into `out_dir` (created if needed); returns the files written."""
    return [*write_html(view, out_dir), *write_csv(view, out_dir), write_json(view, out_dir)]


def write_json(view: ScanView, out_dir) -> Path:
    """results.json: the JSON contract's envelope (reports in input order), with the scan and its clusters beside it."""
    return write_text_atomically(private_folder(out_dir) / "results.json",
                                 json.dumps(results_envelope(view), ensure_ascii=False, indent=2))


def results_envelope(view: ScanView) -> dict:
    """The contents of results.json: the reports in input order, the scan and its clusters."""
    return {"schema": SCHEMA, "reports": [report_dict(sub.report) for sub in view.submissions],
            "scan": _scan(view), "clusters": [_cluster(c) for c in view.clusters]}


def _scan(view: ScanView) -> dict:
    info = view.scan
    data = {k: getattr(info, k) for k in ("id", "started_at", "seconds", "paths", "files", "failed", "not_scanned", "stopped",
                                          "corpus_documents", "rechecks")}
    return {**data, "ranked_by": view.rank_by}


def _cluster(cluster) -> dict:
    """A cluster with members as report indices (positions in `reports`) and its shared texts."""
    shared = [{k: s[k] for k in ("text", "chars", "members", "spans", "sources", "kinds")} for s in cluster.shared]
    return {"id": cluster.id, "members": cluster.members, "shared": shared}
