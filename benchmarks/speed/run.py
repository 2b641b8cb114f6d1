"""Run the speed-and-scale benchmark: chachong, brute force, datasketch and copydetect side by side in one process.

    python -m benchmarks.speed.run                       # items and reports at 10^3 and 10^4 documents
    python -m benchmarks.speed.run --sizes 1000 --kinds reports
    python -m benchmarks.speed.run --large               # adds 2×10^4 and 10^5 (reports) — long
    python -m benchmarks.speed.run --write               # also rewrites the Speed section of benchmarks/RESULTS.md

Databases and scratch files go to benchmarks/work/speed/ (git-ignored). The process's allocator is set as the
`chachong` command sets it (detector/allocator.py), for every engine alike; the machine facts record whether it took.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.util
import json
import sys
import time
from pathlib import Path

from benchmarks.speed import baselines, corpora, dbstats, recall, report
from benchmarks.speed.chachong import Chachong, database_bytes, fresh_process_scan, timed_batch
from benchmarks.speed.measure import load_average, machine_as_the_command_runs, percentiles, stage, timed

WORK = corpora.REPO / "benchmarks" / "work" / "speed"
DEFAULT_SIZES = (1_000, 10_000)
LARGE_SIZES = (20_000, 100_000)
# Baselines hold their index in memory and scan linearly: each runs only on corpora up to this many characters.
CHAR_BUDGET = {"brute-force 13-gram": 120e6, "datasketch MinHashLSH": 6e6, "copydetect": 12e6}
BRUTE_IN_DOCS = 100  # the literal `in` matcher is timed on this prefix and extrapolated
FRESH_RUNS = 3


@dataclasses.dataclass
class Row:
    """One engine on one corpus: build and scan costs and verbatim recall."""

    kind: str
    size: int
    engine: str
    docs: int = 0
    chars: int = 0
    build_s: float = 0.0
    held_bytes: int = 0
    peak_bytes: int = 0
    index_bytes: int = 0
    latency: dict = dataclasses.field(default_factory=dict)
    recall: dict = dataclasses.field(default_factory=dict)
    agreement: dict = dataclasses.field(default_factory=dict)
    note: str = ""


class Counter:
    """Counts documents and characters of a stream as it passes."""

    def __init__(self, docs):
        self.docs, self.chars, self._docs = 0, 0, docs

    def __iter__(self):
        for doc in self._docs:
            self.docs += 1
            self.chars += len(doc.text)
            yield doc


# ---------------------------------------------------------------- chachong


def index_chachong(kind: str, n: int, wanted: list, sources: list, args) -> tuple:
    """Build (or reuse) the chachong database for one corpus; returns (engine, Row)."""
    engine = Chachong(WORK / f"{kind}-{n}.db", time_limit=args.index_limit)
    # planted sources must be indexed even if the build stops early: take them from the first documents then
    wanted = wanted if args.index_limit == float("inf") else list(range(len(wanted)))
    stream = Counter(corpora.tap(corpora.corpus_docs(kind, n), wanted, sources))
    row = Row(kind, n, engine.name)
    if args.reuse and engine.db_path.exists():
        for _ in stream:
            pass
        row.note = "index reused: build time not measured"
    else:
        with stage() as cost:
            engine.build(stream)
        row.build_s, row.held_bytes, row.peak_bytes = cost.seconds, cost.held, cost.peak
        row.note = _trend_note(engine.batch_trend(), stream.docs, n)
    row.docs, row.chars, row.index_bytes = stream.docs, stream.chars, database_bytes(engine.db_path)
    return engine, row


def _trend_note(trend: dict, indexed: int, wanted: int) -> str:
    note = (f"indexing {trend['first_chars_per_s'] / 1e3:.0f}k chars/s in the first {trend['quarter']} of "
            f"{trend['batches']} batches, {trend['last_chars_per_s'] / 1e3:.0f}k in the last {trend['quarter']}") if trend.get("batches", 0) > 1 else ""
    if indexed < wanted:
        note += f"; STOPPED by --index-limit after {indexed:,} of {wanted:,} documents (scans ran on those)"
    return note


def scan_all(engine, submissions: list, before_each=None) -> tuple:
    """(hits per submission, seconds per submission), after one untimed warm-up scan of the first."""
    engine.scan(submissions[0].text)
    hits, seconds = [], []
    for sub in submissions[1:]:
        if before_each:
            before_each()
        found, spent = timed(engine.scan, sub.text)
        hits.append(found)
        seconds.append(spent)
    return hits, seconds


def chachong_extras(engine: Chachong, submissions: list, tag: str) -> dict:
    """Scans without the source-fingerprint cache, a batch through scan_paths, and fresh processes."""
    from detector import api

    _, nocache = scan_all(engine, submissions, before_each=engine.forget_sources)
    folder = write_submissions(submissions[1:], WORK / f"subs-{tag}")
    engine.forget_sources()
    with stage() as batch:
        api.scan_paths(engine.corpus, [str(folder)])
    # the `chachong scan FOLDER` path: against the corpus and each other, one process per core, in a process of its own
    parallel = timed_batch(engine.db_path, folder)
    fresh = [fresh_process_scan(engine.db_path, path) for path in sorted(folder.iterdir())[:FRESH_RUNS]]
    return {
        "nocache": percentiles(nocache),
        "batch_docs_per_s": (len(submissions) - 1) / batch.seconds,
        "batch_peak_bytes": batch.peak,
        "parallel_ms_per_doc": parallel["ms_per_doc"],
        "parallel_workers": parallel["workers"],
        "fresh": percentiles([f["seconds"] for f in fresh]),
        "fresh_peak_bytes": max((f["peak_bytes"] or 0) for f in fresh),
        "fresh_errors": [f["error"] for f in fresh if f["error"]],
    }


def write_submissions(submissions: list, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for sub in submissions:
        (folder / sub.name).write_text(sub.text, encoding="utf-8")
    return folder


def measure_chachong(kind: str, n: int, args) -> tuple:
    """Index, scan warm / without cache / batch / fresh process; returns (Row, extras, submissions, sources)."""
    sources = []
    wanted = corpora.source_indices(corpora.corpus_size(kind, n), 3 * (args.submissions + 1))
    engine, row = index_chachong(kind, n, wanted, sources, args)
    submissions = corpora.make_submissions(sources, args.submissions + 1)
    engine.open()
    with stage() as scanning:
        hits, seconds = scan_all(engine, submissions)
    row.latency = percentiles(seconds)
    row.peak_bytes = max(row.peak_bytes, scanning.peak)
    extras = chachong_extras(engine, submissions, f"{kind}-{n}")
    extras["tables"] = dbstats.breakdown(engine.db_path, row.chars)
    engine.close()
    return row, extras, submissions[1:], recall.judge_all(submissions[1:], hits)


# ---------------------------------------------------------------- baselines


def baseline_engines(chars: int) -> list:
    """The baselines whose character budget covers a corpus of `chars` characters."""
    from detector.settings import DEFAULT

    engines = [baselines.BruteForce13(), baselines.DatasketchLSH(DEFAULT.num_perm, DEFAULT.lsh_threshold, DEFAULT.lsh_weights)]
    if importlib.util.find_spec("copydetect"):  # optional: `pip install copydetect`
        engines.insert(1, baselines.Copydetect())
    return [engine for engine in engines if chars <= CHAR_BUDGET[engine.name]]


def measure_baseline(engine, kind: str, n: int, submissions: list) -> tuple:
    """Build one baseline on the same corpus, scan the same submissions; returns (Row, plant results)."""
    row = Row(kind, n, engine.name)
    stream = Counter(corpora.corpus_docs(kind, n))
    with stage() as cost:
        engine.build(stream)
    row.docs, row.chars, row.build_s, row.held_bytes, row.peak_bytes = stream.docs, stream.chars, cost.seconds, cost.held, cost.peak
    row.index_bytes = getattr(engine, "memory_bytes", lambda: cost.held)()
    hits, seconds = scan_all(engine, [submissions[0]] + submissions)
    row.latency = percentiles(seconds)
    engine.close()
    return row, recall.judge_all(submissions, hits)


def measure_brute_in(kind: str, n: int, submissions: list) -> Row:
    """The literal `in` matcher on a prefix, its latency extrapolated linearly to the whole corpus."""
    engine = baselines.BruteForceIn()
    engine.build(corpora.corpus_docs(kind, BRUTE_IN_DOCS))
    seconds = [timed(engine.scan, sub.text)[1] * corpora.corpus_size(kind, n) / BRUTE_IN_DOCS for sub in submissions[:3]]
    row = Row(kind, n, engine.name, docs=n, latency=percentiles(seconds),
              note=f"timed on {BRUTE_IN_DOCS} documents, extrapolated linearly")
    engine.close()
    return row


# ---------------------------------------------------------------- one corpus, all engines


def run_corpus(kind: str, n: int, args) -> dict:
    """Every engine on one corpus; returns rows and chachong's extras."""
    log(f"{kind} {n}: chachong")
    row, extras, submissions, cc_plants = measure_chachong(kind, n, args)
    rows, plants = [row], {row.engine: cc_plants}
    if not args.chachong_only:
        for engine in baseline_engines(row.chars):
            log(f"{kind} {n}: {engine.name}")
            base_row, plants[engine.name] = measure_baseline(engine, kind, row.docs, submissions)
            base_row.size = n
            rows.append(base_row)
            gc.collect()
        rows.append(measure_brute_in(kind, row.docs, submissions))
        rows[-1].size = n
    add_recall(rows, plants)
    return {"kind": kind, "size": n, "rows": rows, "chachong": extras}


