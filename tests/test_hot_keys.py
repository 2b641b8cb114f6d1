"""hot_keys after adds: exactly what a recount gives, so a scan right after an add counts no postings; and keys whose
postings (cap + 1 each for hot ones) come to more than one SQLite string holds."""

from __future__ import annotations

import shutil
import sqlite3

import numpy as np
import pytest

from detector import api
from detector.index import index_entries
from detector.model import DocumentMeta
from detector.settings import DEFAULT
from detector.store import sqlite_postings
from detector.store.sqlite import HOT_KEY_POSTINGS, SqliteStore

BOILERPLATE = "坚持以人民为中心的发展思想，切实增强“四个意识”、坚定“四个自信”、做到“两个维护”。"


def _report(n: int, boilerplate: bool = True) -> tuple:
    """A short report of its own, carrying the boilerplate sentence when asked (its band keys get hot)."""
    own = f"第{n}号检查材料：本人在{n}年度的工作中，对第{n * 7 % 13}项任务抓得不够实，第{n * 3 % 11}次会议准备不足。"
    text = own + (BOILERPLATE if boilerplate else "") + f"今后要在第{n}个方面加强学习，改进作风编号{n * 31}。"
    return f"report-{n}.txt", text, DocumentMeta()


def _hot_keys(store) -> dict:
    return dict(store.conn.execute("SELECT key, postings FROM hot_keys"))


def _recounted(path, tmp_path) -> dict:
    copy = tmp_path / "recounted.db"
    shutil.copy(path, copy)
    store = SqliteStore(copy)
    with store.writing():
        store.recount_segment_df()
    return _hot_keys(store)


def _per_key(store) -> dict:
    """Every band key's postings, counted from all of them (packed and recent)."""
    keys, counts = np.unique(sqlite_postings.all_postings(store.conn)[0], return_counts=True)
    return dict(zip(keys.tolist(), counts.tolist()))


def _exact(store, key: int) -> int:
    return _per_key(store).get(key, 0)


def _truth(store) -> dict:
    return {key: n for key, n in _per_key(store).items() if n > HOT_KEY_POSTINGS}


def test_an_add_that_makes_keys_hot_lists_them_with_their_exact_counts(tmp_path):
    path = tmp_path / "corpus.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_texts(corpus, [_report(n) for n in range(HOT_KEY_POSTINGS - 1)])
        api.add_text(corpus, *reversed(_report(500)[:2]))  # the boilerplate's keys have HOT_KEY_POSTINGS postings now
        assert _hot_keys(corpus.store) == _truth(corpus.store) and HOT_KEY_POSTINGS + 1 not in _hot_keys(corpus.store).values()
        api.add_text(corpus, *reversed(_report(501)[:2]))  # ... and now one more: hot
        hot = _hot_keys(corpus.store)
        assert hot == _truth(corpus.store) and len([n for n in hot.values() if n == HOT_KEY_POSTINGS + 1]) >= 10
        api.add_texts(corpus, [_report(n) for n in range(100, 110)] + [_report(n, False) for n in range(200, 203)])
        assert _hot_keys(corpus.store) == _truth(corpus.store)
    assert _hot_keys(SqliteStore(path)) == _recounted(path, tmp_path)


def _documents(numbers, boilerplate: bool = True) -> list:
    return [api.document_from_text(t, p, m) for p, t, m in (_report(n, boilerplate) for n in numbers)]


@pytest.mark.parametrize("target", ["file", ":memory:"])
def test_several_batches_in_one_transaction_are_counted_on_the_writer_connection(tmp_path, target):
    store = SqliteStore(tmp_path / "c.db" if target == "file" else ":memory:", create=True)
    transactions = [[_documents(range(30))],
                    [_documents(range(100, 120)), _documents(range(200, 214))],  # 64 carriers of the boilerplate
                    [_documents([300]), _documents([301], boilerplate=False)]]  # 65: hot
    for batches in transactions:
        with store.writing():
            for batch in batches:
                store.insert_documents(index_entries(batch, DEFAULT, workers=1))
        assert _hot_keys(store) == _truth(store)
    assert len([n for n in _hot_keys(store).values() if n == HOT_KEY_POSTINGS + 1]) >= 10


def test_a_scan_after_an_add_counts_no_postings(tmp_path, monkeypatch):
    path = tmp_path / "corpus.db"
    carriers = DEFAULT.hot_key_postings + 20  # more than a scan reads of one key: the scan meets hot keys
    with api.open_corpus(path, create=True) as corpus:
        api.add_texts(corpus, [_report(n) for n in range(carriers)])
    asked = []
    counted = SqliteStore._hot_counts
    monkeypatch.setattr(SqliteStore, "_hot_counts", lambda self, keys: asked.extend(keys) or counted(self, keys))
    with api.open_corpus(path) as corpus:
        statements = []
        corpus.store.conn.set_trace_callback(statements.append)
        api.scan_text(corpus, _report(9999)[1])
    assert asked  # hot keys were met ...
    assert not [s for s in statements if "count(*)" in s and "postings" in s]  # ... and none was counted


