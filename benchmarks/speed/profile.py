"""Where chachong's time goes: cProfile of indexing and of scanning on a benchmark corpus, by stage.

    python -m benchmarks.speed.profile --kind reports --size 1000 [--submissions 5] [--top 25]

Prints, for indexing and for scanning, the detector's own functions by cumulative time and the hottest
functions anywhere by self time (C extensions such as sqlite's executemany or scipy's sparse kernels show
up there), plus the database's bytes per table. Uses its own database under benchmarks/work/speed/profile/.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

from benchmarks.speed import corpora, dbstats
from benchmarks.speed.chachong import Chachong
from benchmarks.speed.run import WORK, Counter


def rows(stats: pstats.Stats, keep, sort_index: int, top: int) -> list:
    """(name, calls, self s, cumulative s) of the profiled functions `keep` accepts, largest first."""
    entries = []
    for (filename, line, function), (_, calls, self_s, cum_s, _) in stats.stats.items():
        if keep(filename):
            entries.append((_short(filename, line, function), calls, self_s, cum_s))
    return sorted(entries, key=lambda e: -e[sort_index])[:top]


def _short(filename: str, line: int, function: str) -> str:
    if "/detector/" in filename:
        return "detector/" + filename.split("/detector/", 1)[1] + f":{function}"
    if filename == "~":
        return function
    return filename.rsplit("/", 2)[-1] + f":{function}"


def render(title: str, stats: pstats.Stats, total: float, top: int) -> str:
    own = rows(stats, lambda f: "/detector/" in f, 3, top)
    hot = rows(stats, lambda f: True, 2, top // 2)
    lines = [f"## {title}: {total:.2f} s", "", "| detector function | calls | self s | cumulative s | share |",
             "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {n} | {c} | {s:.3f} | {cum:.3f} | {cum / total:.0%} |" for n, c, s, cum in own]
    lines += ["", "| hottest by self time | calls | self s | share |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {n} | {c} | {s:.3f} | {s / total:.0%} |" for n, c, s, _ in hot]
    return "\n".join(lines)


def profile_call(function, *args) -> tuple:
    """(Stats, wall seconds) of one call under cProfile."""
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    function(*args)
    profiler.disable()
    return pstats.Stats(profiler), time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="reports", choices=corpora.KINDS)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--submissions", type=int, default=5)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    if reason := corpora.skip_reason():
        print(f"profile skipped: {reason}")
        return 0
    sources, engine = [], Chachong(WORK / "profile" / f"{args.kind}-{args.size}.db")
    wanted = corpora.source_indices(corpora.corpus_size(args.kind, args.size), 3 * (args.submissions + 1))
    docs = list(Counter(corpora.tap(corpora.corpus_docs(args.kind, args.size), wanted, sources)))
    chars = sum(len(d.text) for d in docs)
    stats, seconds = profile_call(engine.build, docs)
    print(render(f"indexing {len(docs):,} {args.kind} ({chars / 1e6:.1f} M chars, "
                 f"{chars / seconds / 1e3:.0f}k chars/s under the profiler)", stats, seconds, args.top))
    print("\n" + dbstats.markdown(dbstats.breakdown(engine.db_path, chars)) + "\n")
    submissions = corpora.make_submissions(sources, args.submissions + 1)
    engine.open()
    engine.scan(submissions[0].text)
    stats, seconds = profile_call(lambda: [engine.scan(s.text) for s in submissions[1:]])
    print(render(f"scanning {args.submissions} submissions ({seconds / args.submissions * 1e3:.0f} ms each under "
                 "the profiler)", stats, seconds, args.top))
    engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
