"""Spreadsheet files of a batch scan: results.csv (one row per submission) and passages.csv (one row per passage), UTF-8 with BOM for Excel."""

from __future__ import annotations

import csv
import io
from pathlib import Path

RESULT_COLUMNS = ("rank", "file", "path", "chars", "copy_ratio", "reused_chars", "largest_source_ratio", "formula_chars",
                  "top_sources", "kinds", "clusters", "author", "unit", "year", "page", "error")
PASSAGE_COLUMNS = ("rank", "file", "passage", "kind", "submission_start", "submission_end", "source", "source_in_batch",
                   "source_author", "source_unit", "source_year", "source_start", "source_end", "similarity",
                   "document_count", "submission_text", "source_text")

# a cell starting with one of these is a formula to a spreadsheet; submission text is untrusted
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_csv(view: dict, out_dir) -> list[Path]:
    """Write results.csv and passages.csv into `out_dir`; returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = _write(out / "results.csv", RESULT_COLUMNS, result_rows(view))
    passages = _write(out / "passages.csv", PASSAGE_COLUMNS, passage_rows(view))
    return [results, passages]


def render_results_csv(view: dict) -> str:
    """results.csv as text (no BOM), for standard output."""
    buffer = io.StringIO()
    _table(buffer, RESULT_COLUMNS, result_rows(view))
    return buffer.getvalue()


def _write(path: Path, columns: tuple, rows) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        _table(handle, columns, rows)
    return path


def _table(handle, columns: tuple, rows) -> None:
    writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def result_rows(view: dict):
    """One dict per submission, in rank order."""
    for sub in view["ranked"]:
        m, who = sub["metrics"], sub["submission"]
        yield {"rank": sub["rank"], "file": sub["name"], "path": sub["path"], "chars": who.get("chars"),
               "copy_ratio": m.get("copy_ratio"), "reused_chars": m.get("reused_chars"),
               "largest_source_ratio": m.get("largest_source_ratio"), "formula_chars": m.get("formula_chars"),
               "top_sources": "; ".join(f"{s['name']}{' (本批)' if s['peer'] is not None else ''} {s['ratio']:.1%}" for s in sub["sources"][:3]),
               "kinds": "; ".join(f"{k} {n}" for k, n in sub["kinds"].items()),
               "clusters": "; ".join(str(c) for c in sub["clusters"]), "author": who.get("author"), "unit": who.get("unit"),
               "year": who.get("year"), "page": sub["page"] if sub["error"] is None else None,
               "error": f"could not be read: {sub['error']}" if sub["error"] is not None else None}


def passage_rows(view: dict):
    """One dict per passage, submissions in rank order."""
    for sub in view["ranked"]:
        for p in sub["passages"]:
            src = p["src"]
            yield {"rank": sub["rank"], "file": sub["name"], "passage": p["n"], "kind": p["kind"],
                   "submission_start": p["start"], "submission_end": p["end"], "source": src["path"],
                   "source_in_batch": "yes" if src["peer"] is not None else "no", "source_author": src.get("author"),
                   "source_unit": src.get("unit"), "source_year": src.get("year"), "source_start": p["source_span"][0],
                   "source_end": p["source_span"][1], "similarity": p["similarity"], "document_count": p.get("document_count"),
                   "submission_text": p["submission_text"], "source_text": p["source_text"]}
