"""What a batch costs per submission as it grows: `chachong scan FOLDER` on every core for batches of 20 to 100 report
submissions against 10^3 reports, taking turns with copydetect scanning the same submissions, in one process.

    python -m benchmarks.speed.run --sizes 1000 --kinds reports     # builds the database (once)
    python -m benchmarks.speed.batchsize [--sizes 20,30,60,100] [--rounds 3]

A batch pays once for what each submission does not: starting the scanning processes, fingerprinting the
submissions before they fork, and each process's first scans, which find its caches empty (sources read, tables
derived from them, SQLite pages). The larger the batch, the less of that each submission carries. The submissions are
made as the speed run makes its own (benchmarks/speed/corpora.py), the largest number once, and each batch takes the
first N of them; copydetect (built once on the same 10^3 reports) scans each of those N, and its p50 is the
per-submission figure the batch is compared with. Every round runs every size; the table gives each size's medians.
Writes benchmarks/work/speed/batchsize.md too.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from benchmarks.speed import baselines, corpora
from benchmarks.speed.chachong import timed_batch
from benchmarks.speed.measure import machine_as_the_command_runs, percentiles, timed, write_report
from benchmarks.speed.run import WORK, write_submissions

CORPUS = 1_000


def _submissions(count: int) -> list:
    """The speed run's way of making `count` submissions from the 10^3-report corpus (the same seed)."""
    sources = []
    wanted = corpora.source_indices(CORPUS, 3 * (count + 1))
    for _ in corpora.tap(corpora.corpus_docs("reports", CORPUS), wanted, sources):
        pass
    return corpora.make_submissions(sources, count)


def _copydetect_p50(engine, texts: list) -> float:
    return percentiles([timed(engine.scan, text)[1] for text in texts])["p50_ms"]


def one_round(folders: dict, texts: list, copydetect) -> dict:
    """Per size: (batch ms per submission, copydetect p50 ms over the same submissions)."""
    found = {}
    for size, folder in folders.items():
        batch = timed_batch(WORK / f"reports-{CORPUS}.db", folder)["ms_per_doc"]
        found[size] = (batch, _copydetect_p50(copydetect, texts[:size]) if copydetect else None)
    return found


def table(rounds: list) -> str:
    lines = ["| submissions in the batch | batch ms per submission (median) | copydetect p50 ms (median) | batch ÷ copydetect "
             "(median of the rounds) | rounds |", "| --- | --- | --- | --- | --- |"]
    for size in rounds[0]:
        batch = [r[size][0] for r in rounds]
        row = f"| {size} | {statistics.median(batch):.1f} | "
        if rounds[0][size][1] is None:
            lines.append(row + "— | — | " + ", ".join(f"{b:.1f}" for b in batch) + " |")
            continue
        copy = [r[size][1] for r in rounds]
        shares = [b / c for b, c in zip(batch, copy)]
        lines.append(row + f"{statistics.median(copy):.1f} | **{statistics.median(shares):.2f}×** | "
                     + ", ".join(f"{s:.2f}×" for s in shares) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed.batchsize", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,30,60,100", help="batch sizes (submissions), comma-separated")
    parser.add_argument("--rounds", type=int, default=3, help="passes over every size")
    args = parser.parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    database = WORK / f"reports-{CORPUS}.db"
    reason = corpora.skip_reason() or (None if database.exists() else
                                       f"no {database}: run `python -m benchmarks.speed.run --sizes 1000 --kinds reports` first")
    if reason:
        print(f"batch size benchmark skipped: {reason}")
        return 0
    facts = machine_as_the_command_runs(corpora.REPO)
    submissions = _submissions(max(sizes))
    folders = {size: write_submissions(submissions[:size], WORK / f"batchsize-{size}") for size in sizes}
    copydetect = baselines.built_copydetect(corpora.corpus_docs("reports", CORPUS))
    texts = [sub.text for sub in submissions]
    rounds = []
    for n in range(args.rounds):
        rounds.append(one_round(folders, texts, copydetect))
        print(f"round {n + 1}: " + ", ".join(f"{size}: {b:.1f} ms" + (f" (copydetect {c:.1f})" if c else "")
                                             for size, (b, c) in rounds[-1].items()), file=sys.stderr, flush=True)
    write_report(WORK / "batchsize.md", f"Command: `python -m benchmarks.speed.batchsize --sizes {','.join(map(str, sizes))} "
                 f"--rounds {args.rounds}`; reports {CORPUS:,}; batches through `chachong scan FOLDER`'s path on every "
                 "core, each in a new process.", facts, table(rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
