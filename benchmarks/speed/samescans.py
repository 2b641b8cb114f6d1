"""Does a storage change alter what scans return? Build a benchmark corpus, scan its submissions, compare the JSON.

    python -m benchmarks.speed.samescans --size 1000 --out before.json     # with the old code
    python -m benchmarks.speed.samescans --size 1000 --out after.json      # with the new code
    python -m benchmarks.speed.samescans --compare before.json after.json  # exit 1 when they differ
    python -m benchmarks.speed.samescans --size 1000 --db OTHER.db --out other.json  # scan a database built already

Builds the corpus as the speed benchmark does (add_texts, 500 documents a transaction) into its own database under
benchmarks/work/speed/samescans/, scans the same submissions as `benchmarks.speed.run`, and writes the scans'
JSON (schema chachong/1) with the build's seconds, the database's bytes per character per table and the scans'
milliseconds (the first, which warms the caches, left out).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from benchmarks.speed import corpora, dbstats
from benchmarks.speed.chachong import Chachong, database_bytes
from benchmarks.speed.run import WORK, Counter


def build_and_scan(kind: str, size: int, submissions: int, db=None) -> dict:
    """Build the corpus (or take the database `db` built already), scan the submissions; the scans' JSON with the
    build's figures."""
    from detector import api
    from detector.report.json_report import report_dict

    sources = []
    wanted = corpora.source_indices(corpora.corpus_size(kind, size), 3 * (submissions + 1))
    engine = Chachong(db or WORK / "samescans" / f"{kind}-{size}.db")
    stream = Counter(corpora.tap(corpora.corpus_docs(kind, size), wanted, sources))
    figures = {}
    if db:
        for _ in stream:  # the submissions are made from the corpus's documents
            pass
    else:
        started = time.perf_counter()
        engine.build(stream)
        seconds = time.perf_counter() - started
        figures = {"build_seconds": round(seconds, 1), "chars": stream.chars, "chars_per_s": round(stream.chars / seconds),
                   "batches": engine.batch_trend(), "bytes_per_char": round(database_bytes(engine.db_path) / stream.chars, 3),
                   "tables": {row["name"]: round(row["bytes_per_char"], 3) for row in dbstats.breakdown(engine.db_path, stream.chars)}}
    engine.open()
    scans, seconds = [], []
    for sub in corpora.make_submissions(sources, submissions):
        began = time.perf_counter()
        scans.append(report_dict(api.scan_text(engine.corpus, sub.text, path=sub.name)))
        seconds.append(time.perf_counter() - began)
    engine.close()
    figures["scan_ms"] = {"p50": round(1000 * statistics.median(seconds[1:]), 1), "max": round(1000 * max(seconds[1:]), 1)}
    return {"figures": figures, "scans": scans}


def differences(before: dict, after: dict) -> list:
    """Submissions whose scan JSON differs (by position), or a note that the counts differ."""
    if len(before["scans"]) != len(after["scans"]):
        return [f"{len(before['scans'])} scans before, {len(after['scans'])} after"]
    return [n for n, (a, b) in enumerate(zip(before["scans"], after["scans"])) if a != b]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed.samescans", description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="reports", choices=corpora.KINDS)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--out", help="write the scans and figures here (JSON)")
    parser.add_argument("--db", help="scan this database of the same corpus instead of building one")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"), help="compare two --out files")
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (json.loads(open(path, encoding="utf-8").read()) for path in args.compare)
        differing = differences(before, after)
        print(json.dumps({"before": before["figures"], "after": after["figures"], "scans": len(after["scans"]),
                          "differing": differing}, ensure_ascii=False, indent=1))
        return 1 if differing else 0
    if reason := corpora.skip_reason():
        print(f"samescans skipped: {reason}")
        return 0
    result = build_and_scan(args.kind, args.size, args.submissions, args.db)
    print(json.dumps(result["figures"], ensure_ascii=False, indent=1))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            json.dump(result, out, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
