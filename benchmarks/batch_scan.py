"""How long a batch scan takes: a few hundred report-length submissions against a corpus and against each other.

    python -m benchmarks.batch_scan [--corpus-docs 10000] [--submissions 300] [--template-every 10]

The corpus is the first N CCTV news items of ../shared/corpora (real official Chinese, heavy with formulae);
each submission is eight later news items (~4,700 characters) with two 300-character passages copied from
the corpus, and every `--template-every`-th one also carries the same 800-character "template" that is not
in the corpus (found only by comparing the submissions with each other). Prints one markdown line per number
of scanning processes (`--workers 1,2`: the same batch in one process and in two), and checks that they report
the same passages.

Measured 2026-11-22 (commit 279bdb3, 2 shared cores at load ~7 from other engineers' runs):
| 300 submissions (1.6 M chars) | corpus 10,000 docs, 5.6 M chars | 390.2 s | 1301 ms/submission |
| 40 submissions (0.2 M chars) | corpus 1,000 docs, 0.6 M chars | 32.5 s | 813 ms/submission |
News items share real boilerplate (headers, daily bulletins) that is classified template/copied, so on this
data clusters chain into one large group; on report-like batches (tests/test_batch.py) they are the planted ones.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

from benchmarks.speed.corpora import item_docs, skip_reason
from detector import api, batch

WORK = Path(__file__).resolve().parent / "work" / "batch"


def corpus_db(n: int) -> Path:
    """A corpus of the first n news items, built once and kept under benchmarks/work/batch/."""
    path = WORK / f"items-{n}.db"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with api.open_corpus(path, create=True) as corpus:
        docs = list(item_docs(n))
        for i in range(0, len(docs), 500):
            api.add_texts(corpus, [(d.label, d.text, None) for d in docs[i : i + 500]])
    print(f"indexed {n} documents in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def submissions(n: int, count: int, template_every: int, per: int = 8) -> list:
    """Submissions of `per` news items beyond the corpus each, with two corpus passages, and every
    template_every-th one with a shared 800-character template that is in no corpus document."""
    rng = random.Random(20240303)
    items = list(item_docs(n + count * per + 1))
    corpus, fresh = items[:n], items[n:]
    template = fresh[-1].text[:800]
    docs = []
    for k in range(count):
        parts = [d.text for d in fresh[k * per : (k + 1) * per]]
        for slot in (2, 5):
            source = rng.choice(corpus).text
            start = rng.randrange(max(1, len(source) - 300))
            parts.insert(slot, source[start : start + 300])
        if k % template_every == 0:
            parts.insert(4, template)
        docs.append(api.document_from_text("\n".join(parts) + "\n", f"sub{k:03d}.txt"))
    return docs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus-docs", type=int, default=10000)
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--template-every", type=int, default=10)
    parser.add_argument("--workers", default=f"1,{os.cpu_count() or 1}", help="comma-separated numbers of processes")
    args = parser.parse_args(argv)
    reason = skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return
    path = corpus_db(args.corpus_docs)
    docs = submissions(args.corpus_docs, args.submissions, args.template_every)
    found = {}
    for workers in dict.fromkeys(int(w) for w in args.workers.split(",")):
        found[workers] = _timed_batch(path, docs, workers)
    passages = {w: [[(p.kind, p.submission_span, p.source_span) for p in r.passages] for r in result.reports]
                for w, result in found.items()}
    print("same passages with every number of processes:", len({repr(p) for p in passages.values()}) == 1)


def _timed_batch(path: Path, docs: list, workers: int):
    with api.open_corpus(path) as corpus:  # a fresh process-level cache for each run
        stats = api.stats(corpus)
        started = time.perf_counter()
        result = batch.scan_documents(corpus, docs, progress=sys.stderr.isatty(), workers=workers)
        seconds = time.perf_counter() - started
    chars = sum(len(d.text) for d in docs)
    largest = max((len(c["members"]) for c in result.clusters), default=0)
    print(f"| {len(docs)} submissions ({chars / 1e6:.1f} M chars) | corpus {stats['documents']:,} docs, "
          f"{stats['characters'] / 1e6:.1f} M chars | {workers} process{'es' if workers > 1 else ''} | {seconds:.1f} s | "
          f"{1000 * seconds / len(docs):.0f} ms/submission | {len(result.clusters)} clusters, largest {largest} | "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} |", flush=True)
    return result


if __name__ == "__main__":
    main()
