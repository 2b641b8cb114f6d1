"""The pages: scan (upload, progress, ranked result and side-by-side pages, downloads), compare, history, archive."""

from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path

import flask
from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for

from detector.labels import DEFAULT_RANKING, RANKING_MEASURES, measure_name
from detector.messages import both
from detector.report.csv_report import write_csv
from detector.report.folder import results_envelope
from detector.report.html_report import render_index, render_submission
from detector.report.view import ScanView, compare_view
from detector.web import forms, service
from detector.web.jobs import current_jobs as jobs
from detector.web.rendering import bilingual, with_nav

bp = Blueprint("pages", __name__)
ARCHIVE_PAGE_SIZE = 100
_PAGE = re.compile(r"s(\d{3,})\.html")


def _db() -> str:
    return flask.current_app.config["DB"]


@bp.get("/")
@bp.get("/index.html")  # the compare page's "back to the ranking" link
def home():
    return redirect(url_for("pages.scan_form"))


# ---------------------------------------------------------------- scan


@bp.get("/scan")
def scan_form():
    return render_template("scan.html", archive=flask.current_app.config["ARCHIVE"])


@bp.post("/scan")
def scan_start():
    upload = forms.upload(request)
    db, archive = _db(), forms.archive_wanted(request)
    job = jobs().start(len(upload.files) + len(upload.refused), lambda job: service.scan_upload(db, upload, job, archive))
    return redirect(url_for("pages.job_page", job_id=job.id), code=303)


@bp.get("/jobs/<job_id>")
def job_page(job_id):
    job = jobs().get(job_id) or abort(404)
    if job.state == "done":
        return redirect(url_for("pages.scan_index", scan_id=job.scan_id), code=303)
    state = job.as_dict()
    state["error_shown"] = bilingual(job.error or "")
    return render_template("job.html", job=state)


@bp.get("/scans/<int:scan_id>/index.html")
@bp.get("/scans/<int:scan_id>/")
def scan_index(scan_id):
    view = service.scan_view(_db(), scan_id, _rank_by())
    return with_nav(render_index(view), _scan_nav(view))


@bp.get("/scans/<int:scan_id>/<page>")
def scan_page(scan_id, page):
    if page in ("results.csv", "passages.csv", "results.json"):
        return _download(service.scan_view(_db(), scan_id, _rank_by()), page)
    match = _PAGE.fullmatch(page) or abort(404)
    view = service.scan_view(_db(), scan_id, _rank_by())
    position = int(match.group(1)) - 1
    if not 0 <= position < len(view.submissions):
        abort(404)
    return with_nav(render_submission(view, view.submissions[position]), _scan_nav(view))


def _rank_by() -> str:
    return request.args.get("rank_by") or DEFAULT_RANKING


def _scan_nav(view: ScanView) -> str:
    rankings = [(key, measure_name(key)) for key in RANKING_MEASURES]
    return render_template("_nav.html", scan=view.scan, active="history", rank_by=view.rank_by, rankings=rankings)


def _download(view: ScanView, name: str):
    scan_id = view.scan.id
    if name == "results.json":
        data = json.dumps(results_envelope(view), ensure_ascii=False, indent=2).encode("utf-8")
        return send_file(io.BytesIO(data), mimetype="application/json", as_attachment=True,
                         download_name=f"chachong-scan-{scan_id}-results.json")
    with tempfile.TemporaryDirectory(dir=flask.current_app.config["UPLOAD_ROOT"]) as folder:
        write_csv(view, folder)
        data = (Path(folder) / name).read_bytes()
    return send_file(io.BytesIO(data), mimetype="text/csv; charset=utf-8", as_attachment=True,
                     download_name=f"chachong-scan-{scan_id}-{name}")


@bp.post("/scans/<int:scan_id>/recheck")
def recheck(scan_id):
    service.scan_view(_db(), scan_id)  # an unknown scan is refused here, not in the job
    db = _db()
    job = jobs().start(0, lambda job: service.recheck(db, scan_id, job))
    return redirect(url_for("pages.job_page", job_id=job.id), code=303)


# ---------------------------------------------------------------- history


@bp.get("/history")
def history_page():
    return render_template("history.html", scans=service.scans(_db()), active="history")


# ---------------------------------------------------------------- compare


@bp.get("/compare")
def compare_form():
    return render_template("compare.html", active="compare")


@bp.post("/compare")
def compare_result():
    report = forms.compared(request)
    view = compare_view(report)
    return with_nav(render_submission(view, view.submissions[0]), render_template("_nav.html", scan=None, active="compare"))


# ---------------------------------------------------------------- archive


@bp.get("/archive")
def archive_page():
    query = {k: request.args.get(k, "") for k in ("author", "unit", "year", "q")}
    rows = service.documents(_db(), query)
    page = max(1, request.args.get("page", 1, type=int))
    shown = rows[(page - 1) * ARCHIVE_PAGE_SIZE: page * ARCHIVE_PAGE_SIZE]
    return render_template("archive.html", rows=shown, total=len(rows), page=page, pages=-(-len(rows) // ARCHIVE_PAGE_SIZE),
                           query=query, facts=service.corpus_facts(_db()), active="archive",
                           rebuild_log=service.last_rebuild_log(flask.current_app.config["REBUILD_LOG"]),
                           rebuild_log_file=flask.current_app.config["REBUILD_LOG"])


@bp.post("/archive/<int:doc_id>/meta")
def archive_correct(doc_id):
    meta = service.correct(_db(), doc_id, forms.corrections(request.form))
    notice = both("web_updated", id=doc_id, fields=", ".join(f"{k}={v}" for k, v in meta.as_dict().items() if v not in (None, [])))
    flask.flash(notice)
    return redirect(url_for("pages.archive_page", **_kept_query()) + f"#doc-{doc_id}", code=303)


@bp.post("/archive/<int:doc_id>/remove")
def archive_remove(doc_id):
    removed = service.remove(_db(), doc_id)
    notice = both("web_removed", docs="; ".join(f"{i} {p}" for i, p in removed))
    flask.flash(notice)
    return redirect(url_for("pages.archive_page", **_kept_query()), code=303)


def _kept_query() -> dict:
    return {k: v for k in ("author", "unit", "year", "q", "page") if (v := request.form.get("keep_" + k))}
