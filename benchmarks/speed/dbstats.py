"""Where a chachong database's bytes go: pages per table and index (SQLite's dbstat), rows, bytes per character."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def table_bytes(path: Path) -> list:
    """(name, bytes on pages, payload bytes, rows or None) per table/index, largest first."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sizes = conn.execute(
            "SELECT name, sum(pgsize), sum(payload) FROM dbstat GROUP BY name ORDER BY sum(pgsize) DESC").fetchall()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return [(name, pages, payload, _rows(conn, name) if name in tables else None)
                for name, pages, payload in sizes]
    finally:
        conn.close()


def _rows(conn, table: str) -> int:
    return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def breakdown(path: Path, corpus_chars: int) -> list:
    """table_bytes with bytes per corpus character and bytes per row added, as dicts."""
    rows = []
    for name, pages, payload, count in table_bytes(path):
        rows.append({"name": name, "bytes": pages, "payload": payload, "rows": count,
                     "bytes_per_char": pages / corpus_chars if corpus_chars else None,
                     "bytes_per_row": pages / count if count else None})
    return rows


def markdown(rows: list) -> str:
    """The breakdown as a markdown table."""
    lines = ["| table / index | MB | bytes per corpus char | rows | bytes per row |", "| --- | ---: | ---: | ---: | ---: |"]
    for row in rows:
        lines.append(f"| {row['name']} | {row['bytes'] / 1e6:.1f} | {_fmt(row['bytes_per_char'], 2)} | "
                     f"{row['rows'] if row['rows'] is not None else ''} | {_fmt(row['bytes_per_row'], 1)} |")
    return "\n".join(lines)


def _fmt(value, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"
