"""The report folder of a batch scan: index.html, a page per submission, results.csv, passages.csv and results.json."""

from __future__ import annotations

import json
from pathlib import Path

from detector.report.csv_report import write_csv
from detector.report.html_report import write_html
from detector.report.json_report import SCHEMA


def write_reports(view: dict, out_dir) -> list[Path]:
    """Write every report file of a scan into `out_dir` (created if needed); returns the files written."""
    return [*write_html(view, out_dir), *write_csv(view, out_dir), write_json(view, out_dir)]


def write_json(view: dict, out_dir) -> Path:
    """results.json: the JSON contract's envelope (reports in input order), with the scan and its clusters beside it."""
    envelope = {"schema": SCHEMA, "reports": [sub["report"] for sub in view["submissions"]],
                "scan": _scan(view["scan"]), "clusters": [_cluster(c) for c in view["clusters"]]}
    path = Path(out_dir) / "results.json"
    path.write_text(json.dumps(envelope, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def _scan(scan: dict) -> dict:
    return {k: scan.get(k) for k in ("id", "started_at", "seconds", "paths", "files", "failed", "corpus_documents", "rechecks")}


def _cluster(cluster: dict) -> dict:
    """A cluster with members as report indices (positions in `reports`) and its shared texts."""
    shared = [{k: s[k] for k in ("text", "chars", "members", "spans", "sources", "kinds")} for s in cluster["shared"]]
    return {"id": cluster["id"], "members": cluster["members"], "shared": shared}
