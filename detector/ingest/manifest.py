"""Manifest CSV (UTF-8, GBK or UTF-16; header path,author,unit,year; paths relative to its folder, / or \\) → metadata per file."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from detector.errors import ManifestError, UndecodableFile
from detector.ingest.sniff import KIND_NAMES, sniff_kind
from detector.ingest.text import ENCODING_HINT, decode_text
from detector.model import DocumentMeta
from detector.paths import resolved, shown
from detector.settings import MAX_YEAR, MIN_YEAR

REQUIRED_COLUMNS = ("path",)
KNOWN_COLUMNS = ("path", "author", "unit", "year", "meeting", "team")
_TEAM = {"": None, "1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
_HEADER = "path,author,unit,year[,meeting,team]"
SAVE_AS_CSV = f"in Excel save it as CSV UTF-8 (Comma delimited) / CSV UTF-8(逗号分隔) with the header {_HEADER}"


def read_manifest(csv_path, allow_outside: bool = False) -> dict[Path, DocumentMeta]:
    """Resolved file path → DocumentMeta for every row of the manifest; every wrong row is named in one ManifestError.

    Paths must lie under the manifest's folder unless `allow_outside` (a manifest must not pull /etc/passwd
    into the corpus); years must lie in MIN_YEAR–MAX_YEAR; a path listed twice is an error naming both rows.
    """
    csv_path = Path(csv_path)
    header, rows = _rows(csv_path)
    if not header or "path" not in header:
        raise ManifestError(f"{shown(csv_path)}: the first line must be the header {_HEADER} (it is "
                            f"{','.join(header or []) or 'empty'!r}); add the header line")
    found, problems, lines = {}, [], {}
    for line, row in rows:
        try:
            path = _row_path(row, csv_path, allow_outside)
            meta = _meta(row)
        except ValueError as err:
            problems.append(f"line {line}: {err}")
            continue
        if path in lines:
            problems.append(f"line {line}: {shown(row['path'].strip())} is listed already on line {lines[path]}")
        lines.setdefault(path, line)
        found[path] = meta
    if problems:
        raise ManifestError(f"{shown(csv_path)}: {len(problems)} wrong row{'s' if len(problems) > 1 else ''}: "
                            f"{'; '.join(problems)}; correct the manifest and run again")
    return found


def as_manifest(manifest) -> dict[Path, DocumentMeta]:
    """A manifest given as a CSV path (read with the defaults), as metadata already read, or none."""
    if not manifest:
        return {}
    return manifest if isinstance(manifest, dict) else read_manifest(manifest)


def unlisted(files: list, manifest: dict) -> list:
    """The files a manifest was given for but that it does not list (a typo or a renamed file in its path column)."""
    return [path for path in files if resolved(path) not in manifest] if manifest else []


def not_listed(files: list, manifest: dict, named: int = 5) -> list[tuple[str, str]]:
    """A (folder, warning) for the unlisted files: their authors are only inferred, so reuse of their own earlier
    reports would read as copying."""
    missing = unlisted(files, manifest)
    if not missing:
        return []
    folder, counted = files_named(missing, "not listed in the manifest", named)
    return [(folder, f"{counted}: authors inferred from the text, so reuse of one's own earlier report may read as copying; "
                     "list them (check the manifest's path column)")]


def files_named(files: list, what: str, named: int = 5) -> tuple[str, str]:
    """(their common folder, '3 files WHAT (a.txt, b.txt and 1 more)') of a warning about some files."""
    paths = [Path(path) for path in files]
    names = ", ".join(shown(path.name) for path in paths[:named])
    more = f" and {len(paths) - named} more" if len(paths) > named else ""
    folder = os.path.commonpath([str(path.parent) for path in paths])
    return folder, f"{len(paths)} file{'s' if len(paths) > 1 else ''} {what} ({names}{more})"


def _rows(csv_path: Path) -> tuple[list, list]:
    """(header, [(line number, row dict)]) of the manifest's table, comma- or tab-separated; blank lines are skipped."""
    text = _text(csv_path)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header
        return header, [(reader.line_num, row) for row in reader]
    except csv.Error as err:
        raise ManifestError(f"{shown(csv_path)}: not a readable CSV ({err}); {SAVE_AS_CSV}") from None


def _text(csv_path: Path) -> str:
    """The manifest's text, decoded as submissions are (BOM, UTF-8, UTF-16, GB18030/GBK or Big5) but never by a guess:
    Excel on Chinese Windows saves "CSV (逗号分隔)" in GBK and "Unicode text" in UTF-16."""
    data = _bytes(csv_path)
    kind = sniff_kind(data)
    if kind:
        raise ManifestError(f"{shown(csv_path)}: is {KIND_NAMES[kind]}, not a CSV; {SAVE_AS_CSV}")
    try:
        return decode_text(data, csv_path, guess=False)[0]
    except UndecodableFile as err:
        reason = err.reason.replace(f"; {ENCODING_HINT}", "")
        raise ManifestError(f"{shown(csv_path)}: {reason}; {SAVE_AS_CSV}") from None


def _bytes(csv_path: Path) -> bytes:
    try:
        return csv_path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(f"{shown(csv_path)}: no such manifest file; check the --manifest path") from None
    except OSError as err:
        raise ManifestError(f"{shown(csv_path)}: could not be read ({err.strerror or err}); check the file") from None


def _delimiter(text: str) -> str:
    """A tab when the header line is tab-separated (Excel's "Unicode text", "Text (Tab delimited)"), else a comma."""
    header_line = text.split("\n", 1)[0]
    return "\t" if "\t" in header_line and "," not in header_line else ","


def _row_path(row: dict, csv_path: Path, allow_outside: bool) -> Path:
    name = (row.get("path") or "").strip()
    if not name:
        raise ValueError("no path")
    if "\\" in name and not (csv_path.parent / name).exists():
        name = name.replace("\\", "/")  # written on Windows (2024\张三.docx)
    path = resolved(csv_path.parent / name)
    folder = resolved(csv_path.parent)
    if not allow_outside and folder != path and folder not in path.parents:
        raise ValueError(f"{shown(name)} lies outside the manifest's folder {shown(folder)} "
                         "(use --allow-outside if that is meant)")
    return path


def _meta(row: dict) -> DocumentMeta:
    team = (row.get("team") or "").strip().lower()
    if team not in _TEAM:
        raise ValueError(f"team '{team}' is not one of yes/no/1/0/true/false")
    return DocumentMeta(
        author=(row.get("author") or "").strip() or None,
        unit=(row.get("unit") or "").strip() or None,
        year=_year((row.get("year") or "").strip()),
        meeting=(row.get("meeting") or "").strip() or None,
        team=_TEAM[team],
    )


def _year(text: str):
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise ValueError(f"year '{text[:20]}' is not a year from {MIN_YEAR} to {MAX_YEAR} (write it as 4 digits, e.g. 2023)")
    return int(text)

