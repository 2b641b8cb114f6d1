"""One suite for every storage backend: each implements the Store interface and gives the same scan results.

A backend joins by adding a fixture name to BACKENDS (the Redis Cluster backend adds its own, skipped where no
redis-server is installed).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from detector import api
from detector.corpus import Corpus
from detector.fingerprint import layout_of
from detector.index import index_entries
from detector.model import DocumentMeta
from detector.report.json_report import report_dict
from detector.settings import DEFAULT
from detector.store import open_store, memory_store

BACKENDS = ["sqlite_store", "memory_backend"]


@pytest.fixture
def sqlite_store(tmp_path):
    store = open_store(tmp_path / "corpus.db", create=True)
    yield store
    store.close()


@pytest.fixture
def memory_backend():
    return memory_store()


@pytest.fixture(params=BACKENDS)
def store(request):
    store = request.getfixturevalue(request.param)
    store.ensure_signature(DEFAULT.index_signature(), explicit=False)
    return store


def _docs(seeds, count=5):
    return [api.document_from_text(p.read_text(encoding="utf-8"), str(p), DocumentMeta(author=f"作者{n}", year=2020 + n))
            for n, p in enumerate(seeds[:count])]


def _insert(store, docs):
    with store.writing():
        return store.insert_documents(index_entries(docs, DEFAULT, workers=1))


def test_documents_come_back_as_stored_with_their_layouts(store, seeds):
    docs = _docs(seeds)
    ids = _insert(store, docs)
    assert len(set(ids)) == 5 and store.document_count() == 5
    for doc, doc_id in zip(docs, ids):
        stored = store.document(doc_id)
        assert (stored.text, stored.path, stored.sha256, stored.meta.author) == (doc.text, doc.path, doc.sha256, doc.meta.author)
        assert store.document_id_by_sha(doc.sha256) == doc_id and store.document_ids_by_path(doc.path) == [doc_id]
        _, layout = store.layouts([doc_id])[doc_id]
        fresh = layout_of(doc.text, DEFAULT)
        assert layout.content == fresh.content
        assert np.array_equal(layout.starts, fresh.starts) and np.array_equal(layout.ends, fresh.ends)
        assert np.array_equal(layout.lengths, fresh.lengths) and np.array_equal(layout.sentences, fresh.sentences)
    assert [row[0] for row in store.documents()] == sorted(ids)


def test_postings_name_the_document_and_segment_that_carry_each_key(store, seeds):
    docs = _docs(seeds, 3)
    ids = _insert(store, docs)
    entries = index_entries(docs, DEFAULT, workers=1)
    doc_id, keys = ids[1], entries[1].keys
    found = store.postings(sorted(set(keys[7].tolist())), cap=1000)
    for key in keys[7].tolist():
        pairs = {tuple(p) for p in found.of_key(key).tolist()}
        assert (doc_id, 7) in pairs and found.counts[key] == len(pairs)
    nothing = store.postings([2**31 - 7], cap=10)
    assert len(nothing.keys) == 0 and nothing.counts == {}


def test_a_hot_key_gives_a_capped_sample_and_its_true_count(store, seeds):
    line = "以上发言，请大家批评指正。"
    docs = [api.document_from_text(f"这是第{n}篇报告的开头部分。{line}", f"d{n}.txt") for n in range(30)]
    _insert(store, docs)
    key = index_entries(docs[:1], DEFAULT, workers=1)[0].keys[-1][0]
    found = store.postings([key], cap=10)
    assert len(found.of_key(key)) == 10 and found.counts[key] == 30


def test_deleting_a_document_takes_its_postings_and_segment_counts(store, seeds):
    docs = _docs(seeds, 3)
    ids = _insert(store, docs)
    entry = index_entries(docs[2:3], DEFAULT, workers=1)[0]
    before = store.segment_document_frequency(entry.hashes)
    assert before and all(n >= 1 for n in before.values())
    with store.writing():
        store.delete_documents([ids[2]])
    after = store.segment_document_frequency(entry.hashes)
    assert all(after.get(h, 0) == n - 1 for h, n in before.items())
    found = store.postings(sorted(set(entry.keys.ravel().tolist())), cap=1000)
    assert ids[2] not in found.pairs[:, 0]
    assert store.document_count() == 2 and store.document_id_by_sha(docs[2].sha256) is None


def test_a_failed_write_changes_nothing(store, seeds):
    _insert(store, _docs(seeds, 2))
    with pytest.raises(RuntimeError):
        with store.writing():
            store.insert_documents(index_entries(_docs(seeds, 4)[2:], DEFAULT, workers=1))
            raise RuntimeError("power cut")
    assert store.document_count() == 2


def test_metadata_paths_and_what_people_said(store, seeds):
    doc_id = _insert(store, _docs(seeds, 1))[0]
    with store.writing():
        store.update_meta(doc_id, DocumentMeta(author="赵四", unit="某局", year=2023, inferred=("unit",)))
        store.move_document(doc_id, "/archive/赵四.txt")
        store.remember_given_meta([("sha", "/archive/赵四.txt", DocumentMeta(author="赵四"))], "meta")
    ref = store.source_ref(doc_id)
    assert (ref.path, ref.author, ref.unit, ref.year) == ("/archive/赵四.txt", "赵四", "某局", 2023)
    assert store.document_metas()[doc_id].inferred == ("unit",)
    assert [row[:4] for row in store.given_meta_rows(["sha"])] == [("sha", "/archive/赵四.txt", "author", "赵四")]


def test_scan_history_round_trip(store):
    scan_id = store.record_scan({"started_at": "2026-11-29T10:00:00+08:00", "seconds": 1.5, "paths": ["a/"], "settings": {},
                                 "options": {}, "files": 1, "failed": 0, "max_copy_ratio": 0.5, "corpus_documents": 3,
                                 "clusters": [], "rechecks": None}, [])
    assert [s["id"] for s in store.scans()] == [scan_id]
    assert store.scan_record(scan_id) is not None and store.scan_record(scan_id + 99) is None


def test_every_backend_finds_the_same_passages(store, seeds, planted):
    _insert(store, _docs(seeds))
    text, _ = planted
    corpus = Corpus(store, DEFAULT)
    report = api.scan_text(corpus, text, "submission.txt")
    with api.open_corpus(":memory:", create=True) as reference:
        api.add_documents(reference, _docs(seeds))
        expected = api.scan_text(reference, text, "submission.txt")
    assert report.passages and _passages(report) == _passages(expected)


def _passages(report) -> str:
    found = report_dict(report)["passages"]
    return json.dumps([{k: p[k] for k in ("kind", "submission_span", "source_span", "similarity")} | {"source": p["source"]["path"]}
                       for p in found], ensure_ascii=False)