def test_a_rebuild_recounts_instead_of_keeping_counts_batch_by_batch(tmp_path, monkeypatch):
    from detector.store import sqlite_hot_keys

    archive = tmp_path / "archive"
    archive.mkdir()
    for n in range(HOT_KEY_POSTINGS + 10):
        path, text, _ = _report(n)
        (archive / path).write_text(text, encoding="utf-8")
    made, making = [], sqlite_hot_keys.HotKeyCensus.__init__
    monkeypatch.setattr(sqlite_hot_keys.HotKeyCensus, "__init__", lambda self, *a: made.append(self) or making(self, *a))
    api.rebuild(tmp_path / "corpus.db", archive)
    store = SqliteStore(tmp_path / "corpus.db")
    assert not made and _hot_keys(store) == _truth(store) and len(_hot_keys(store)) >= 10


def _same_postings(a, b) -> bool:
    return a.keys.tolist() == b.keys.tolist() and a.pairs.tolist() == b.pairs.tolist() and a.counts == b.counts


def test_a_remembered_hot_sample_reads_as_the_index_and_goes_when_the_index_changes(tmp_path):
    path = tmp_path / "corpus.db"
    with api.open_corpus(path, create=True) as corpus:
        ids = api.add_texts(corpus, [_report(n) for n in range(30)])
    store = SqliteStore(path)
    keys = sorted(set(index_entries([api.document_from_text(_report(1)[1], "r.txt")], DEFAULT, workers=1)[0].keys.ravel().tolist()))
    with store.reading():
        first = store.postings(keys, cap=10)  # the boilerplate's keys have 30 postings: hot at a cap of 10
        hot = [k for k, n in first.counts.items() if n > 10]
        assert hot and all(len(first.of_key(k)) == 10 for k in hot)
        assert _same_postings(store.postings(keys, cap=10), first)  # samples from memory the second time
        assert _same_postings(SqliteStore(path).postings(keys, cap=10), first)
    other = SqliteStore(path)
    with other.writing():
        other.delete_documents([ids[0]])  # in every hot key's sample (the lowest segments come first)
    with store.reading():
        after = store.postings(keys, cap=10)
    assert ids[0] in first.pairs[:, 0] and ids[0] not in after.pairs[:, 0]
    assert _same_postings(after, SqliteStore(path).postings(keys, cap=10))


def test_keys_listing_more_than_sqlites_longest_string_are_listed_by_several_statements(tmp_path):
    """Postings are listed as one string per statement, up to cap + 1 per key: a book-length submission's keys, most
    of them hot, come to more than SQLite's longest string (10^9 bytes unless built otherwise; here made 20,000),
    which failed the scan with "string or blob too big"."""
    path = tmp_path / "c.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_texts(corpus, [_report(n) for n in range(1, 150)])
    whole, limited = SqliteStore(path), SqliteStore(path)
    if not hasattr(limited.conn, "setlimit"):
        pytest.skip("Python 3.10's sqlite3 cannot set SQLite's limits")
    limited.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 20_000)
    stored = list(_per_key(whole))
    keys = sorted(stored + [max(stored) + n for n in range(1, 50)])  # and keys nobody has
    expected, found = whole.postings(keys, cap=100), limited.postings(keys, cap=100)
    assert max(found.counts.values()) > 100 and len(found.keys) * 8 > 20_000  # hot keys; more than one string holds
    assert np.array_equal(found.keys, expected.keys) and np.array_equal(found.pairs, expected.pairs)
    assert found.counts == expected.counts
    whole.close()
    limited.close()


def test_a_removal_leaves_the_hot_key_counts_exact(tmp_path, monkeypatch):
    """remove takes the removed postings off hot_keys' counts, packed and recent (a key back at the threshold leaves
    the list): they over-counted until the next rebuild's recount, weighing those keys as commoner than they are."""
    from detector import settings

    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 1)  # the first reports packed …
        api.add_texts(corpus, [_report(n) for n in range(HOT_KEY_POSTINGS)])
        monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 10**9)  # … the latest recent
        api.add_texts(corpus, [_report(n) for n in range(HOT_KEY_POSTINGS, HOT_KEY_POSTINGS + 4)])
        store = corpus.store
        assert store.conn.execute("SELECT count(*) FROM postings_recent").fetchone()[0] and store.conn.execute(
            "SELECT count(*) FROM posting_lists").fetchone()[0]
        assert HOT_KEY_POSTINGS + 4 in _hot_keys(store).values() and _hot_keys(store) == _truth(store)
        api.remove_paths(corpus, ["1", str(HOT_KEY_POSTINGS + 4)])  # one packed, one recent: still hot
        assert HOT_KEY_POSTINGS + 2 in _hot_keys(store).values() and _hot_keys(store) == _truth(store)
        api.remove_paths(corpus, ["2", "3"])  # back at the threshold: no longer listed
        assert HOT_KEY_POSTINGS not in _hot_keys(store).values() and _hot_keys(store) == _truth(store)
        assert store.problems() == []
