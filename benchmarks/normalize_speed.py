"""normalize.normalize against the straightforward normaliser it replaced (tests/normalize_reference.py), in one process.

    python -m benchmarks.normalize_speed [--rounds 31]

Each set of texts is normalised whole by the one and then the other, alternating which goes first, for `--rounds`
rounds (CPU time, so that a neighbour's load touches both alike); the table gives medians per set and the ratio.
Sets: the five bundled seeds four times over (self-criticism reports: numbering, placeholders, template junk), and,
when ../shared/corpora is present, 20 report-length news documents and 5 government work reports. Before timing,
every text is checked to normalise to the same text and offsets under both.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.speed import corpora
from detector.normalize import normalize

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from normalize_reference import reference_normalize  # noqa: E402


def text_sets() -> dict:
    """Name → list of texts."""
    seeds = [path.read_text(encoding="utf-8") for path in sorted((REPO / "corpus" / "sample").glob("*.txt"))]
    sets = {"5 seeds ×4 (self-criticism reports)": seeds * 4}
    if corpora.skip_reason() is None:
        sets["20 report-length news documents"] = [doc.text for doc in itertools.islice(corpora.day_docs(), 20)]
        sets["5 government work reports"] = [item["text"] for item in itertools.islice(corpora._jsonl(corpora.GOV), 5)]
    return sets


def check_same(texts: list) -> None:
    for text in texts:
        new, old = normalize(text), reference_normalize(text)
        if new.text != old.text or not (np.array_equal(new.starts, old.starts) and np.array_equal(new.ends, old.ends)):
            raise SystemExit(f"normalize differs from the reference on a text beginning {text[:30]!r}")


def cpu_seconds(function, texts: list) -> float:
    started = time.process_time()
    for text in texts:
        function(text)
    return time.process_time() - started


def timed(texts: list, rounds: int) -> tuple[float, float]:
    """Median CPU seconds of (reference, normalize) over the whole set, the two alternating."""
    functions = {"old": reference_normalize, "new": normalize}
    seconds = {name: [] for name in functions}
    for round_ in range(rounds):
        for name in (list(functions) if round_ % 2 == 0 else list(functions)[::-1]):
            seconds[name].append(cpu_seconds(functions[name], texts))
    return statistics.median(seconds["old"]), statistics.median(seconds["new"])


def machine() -> str:
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__}, load average {os.getloadavg()[0]:.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.normalize_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31, help="timed rounds per set and normaliser")
    args = parser.parse_args(argv)
    sets = text_sets()
    for texts in sets.values():
        check_same(texts)  # also fills the fold tables, so that neither side pays for that
    print(f"normalize: reference (before) vs now, {args.rounds} alternating rounds, CPU time medians")
    print(f"Machine: {machine()}")
    print("\n| texts | characters | before, ms | now, ms | before ÷ now |\n| --- | --- | --- | --- | --- |")
    for name, texts in sets.items():
        old, new = timed(texts, args.rounds)
        print(f"| {name} | {sum(map(len, texts)):,} | {1000 * old:.1f} | {1000 * new:.1f} | {old / new:.1f}x |")
    if corpora.skip_reason():
        print(f"\n(news and government reports left out: {corpora.skip_reason()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
