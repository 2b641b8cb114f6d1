"""Start-up of fresh processes: `chachong --help` and a two-file `chachong compare` against `python -c "import numpy"`.

    python -m benchmarks.startup [--runs 15]

The three commands run interleaved (one of each per round), so a load that comes and goes touches them alike;
the table gives each one's median and minimum wall time and the ratio of medians to the numpy import.
The commands run as an installed tool runs for its user: with its modules' bytecode cached (the warm-up run writes
it; PYTHONDONTWRITEBYTECODE is dropped from the environment, or every run would compile ~50 modules, ~40 ms).
Targets (issue: scans at the speed of a lookup): --help within 1.5x, compare within 3x.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.speed.measure import installed_environment

REPO = Path(__file__).resolve().parent.parent
SUBMISSION = REPO / "corpus" / "demo" / "submission.txt"
SOURCE = REPO / "corpus" / "sample" / "003_42e09aa36b9c46a6.txt"
COMMANDS = {
    "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
    "chachong --help": [sys.executable, "-m", "detector", "--help"],
    "chachong compare (two reports)": [sys.executable, "-m", "detector", "compare", str(SUBMISSION), str(SOURCE)],
}


ENVIRONMENT = installed_environment()


def timed(command: list) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=REPO, env=ENVIRONMENT)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for command in COMMANDS.values():  # warm the file cache and write the bytecode once
        timed(command)
    cached = any((REPO / "detector").glob("__pycache__/cli.*.pyc"))
    seconds = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            seconds[name].append(timed(command))
    base = statistics.median(seconds["python -c 'import numpy'"])
    print(f"Start-up, {args.runs} interleaved runs each; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f} at the end; "
          f"chachong's bytecode cached: {'yes' if cached else 'no'}")
    print("\n| command | median ms | min ms | median ÷ numpy import |\n| --- | --- | --- | --- |")
    for name, values in seconds.items():
        print(f"| {name} | {statistics.median(values) * 1000:,.0f} | {min(values) * 1000:,.0f} | "
              f"{statistics.median(values) / base:.2f} |")


if __name__ == "__main__":
    main()
