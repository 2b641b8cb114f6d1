"""The Redis Cluster backend against SQLite on the same report corpus: inserts/s, queries/s, bytes per character, parallel batch scans.

    python -m benchmarks.redis_store [--docs 10000] [--submissions 20] [--target redis://HOST:PORT/NAME]

Without --target, a 3-master, 3-replica cluster is started on loopback ports in a temporary folder (Debian's
redis-server, tests/redis_cluster.py) and stopped at the end. The corpus is fingerprinted once, chunk by chunk,
and every chunk is stored in both backends; only the storing is timed (inserts: segments and documents per
second). Queries: postings lookups of the submissions' sentences, one call per sentence (19 band keys: what
datasketch's LSH query does) and one call per submission (all its sentences: what a scan does). Memory: the
masters' used_memory grown by the corpus (replicas hold as much again), against the SQLite file size.
Batch scans: 1, 2 and 4 processes each scanning its share of the submissions, whole scans (submissions/s).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.speed import corpora

REPO = Path(__file__).resolve().parents[1]
CHUNK = 250  # documents fingerprinted and stored per round


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--target", help="an existing cluster: redis://HOST:PORT/NAME (NAME must be unused)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if reason := corpora.skip_reason():
        print(f"skipped: {reason}")
        return
    with tempfile.TemporaryDirectory(prefix="chachong-redis-bench-") as folder:
        cluster = None if args.target else _start_cluster(Path(folder))
        target = args.target or cluster.url(f"bench{uuid.uuid4().hex[:8]}")
        try:
            figures = run(target, Path(folder) / "corpus.db", args.docs, args.submissions)
        finally:
            if cluster:
                cluster.stop()
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")


def _start_cluster(folder: Path):
    sys.path.insert(0, str(REPO / "tests"))
    from redis_cluster import RedisCluster

    return RedisCluster(folder / "cluster").start()


def run(target: str, sqlite_path: Path, n_docs: int, n_submissions: int) -> dict:
    from detector.settings import DEFAULT
    from detector.store import open_store

    stores = {"redis": open_store(target, create=True), "sqlite": open_store(sqlite_path, create=True)}
    memory_before = stores["redis"].link.memory()
    wanted = corpora.source_indices(n_docs, n_submissions * len(corpora.PASSAGE_LENGTHS))
    sources: list = []
    figures = {"documents": 0, "characters": 0, "segments": 0, "store_seconds": {name: 0.0 for name in stores}}
    for store in stores.values():
        store.ensure_signature(DEFAULT.index_signature(), explicit=False)
    docs = corpora.tap(corpora.report_docs(n_docs), wanted, sources)
    while chunk := list(itertools.islice(docs, CHUNK)):
        _store_chunk(stores, chunk, figures)
    figures["bytes"] = {"redis_masters": stores["redis"].link.memory() - memory_before,
                        "sqlite_file": stores["sqlite"].stats()["database_bytes"]}
    for store in stores.values():
        store.close()
    submissions = corpora.make_submissions(sources, n_submissions)
    figures["queries"] = {name: _queries(target if name == "redis" else str(sqlite_path), submissions) for name in stores}
    figures["batch_scan"] = {name: {p: _parallel_scans(target if name == "redis" else str(sqlite_path), submissions, p)
                                    for p in (1, 2, 4)} for name in stores}
    return _summary(figures)


def _store_chunk(stores: dict, chunk: list, figures: dict) -> None:
    from detector.index import index_entries
    from detector.model import Document
    from detector.settings import DEFAULT
    import hashlib

    docs = [Document(path=d.label, text=d.text, sha256=hashlib.sha256(d.text.encode()).hexdigest(), encoding="utf-8")
            for d in chunk]
    entries = index_entries(docs, DEFAULT)
    for name, store in stores.items():
        began = time.perf_counter()
        with store.writing():
            store.insert_documents(entries)
        figures["store_seconds"][name] += time.perf_counter() - began
    figures["documents"] += len(docs)
    figures["characters"] += sum(len(d.text) for d in docs)
    figures["segments"] += sum(len(e.keys) for e in entries)


def _queries(target: str, submissions: list) -> dict:
    """Postings lookups per second: sentence by sentence, and a whole submission at a time."""
    from detector.fingerprint import fingerprint
    from detector.settings import DEFAULT
    from detector.store import open_store

    store = open_store(target)
    keys = [fingerprint(s.text, DEFAULT).keys for s in submissions]
    sentences = sum(len(k) for k in keys)
    began = time.perf_counter()
    with store.reading():
        for submission in keys:
            for row in submission.tolist():
                store.postings(row, DEFAULT.hot_key_postings)
    one_by_one = time.perf_counter() - began
    began = time.perf_counter()
    with store.reading():
        for submission in keys:
            store.postings(sorted(set(submission.ravel().tolist())), DEFAULT.hot_key_postings)
    batched = time.perf_counter() - began
    store.close()
    return {"sentences": sentences, "per_sentence_per_s": sentences / one_by_one, "batched_sentences_per_s": sentences / batched,
            "batched_ms_per_submission": 1000 * batched / len(keys)}


def _parallel_scans(target: str, submissions: list, processes: int) -> dict:
    """Whole scans by `processes` processes, each opening the corpus and scanning its share of the submissions."""
    texts = [s.text for s in submissions]
    shares = [texts[i::processes] for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    began = time.perf_counter()
    with context.Pool(processes) as pool:
        latencies = pool.starmap(_scan_share, [(target, share) for share in shares])
    seconds = time.perf_counter() - began
    flat = [x for share in latencies for x in share]
    return {"submissions_per_s": len(texts) / seconds, "p50_ms": 1000 * statistics.median(flat), "seconds": seconds}


def _scan_share(target: str, texts: list) -> list:
    from detector import api

    with api.open_corpus(target) as corpus:
        api.scan_text(corpus, texts[0][:2000], "warm-up.txt")
        latencies = []
        for n, text in enumerate(texts):
            began = time.perf_counter()
            api.scan_text(corpus, text, f"sub{n}.txt")
            latencies.append(time.perf_counter() - began)
    return latencies


def _summary(figures: dict) -> dict:
    out = {k: figures[k] for k in ("documents", "characters", "segments")}
    for name, seconds in figures["store_seconds"].items():
        out[f"{name}_insert_segments_per_s"] = figures["segments"] / seconds
        out[f"{name}_insert_documents_per_s"] = figures["documents"] / seconds
    out["redis_bytes_per_char_masters"] = figures["bytes"]["redis_masters"] / figures["characters"]
    out["sqlite_bytes_per_char"] = figures["bytes"]["sqlite_file"] / figures["characters"]
    out["redis_bytes_per_segment_masters"] = figures["bytes"]["redis_masters"] / figures["segments"]
    out["queries"] = figures["queries"]
    out["batch_scan"] = figures["batch_scan"]
    return out


if __name__ == "__main__":
    main()
