"""The JSON API beside the pages: scans and comparisons answered in the CLI's chachong/1 JSON, and the scan history."""

from __future__ import annotations

import json

import flask
from flask import Blueprint, abort, jsonify, request, url_for

from detector.labels import DEFAULT_RANKING
from detector.report import render_json
from detector.report.folder import results_envelope
from detector.web import forms, service
from detector.web.jobs import current_jobs as jobs

bp = Blueprint("api", __name__, url_prefix="/api")
SCAN_TIMEOUT_SECONDS = 3600


def _db() -> str:
    return flask.current_app.config["DB"]


@bp.post("/scan")
def scan():
    """Multipart `files` (several, or zips), optional `manifest` CSV, author/unit/year and add_to_archive=1: scanned,
    recorded (and added to the archive when the server has one), answered when done."""
    upload = forms.upload(request)
    db, archive = _db(), forms.archive_wanted(request)
    job = jobs().wait(jobs().start(len(upload.files), lambda job: service.scan_upload(db, upload, job, archive)), SCAN_TIMEOUT_SECONDS)
    if job.state == "failed":
        return jsonify(error=job.error), 400
    if job.state != "done":
        return jsonify(error="the scan is still running", job=url_for("api.job", job_id=job.id)), 202
    envelope = results_envelope(service.scan_view(db, job.scan_id))
    return _json({"schema": envelope["schema"], "reports": envelope["reports"], "scan": envelope["scan"],
                  "clusters": envelope["clusters"], "url": url_for("pages.scan_index", scan_id=job.scan_id)})


@bp.post("/compare")
def compare():
    """Multipart `submission` and `source` files: the passages of the submission found in the source (nothing stored)."""
    report = forms.compared(request)
    return flask.Response(render_json([report]), mimetype="application/json")


@bp.get("/scans")
def scans():
    return _json({"scans": [scan.as_dict() for scan in service.scans(_db())]})


@bp.get("/scans/<int:scan_id>")
def scan_record(scan_id):
    return _json(results_envelope(service.scan_view(_db(), scan_id, request.args.get("rank_by") or DEFAULT_RANKING)))


@bp.get("/jobs/<job_id>")
def job(job_id):
    found = jobs().get(job_id) or abort(404)
    state = found.as_dict()
    if found.scan_id is not None:
        state["url"] = url_for("pages.scan_index", scan_id=found.scan_id)
    return _json(state)


def _json(data) -> flask.Response:
    return flask.Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
