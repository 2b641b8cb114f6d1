"""Times `chachong rebuild` on the news corpus written out as an archive folder: first build, no-op, 1% changed, --full."""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import time
from pathlib import Path

from benchmarks.speed.corpora import NEWS, REPO, item_docs
from benchmarks.speed.measure import machine
from detector import api
from detector.store.sqlite import SqliteStore

SEED = 20261122
AN_HOUR_AGO = time.time() - 3600  # archive files older than the rebuild's racy window, as by night


def write_archive(folder: Path, docs: int) -> tuple[list, int]:
    """The first `docs` news items as UTF-8 files, a hundred per sub-folder; (paths, characters)."""
    shutil.rmtree(folder, ignore_errors=True)
    paths, chars = [], 0
    for number, doc in enumerate(item_docs(docs)):
        path = folder / f"{number // 100:04}" / Path(doc.label).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc.text, encoding="utf-8")
        os.utime(path, (AN_HOUR_AGO, AN_HOUR_AGO))
        paths.append(path)
        chars += len(doc.text)
    return paths, chars


def change_files(paths: list, share: float) -> int:
    """Edit `share` of the files (a sentence added at the start: new content hash, new mtime); returns how many."""
    chosen = random.Random(SEED).sample(paths, max(1, round(len(paths) * share)))
    for path in chosen:
        path.write_text("本条消息已根据核对结果更新。" + path.read_text(encoding="utf-8"), encoding="utf-8")
        os.utime(path, (AN_HOUR_AGO + 60, AN_HOUR_AGO + 60))
    return len(chosen)


def timed_rebuild(name: str, db: Path, archive: Path, **options) -> dict:
    started = time.perf_counter()
    summary = api.rebuild(db, archive, **options)
    seconds = time.perf_counter() - started
    store = SqliteStore(db)
    size = store.stats()["database_bytes"]
    store.close()
    return {"run": name, "seconds": seconds, "stages": summary.stages, "summary": summary, "bytes": size}


def table(rows: list, facts: dict, docs: int, chars: int) -> str:
    lines = [f"Rebuild benchmark — {docs:,} news items ({chars:,} characters) from {NEWS.name}",
             f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['ram_gib']} GiB RAM, Python {facts['python']}, "
             f"load average at start {facts['load_average_at_start']}; code {facts['code']}; {facts['date']}",
             "",
             "| run | total s | survey s | prepare s | apply s (write lock) | compact s | added | changed | removed | hashed | DB MiB |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in rows:
        s, st = row["summary"], row["stages"]
        lines.append(f"| {row['run']} | {row['seconds']:.1f} | {st.get('survey', 0):.2f} | {st.get('prepare', 0):.1f} | "
                     f"{st.get('apply', 0):.1f} | {st.get('compact', 0):.1f} | {len(s.added)} | {len(s.changed)} | "
                     f"{len(s.removed)} | {s.hashed} | {row['bytes'] / 2**20:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__ + " Skips (exit 0) when the news corpus is absent.",
                                     usage="python -m benchmarks.rebuild [--docs N] [--changed SHARE] [--scratch DIR]")
    parser.add_argument("--docs", type=int, default=20_000, help="news items to write (all 19,876 at most)")
    parser.add_argument("--changed", type=float, default=0.01, help="share of files changed for the incremental run")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/chachong-rebuild-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder afterwards")
    args = parser.parse_args(argv)
    if not NEWS.is_file():
        print(f"skipped: {NEWS} is absent")
        return 0
    archive, db = args.scratch / "archive", args.scratch / "corpus.db"
    paths, chars = write_archive(archive, args.docs)
    facts = machine(REPO)
    rows = [timed_rebuild("first build (empty DB)", db, archive),
            timed_rebuild("no-op (nothing changed)", db, archive)]
    changed = change_files(paths, args.changed)
    rows.append(timed_rebuild(f"incremental, {changed} files ({args.changed:.0%}) changed", db, archive))
    rows.append(timed_rebuild("--full over the existing index", db, archive, full=True))
    print(table(rows, facts, len(paths), chars))
    print(f"\nPeak memory of the benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")
    if not args.keep:
        shutil.rmtree(args.scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
