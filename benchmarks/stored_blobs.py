"""Stored texts and layouts, zlib (indexes written before) vs zstd (now): loading documents through Store.layouts.

    python -m benchmarks.stored_blobs                         # 400 report-length news documents, indexed here first
    python -m benchmarks.stored_blobs --db benchmarks/work/speed/reports-1000.db   # or the first 400 of an index

The index is copied to a temporary folder (the given file is only read), twice: one copy with every text and
layout stored as zlib (as chachong wrote them before), one as zstd (STORED_ZSTD_LEVEL). The two copies are then
loaded through `SqliteStore.layouts` in alternating rounds (CPU time, so a neighbour's load touches both alike);
the table gives medians. A second table gives each compression level's size and cost on the same texts and layouts.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

import zstandard

from detector import api
from detector.compression import compress, decompress
from detector.settings import STORED_ZSTD_LEVEL
from detector.store.sqlite import SqliteStore

UTF16_TAG = b"\x16"
LEVELS = (1, 3, 6, 9, 12, 15, 19)


def build_index(path: Path, documents: int) -> None:
    """Index the first `documents` report-length documents of the benchmark corpus (news collages)."""
    from benchmarks.speed.corpora import corpus_docs
    from detector.model import DocumentMeta

    with api.open_corpus(str(path), create=True) as corpus:
        api.add_texts(corpus, [(doc.label, doc.text, DocumentMeta()) for doc in corpus_docs("reports", documents)])


def rows_of(path: Path, documents: int) -> list:
    """(id, text blob, layout blob, chars) of the first `documents` documents."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT id, text, layout, chars FROM documents ORDER BY id LIMIT ?", (documents,)).fetchall()


def recoded(blob: bytes, prefix: int, pack) -> bytes:
    """The blob with its compressed part (after `prefix` bytes of tag or magic) packed again by `pack`."""
    return blob[:prefix] + pack(decompress(blob[prefix:]))


def text_prefix(blob: bytes) -> int:
    return 1 if blob[:1] == UTF16_TAG else 0


def write_format(source: Path, target: Path, rows: list, pack) -> None:
    """A copy of the index whose documents in `rows` store their text and layout packed by `pack`."""
    shutil.copy(source, target)
    with contextlib.closing(sqlite3.connect(target)) as conn:
        conn.executemany("UPDATE documents SET text = ?, layout = ? WHERE id = ?",
                         [(recoded(text, text_prefix(text), pack), recoded(layout, 2, pack), doc_id)
                          for doc_id, text, layout, _ in rows])
        conn.commit()
        conn.execute("VACUUM")


