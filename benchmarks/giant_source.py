"""What one giant document in the corpus costs a normal scan: a fresh `chachong scan` of the demo submission against
the sample corpus, with and without a ~0.9M-character document (under the 1M-character ingest limit) (the news corpus's items joined, with the sample
report the submission copies from in its middle) added to it.

    python -m benchmarks.giant_source [--chars 1000000] [--runs 3]

Prints the medians of wall time and the peak memory of the scanning process, and the stage timings of the last
run. Long sources are aligned only in windows around the segments that verified (Settings.max_source_segments).
Skips with a message when ../shared/corpora is absent.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.speed.corpora import news_items, skip_reason

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "corpus" / "sample"
SUBMISSION = REPO / "corpus" / "demo" / "submission.txt"


def giant_text(chars: int) -> str:
    """News items joined, with the sample report the demo submission copies from in the middle (so the giant
    document is a real source of the scan, aligned in windows around what matches)."""
    pieces, total = [], 0
    for item in news_items():
        pieces.append(item["text"])
        total += len(item["text"])
        if total >= chars:
            break
    pieces.insert(len(pieces) // 2, (SAMPLE / "003_42e09aa36b9c46a6.txt").read_text(encoding="utf-8"))
    return "\n".join(pieces)


def chachong(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "detector", *args], capture_output=True, text=True, cwd=REPO)


def timed_scan(db: Path) -> tuple[float, float, str]:
    """(seconds, peak MB, stage timings) of one fresh scan; the peak is read by a wrapper process of its own."""
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "detector", "scan", str(SUBMISSION),
                           "--db", str(db), "--timings"], capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - started
    *timings, peak = done.stderr.strip().splitlines()
    return seconds, int(peak) / 1024, "\n".join(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=900_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if skip_reason():
        print(f"skipped: {skip_reason()}")
        return
    with tempfile.TemporaryDirectory() as work:
        plain, giant = Path(work) / "plain.db", Path(work) / "giant.db"
        big = Path(work) / "giant.txt"
        big.write_text(giant_text(args.chars), encoding="utf-8")
        for db, extra in ((plain, []), (giant, [str(big)])):
            added = chachong("add", str(SAMPLE), *extra, "--db", str(db))
            if added.returncode != 0:
                raise SystemExit(f"could not build the corpus: {added.stderr.strip()}")
        rows = []
        for name, db in (("sample corpus (5 reports)", plain), (f"+ one document of {len(big.read_text()):,} chars", giant)):
            runs = [timed_scan(db) for _ in range(args.runs)]
            rows.append((name, statistics.median(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]))
    print(f"Fresh `chachong scan corpus/demo/submission.txt --timings`, {args.runs} runs each; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    print("\n| corpus | median s | peak MB |\n| --- | --- | --- |")
    for name, seconds, peak, _ in rows:
        print(f"| {name} | {seconds:.2f} | {peak:,.0f} |")
    print("\nstages with the giant document:\n" + rows[-1][3])


if __name__ == "__main__":
    main()