def add_recall(rows: list, plants: dict) -> None:
    reference = plants.get("brute-force 13-gram")
    for row in rows:
        if row.engine in plants:
            row.recall = recall.summary(plants[row.engine])
            if reference is not None:
                row.agreement = recall.agreement(plants[row.engine], reference)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated corpus sizes")
    parser.add_argument("--kinds", default="items,reports", help="items, reports or both")
    parser.add_argument("--large", action="store_true", help="add 2×10^4 and 10^5 documents")
    parser.add_argument("--submissions", type=int, default=20, help="submissions scanned per corpus")
    parser.add_argument("--reuse", action="store_true", help="reuse existing chachong databases (no build timing)")
    parser.add_argument("--index-limit", type=float, default=float("inf"),
                        help="stop indexing a corpus after this many seconds (partial corpus, noted in the table)")
    parser.add_argument("--chachong-only", action="store_true", help="skip the baselines")
    parser.add_argument("--write", action="store_true", help="rewrite the Speed section of benchmarks/RESULTS.md")
    return parser.parse_args(argv)


def plan(args) -> list:
    """(kind, size) pairs to run; items stop at the 19,876 that exist, 10^5 is reports only."""
    sizes = [int(s) for s in args.sizes.split(",") if s] + (list(LARGE_SIZES) if args.large else [])
    pairs = []
    for kind in args.kinds.split(","):
        for size in sorted(set(sizes)):
            real = corpora.corpus_size(kind, size)
            if (kind, real) not in pairs and not (kind == "items" and size > 2 * corpora.NEWS_ITEMS):
                pairs.append((kind, real))
    return pairs


def main(argv=None) -> int:
    args = parse(argv)
    reason = corpora.skip_reason()
    if reason:
        print(f"speed benchmark skipped: {reason}")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    facts = machine_as_the_command_runs(corpora.REPO)
    command = ("python -m benchmarks.speed.run " + " ".join(argv if argv is not None else sys.argv[1:])).strip()
    results = []
    for kind, n in plan(args):
        results.append(run_corpus(kind, n, args))
        save(facts, results, command, args.write)  # after every corpus: a long run leaves partial results
    print(report.console(results))
    return 0


def save(facts: dict, results: list, command: str, write: bool) -> None:
    """Write markdown and JSON under benchmarks/work/speed/ and, if asked, the Speed section of RESULTS.md."""
    facts["load_average_at_end"] = load_average()
    text = report.markdown(facts, results, command, CHAR_BUDGET)
    (WORK / "results.md").write_text(text, encoding="utf-8")
    (WORK / "results.json").write_text(json.dumps(report.as_json(facts, results), ensure_ascii=False, indent=1))
    if write:
        report.write_results_section(text)


if __name__ == "__main__":
    sys.exit(main())
