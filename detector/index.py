"""Documents → index entries (layout, band keys, segment hashes), fingerprinted in worker processes on every core."""

from __future__ import annotations

import collections
import contextlib
import itertools
import os

from detector.errors import WorkerLost
from detector.fingerprint import fingerprint
from detector.layout import encode as encode_layout
from detector.layout import encode_contents
from detector.settings import Settings
from detector.shingles import bigram_set_sizes
from detector.store.base import IndexEntry

PARALLEL_MIN_CHARS = 200_000  # below this much text, starting worker processes costs more than it saves


def index_entries(docs: list, settings: Settings, workers: int | None = None, to_store: bool = False) -> list[IndexEntry]:
    """The IndexEntry of each document, in order; large batches are fingerprinted by one worker process per core.
    `to_store`: entries only to be written, whose layouts workers may send back in their stored form only."""
    workers = workers or os.cpu_count() or 1
    if workers < 2 or sum(len(doc.text) for doc in docs) < PARALLEL_MIN_CHARS:
        return [IndexEntry(doc, *signed_text(doc.text, settings)) for doc in docs]
    with worker_pool(workers) as pool:
        return _entries(docs, _submitted(pool, _signed_for_storage if to_store else signed_text, docs, settings))


def indexed_batches(batches, settings: Settings, documents=lambda batch: batch, workers: int | None = None):
    """(batch, IndexEntry of each of its documents) for each batch, in order, while the next batch is already being
    fingerprinted: the caller stores one batch (SQLite writes, one core) while worker processes fingerprint the next.

    `documents(batch)` gives a batch's documents to fingerprint. One pool of workers serves every batch, forked
    before the first is handed out (so before the caller's write transaction or any thread of it). A single batch
    of little text is fingerprinted here: starting workers would cost more than it saves.
    """
    batches = iter(batches)
    ahead = list(itertools.islice(batches, 2))
    small = sum(len(doc.text) for batch in ahead for doc in documents(batch)) < PARALLEL_MIN_CHARS
    if small:  # perhaps all there is: look one batch further
        ahead += itertools.islice(batches, 1)
        small = len(ahead) <= 2
    workers = workers or os.cpu_count() or 1
    if workers < 2 or small:
        for batch in itertools.chain(ahead, batches):
            yield batch, index_entries(documents(batch), settings, workers=1)
        return
    with worker_pool(workers) as pool:  # the caller stopped early (an error storing a batch): the rest is not done
        in_flight = collections.deque()
        for batch in itertools.chain(ahead, batches):
            in_flight.append((batch, _submitted(pool, _signed_for_storage, documents(batch), settings)))
            if len(in_flight) > 1:  # keep one batch submitted beyond the one handed out
                done, results = in_flight.popleft()
                yield done, _entries(documents(done), results)
        while in_flight:
            done, results = in_flight.popleft()
            yield done, _entries(documents(done), results)


@contextlib.contextmanager
def worker_pool(workers: int):
    """Forked worker processes that end with the process that made them (see _end_with_parent), for the block; left
    early (an error, Ctrl-C), the work not yet begun is cancelled, not done first."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_end_with_parent,
                               initargs=(os.getpid(),))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _end_with_parent(parent: int) -> None:
    """In a worker: be killed when the adding process ends, however it ends (`kill`, the out-of-memory killer).
    Otherwise the worker waits forever for work and keeps the writer lock's file it inherited open, so that every
    later add says the index is being written (Linux's parent-death signal; elsewhere nothing is asked)."""
    import ctypes
    import signal

    try:
        set_parent_death_signal = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return
    set_parent_death_signal(1, ctypes.c_ulong(signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the adding process ended before the signal was asked for
        os._exit(1)


def _submitted(pool, work, docs: list, settings: Settings):
    """The results of `work` for each document, as the pool's workers make them (in order)."""
    return pool.map(work, [doc.text for doc in docs], [settings] * len(docs), chunksize=4)


def _entries(docs: list, results) -> list[IndexEntry]:
    """The IndexEntry of each document from its worker's result; a worker that died is one line (WorkerLost)."""
    with lost_workers("a worker process fingerprinting documents ended before it answered (out of memory, or killed): "
                      "nothing of the documents it had was written; run the same command again, with fewer files at a "
                      "time if memory is short"):
        return [IndexEntry(doc, *result) for doc, result in zip(docs, results)]


@contextlib.contextmanager
def lost_workers(message: str):
    """A worker of worker_pool that died (the out-of-memory killer, `kill`) is one line, `message`, not a traceback."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        yield
    except BrokenProcessPool:
        raise WorkerLost(message) from None


def _signed_for_storage(text: str, settings: Settings) -> tuple:
    """(None, band keys, segment hashes, the layout's stored form, its segment contents' stored form): what a store
    writes, a twentieth of the bytes the layout's arrays take to send back (the process storing batches, the
    pipeline's slowest stage, unpickles less)."""
    layout, keys, hashes = signed_text(text, settings)
    return None, keys, hashes, encode_layout(layout, text), encode_contents(layout)


def signed_text(text: str, settings: Settings) -> tuple:
    """(layout, band keys, segment hashes) of one text, the rest of its IndexEntry: the work a worker process does."""
    fp = fingerprint(text, settings)
    if settings.shingling == "char2":  # stored with the layout, so that no scan has to count them
        fp.layout.set_sizes = bigram_set_sizes(fp)
    return fp.layout, fp.keys, fp.hashes
