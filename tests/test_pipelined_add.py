"""Adding in batches while worker processes fingerprint the next one: the same index as one batch at a time, duplicates
found across batches, and a failed batch stops the rest."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest

from detector import api, index
from detector.errors import WorkerLost
from detector.index import index_entries, indexed_batches
from detector.ingest import read_document
from detector.settings import DEFAULT
from store_faults import fail_second_insert


@pytest.fixture(scope="module")
def documents(seeds):
    return [read_document(path) for path in seeds]


def test_batches_come_out_in_order_with_the_entries_made_one_by_one(documents):
    batches = [documents[:2], documents[2:3], [], documents[3:]]
    got = list(indexed_batches(iter(batches), DEFAULT, workers=2))
    assert [batch for batch, _ in got] == batches
    for batch, entries in got:
        alone = index_entries(batch, DEFAULT, workers=1)
        assert [e.document for e in entries] == batch
        assert all(np.array_equal(a.keys, b.keys) and a.hashes == b.hashes
                   and a.stored_layout() == b.stored_layout() for a, b in zip(entries, alone))


def test_the_next_batch_is_read_before_this_one_is_handed_out(documents):
    """One batch ahead: its fingerprinting runs while the caller stores this one (what makes adding use both cores)."""
    read = []

    def batches():
        for n in range(3):
            read.append(n)
            yield documents[n : n + 1]

    handed = []
    for batch, _ in indexed_batches(batches(), DEFAULT, workers=2):
        handed.append(batch)
        assert len(read) >= min(len(handed) + 1, 3)


def test_a_little_text_in_two_batches_starts_no_workers(documents, monkeypatch):
    def no_pool(workers):
        raise AssertionError("workers started for a few reports")

    monkeypatch.setattr(index, "worker_pool", no_pool)
    got = list(indexed_batches([documents[:3], []], DEFAULT, workers=2))  # 100 small files: a batch, then an empty one
    assert [len(entries) for _, entries in got] == [3, 0]
    monkeypatch.setattr(index, "PARALLEL_MIN_CHARS", 0)
    with pytest.raises(AssertionError, match="workers started"):
        list(indexed_batches([documents[:3], []], DEFAULT, workers=2))


def _signer_dying_on_marked_text(text, settings):
    if "【DIE】" in text:
        os._exit(3)  # as the out-of-memory killer ends a worker
    return index.signed_text(text, settings)[:3] + (None,)


def test_a_worker_that_dies_is_one_line_and_the_earlier_batches_stay(tmp_path, documents, monkeypatch):
    monkeypatch.setattr(index, "_signed_for_storage", _signer_dying_on_marked_text)
    doomed = documents[4].__class__(**{**documents[4].__dict__, "text": documents[4].text + "【DIE】", "sha256": "f" * 64})
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        stored = []
        with pytest.raises(WorkerLost) as caught:
            for docs, _ in api.add_batches(corpus, [documents[:2], documents[2:4], [doomed]]):
                stored.append(len(docs))
        assert corpus.store.document_count() == sum(stored) and stored
    assert "\n" not in str(caught.value) and "run the same command again" in str(caught.value)


def test_a_copy_in_a_later_batch_is_a_duplicate_of_the_first(tmp_path, documents):
    copy = documents[0].__class__(**{**documents[0].__dict__, "path": "elsewhere/copy.txt", "id": None})
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        stored = list(api.add_batches(corpus, [documents[:2], [copy, documents[2]]]))
        assert corpus.store.document_count() == 3
    first_id = stored[0][1][0][1]
    assert [status for _, outcomes in stored for status, _ in outcomes] == ["added", "added", "duplicate", "added"]
    assert stored[1][1][0] == ("duplicate", first_id)


def test_a_batch_that_fails_keeps_the_earlier_ones_and_stores_no_later_one(tmp_path, documents, monkeypatch):
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        calls = fail_second_insert(monkeypatch, corpus.store, sqlite3.OperationalError("database or disk is full"))
        batches = [documents[:1], documents[1:2], documents[2:3], documents[3:]]
        with pytest.raises(sqlite3.OperationalError):
            for _ in api.add_batches(corpus, batches):
                pass
        assert calls == [1, 1] and corpus.store.document_count() == 1
        assert corpus.store.document_id_by_sha(documents[0].sha256) is not None


def test_entries_sent_back_in_their_stored_form_store_the_same_bytes(documents, monkeypatch):
    from detector import index

    monkeypatch.setattr(index, "PARALLEL_MIN_CHARS", 0)  # workers even for a few reports
    sent = index_entries(documents, DEFAULT, workers=2, to_store=True)
    made_here = index_entries(documents, DEFAULT, workers=1)
    assert all(entry.layout is None for entry in sent)
    assert [e.stored_layout() for e in sent] == [e.stored_layout() for e in made_here]
    decoded, original = sent[0].full_layout(), made_here[0].layout
    assert decoded.content == original.content and np.array_equal(decoded.starts, original.starts)
    assert np.array_equal(decoded.ends, original.ends) and np.array_equal(decoded.lengths, original.lengths)


ADDING_THEN_KILLED = """
import multiprocessing
import os
import sys
from detector import api
from detector.ingest import read_document

