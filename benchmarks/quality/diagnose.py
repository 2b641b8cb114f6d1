"""Why a system misses targets: per-case recall and per-detection precision of the planted benchmark,
the worst of each printed with their text, and summaries by obfuscation and passage length.

    python -m benchmarks.quality.diagnose [--size 40] [--system chachong] [--set NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import collections

from benchmarks.quality import generate
from benchmarks.quality.measures import covered_within, detects
from benchmarks.quality.run import alignments, factory, planted_detections, settings_from


def case_rows(benchmark, found: dict) -> list[dict]:
    """Each case with its recall, the number of detections on it and its length class."""
    rows = []
    for doc in benchmark.documents:
        hits = alignments(doc.name, found[doc.name])
        for case, info in zip(doc.alignments(), doc.cases):
            on_case = [h for h in hits if detects(h, case)]
            rows.append({"doc": doc, "case": case, "class": info.length_class,
                         "recall": covered_within(case, on_case) / case.size, "detections": len(on_case)})
    return rows


def detection_rows(benchmark, found: dict) -> list[dict]:
    """Each detection with its precision and the kind the system gave it."""
    rows = []
    for doc in benchmark.documents:
        cases = doc.alignments()
        for hit, det in zip(found[doc.name], alignments(doc.name, found[doc.name])):
            matched = [c for c in cases if detects(det, c)]
            rows.append({"doc": doc, "hit": hit, "precision": covered_within(det, matched) / max(det.size, 1)})
    return rows


def summary(rows: list[dict], key: str) -> None:
    groups = collections.defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    for name, members in sorted(groups.items()):
        recall = sum(r["recall"] for r in members) / len(members)
        missed = sum(r["recall"] == 0 for r in members)
        split = sum(r["detections"] > 1 for r in members)
        print(f"  {name:28s} cases {len(members):4d}  recall {recall:.3f}  missed {missed:3d}  split {split:3d}")


def show_worst(benchmark, cases: list[dict], detections: list[dict], limit: int) -> None:
    texts = {s.label: s.text for s in benchmark.sources}
    print("\nworst cases:")
    for row in sorted(cases, key=lambda r: r["recall"])[:limit]:
        c = row["case"]
        print(f"- {c.susp_doc} {row['class']} recall {row['recall']:.2f} detections {row['detections']} src {c.src_doc}")
        print("  susp:", row["doc"].text[c.susp_start:c.susp_end][:160].replace("\n", "⏎"))
        print("  src: ", texts[c.src_doc][c.src_start:c.src_end][:160].replace("\n", "⏎"))
    print("\nworst detections:")
    for row in sorted(detections, key=lambda r: r["precision"])[:limit]:
        h = row["hit"]
        print(f"- {row['doc'].name} precision {row['precision']:.2f} {h.kind} src {h.src_label} {h.src_start}-{h.src_end}")
        print("  susp:", row["doc"].text[h.susp_start:h.susp_end][:160].replace("\n", "⏎"))
        print("  src: ", texts[h.src_label][h.src_start:h.src_end][:160].replace("\n", "⏎"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--system", default="chachong")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--limit", type=int, default=15)
    args = parser.parse_args(argv)
    benchmark = generate.generate(args.size)
    system = factory(args.system, settings_from(args.set))()
    try:
        found, _, _ = planted_detections(system, benchmark)
    finally:
        system.close()
    cases, detections = case_rows(benchmark, found), detection_rows(benchmark, found)
    print("by obfuscation:")
    summary(cases, lambda r: r["doc"].obfuscation)
    print("by passage length:")
    summary(cases, lambda r: f"{r['doc'].obfuscation}/{r['class']}")
    stray = [d for d in detections if d["precision"] == 0]
    print(f"detections {len(detections)}, with no case {len(stray)}, mean precision "
          f"{sum(d['precision'] for d in detections) / max(len(detections), 1):.3f}")
    show_worst(benchmark, cases, detections, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