def stored_bytes(path: Path, ids: list) -> tuple[int, int]:
    """Bytes of the text and layout columns of these documents."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        marks = ",".join("?" * len(ids))
        return conn.execute(f"SELECT sum(length(text)), sum(length(layout)) FROM documents WHERE id IN ({marks})", ids).fetchone()


def time_layouts(paths: dict, ids: list, rounds: int) -> dict:
    """CPU seconds of one Store.layouts call for all ids, per format, rounds alternating between the formats."""
    stores = {name: SqliteStore(path) for name, path in paths.items()}
    seconds = {name: [] for name in paths}
    for name, store in stores.items():  # warm SQLite's page cache and the file cache once
        store.layouts(ids)
    for round_ in range(rounds):
        for name in (list(stores) if round_ % 2 == 0 else list(stores)[::-1]):
            started = time.process_time()
            stores[name].layouts(ids)
            seconds[name].append(time.process_time() - started)
    for store in stores.values():
        store.conn.close()
    return {name: statistics.median(s) for name, s in seconds.items()}


def time_decompression(rows: list, pack, rounds: int) -> float:
    """Median CPU seconds to decompress the texts and layouts of `rows` packed by `pack` (nothing else)."""
    raws = [decompress(text[text_prefix(text):]) for _, text, _, _ in rows] + [decompress(lay[2:]) for _, _, lay, _ in rows]
    packed = [pack(raw) for raw in raws]
    seconds = []
    for _ in range(rounds):
        started = time.process_time()
        for blob in packed:
            decompress(blob)
        seconds.append(time.process_time() - started)
    return statistics.median(seconds)


def level_table(rows: list, chars: int, rounds: int) -> list:
    """(codec, text bytes/char, layout bytes/char, compress µs/char, decompress ms) for zlib 6 and each zstd level."""
    texts = [decompress(text[text_prefix(text):]) for _, text, _, _ in rows]
    layouts = [decompress(lay[2:]) for _, _, lay, _ in rows]
    codecs = {"zlib 6": lambda raw: zlib.compress(raw, 6)}
    for level in LEVELS:
        codecs[f"zstd {level}"] = zstandard.ZstdCompressor(level=level, write_checksum=True).compress
    table = []
    for name, pack in codecs.items():
        started = time.process_time()
        packed_texts, packed_layouts = [pack(t) for t in texts], [pack(lay) for lay in layouts]
        spent = time.process_time() - started
        sizes = (sum(map(len, packed_texts)) / chars, sum(map(len, packed_layouts)) / chars)
        table.append((name, *sizes, spent * 1e6 / chars, 1000 * time_decompression(rows, pack, rounds)))
    return table


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, zstandard {zstandard.__version__}, load average {os.getloadavg()[0]:.2f}")


def report(source: str, rows: list, loads: dict, sizes: dict, decompression: dict, levels: list) -> None:
    chars = sum(r[3] for r in rows)
    print(f"Stored texts and layouts: {len(rows)} documents, {chars:,} characters, from {source}")
    print(f"Machine: {machine()}")
    print(f"\n| format | Store.layouts of {len(rows)} documents, ms CPU (median) | decompression alone, ms "
          "| text bytes/char | layout bytes/char |\n| --- | --- | --- | --- | --- |")
    for name in loads:
        text, layout = sizes[name]
        print(f"| {name} | {1000 * loads[name]:.1f} | {1000 * decompression[name]:.1f} | {text / chars:.3f} | {layout / chars:.3f} |")
    print(f"\n| codec | text bytes/char | layout bytes/char | compress µs/char | decompress ms ({len(rows)} docs) |"
          "\n| --- | --- | --- | --- | --- |")
    for name, text, layout, cost, spent in levels:
        print(f"| {name} | {text:.3f} | {layout:.3f} | {cost:.3f} | {spent:.1f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stored_blobs", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing index to take the documents from (only read; default: build one)")
    parser.add_argument("--documents", type=int, default=400, help="documents loaded per Store.layouts call")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per format")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="stored-blobs-") as folder:
        source = Path(folder) / "source.db"
        if args.db:
            with contextlib.closing(sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)) as conn, \
                    contextlib.closing(sqlite3.connect(source)) as copy:
                conn.backup(copy)  # a consistent copy, WAL included; the given file is not written
        else:
            build_index(source, args.documents)
        rows = rows_of(source, args.documents)
        ids = [r[0] for r in rows]
        packs = {"zlib 6 (before)": lambda raw: zlib.compress(raw, 6), f"zstd {STORED_ZSTD_LEVEL} (now)": compress}
        paths = {name: Path(folder) / f"{i}.db" for i, name in enumerate(packs)}
        for name, pack in packs.items():
            write_format(source, paths[name], rows, pack)
        loads = time_layouts(paths, ids, args.rounds)
        sizes = {name: stored_bytes(path, ids) for name, path in paths.items()}
        decompression = {name: time_decompression(rows, pack, args.rounds) for name, pack in packs.items()}
        report(args.db or f"{args.documents} report-length documents indexed here", rows, loads, sizes, decompression,
               level_table(rows, sum(r[3] for r in rows), max(3, args.rounds // 3)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
