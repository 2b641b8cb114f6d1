"""chachong behind the benchmark's engine interface: bulk indexing into SQLite, warm and fresh-process scans, and a batch
in a process of its own (`python -m benchmarks.speed.chachong batch DB FOLDER WORKERS` prints its JSON)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

from benchmarks.speed.baselines import Hit
from benchmarks.speed.corpora import REPO, CorpusDoc
from benchmarks.speed.measure import installed_environment

BATCH_DOCS = 500  # documents per transaction (api.add_batches, as `chachong add` does with its batches)


def _rate(batches: list) -> float:
    """Characters per second over (documents, characters, seconds) batches."""
    return sum(chars for _, chars, _ in batches) / max(sum(seconds for _, _, seconds in batches), 1e-9)


def remove_database(path: Path) -> None:
    """Delete a database and its WAL/SHM companions."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def database_bytes(path: Path) -> int:
    """Size on disk of a database, WAL included."""
    return sum(Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists())


class Chachong:
    """The detector under test, through its public api module only."""

    name = "chachong"

    def __init__(self, db_path: Path, settings=None, time_limit: float = float("inf")):
        self.db_path = Path(db_path)
        self.settings = settings
        self.time_limit = time_limit  # indexing stops at the first batch boundary past this many seconds
        self.batches = []  # (documents, characters, seconds) of every batch, from the previous one stored to this one
        self.corpus = None

    def build(self, docs: Iterable[CorpusDoc]) -> None:
        """Index a stream of documents into a new database, BATCH_DOCS per transaction, through api.add_batches: the
        `chachong add` path, where workers fingerprint the next batch while one is written."""
        from detector import api

        remove_database(self.db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with api.open_corpus(str(self.db_path), settings=self.settings, create=True) as corpus:
            stream = iter(docs)

            def batches():
                while time.perf_counter() - started < self.time_limit and (batch := list(itertools.islice(stream, BATCH_DOCS))):
                    yield [api.document_from_text(doc.text, doc.label) for doc in batch]

            began = time.perf_counter()
            for stored, _ in api.add_batches(corpus, batches()):
                now = time.perf_counter()
                self.batches.append((len(stored), sum(len(doc.text) for doc in stored), now - began))
                began = now
            corpus.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def batch_trend(self) -> dict:
        """Indexing throughput (chars/s) of the first and the last quarter of the batches: flat means linear-time
        indexing. Quarters, not single batches: the first batch also waits for the second one's fingerprinting."""
        if not self.batches:
            return {}
        quarter = max(1, len(self.batches) // 4)
        first, last = self.batches[:quarter], self.batches[-quarter:]
        return {"batches": len(self.batches), "quarter": quarter, "first_chars_per_s": _rate(first), "last_chars_per_s": _rate(last)}

    def open(self) -> None:
        from detector import api

        self.corpus = api.open_corpus(str(self.db_path))

    def scan(self, text: str) -> list:
        from detector import api
        from detector.model import COUNTED_KINDS

        report = api.scan_text(self.corpus, text, path="submission.txt")
        return [Hit(p.submission_span[0], p.submission_span[1], p.source.path)
                for p in report.passages if p.kind in COUNTED_KINDS]

    def forget_sources(self) -> None:
        """Empty the corpus's cache of source fingerprints (a scan then pays for every source it aligns)."""
        self.corpus.forget_sources()

    def close(self) -> None:
        if self.corpus is not None:
            self.corpus.close()
            self.corpus = None


def fresh_process_scan(db_path: Path, submission_path: Path) -> dict:
    """Wall time and peak RSS of `python -m detector scan FILE --db DB` as a new process (bytecode cached, as installed)."""
    command = [sys.executable, "-m", "detector", "scan", str(submission_path), "--db", str(db_path)]
    timer = ["/usr/bin/time", "-f", "%M"] if os.path.exists("/usr/bin/time") else []
    started = time.perf_counter()
    done = subprocess.run(timer + command, cwd=REPO, capture_output=True, text=True, env=installed_environment())
    seconds = time.perf_counter() - started
    peak_kib = _last_int(done.stderr) if timer else None
    return {"seconds": seconds, "peak_bytes": peak_kib * 1024 if peak_kib else None, "returncode": done.returncode,
            "error": None if done.returncode in (0, 1, 2) else done.stderr[-400:]}


def _last_int(text: str):
    lines = [line for line in text.strip().splitlines() if line.strip().isdigit()]
    return int(lines[-1]) if lines else None


def fresh_process_batch(db_path: Path, folder: Path, workers: int) -> dict:
    """ms per submission of `api.scan_batch` over `folder` in a new process, as `chachong scan FOLDER` runs it: opening
    the corpus and the batch timed, the interpreter's start-up and imports not (as no baseline's are). A batch run
    inside a long-lived process that has freed much memory forks children that fault in far more pages (the speed
    run's and the interleaved run's own processes: 1.2 GB resident, ~2.5x the page faults, ~1.3x the time)."""
    command = [sys.executable, "-m", "benchmarks.speed.chachong", "batch", str(db_path), str(folder), str(workers)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=installed_environment())
    if done.returncode != 0:
        raise RuntimeError(f"the batch process failed: {done.stderr[-400:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed_batch(db_path: Path, folder: Path) -> dict:
    """fresh_process_batch with the workers `chachong scan FOLDER` starts; refused when a submission could not be read
    (a batch of failures would time as a fast one)."""
    from detector.batch import default_workers

    found = fresh_process_batch(db_path, folder, default_workers())
    if found["errors"]:
        raise RuntimeError(f"{found['errors']} of the {found['reports']} submissions in {folder} could not be read")
    return found


def _batch_here(db_path: str, folder: str, workers: int) -> dict:
    """The timed batch of fresh_process_batch, in this process (with the allocator settings the command uses)."""
    from detector import api
    from detector.allocator import keep_freed_memory

    keep_freed_memory()
    started = time.perf_counter()
    with api.open_corpus(db_path) as corpus:
        result = api.scan_batch(corpus, [folder], workers=workers)
    seconds = time.perf_counter() - started
    return {"ms_per_doc": seconds * 1000 / max(len(result.reports), 1), "reports": len(result.reports),
            "errors": sum(1 for r in result.reports if r.error), "workers": workers}


if __name__ == "__main__" and sys.argv[1:2] == ["batch"]:
    print(json.dumps(_batch_here(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