paths = sys.argv[2:]
docs = [read_document(path) for path in paths]
os.cpu_count = lambda: 2  # two worker processes on any machine
with api.open_corpus(sys.argv[1], create=True) as corpus, corpus.store.writer_lock("add"):
    adding = api.add_batches(corpus, [docs[:1], docs[1:3], docs[3:]])
    next(adding)  # the worker processes are forked and one batch is stored
    print(*(worker.pid for worker in multiprocessing.active_children()), flush=True)
    sys.stdin.read()  # killed here, as `kill PID` or the out-of-memory killer ends an add
"""


def test_an_add_killed_midway_leaves_no_workers_holding_the_writer_lock(tmp_path, seeds):
    """The worker processes end with the add that forked them: an orphan would keep the index's writer lock (it
    inherited the lock's open file), and every later add would stop with "another `chachong add` is writing"."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time

    from detector.errors import IndexLocked

    db = tmp_path / "c.db"
    adding = subprocess.Popen([sys.executable, "-c", ADDING_THEN_KILLED, str(db), *map(str, seeds)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    workers = [int(pid) for pid in adding.stdout.readline().split()]
    adding.kill()
    adding.wait()
    try:
        assert len(workers) == 2
        deadline = time.monotonic() + 10
        with api.open_corpus(db) as corpus:
            while True:
                try:
                    with corpus.store.writer_lock("add"):
                        break
                except IndexLocked:
                    assert time.monotonic() < deadline, "the killed add's worker processes still hold the writer lock"
                    time.sleep(0.1)
            assert corpus.store.document_count() == 1
    finally:  # what a failure left behind
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_add_says_what_stayed_added_when_a_worker_dies(tmp_path, documents, monkeypatch):
    monkeypatch.setattr(index, "_signed_for_storage", _signer_dying_on_marked_text)
    folder = tmp_path / "archive"
    folder.mkdir()
    for n in range(230):  # three batches of 100 files; the last file's worker dies
        text = documents[n % len(documents)].text + f"\n第{n}号。" + ("【DIE】" if n == 229 else "")
        (folder / f"{n:03d}.txt").write_text(text, encoding="utf-8")
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        with pytest.raises(WorkerLost) as caught:
            api.add_paths(corpus, [folder])
        kept = corpus.store.document_count()
    assert kept in (100, 200) and f"the {kept} files added before stay added" in str(caught.value)


def test_an_add_keeps_no_document_it_has_stored(tmp_path, seeds):
    """Only the ids of stored contents are remembered (to tell later copies), not the documents: kept, every text of
    an add of 10^5 reports stayed in memory. A copy in a later batch is still a duplicate of the first. (The first
    few batches, read ahead to see whether workers pay, stay referenced: a bounded few.)"""
    import gc
    import weakref

    from detector import api

    docs = [api.document_from_text(p.read_text(encoding="utf-8"), p.name) for p in seeds[:5]]
    watched = weakref.ref(docs[3])
    batches = iter([[doc] for doc in docs] + [[api.document_from_text(seeds[3].read_text(encoding="utf-8"), "copy.txt")]])
    del docs
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        outcomes = []
        for stored, done in api.add_batches(corpus, batches):
            outcomes.append([status for status, _ in done])
            del stored
            if len(outcomes) == 6:  # the add still running: the fourth batch is stored and let go
                gc.collect()
                assert watched() is None
    assert outcomes == [["added"]] * 5 + [["duplicate"]]
