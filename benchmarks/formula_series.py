"""Short copies of one author's yearly series: copied, or hidden as a formula? (issue: "formula" means many owners).

    python -m benchmarks.formula_series [--sentences 30] [--seed 7]

The corpus is the State Council's government work reports of ../shared/corpora (one author, "国务院", one
report a year). Sentences of 30–80 characters are planted, one per submission, into the sample reports of
other cadres: some that the series repeats in three or more years, some found in one report only. Each
planted sentence is counted by the kind of the passage that covers it (or "missed"). Prints one line per group.

Measured 2026-11-29 (52 reports, 13 sentences repeated in ≥3 years; "before": 0446a47's classify.py reverted):
  formula by documents (before): repeated 12 formula, 1 copied; one report 26 copied, 4 formula
  formula by owners (now):       repeated 13 copied;            one report 29 copied, 1 missed
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import random
import re
import sys
from pathlib import Path

from benchmarks.speed.corpora import GOV, skip_reason
from detector import api
from detector.model import DocumentMeta
from detector.settings import DEFAULT

SAMPLE_REPORTS = sorted((Path(__file__).resolve().parent.parent / "corpus" / "sample").glob("*.txt"))
SENTENCE = re.compile(r"[^。！？；\n]{28,78}[。！？；]")


def series() -> list[tuple]:
    """(path, text, meta) of every yearly government work report, all by one author."""
    with gzip.open(GOV, "rt", encoding="utf-8") as lines:
        records = [r for r in map(json.loads, lines) if r.get("year") and "政府工作报告" in r.get("title", "")]
    return [(f"gov/{r['year']}.txt", r["text"], DocumentMeta(author="国务院", unit="国务院", year=int(r["year"])))
            for r in records]


def planted_groups(items: list, count: int, rng: random.Random) -> dict:
    years = collections.defaultdict(set)
    for path, text, _ in items:
        for sentence in SENTENCE.findall(text):
            years[sentence].add(path)
    repeated = sorted(s for s, found in years.items() if len(found) >= 3)
    once = sorted(s for s, found in years.items() if len(found) == 1)
    return {"repeated in >= 3 yearly reports": rng.sample(repeated, min(count, len(repeated))),
            "in one report only": rng.sample(once, min(count, len(once)))}


def kind_of(corpus, sentence: str, host: str, n: int) -> str:
    lines = host.split("\n")
    text = "\n".join(lines[:4] + [sentence] + lines[4:])
    start = text.index(sentence)
    report = api.scan_text(corpus, text, f"2026/干部{n}.txt", DocumentMeta(author=f"干部{n}", year=2026))
    covering = [p.kind for p in report.passages if p.submission_span[0] < start + len(sentence) and start < p.submission_span[1]]
    return covering[0] if covering else "missed"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if reason := skip_reason():
        print(f"skipped: {reason}")
        return 0
    items = series()
    hosts = [p.read_text(encoding="utf-8") for p in SAMPLE_REPORTS]
    with api.open_corpus(":memory:", create=True) as corpus:
        api.add_texts(corpus, items)
        for label, group in planted_groups(items, args.sentences, random.Random(args.seed)).items():
            kinds = collections.Counter(kind_of(corpus, s, hosts[n % len(hosts)], n) for n, s in enumerate(group))
            print(f"{label}: {len(group)} sentences, {dict(kinds)} (formula_min_owners={DEFAULT.formula_min_owners})")
    print(f"series: {len(items)} reports")
    return 0


if __name__ == "__main__":
    sys.exit(main())
