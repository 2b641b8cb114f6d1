"""Documents → index entries (layout, band keys, segment hashes), fingerprinted in worker processes on every core."""

from __future__ import annotations

import os

from detector.fingerprint import fingerprint
from detector.settings import Settings
from detector.shingles import bigram_set_sizes
from detector.store.base import IndexEntry

PARALLEL_MIN_CHARS = 200_000  # below this much text, starting worker processes costs more than it saves


def index_entries(docs: list, settings: Settings, workers: int | None = None) -> list[IndexEntry]:
    """The IndexEntry of each document, in order; large batches are fingerprinted by one worker process per core."""
    workers = workers or os.cpu_count() or 1
    if workers < 2 or sum(len(doc.text) for doc in docs) < PARALLEL_MIN_CHARS:
        return [IndexEntry(doc, *_signed(doc.text, settings)) for doc in docs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        results = pool.map(_signed, [doc.text for doc in docs], [settings] * len(docs), chunksize=4)
        return [IndexEntry(doc, *result) for doc, result in zip(docs, results)]


def _signed(text: str, settings: Settings) -> tuple:
    """(layout, band keys, segment hashes) of one text: the work a worker process does."""
    fp = fingerprint(text, settings)
    if settings.shingling == "char2":  # stored with the layout, so that no scan has to count them
        fp.layout.set_sizes = bigram_set_sizes(fp)
    return fp.layout, fp.keys, fp.hashes
