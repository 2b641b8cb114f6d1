"""Manifest CSV (UTF-8, header path,author,unit,year; paths relative to the CSV's folder) → metadata per file."""

from __future__ import annotations

import csv
from pathlib import Path

from detector.errors import ManifestError
from detector.model import DocumentMeta

REQUIRED_COLUMNS = ("path",)
KNOWN_COLUMNS = ("path", "author", "unit", "year", "meeting", "team")


def read_manifest(csv_path) -> dict[Path, DocumentMeta]:
    """Resolved file path → DocumentMeta for every row of the manifest."""
    csv_path = Path(csv_path)
    try:
        with open(csv_path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise ManifestError(f"{csv_path}: no such manifest file") from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise ManifestError(f"{csv_path}: not a UTF-8 CSV ({err}); save it as CSV UTF-8 with header path,author,unit,year") from None
    if rows and "path" not in rows[0]:
        raise ManifestError(f"{csv_path}: the header must name a 'path' column (path,author,unit,year)")
    return {(csv_path.parent / row["path"]).resolve(): _meta(row, csv_path, n) for n, row in enumerate(rows, start=2)}


def _meta(row: dict, csv_path: Path, line: int) -> DocumentMeta:
    year = (row.get("year") or "").strip()
    if year and not year.isdigit():
        raise ManifestError(f"{csv_path}:{line}: year '{year}' is not a number")
    team = (row.get("team") or "").strip().lower()
    return DocumentMeta(
        author=(row.get("author") or "").strip() or None,
        unit=(row.get("unit") or "").strip() or None,
        year=int(year) if year else None,
        meeting=(row.get("meeting") or "").strip() or None,
        team={"": None, "1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}.get(team),
    )
