"""Run the detection-quality benchmark: planted reuse (PAN measures per obfuscation) and the natural
cross-year test, for chachong and the exact 20-character baseline side by side.

    python -m benchmarks.quality.run [--size 200] [--out benchmarks/work/quality.md] [--results benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

from benchmarks.quality import attribution, generate, natural, sources
from benchmarks.quality.measures import Alignment, Scores, score
from benchmarks.quality.systems import SYSTEMS

CLASSES = ("none", "light", "synonym", "reorder", "heavy", "sentence_heavy", "formula_only")
TARGETS = {"overall": 0.97, "none": 0.99, "light": 0.99, "heavy": 0.93, "sentence_heavy": 0.85}
SECTION = "## Detection quality"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200, help="suspicious documents to generate (default 200)")
    parser.add_argument("--seed", type=int, default=generate.SEED)
    parser.add_argument("--systems", default="chachong,exact-20", help="comma-separated: " + ", ".join(SYSTEMS))
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a chachong setting to override")
    parser.add_argument("--skip-natural", action="store_true", help="leave out the cross-year test")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/work/quality.md"), help="markdown section written here")
    parser.add_argument("--results", type=Path, help="also replace the Detection quality section of this file")
    return parser.parse_args(argv)


def settings_from(pairs: list[str]):
    """detector Settings with NAME=VALUE overrides (values parsed as Python literals when possible)."""
    import ast

    from detector.settings import Settings

    changes = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            changes[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            changes[name] = value
    return Settings().replace(**changes)


def factory(name: str, settings):
    return (lambda: SYSTEMS[name](settings)) if name == "chachong" else SYSTEMS[name]


def planted_detections(system, benchmark) -> tuple[dict, float, float]:
    """{document name: [Hit]} for every suspicious document, with indexing and scanning seconds."""
    started = time.perf_counter()
    system.add_many([(d.label, d.text, d.year) for d in benchmark.sources])
    indexed = time.perf_counter()
    found = {doc.name: system.scan(doc.text, doc.name) for doc in benchmark.documents}
    return found, indexed - started, time.perf_counter() - indexed


def alignments(name: str, hits: list) -> list[Alignment]:
    return [Alignment(name, h.susp_start, h.susp_end, h.src_label, h.src_start, h.src_end) for h in hits]


def scores_by_class(benchmark, found: dict) -> dict:
    """Scores per obfuscation and overall; for formula_only, the reuse passages reported there."""
    cases, detections = {"overall": []}, {"overall": []}
    for doc in benchmark.documents:
        for key in (doc.obfuscation, "overall"):
            cases.setdefault(key, []).extend(doc.alignments())
            detections.setdefault(key, []).extend(alignments(doc.name, found[doc.name]))
    return {key: score(cases[key], detections[key]) for key in cases}


def machine() -> str:
    model = platform.processor() or "unknown cpu"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def revision() -> str:
    """Short commit of the checkout, marked when detector/ has uncommitted changes."""
    import subprocess

    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" + uncommitted detector changes" if git("status", "--porcelain", "--", "detector") else "")


def planted_table(results: dict) -> list[str]:
    """One row per obfuscation: plagdet / precision / recall / granularity per system."""
    names = list(results)
    head = "| obfuscation | cases | " + " | ".join(f"{n} plagdet | P | R | gran" for n in names) + " | target |"
    rows = [head, "|" + " --- |" * (2 + 4 * len(names) + 1)]
    for key in (*CLASSES, "overall"):
        first = results[names[0]]["scores"].get(key)
        if first is None:
            continue
        cells = [_score_cells(results[n]["scores"][key], key) for n in names]
        target = f"≥ {TARGETS[key]:.2f}" if key in TARGETS else ("no reuse passage" if key == "formula_only" else "")
        rows.append(f"| {key} | {first.cases} | " + " | ".join(cells) + f" | {target} |")
    return rows


def _score_cells(s: Scores, key: str) -> str:
    if key == "formula_only":
        return f"{s.detections} passages | – | – | –"
    return f"{s.plagdet:.3f} | {s.precision:.3f} | {s.recall:.3f} | {s.granularity:.3f}"


def natural_table(results: dict) -> list[str]:
    rows = [
        "| pairs | system | shared 30+ chars | recall (scanned side) | inside shared (scanned) | recall (source side) | inside shared (source) | reported chars | inside 13+ runs (scanned) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, result in results.items():
        for group, sides in result.get("natural", {}).items():
            scanned, source = sides["scanned"], sides["source"]
            rows.append(
                f"| {group} ({sides['pairs']}) | {name} | {scanned.truth} | {scanned.recall:.3f} | {scanned.inside:.3f} "
                f"| {source.recall:.3f} | {source.inside:.3f} | {scanned.reported} | {scanned.inside_loose:.3f} |"
            )
    return rows


def section(results: dict, benchmark, args, command: str) -> str:
    """The markdown section for RESULTS.md."""
    by_kind = {}
    for doc in benchmark.sources:
        by_kind[doc.kind] = by_kind.get(doc.kind, 0) + 1
    corpus = ", ".join(f"{n} {k}" for k, n in by_kind.items())
    chars = sum(len(d.text) for d in benchmark.sources)
    cases = sum(len(d.cases) for d in benchmark.documents)
    timing = "; ".join(f"{n}: index {r['index_s']:.1f} s, scan {r['scan_s']:.1f} s" for n, r in results.items())
    lines = [
        SECTION,
        "",
        f"- date: {datetime.date.today().isoformat()}; machine: {machine()}",
        f"- command: `{command}`; detector at commit {revision()}",
        f"- source corpus: {len(benchmark.sources)} documents ({corpus}), {chars:,} characters",
        f"- suspicious documents: {len(benchmark.documents)} ({cases} planted cases), seed {args.seed}",
        f"- time: {timing}",
        "",
        "Planted reuse, PAN measures (macro precision/recall over characters of both documents):",
        "",
        *planted_table(results),
        "",
    ]
    if any("attribution" in r for r in results.values()):
        lines += [
            f"Attribution (`benchmarks/quality/attribution.py`): {attribution.CASES} copies of a passage of "
            "consecutive sentences (300–3,000 characters) of one source document, verbatim or lightly obfuscated, each of whose sentences also stands "
            f"alone in {attribution.DECOYS_PER_SENTENCE} older decoy documents (indexed first, so they have the lower "
            "ids); PAN measures against the true source over the passages that cover a copy (the news filler repeats "
            "stock sentences of other news), and the share of copies a passage naming the true source (or a decoy) covers:",
            "",
            *attribution.table({n: r["attribution"] for n, r in results.items() if "attribution" in r}),
            "",
        ]
    if any("natural" in r for r in results.values()):
        lines += [
            "Natural reuse between consecutive government work reports / NPC resolutions (characters pooled over pairs; "
            "truth = exact common runs of 30+ characters, whitespace removed; closing public-domain notice cut off; "
            "targets: recall ≥ 0.90, inside ≥ 0.80; the last column, for context, counts runs of 13+ characters as shared):",
            "",
            *natural_table(results),
            "",
        ]
    return "\n".join(lines)


def update_results(path: Path, text: str) -> None:
    """Replace (or add) the Detection quality section, leaving every other section as it is."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n## Speed\n\n(not measured yet)\n"
    start = current.find(SECTION)
    if start < 0:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        following = current.find("\n## ", start + len(SECTION))
        updated = current[:start] + text + ("\n" + current[following + 1 :] if following >= 0 else "")
    path.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def run_system(name: str, settings, benchmark, with_natural: bool) -> dict:
    system = factory(name, settings)()
    try:
        found, index_s, scan_s = planted_detections(system, benchmark)
    finally:
        system.close()
    result = {"found": found, "index_s": index_s, "scan_s": scan_s, "scores": scores_by_class(benchmark, found)}
    if with_natural:
        result["natural"] = natural.evaluate(factory(name, settings))
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    if not sources.available():
        print(f"skipped: seeds or corpora not found under {sources.SHARED}")
        return 0
    settings = settings_from(args.set)
    benchmark = generate.generate(args.size, args.seed)
    for doc in benchmark.sources:
        doc.year = int(doc.year) if doc.year else None
    results = {}
    for name in args.systems.split(","):
        results[name] = run_system(name, settings, benchmark, not args.skip_natural)
    copies = attribution.generate(benchmark.pools, args.seed)
    for name in args.systems.split(","):
        results[name]["attribution"] = attribution.evaluate(factory(name, settings)(), copies, benchmark.sources)
    command = "python -m benchmarks.quality.run " + " ".join(argv if argv is not None else sys.argv[1:])
    text = section(results, benchmark, args, command.strip())
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    if args.results:
        update_results(args.results, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
