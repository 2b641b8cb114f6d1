"""Reading the fields of a request: the uploaded files with their metadata, and metadata corrections."""

from __future__ import annotations

from pathlib import Path

import flask

from detector.errors import DetectorError
from detector.messages import both
from detector.metadata import meeting_name
from detector.model import DocumentMeta
from detector.web import uploads

META_FIELDS = ("author", "unit", "year")


class FormError(DetectorError):
    """A form field holds something that cannot be used."""


def upload(request) -> uploads.Upload:
    """The request's `files` (and zips) saved privately, with metadata from the per-file fields, a manifest, or the common fields."""
    files = [f for f in request.files.getlist("files") if f and f.filename]
    config = flask.current_app.config
    return uploads.receive(Path(config["UPLOAD_ROOT"]), files, config["MAX_FILE_BYTES"], manifest=request.files.get("manifest"),
                           common=meta(request.form), per_file=[meta(request.form, f"_{n}") for n in range(len(files))])


def archive_wanted(request) -> Path | None:
    """The archive folder when the user asked to add the files to it (add_to_archive=1); refused when the server has none."""
    if not request.form.get("add_to_archive"):
        return None
    archive = flask.current_app.config["ARCHIVE"]
    if archive is None:
        raise FormError(both("web_no_archive"))
    return Path(archive)


def meta(form, suffix: str = "") -> DocumentMeta | None:
    """author/unit/year fields (named e.g. author_0 for file 0) as DocumentMeta; None when all are empty."""
    values = {field: (form.get(field + suffix) or "").strip() or None for field in META_FIELDS}
    values["year"] = year(values["year"])
    return DocumentMeta(**values) if any(v is not None for v in values.values()) else None


def year(text):
    if text is None:
        return None
    if not text.isdigit() or not 1900 <= int(text) <= 2200:
        raise FormError(both("web_bad_year", text=text))
    return int(text)


def corrections(form) -> dict:
    """The fields a metadata form sets (empty fields are left as they are); team: 班子 → True, 个人 → False."""
    changes = {field: (form.get(field) or "").strip() or None for field in ("author", "unit", "year", "meeting")}
    changes["year"] = year(changes["year"])
    if changes["meeting"]:
        changes["meeting"] = meeting_name(changes["meeting"])
    team = form.get("team") or ""
    changes["team"] = {"team": True, "personal": False}.get(team)
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise FormError(both("web_nothing_to_change"))
    return changes


def one_file(request, field: str) -> tuple:
    """A single uploaded file (name, saved path) for the compare form."""
    storage = request.files.get(field)
    if storage is None or not storage.filename:
        raise FormError(both("web_choose_file", field=field))
    config = flask.current_app.config
    saved = uploads.receive(Path(config["UPLOAD_ROOT"]), [storage], config["MAX_FILE_BYTES"])
    if saved.refused:
        saved.remove()
        raise FormError(f"{saved.refused[0][0]}: {saved.refused[0][1]}")
    if len(saved.files) != 1:
        saved.remove()
        raise FormError(both("web_one_file", field=field, n=len(saved.files)))
    return saved


def compared(request):
    """The report of the request's `submission` file compared with its `source` file; both uploads deleted after."""
    from detector.web import service

    submission, source = one_file(request, "submission"), None
    try:
        source = one_file(request, "source")
        return service.compare(submission.files[0], source.files[0])
    finally:
        submission.remove()
        if source is not None:
            source.remove()
