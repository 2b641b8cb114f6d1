"""Measuring instruments: wall-clock timers, resident and peak memory, percentiles, machine description."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import platform
import subprocess
import time

import numpy as np

_HAVE_PROC = os.path.exists("/proc/self/status")


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def rss_bytes() -> int:
    """Current resident set size of this process."""
    return _status_kib("VmRSS") * 1024 if _HAVE_PROC else 0


def installed_environment() -> dict:
    """This process's environment for a command timed as an installed tool runs: with its bytecode cached (a shell's
    PYTHONDONTWRITEBYTECODE would make every run compile ~50 modules, ~40 ms, that no user's install compiles)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) so the next peak belongs to the next stage."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    """Peak resident set size since the last reset_peak() (or since start)."""
    return _status_kib("VmHWM") * 1024 if _HAVE_PROC else 0


@dataclasses.dataclass
class Stage:
    """What one measured stage cost: seconds, memory held after it and its peak above the start."""

    seconds: float = 0.0
    rss_start: int = 0
    rss_end: int = 0
    peak: int = 0

    @property
    def held(self) -> int:
        return max(0, self.rss_end - self.rss_start)

    @property
    def peak_above_start(self) -> int:
        return max(0, self.peak - self.rss_start)


@contextlib.contextmanager
def stage():
    """Time a block and record its memory: `with stage() as cost: ...; cost.seconds`."""
    reset_peak()
    cost = Stage(rss_start=rss_bytes())
    started = time.perf_counter()
    try:
        yield cost
    finally:
        cost.seconds = time.perf_counter() - started
        cost.rss_end = rss_bytes()
        cost.peak = peak_bytes()


def timed(function, *args, **kwargs) -> tuple:
    """(result, seconds) of one call."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def percentiles(seconds: list) -> dict:
    """p50 / p95 / mean of a list of durations, in milliseconds."""
    if not seconds:
        return {"p50_ms": None, "p95_ms": None, "mean_ms": None, "n": 0}
    values = np.array(seconds) * 1000
    return {"p50_ms": float(np.percentile(values, 50)), "p95_ms": float(np.percentile(values, 95)),
            "mean_ms": float(values.mean()), "n": len(values)}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        return float("nan")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def code_version(repo) -> str:
    """The commit measured, with the detector files that differed from it (others edit the same checkout)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "detector").splitlines()
    return git("rev-parse", "--short", "HEAD") + (f" + uncommitted detector changes ({len(dirty)} files)" if dirty else "")


def machine(repo=None) -> dict:
    """The facts a reader needs to weigh the figures."""
    return {
        "code": code_version(repo) if repo else "unknown",
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(ram_gib(), 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "load_average_at_start": load_average(),
    }


def machine_as_the_command_runs(repo) -> dict:
    """machine(), with glibc's allocator set as the chachong command sets it (recorded as "allocator")."""
    from detector.allocator import keep_freed_memory

    facts = machine(repo)
    facts["allocator"] = "glibc thresholds raised, as the chachong command does" if keep_freed_memory() else "default"
    return facts


def machine_line(facts: dict) -> str:
    """The facts as one line of a benchmark's report."""
    return "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items())


def write_report(path, command: str, facts: dict, table: str) -> None:
    """End a benchmark: the load average now added to its facts, its report (the command, the machine, the table)
    written to `path` and printed."""
    facts["load_average_at_end"] = load_average()
    text = "\n".join([command, machine_line(facts), "", table])
    path.write_text(text + "\n", encoding="utf-8")
    print(text)
