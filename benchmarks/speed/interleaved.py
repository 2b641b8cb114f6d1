"""The issue's ratios measured interleaved: chachong at 10^3 and 10^4 and copydetect at 10^3 taking turns scan by scan, and a batch on every core, in one process.

    python -m benchmarks.speed.run --sizes 1000,10000 --kinds reports     # builds the databases and the submissions
    python -m benchmarks.speed.interleaved [--rounds 3]

The speed run measures each corpus once, one after the other, so a ratio of two of its figures also holds the
machine's drift between them (±10–20% here). This takes the databases and submission folders that run left in
benchmarks/work/speed/ and, in every round, scans with chachong at 10^3 and at 10^4 and with copydetect at 10^3 (built
once, in this process) taking turns submission by submission, so that all three meet the same machine (chachong on
fresh connections, one warm-up scan each, then each submission once, as the run's warm pass); then a batch of the
10^3 submissions through `api.scan_batch` on every core, in a new process, as `chachong scan FOLDER` runs it. Each round gives the three ratios
the targets name; the table ends with their medians. Writes benchmarks/work/speed/interleaved.md too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from benchmarks.speed import baselines, corpora
from benchmarks.speed.chachong import Chachong, timed_batch
from benchmarks.speed.measure import machine_as_the_command_runs, percentiles, timed, write_report
from benchmarks.speed.run import WORK

SMALL, LARGE = 1_000, 10_000


def _folder(size: int) -> Path:
    return WORK / f"subs-reports-{size}"


def _texts(size: int) -> list:
    return [path.read_text(encoding="utf-8") for path in sorted(_folder(size).glob("*.txt"))]


def missing() -> str | None:
    """Why this cannot run (what to run first), or None."""
    for size in (SMALL, LARGE):
        if not (WORK / f"reports-{size}.db").exists() or not _folder(size).is_dir():
            return (f"no database or submissions for reports {size:,} in {WORK}: run "
                    "`python -m benchmarks.speed.run --sizes 1000,10000 --kinds reports` first")
    return None


def opened(size: int) -> Chachong:
    engine = Chachong(WORK / f"reports-{size}.db")
    engine.open()
    return engine


def scan_passes(small: list, large: list, copydetect) -> dict:
    """p50 ms of each engine over one pass, the engines taking turns submission by submission (chachong on fresh
    connections, one warm-up scan each, then every other submission once, as the run's warm pass)."""
    engines = [("chachong 10^3", opened(SMALL), small), ("chachong 10^4", opened(LARGE), large)]
    if copydetect is not None:
        engines.insert(1, ("copydetect 10^3", copydetect, small))
    try:
        for _, engine, texts in engines:
            engine.scan(texts[0])
        seconds = {name: [] for name, _, _ in engines}
        for n in range(1, min(len(small), len(large))):
            for name, engine, texts in engines:
                seconds[name].append(timed(engine.scan, texts[n])[1])
        return {name: percentiles(values)["p50_ms"] for name, values in seconds.items()}
    finally:
        for name, engine, _ in engines:
            if name.startswith("chachong"):
                engine.close()


def batch_pass(size: int) -> float:
    """ms per submission of `api.scan_batch` on every core (the `chachong scan FOLDER` path), in a new process as the
    command runs (see fresh_process_batch)."""
    return timed_batch(WORK / f"reports-{size}.db", _folder(size))["ms_per_doc"]


def one_round(small: list, large: list, copydetect) -> dict:
    found = scan_passes(small, large, copydetect)
    found["batch 10^3"] = batch_pass(SMALL)
    return found


def ratios(found: dict) -> dict:
    out = {"growth 10^3 → 10^4": found["chachong 10^4"] / found["chachong 10^3"]}
    if "copydetect 10^3" in found:
        out["chachong ÷ copydetect"] = found["chachong 10^3"] / found["copydetect 10^3"]
        out["batch ÷ copydetect"] = found["batch 10^3"] / found["copydetect 10^3"]
    return out


def table(rounds: list) -> str:
    timings, shares = list(rounds[0][0]), list(rounds[0][1])
    lines = ["| round | " + " | ".join(f"{name} ms" for name in timings) + " | " + " | ".join(shares) + " |",
             "| --- " * (1 + len(timings) + len(shares)) + "|"]
    for n, (found, ratio) in enumerate(rounds, 1):
        lines.append(f"| {n} | " + " | ".join(f"{found[k]:.1f}" for k in timings) + " | "
                     + " | ".join(f"{ratio[k]:.2f}×" for k in shares) + " |")
    lines.append("| median | " + " | ".join(f"{statistics.median(r[0][k] for r in rounds):.1f}" for k in timings) + " | "
                 + " | ".join(f"**{statistics.median(r[1][k] for r in rounds):.2f}×**" for k in shares) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed.interleaved", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes of every engine, interleaved")
    args = parser.parse_args(argv)
    reason = corpora.skip_reason() or missing()
    if reason:
        print(f"interleaved benchmark skipped: {reason}")
        return 0
    facts = machine_as_the_command_runs(corpora.REPO)
    copydetect = baselines.built_copydetect(corpora.corpus_docs("reports", SMALL))
    small, large = _texts(SMALL), _texts(LARGE)
    rounds = []
    for n in range(args.rounds):
        found = one_round(small, large, copydetect)
        rounds.append((found, ratios(found)))
        print(f"round {n + 1}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in found.items()), file=sys.stderr, flush=True)
    write_report(WORK / "interleaved.md", f"Command: `python -m benchmarks.speed.interleaved --rounds {args.rounds}`; "
                 f"{len(small) - 1} and {len(large) - 1} timed submissions per pass (reports {SMALL:,} / {LARGE:,}).",
                 facts, table(rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
