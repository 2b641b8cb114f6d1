"""One suite for every storage backend: each implements the Store interface and gives the same scan results.

A backend joins by adding a fixture name to BACKENDS (the Redis Cluster backend adds its own, skipped where no
redis-server is installed).
"""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest

from detector import api
from detector.corpus import Corpus
from detector.fingerprint import layout_of
from detector.index import index_entries
from detector.errors import IndexLocked
from detector.metadata import GivenMeta
from detector.model import DocumentMeta
from detector.report.json_report import report_dict
from detector.settings import DEFAULT
from detector.store import open_store, memory_store

BACKENDS = ["sqlite_store", "memory_backend", "redis_cluster_store", "redis_server_store"]


@pytest.fixture
def sqlite_store(tmp_path):
    store = open_store(tmp_path / "corpus.db", create=True)
    yield store
    store.close()


@pytest.fixture
def memory_backend():
    return memory_store()


@pytest.fixture
def redis_cluster_store(redis_cluster):
    """A fresh corpus namespace on the session's 3-master, 3-replica cluster (skipped without redis-server)."""
    store = open_store(redis_cluster.url(f"t{uuid.uuid4().hex[:12]}"), create=True)
    yield store
    store.close()


@pytest.fixture
def redis_server_store(redis_server):
    """A fresh corpus namespace on the session's standalone Redis server."""
    store = open_store(f"redis://{redis_server.address}/t{uuid.uuid4().hex[:12]}", create=True)
    yield store
    store.close()


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


# ---------------------------------------------------------------- beyond the basics: what a shared or distributed index needs
@pytest.fixture(scope="module")
def entries(seeds):
    return index_entries(_docs(seeds), DEFAULT, workers=1)


def _expected_postings(entries, ids) -> dict:
    """band key → sorted (document, segment) pairs, computed from the entries themselves."""
    expected: dict = {}
    for doc_id, entry in zip(ids, entries):
        for segment, row in enumerate(np.asarray(entry.keys).tolist()):
            for key in set(row):
                expected.setdefault(key, set()).add((doc_id, segment))
    return {k: sorted(v) for k, v in expected.items()}


def _write(store, entries) -> list[int]:
    with store.writing():
        return store.insert_documents(entries)


def _df(store, entries) -> dict:
    return store.segment_document_frequency({h for e in entries for h in e.hashes})


def test_postings_are_exactly_the_pairs_inserted_and_a_sample_is_the_first_ones(store, entries):
    ids = _write(store, entries)
    expected = _expected_postings(entries, ids)
    keys = list(expected)[::5]
    found = store.postings(keys, cap=10_000)
    for key in keys:
        assert sorted(map(tuple, found.of_key(key).tolist())) == expected[key] and found.counts[key] == len(expected[key])
    hot = max(expected, key=lambda k: len(expected[k]))
    sample = store.postings([hot], cap=2)
    assert len(expected[hot]) > 2 and list(map(tuple, sample.of_key(hot).tolist())) == expected[hot][:2]


def test_postings_read_between_writes_follow_every_write(store, entries):
    """A store that keeps its postings in a lookup form between reads must drop it on every change."""
    first = _write(store, entries[:2])
    keys = list(_expected_postings(entries, range(len(entries))))
    assert store.postings(keys, 10_000).counts == {k: len(v) for k, v in _expected_postings(entries[:2], first).items() if k in keys}
    more = _write(store, entries[2:])
    expected = _expected_postings(entries, first + more)
    found = store.postings(keys, 10_000)
    assert {k: sorted(map(tuple, found.of_key(k).tolist())) for k in keys} == {k: expected[k] for k in keys}
    with pytest.raises(RuntimeError), store.writing():
        store.delete_documents(more)
        raise RuntimeError("a write that fails halfway")
    assert store.postings(keys, 10_000).counts == found.counts
    with store.writing():
        store.delete_documents(first)
    left = _expected_postings(entries[2:], more)
    assert store.postings(keys, 10_000).counts == {k: len(v) for k, v in left.items() if k in keys}


def test_segment_frequencies_and_totals(store, entries):
    _write(store, entries)
    wanted: dict = {}
    for entry in entries:
        for h in set(entry.hashes):
            wanted[h] = wanted.get(h, 0) + 1
    assert _df(store, entries) == wanted
    assert store.segment_total() == sum(len(e.keys) for e in entries)


def test_removing_documents_restores_the_previous_index(store, entries):
    _write(store, entries[:3])
    keys = list(_expected_postings(entries, range(len(entries))))
    before = (store.postings(keys, 10_000).counts, _df(store, entries), store.segment_total(), store.document_count())
    new_ids = _write(store, entries[3:])
    with store.writing():
        store.delete_documents(new_ids)
    after = (store.postings(keys, 10_000).counts, _df(store, entries), store.segment_total(), store.document_count())
    assert after == before
    assert store.document_id_by_sha(entries[4].document.sha256) is None and store.layouts(new_ids) == {}
    assert store.problems() == []


def test_a_failed_write_block_leaves_postings_counts_and_documents_as_they_were(store, entries):
    ids = _write(store, entries[:2])
    keys = list(_expected_postings(entries, range(len(entries))))
    before = (store.postings(keys, 10_000).counts, _df(store, entries), store.documents())
    with pytest.raises(RuntimeError):
        with store.writing():
            store.insert_documents(entries[2:])
            store.delete_documents(ids[:1])
            raise RuntimeError("disk full")
    assert (store.postings(keys, 10_000).counts, _df(store, entries), store.documents()) == before
    assert store.index_problems() == []


