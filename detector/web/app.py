"""The Flask application: pages (scan, compare, history, archive), the JSON API, and the security rules around them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import flask
from flask import Flask, jsonify, render_template, request

from detector.errors import DetectorError, IndexLocked
from detector.messages import both
from detector.settings import DEFAULT, WEB_MAX_FILES, WEB_MAX_REQUEST_BYTES
from detector.web import security
from detector.web.jobs import Jobs
from detector.web.rendering import bilingual, for_the_web

# a page may load only what this server sends; inline styles are the report's, scripts come from /static only
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class PrivateUploadRequest(flask.Request):
    """Uploaded bodies spool into the server's private folder (0700), never the shared temp folder."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return tempfile.TemporaryFile("wb+", dir=flask.current_app.config["UPLOAD_ROOT"])


def create_app(db, host: str = "127.0.0.1", port: int = 8765, token: str | None = None, archive=None,
               upload_root=None, rebuild_log=None) -> Flask:
    """The application for corpus `db`; `token` is required when `host` is not a loopback address."""
    _check_corpus(db)
    app = Flask(__name__)
    app.request_class = PrivateUploadRequest
    root = Path(upload_root or tempfile.mkdtemp(prefix="chachong-web-"))
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    app.config.update(
        SECRET_KEY=os.urandom(32), SESSION_COOKIE_NAME="chachong_session", SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True, MAX_CONTENT_LENGTH=WEB_MAX_REQUEST_BYTES, MAX_FORM_PARTS=4 * WEB_MAX_FILES + 50,
        UPLOAD_ROOT=str(root), DB=str(db), ARCHIVE=str(archive) if archive else None, REBUILD_LOG=rebuild_log,
        MAX_FILE_BYTES=DEFAULT.max_file_bytes, JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.extensions["chachong.jobs"] = Jobs()
    app.extensions["chachong.guard"] = guard = security.Guard(host, port, token)
    app.before_request(guard.check)
    app.after_request(_headers)
    app.jinja_env.globals.update(csrf_token=security.csrf_token, CSRF_FIELD=security.CSRF_FIELD)
    app.jinja_env.filters.update(pct=_pct, meta_cell=_meta_cell)
    _register(app)
    return app


def _check_corpus(db) -> None:
    """Refuse at start a database that does not exist or cannot be opened (a path, or a redis:// URL)."""
    if not str(db).startswith(("redis://", "rediss://")) and not Path(db).exists():
        raise DetectorError(both("web_no_db", db=db))
    from detector import api

    api.open_corpus(db).close()


def _register(app: Flask) -> None:
    from detector.web import json_api, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(json_api.bp)
    app.register_error_handler(DetectorError, _detector_error)
    for code in (400, 401, 403, 404, 405, 413):
        app.register_error_handler(code, _http_error)


def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # "no-referrer" would make forms send Origin: null
    response.headers["Cache-Control"] = "no-store"
    guard = flask.current_app.extensions["chachong.guard"]
    if guard.token and request.args.get("token") == guard.token:
        response.set_cookie(security.TOKEN_COOKIE, guard.token, httponly=True, samesite="Strict")
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _detector_error(err: DetectorError):
    status = 409 if isinstance(err, IndexLocked) else 400
    message = for_the_web(str(err))
    if _wants_json():
        return jsonify(error=message), status
    return render_template("error.html", status=status, message=bilingual(message)), status


def _http_error(err):
    if err.code == 413:
        err.description = both("web_too_large", limit=f"{WEB_MAX_REQUEST_BYTES / 2**20:.0f}")
    if _wants_json():
        return jsonify(error=err.description), err.code
    return render_template("error.html", status=err.code, message=err.description), err.code


def _pct(value) -> str:
    return "–" if value is None else f"{value:.1%}"


def _meta_cell(value) -> str:
    return "" if value is None else str(value)
