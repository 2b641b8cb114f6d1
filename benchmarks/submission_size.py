"""How time and memory of one scan grow with the submission's size (30k, 100k, 300k characters).

    python -m benchmarks.submission_size [--corpus-docs 1000] [--sizes 30000,100000,300000] [--write]

The corpus is the first N CCTV news items of ../shared/corpora (benchmarks/work/batch/items-N.db, shared with
benchmarks.batch_scan). A submission of S characters is later news items laid end to end with a 300-character
corpus passage every 3,000 characters (constant copy density, so the work should grow linearly). Each size is
scanned in a fresh process (`chachong scan FILE --db DB --format json`, as a user runs it): wall time of the
whole command, its peak resident memory (ru_maxrss), and the scan alone (read → report) timed inside it.
Target (issue 13): 300k within 15× the time and 5× the peak memory of 30k. --write puts the table into
benchmarks/RESULTS.md under "## Submission size".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.batch_scan import WORK, corpus_db
from benchmarks.speed.corpora import item_docs, skip_reason

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## Submission size"
PASSAGE_EVERY = 3000
PASSAGE_CHARS = 300


def submission_text(corpus_docs: int, chars: int) -> str:
    """Fresh news items up to `chars` characters, a corpus passage every PASSAGE_EVERY characters."""
    rng = random.Random(chars)
    items = item_docs(corpus_docs + 2000)
    corpus = [next(items).text for _ in range(corpus_docs)]
    parts, size, next_plant = [], 0, PASSAGE_EVERY
    for doc in items:
        parts.append(doc.text)
        size += len(doc.text) + 1
        if size >= next_plant:
            source = rng.choice([t for t in corpus if len(t) > PASSAGE_CHARS])
            start = rng.randrange(len(source) - PASSAGE_CHARS)
            parts.append(source[start : start + PASSAGE_CHARS])
            size += PASSAGE_CHARS + 1
            next_plant += PASSAGE_EVERY
        if size >= chars:
            break
    return "\n".join(parts)[:chars]


def measure(db: Path, path: Path) -> dict:
    """Scan one file in a fresh `chachong` process: seconds and peak memory of the command."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "detector", "scan", str(path), "--db", str(db), "--format", "json"],
                          capture_output=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB; the largest child so far (sizes run in order)
    if done.returncode not in (0, 3):
        raise SystemExit(f"scan of {path} failed: {done.stderr.decode()[-2000:]}")
    report = json.loads(done.stdout)["reports"][0]
    return {"chars": report["submission"]["chars"], "seconds": seconds, "peak_mib": peak / 1024,
            "passages": len(report["passages"]), "copy_ratio": report["metrics"]["copy_ratio"]}


def table(rows: list, corpus: dict, base: dict) -> list[str]:
    lines = ["| submission | passages | copy ratio | time | × 30k | peak memory | × 30k |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['chars']:,} chars | {r['passages']} | {r['copy_ratio']:.1%} | {r['seconds']:.1f} s | "
                     f"{r['seconds'] / base['seconds']:.1f} | {r['peak_mib']:.0f} MiB | {r['peak_mib'] / base['peak_mib']:.1f} |")
    return lines


def header(args, corpus: dict) -> list[str]:
    return [SECTION, "", f"- date: {time.strftime('%Y-%m-%d')}; machine: {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores (shared, load {os.getloadavg()[0]:.1f}); Python {platform.python_version()}",
            f"- command: `python -m benchmarks.submission_size --corpus-docs {args.corpus_docs} --sizes {args.sizes}`",
            f"- corpus: {corpus['documents']:,} news items, {corpus['characters']:,} characters; each size scanned by "
            "`chachong scan FILE --format json` in a fresh process (time and peak RSS of the whole command, start-up included)",
            "- target (issue 13): 300k characters within 15× the time and 5× the peak memory of 30k", ""]


def write_section(lines: list[str]) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if SECTION in text:
        before, rest = text.split(SECTION, 1)
        after = rest[rest.find("\n## "):] if "\n## " in rest else ""
        text = before + "\n".join(lines) + "\n" + after
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus-docs", type=int, default=1000)
    parser.add_argument("--sizes", default="30000,100000,300000")
    parser.add_argument("--write", action="store_true", help="put the table into benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    reason = skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return
    db = corpus_db(args.corpus_docs)
    rows = []
    for chars in sorted(int(s) for s in args.sizes.split(",")):
        path = WORK / f"submission-{chars}.txt"
        path.write_text(submission_text(args.corpus_docs, chars), encoding="utf-8")
        rows.append(measure(db, path))
        print(json.dumps(rows[-1]), file=sys.stderr)
    from detector import api

    with api.open_corpus(db) as opened:
        corpus = api.stats(opened)
    lines = header(args, corpus) + table(rows, corpus, rows[0])
    print("\n".join(lines))
    if args.write:
        write_section(lines)


if __name__ == "__main__":
    main()