def test_a_cleared_index_refilled_counts_only_the_new_documents(store, entries):
    _write(store, entries)
    with store.writing():
        store.replace_file_states({"a/张三.txt": (10, 20, "ab")})
        store.clear_index()
        ids = store.insert_documents(entries[:2])
        store.recount_segment_df()
    assert [i for i, _, _ in store.documents()] == ids and store.document_count() == 2
    assert store.segment_total() == sum(len(e.keys) for e in entries[:2])
    assert store.file_states() == {"a/张三.txt": (10, 20, "ab")}
    assert store.meta()["index"] == DEFAULT.index_signature()
    assert store.index_problems() == []


def test_a_cleared_index_refilled_under_given_ids_keeps_them_and_never_gives_an_old_one_again(store, entries):
    """A full rebuild stores each document under the id it had; new ones get ids above every id given before."""
    ids = _write(store, entries[:4])
    with store.writing():
        store.delete_documents(ids[3:])  # id 4 was given, and is never given again
    with store.writing():
        store.clear_index()
        again = store.insert_documents(entries[:3], [ids[2], None, ids[0]])
        later = store.insert_documents(entries[4:], None)
        store.recount_segment_df()
    assert again[0] == ids[2] and again[2] == ids[0] and again[1] > ids[3] and later[0] > again[1]
    assert sorted(i for i, _, _ in store.documents()) == sorted(again + later)
    assert store.document(ids[2]).path == entries[0].document.path
    assert store.document(ids[0]).path == entries[2].document.path
    expected = _expected_postings(entries[:3] + entries[4:], again + later)  # the postings name the ids given
    found = store.postings(list(expected), 10_000)
    assert {k: sorted(map(tuple, found.of_key(k).tolist())) for k in expected} == expected
    assert store.index_problems() == []


def test_a_second_writer_is_refused_at_once(store):
    if store.location == ":memory:":
        pytest.skip("an in-memory store has one writer by construction")
    other = open_store(store.location)
    try:
        with store.writer_lock("rebuild"):
            with pytest.raises(IndexLocked, match="rebuild"):
                with other.writer_lock("add"):
                    pass
        with other.writer_lock("add"):
            pass
    finally:
        other.close()


def test_a_reader_learns_that_another_process_changed_the_index(store, entries):
    if store.location == ":memory:":
        pytest.skip("an in-memory store has no other process")
    other = open_store(store.location)
    try:
        with other.reading():
            pass
        _write(store, entries[:1])
        with other.reading() as state:
            assert state.changed
        with other.reading() as state:
            assert not state.changed
    finally:
        other.close()


def test_a_removed_documents_id_is_never_given_again(store, seeds):
    """People write ids down (`meta 3`, `remove 3`, the archive page's links): a later document must not take one."""
    docs = _docs(seeds)
    first = _insert(store, docs[:3])
    with store.writing():
        store.delete_documents([first[-1]])
    later = _insert(store, docs[3:4])
    assert later[0] not in first


def test_metadata_people_gave_is_kept_by_content_and_by_path(store):
    said = [("sha-a", "甲/报告.txt", DocumentMeta(author="张三", year=2021, unit="某局", inferred=("unit",)))]
    with store.writing():
        assert store.remember_given_meta(said, "manifest") == 2
    assert store.given_meta_unchanged(said, "manifest")
    with store.writing():
        assert store.remember_given_meta(said, "manifest") == 0
        assert store.remember_given_meta([("sha-a", "甲/报告.txt", DocumentMeta(author="李四"))], "meta") == 1
    rows = store.given_meta_rows()
    assert [(r[2], r[3]) for r in rows] == [("author", "张三"), ("year", 2021), ("author", "李四")]
    assert store.given_meta_rows(paths=["甲/报告.txt"]) == rows == store.given_meta_rows(shas=["sha-a"])
    assert store.given_meta_rows(shas=["sha-b"], paths=["乙.txt"]) == []


def test_a_repeated_statement_keeps_its_place_and_a_correction_said_again_is_news(store):
    def latest_author() -> str:
        return GivenMeta(store.given_meta_rows()).fields("sha-a", "甲.txt")["author"]

    def say(author: str, origin: str) -> int:
        with store.writing():
            return store.remember_given_meta([("sha-a", "甲.txt", DocumentMeta(author=author))], origin)

    say("张三", "add")  # add read a manifest
    assert say("李四", "meta") == 1  # a person corrects it
    assert say("张三", "manifest") == 1 and latest_author() == "李四"  # the same manifest read at night: no news
    assert say("王五", "manifest") == 1 and latest_author() == "王五"  # the manifest changed: news
    assert say("李四", "meta") == 1 and latest_author() == "李四"  # the person says it again: news again
    assert say("王五", "manifest") == 0 and latest_author() == "李四"


def test_scan_history_keeps_the_reports_rows(store):
    scan = {"started_at": "2026-01-01T00:00:00+00:00", "seconds": 1.5, "paths": ["报告.txt"], "settings": {"a": 1},
            "options": {}, "files": 1, "failed": 0, "max_copy_ratio": 0.5, "corpus_documents": 3, "clusters": [],
            "rechecks": None}
    reports = [{"position": 0, "path": "报告.txt", "sha256": "x", "encoding": "utf-8", "format": "txt", "text": "正文",
                "copy_ratio": 0.5, "error": None, "report": {"passages": []}, "peers": []}]
    first = store.record_scan(scan, reports)
    second = store.record_scan({**scan, "rechecks": first}, reports)
    assert [s["id"] for s in store.scans()] == [second, first]
    recorded, rows = store.scan_record(first)
    assert recorded["paths"] == ["报告.txt"] and recorded["settings"] == {"a": 1} and rows == reports
