"""SQLite postings in two tables: recent rows merged into the packed lists give the same postings and scans, a merge
that fails or is killed leaves the corpus as it was, and indexes with the older postings tables (one table of rows;
rows in two tables) are packed — or, on a read-only disk, read as they are."""

import json
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from detector import api, settings
from detector.corpus import Corpus
from detector.errors import DatabaseError
from detector.index import index_entries
from detector.model import DocumentMeta
from detector.report.json_report import report_dict
from detector.settings import DEFAULT
from detector.store import open_store, sqlite_postings
from detector.store.sqlite import SCHEMA_VERSION
from test_storage_errors import read_only  # noqa: F401 (a fixture: a read-only disk)


def _docs(seeds):
    return [api.document_from_text(p.read_text(encoding="utf-8"), str(p), DocumentMeta()) for p in seeds]


def _rows(store, table):
    return store.conn.execute(f"SELECT key, segment FROM {table} ORDER BY key, segment").fetchall()


def _packed(store) -> list:
    """(key, segment) of every packed posting, in key order."""
    found = []
    for key, blob in store.conn.execute("SELECT key, segments FROM posting_lists ORDER BY key"):
        found += [(key, segment) for segment in np.frombuffer(blob, dtype="<u4").tolist()]
    return found


def _scanned(store, text: str) -> dict:
    return report_dict(api.scan_text(Corpus(store, DEFAULT), text, "submission.txt"))


def _all(store) -> list:
    keys, segments = sqlite_postings.all_postings(store.conn)
    return list(zip(keys.tolist(), segments.tolist()))


def _build(path, seeds, merge_rows: int, first_merge_rows: int, monkeypatch):
    """A corpus of the seeds added one at a time, merging at the given thresholds; the last one stays recent."""
    monkeypatch.setattr(settings, "RECENT_POSTINGS_MERGE_ROWS", merge_rows)
    monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", first_merge_rows)
    store = open_store(path, create=True)
    store.ensure_signature(DEFAULT.index_signature(), explicit=False)
    entries = index_entries(_docs(seeds), DEFAULT, workers=1)
    for n, entry in enumerate(entries):
        if n == len(entries) - 1:
            monkeypatch.setattr(settings, "RECENT_POSTINGS_MERGE_ROWS", 10**9)
            monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 10**9)
        with store.writing():
            store.insert_documents([entry])
    return store, entries


def _expected(entries, ids) -> dict:
    expected: dict = {}
    for doc_id, entry in zip(ids, entries):
        for segment, row in enumerate(np.asarray(entry.keys).tolist()):
            for key in set(row):
                expected.setdefault(key, []).append((doc_id, segment))
    return {k: sorted(v) for k, v in expected.items()}


def _snapshot(store) -> tuple:
    return (_packed(store), _rows(store, "postings_recent"), store.documents(),
            store.conn.execute("SELECT hash, docs FROM segment_df ORDER BY hash").fetchall())


def test_merged_postings_are_every_posting_and_scans_do_not_change(tmp_path, seeds, planted, monkeypatch):
    merged, entries = _build(tmp_path / "merged.db", seeds, merge_rows=2_000, first_merge_rows=1, monkeypatch=monkeypatch)
    unmerged, _ = _build(tmp_path / "recent.db", seeds, merge_rows=10**9, first_merge_rows=10**9, monkeypatch=monkeypatch)
    assert _packed(merged) and _rows(merged, "postings_recent")  # both tables are read
    assert not _packed(unmerged)
    ids = [doc_id for doc_id, _, _ in merged.documents()]
    expected = _expected(entries, ids)
    keys = sorted(expected)
    got, reference = merged.postings(keys, cap=10_000), unmerged.postings(keys, cap=10_000)
    assert np.array_equal(got.keys, reference.keys) and np.array_equal(got.pairs, reference.pairs)
    assert got.counts == reference.counts == {k: len(v) for k, v in expected.items()}
    assert sum(len(v) for v in expected.values()) == len(_packed(merged)) + len(_rows(merged, "postings_recent"))
    for key in keys[::7]:
        assert sorted(map(tuple, got.of_key(key).tolist())) == expected[key]
    hot = max(expected, key=lambda k: len(expected[k]))
    assert list(map(tuple, merged.postings([hot], cap=2).of_key(hot).tolist())) == expected[hot][:2]
    text, _ = planted
    scans = [_scanned(store, text) for store in (merged, unmerged)]
    assert scans[0]["passages"] and json.dumps(scans[0], ensure_ascii=False) == json.dumps(scans[1], ensure_ascii=False)
    assert merged.problems() == [] and merged.meta()["recent_postings"] == len(_rows(merged, "postings_recent"))
    merged.close()
    unmerged.close()


def test_a_packed_list_cut_short_or_holding_a_stray_segment_is_a_problem(tmp_path, seeds, monkeypatch):
    store, _ = _build(tmp_path / "c.db", seeds[:3], merge_rows=2_000, first_merge_rows=1, monkeypatch=monkeypatch)
    assert store.problems() == []
    key = store.conn.execute("SELECT key FROM posting_lists ORDER BY length(segments) DESC LIMIT 1").fetchone()[0]
    with store.writing():
        store.conn.execute("UPDATE posting_lists SET segments = substr(segments, 5) WHERE key = ?", (key,))
    assert any("do not have one posting per band" in p for p in store.problems())
    with store.writing():
        store.conn.execute("UPDATE posting_lists SET segments = CAST(segments || ? AS BLOB) WHERE key = ?",
                           (np.array([10**6], dtype="<u4").tobytes(), key))
    assert any("the documents own" in p and "not the same ones" in p for p in store.problems())
    store.close()


def test_a_merge_that_fails_leaves_the_corpus_as_it_was(tmp_path, seeds, monkeypatch):
    store, entries = _build(tmp_path / "c.db", seeds[:3], merge_rows=2_000, first_merge_rows=1, monkeypatch=monkeypatch)
    before = _snapshot(store)
    monkeypatch.setattr(settings, "RECENT_POSTINGS_MERGE_ROWS", 1)
    monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 1)
    store.conn.execute("CREATE TEMP TRIGGER full_disk BEFORE INSERT ON main.posting_lists BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    more = index_entries(_docs(seeds[3:]), DEFAULT, workers=1)
    with pytest.raises(Exception, match="disk full"):
        with store.writing():
            store.insert_documents(more)
    assert _snapshot(store) == before
    store.conn.execute("DROP TRIGGER temp.full_disk")
    with store.writing():
        store.insert_documents(more)
    assert not _rows(store, "postings_recent") and store.document_count() == 5 and store.problems() == []
    store.close()


_KILLED_MERGE = """
import os, signal, sys
from detector import settings
from detector.index import index_entries
from detector.settings import DEFAULT
from detector.store import open_store
from detector import api
settings.RECENT_POSTINGS_MERGE_ROWS = settings.FIRST_POSTINGS_MERGE_ROWS = 1
store = open_store(sys.argv[1])
store.conn.create_function("die", 0, lambda: os.kill(os.getpid(), signal.SIGKILL))
store.conn.execute("CREATE TEMP TRIGGER killed AFTER INSERT ON main.posting_lists BEGIN SELECT die(); END")
docs = [api.document_from_text(open(p, encoding="utf-8").read(), p) for p in sys.argv[2:]]
with store.writing():
    store.insert_documents(index_entries(docs, DEFAULT, workers=1))
"""


def test_a_merge_killed_halfway_leaves_the_corpus_as_it_was(tmp_path, seeds, monkeypatch):
    path = tmp_path / "c.db"
    store, _ = _build(path, seeds[:3], merge_rows=2_000, first_merge_rows=1, monkeypatch=monkeypatch)
    before = _snapshot(store)
    store.close()
    done = subprocess.run([sys.executable, "-c", _KILLED_MERGE, str(path), *map(str, seeds[3:])], capture_output=True)
    assert done.returncode == -9, done.stderr.decode()
    store = open_store(path)
    assert _snapshot(store) == before and store.problems() == []
    store.close()


_ROWS_TABLE = "(key INTEGER NOT NULL, segment INTEGER NOT NULL, PRIMARY KEY (key, segment)) WITHOUT ROWID"


def _as_one_postings_table(store) -> None:
    """Turn a store's database into the layout of schema 3: one postings table."""
    postings = _all(store)
    store.conn.executescript(f"""
        BEGIN;
        DROP TABLE posting_lists; DROP TABLE postings_recent;
        CREATE TABLE postings {_ROWS_TABLE};
        DELETE FROM meta WHERE key = 'recent_postings';
        UPDATE meta SET value = '3' WHERE key = 'schema_version';""")
    store.conn.executemany("INSERT INTO postings VALUES (?, ?)", postings)
    store.conn.execute("COMMIT")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _as_two_row_tables(store) -> None:
    """Turn a store's database into the layout of schema 5: rows in postings_main and postings_recent, a view of both."""
    packed = _packed(store)
    store.conn.executescript(f"""
        BEGIN;
        DROP TABLE posting_lists;
        CREATE TABLE postings_main {_ROWS_TABLE};
        CREATE VIEW postings AS SELECT key, segment FROM postings_main UNION ALL SELECT key, segment FROM postings_recent;
        CREATE TRIGGER postings_delete INSTEAD OF DELETE ON postings BEGIN
            DELETE FROM postings_main WHERE key = old.key AND segment = old.segment;
            DELETE FROM postings_recent WHERE key = old.key AND segment = old.segment;
        END;
        ALTER TABLE documents DROP COLUMN contents;
        UPDATE meta SET value = '5' WHERE key = 'schema_version';""")
    store.conn.executemany("INSERT INTO postings_main VALUES (?, ?)", packed)
    store.conn.execute("COMMIT")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _postings_tables(store) -> dict:
    return dict(store.conn.execute("SELECT name, type FROM sqlite_master WHERE name LIKE 'posting%'"))


def _older_index(path, seeds, text: str, monkeypatch, older) -> tuple:
    """Index the seeds at `path`, scan `text`, then turn the index into an older schema (`older`): (the entries, the
    scan's report, every posting) from before."""
    store, entries = _build(path, seeds, merge_rows=2_000, first_merge_rows=1, monkeypatch=monkeypatch)
    expected, postings = _scanned(store, text), _all(store)
    older(store)
    store.close()
    return entries, expected, postings


def _opened_on_a_full_disk(path, monkeypatch):
    """open_store(path), the disk refusing the packing of an older index's postings."""
    def disk_full(conn, table):
        raise sqlite3.OperationalError("database or disk is full")

    with monkeypatch.context() as patched:
        patched.setattr(sqlite_postings, "from_rows", disk_full)
        return open_store(path)


@pytest.mark.parametrize("older", [_as_one_postings_table, _as_two_row_tables], ids=["schema 3", "schema 5"])
def test_an_index_with_postings_as_rows_is_packed(tmp_path, seeds, planted, monkeypatch, older):
    path, (text, _) = tmp_path / "old.db", planted
    entries, expected, postings = _older_index(path, seeds, text, monkeypatch, older)
    store = open_store(path)
    assert _postings_tables(store) == {"posting_lists": "table", "postings_recent": "table"}
    assert _all(store) == postings and store.meta()["schema_version"] == SCHEMA_VERSION
    assert store.conn.execute("SELECT count(*) FROM documents WHERE contents IS NULL").fetchone()[0] == 0
    assert _scanned(store, text) == expected
    with store.writing():
        store.delete_documents([store.documents()[-1][0]])
        store.insert_documents(entries[-1:])
    assert store.problems() == [] and len(_all(store)) == len(postings)
    assert store.meta()["recent_postings"] == len(_rows(store, "postings_recent")) > 0
    store.close()


def test_a_scan_reading_during_a_merging_add_sees_the_corpus_before_it(tmp_path, seeds, monkeypatch):
    path = tmp_path / "c.db"
    writer, entries = _build(path, seeds[:3], merge_rows=2_000, first_merge_rows=1, monkeypatch=monkeypatch)
    reader = open_store(path)
    keys = sorted({k for e in index_entries(_docs(seeds), DEFAULT, workers=1) for k in np.asarray(e.keys).ravel().tolist()})
    before = reader.postings(keys, cap=10_000).counts
    monkeypatch.setattr(settings, "RECENT_POSTINGS_MERGE_ROWS", 1)
    monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 1)
    with reader.reading():
        with writer.writing():
            writer.insert_documents(index_entries(_docs(seeds[3:]), DEFAULT, workers=1))
        assert not _rows(writer, "postings_recent")  # the add merged everything into posting_lists
        assert reader.postings(keys, cap=10_000).counts == before and reader.document_count() == 3
    after = reader.postings(keys, cap=10_000).counts
    assert after == writer.postings(keys, cap=10_000).counts != before and reader.document_count() == 5
    reader.close()
    writer.close()


@pytest.mark.parametrize("older", [_as_one_postings_table, _as_two_row_tables], ids=["schema 3", "schema 5"])
def test_an_index_with_postings_as_rows_on_a_read_only_disk_is_read_as_it_is(tmp_path, seeds, planted, monkeypatch,
                                                                              read_only, older):
    folder, (text, _) = tmp_path / "ro", planted
    folder.mkdir()
    _, expected, postings = _older_index(folder / "old.db", seeds, text, monkeypatch, older)
    read_only(folder)
    store = open_store(folder / "old.db")
    assert store.read_only and "posting_lists" not in _postings_tables(store)
    assert _scanned(store, text) == expected
    assert store.stats()["postings"] == len(postings) and store.problems() == []
    store.close()


def test_an_add_that_merged_postings_gives_back_the_pages_the_rewritten_lists_left(tmp_path, seeds, monkeypatch):
    monkeypatch.setattr(settings, "RECENT_POSTINGS_MERGE_ROWS", 500)
    monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 1)
    texts = [(f"{n}-{p.name}", p.read_text(encoding="utf-8") + f"第{n}次。", None) for n in range(4) for p in seeds]

    def free_share(store) -> float:
        return store.conn.execute("PRAGMA freelist_count").fetchone()[0] / store.conn.execute("PRAGMA page_count").fetchone()[0]

    with api.open_corpus(tmp_path / "kept.db", create=True) as corpus:
        monkeypatch.setattr(corpus.store, "settle", lambda announce=None: None)  # as before: no compacting after an add
        api.add_texts(corpus, texts)
        left = free_share(corpus.store)
    with api.open_corpus(tmp_path / "settled.db", create=True) as corpus:
        api.add_texts(corpus, texts)
        assert left > 0.25 >= free_share(corpus.store) and corpus.store.problems() == []


@pytest.mark.parametrize("older", [_as_one_postings_table, _as_two_row_tables], ids=["schema 3", "schema 5"])
def test_an_upgrade_the_disk_refuses_leaves_the_index_read_as_it_was(tmp_path, seeds, planted, monkeypatch, older):
    """A full disk stops the packing: the command reads the older index as it is (read-only), every posting found —
    not an empty posting_lists made before the packing began (a scan then found nothing) — and the next opening
    with room packs it."""
    path, (text, _) = tmp_path / "old.db", planted
    _, expected, postings = _older_index(path, seeds, text, monkeypatch, older)
    store = _opened_on_a_full_disk(path, monkeypatch)
    assert store.read_only and "posting_lists" not in _postings_tables(store)
    assert _scanned(store, text) == expected
    assert store.stats()["postings"] == len(postings) and store.problems() == []
    store.close()
    store = open_store(path)
    assert not store.read_only and _all(store) == postings and store.problems() == []
    store.close()


def test_an_older_index_with_a_damaged_layout_is_upgraded_and_check_names_the_document(tmp_path, seeds, monkeypatch):
    """Filling documents.contents decodes every layout: one whose bytes decompress but are no layout is left without
    contents (check names it) — it made every command stop with a KeyError, check and rebuild --full included."""
    from click.testing import CliRunner

    from detector.cli import cli
    from detector.compression import compress

    path = tmp_path / "old.db"
    store, _ = _build(path, seeds[:3], merge_rows=2_000, first_merge_rows=1, monkeypatch=monkeypatch)
    garbage = b"L1" + compress(np.array([5, 1, 0, 5], dtype="<u4").tobytes() + bytes(7))  # width 5: no layout
    with store.writing():
        store.conn.execute("UPDATE documents SET layout = ? WHERE id = 2", (garbage,))
    store.conn.execute("ALTER TABLE documents DROP COLUMN contents")  # as schema 6 had it
    store.close()
    checked = CliRunner().invoke(cli, ["check", "--db", str(path)])
    assert checked.exit_code == 1, checked.output
    problems = [line for line in checked.output.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 2 and "document 2" in problems[0] and "the layout does not parse" in problems[0], checked.output
    store = open_store(path)
    assert store.conn.execute("SELECT id FROM documents WHERE contents IS NULL").fetchall() == [(2,)]
    with pytest.raises(DatabaseError, match="document 2 .*the layout does not parse"):
        store.contents([1, 2, 3])
    store.close()


def test_an_add_past_the_largest_packed_segment_id_is_refused_in_one_line(tmp_path, seeds):
    """Segment ids go up for good (a changed document takes new ones): an add that would pass 2^32 - 1 is refused
    before it writes — its postings were stored as rows, and every later merge (an add, any rebuild) then stopped
    with a ValueError traceback."""
    from click.testing import CliRunner

    from detector.cli import cli

    path = tmp_path / "c.db"
    assert CliRunner().invoke(cli, ["add", str(seeds[0]), "--db", str(path)]).exit_code == 0
    store = open_store(path)
    with store.writing():
        store.conn.execute("UPDATE documents SET first_segment = ?", (sqlite_postings.LARGEST_SEGMENT - 99,))
    store.close()
    added = CliRunner().invoke(cli, ["add", str(seeds[1]), "--db", str(path)])
    errors = [line for line in added.output.splitlines() if line.startswith("error:")]
    assert added.exit_code == 1 and len(errors) == 1 and "rebuild --full" in errors[0], added.output
    in_chinese = CliRunner().invoke(cli, ["--lang", "zh", "add", str(seeds[1]), "--db", str(path)]).output
    assert "个片段编号" in in_chinese and "从 0 重新编号" in in_chinese and "segment numbers" not in in_chinese
    store = open_store(path)
    assert store.document_count() == 1 and store.conn.execute("SELECT max(segment) FROM postings_recent").fetchone()[0] < 2**32
    store.close()


def test_a_posting_list_of_broken_ids_or_out_of_order_is_a_problem_and_a_scan_says_so_in_one_line(tmp_path, seeds,
                                                                                                   planted, monkeypatch):
    """A packed list whose length is not whole segment ids stopped check and scans with 'ValueError: buffer size must
    be a multiple of element size'; check now names it (and a list out of order), a scan says it in one line, and a
    removal goes on (check still names it)."""
    from click.testing import CliRunner

    from detector.cli import cli

    path = tmp_path / "c.db"
    store, _ = _build(path, seeds[:4], merge_rows=2_000, first_merge_rows=1, monkeypatch=monkeypatch)
    longest = store.conn.execute("SELECT key FROM posting_lists ORDER BY length(segments) DESC, key LIMIT 1").fetchone()[0]
    with store.writing():  # its first two segments swapped
        store.conn.execute("UPDATE posting_lists SET segments = CAST(substr(segments, 5, 4) || substr(segments, 1, 4) ||"
                           " substr(segments, 9) AS BLOB) WHERE key = ?", (longest,))
    assert [p for p in store.problems() if "posting lists" in p] == [
        f"posting lists not in ascending order: 1 (band key {longest}); run `chachong rebuild --full`"]
    with store.writing():
        store.conn.execute("UPDATE posting_lists SET segments = substr(segments, 2) WHERE key != ?", (longest,))
    damaged = store.conn.execute("SELECT count(*) - 1 FROM posting_lists").fetchone()[0]
    assert any(p.startswith(f"posting lists damaged: {damaged} (band key ") for p in store.problems())
    text, _ = planted
    with pytest.raises(DatabaseError, match=r"c\.db: the postings of band key \d+ are damaged \(\d+ bytes"):
        api.scan_text(Corpus(store, DEFAULT), text, "submission.txt")
    store.close()
    checked = CliRunner().invoke(cli, ["--lang", "zh", "check", "--db", str(path)])
    assert checked.exit_code == 1 and f"{damaged} 个倒排列表已损坏（频带键 " in checked.output, checked.output
    assert "1 个倒排列表未按升序排列" in checked.output
    removed = CliRunner().invoke(cli, ["remove", "1", "--db", str(path)])
    assert removed.exit_code == 0, removed.output
    store = open_store(path)
    assert any("posting lists damaged" in p for p in store.problems()) and store.document_count() == 3
    store.close()


def test_filling_the_contents_of_an_older_index_says_so_once(tmp_path, seeds, monkeypatch):
    """An index of schema 6 is given documents.contents by the first process that opens it for writing (44 s at 10^5
    reports, holding the write lock): one line on stderr says what it is doing, as the packing's does; then nothing."""
    path = tmp_path / "old.db"
    store, _ = _build(path, seeds[:3], merge_rows=2_000, first_merge_rows=1, monkeypatch=monkeypatch)
    expected = store.contents([1, 2, 3])
    store.conn.execute("ALTER TABLE documents DROP COLUMN contents")  # as schema 6 had it
    store.close()
    opened = subprocess.run([sys.executable, "-c", "import sys; from detector.store import open_store; open_store(sys.argv[1])",
                             str(path)], capture_output=True, text=True)
    assert opened.returncode == 0 and opened.stderr.count("\n") == 1 and "segment contents" in opened.stderr, opened.stderr
    again = subprocess.run(opened.args, capture_output=True, text=True)
    assert again.returncode == 0 and again.stderr == ""
    store = open_store(path)
    got = store.contents([1, 2, 3])
    assert all(np.array_equal(got[i][1].codes, expected[i][1].codes) for i in (1, 2, 3)) and store.problems() == []
    store.close()


def test_a_process_reading_an_older_index_read_only_goes_on_after_another_packs_it(tmp_path, seeds, planted, monkeypatch):
    """A service that opened an older index read-only (the disk was full) read its postings from the view `postings`
    for good: once another process packed the index, its next scan stopped with 'no such table: postings'."""
    path, (text, _) = tmp_path / "old.db", planted
    _, expected, _ = _older_index(path, seeds, text, monkeypatch, _as_two_row_tables)
    service = Corpus(_opened_on_a_full_disk(path, monkeypatch), DEFAULT)
    assert service.store.read_only and report_dict(api.scan_text(service, text, "submission.txt")) == expected
    open_store(path).close()  # room again: another process packs it
    assert report_dict(api.scan_text(service, text, "submission.txt")) == expected
    service.close()


def _merge_policy(monkeypatch, in_command: int, first: int = 1, share: float = 0.125) -> list:
    """Merge thresholds for the test; returns the list each merge appends its recent row count to."""
    from detector.store.sqlite import SqliteStore

    monkeypatch.setattr(settings, "RECENT_POSTINGS_MERGE_ROWS", in_command)
    monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", first)
    monkeypatch.setattr(settings, "RECENT_POSTINGS_SHARE", share)
    merges, merge = [], SqliteStore.merge_postings

    def counted(store):
        merges.append(store._recent_postings())
        merge(store)

    monkeypatch.setattr(SqliteStore, "merge_postings", counted)
    return merges


def _one_by_one(docs) -> list:
    return [[doc] for doc in docs]


def _add_stopped(corpus, docs, after: int) -> None:
    """An add of one document a batch, stopped (as Ctrl-C stops it) once `after` batches were stored."""
    with pytest.raises(KeyboardInterrupt):
        for stored, _ in enumerate(api.add_batches(corpus, _one_by_one(docs)), start=1):
            if stored == after:
                raise KeyboardInterrupt


def _past_the_share(store) -> bool:
    recent = len(_rows(store, "postings_recent"))
    return recent > 0 and recent >= settings.RECENT_POSTINGS_SHARE * len(_packed(store))


def test_an_add_of_many_batches_merges_once_at_its_end(tmp_path, seeds, monkeypatch):
    """Each batch used to merge when the recent rows passed an eighth of the packed ones: a 10^4-report build merged
    fourteen times, rewriting the lists it appended to each time. Inside a command only the large threshold merges;
    the share rule is applied once, at the end: no recent rows past the share are left, and the postings are all."""
    merges = _merge_policy(monkeypatch, in_command=10**9)
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        outcomes = [o for _, batch in api.add_batches(corpus, _one_by_one(_docs(seeds))) for o in batch]
        store = corpus.store
        assert [status for status, _ in outcomes] == ["added"] * len(seeds)
        assert len(merges) == 1 and merges[0] == len(_all(store)) and not _past_the_share(store)
        assert not _rows(store, "postings_recent") and store.problems() == []


def test_an_add_merges_inside_the_command_at_the_large_threshold(tmp_path, seeds, monkeypatch):
    """The large threshold still bounds the recent rows while a command adds (a 10^5 build would otherwise grow them
    to hundreds of millions of rows, each batch rewriting all their pages)."""
    merges = _merge_policy(monkeypatch, in_command=3_000)
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        for _ in api.add_batches(corpus, _one_by_one(_docs(seeds))):
            assert len(_rows(corpus.store, "postings_recent")) < 3_000  # merged by the batch that passed it
        assert len(merges) >= 2 and corpus.store.problems() == []


def test_postings_a_stopped_add_left_recent_are_merged_by_the_next_command(tmp_path, seeds, monkeypatch):
    """An add stopped before its end (Ctrl-C, a kill) keeps the batches it committed, their postings recent — scans
    read them, only slower — and the next add's end merges them with its own."""
    merges = _merge_policy(monkeypatch, in_command=10**9)
    docs = _docs(seeds)
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        _add_stopped(corpus, docs[:4], after=3)
        assert corpus.store.document_count() == 3 and not merges and _past_the_share(corpus.store)
    with api.open_corpus(tmp_path / "c.db") as corpus:
        api.add_documents(corpus, docs[4:])
        assert len(merges) == 1 and not _rows(corpus.store, "postings_recent") and corpus.store.problems() == []
        assert len(_packed(corpus.store)) == merges[0] and corpus.store.document_count() == 4


def test_a_merge_the_disk_refuses_at_the_end_of_an_add_keeps_what_it_added(tmp_path, seeds, monkeypatch):
    """The end-of-command merge is a transaction of its own, after the batches committed: the disk refusing it is no
    error — the documents stay added, their postings recent — and the next command's end merges them."""
    merges = _merge_policy(monkeypatch, in_command=10**9)
    docs = _docs(seeds)

    def disk_full(conn):
        raise sqlite3.OperationalError("database or disk is full")

    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        with monkeypatch.context() as refused:
            refused.setattr(sqlite_postings, "merge_recent", disk_full)
            assert [s for s, _ in api.add_documents(corpus, docs[:3])] == ["added"] * 3
        assert corpus.store.document_count() == 3 and _past_the_share(corpus.store) and corpus.store.problems() == []
        api.add_documents(corpus, docs[3:])
        assert len(merges) == 2 and not _rows(corpus.store, "postings_recent") and corpus.store.problems() == []


def test_a_rebuild_that_changes_nothing_merges_what_a_stopped_add_left(tmp_path, seeds, monkeypatch):
    """A night with nothing to do still merges the recent postings an add stopped before its end left past the share
    (every rebuild that changes something packs them all when it recounts)."""
    archive, path = tmp_path / "archive", tmp_path / "c.db"
    archive.mkdir()
    for seed in seeds[:3]:
        (archive / seed.name).write_bytes(seed.read_bytes())
    api.rebuild(path, archive)
    merges = _merge_policy(monkeypatch, in_command=10**9)
    with api.open_corpus(path) as corpus:
        _add_stopped(corpus, _docs(seeds[3:]), after=2)
        assert _past_the_share(corpus.store)
    summary = api.rebuild(path, archive, keep_missing=True)
    assert not (summary.added or summary.changed or summary.removed) and len(merges) == 1
    store = open_store(path)
    assert not _rows(store, "postings_recent") and store.document_count() == 5 and store.problems() == []
    store.close()


def test_an_add_on_a_terminal_says_before_its_long_last_step_and_only_then(tmp_path, seeds, monkeypatch, capsys):
    """The merge and the compacting at an add's end take minutes on a large index, after its progress bar has ended:
    a terminal is told (once, in the users' language); an add with nothing to merge, or off a terminal, says nothing."""
    from detector import messages

    merges = _merge_policy(monkeypatch, in_command=10**9)
    folder = tmp_path / "files"
    folder.mkdir()
    for seed in seeds:
        (folder / seed.name).write_bytes(seed.read_bytes())
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_paths(corpus, [folder], progress=True, batch_size=1)
        told = capsys.readouterr().err
        assert merges and told.count(messages.say("settling")) == 1
        monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 10**9)  # the next add leaves its rows recent
        api.add_text(corpus, "新的一篇对照检查材料。一是理论学习不够深入。二是联系群众不够紧密。", "new.txt")
        assert messages.say("settling") not in capsys.readouterr().err and len(merges) == 1
    with api.open_corpus(tmp_path / "d.db", create=True) as corpus:
        monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 1)
        api.add_paths(corpus, [folder], progress=False, batch_size=1)
        assert len(merges) == 2 and messages.say("settling") not in capsys.readouterr().err


def test_packed_listing_gives_keys_ascending_however_they_are_asked(tmp_path):
    """The lookup walks the asked keys in order; asked out of order or twice, it still lists each key once, ascending."""
    conn = sqlite3.connect(tmp_path / "p.db")
    conn.execute("CREATE TABLE posting_lists (key INTEGER PRIMARY KEY, segments BLOB NOT NULL)")
    lists = {3: [1, 5, 9], 7: [2], 11: [4, 6], 2**62: [8]}
    conn.executemany("INSERT INTO posting_lists VALUES (?, ?)",
                     [(k, sqlite_postings.pack(np.array(v))) for k, v in lists.items()])
    expected = sqlite_postings.packed_listing(conn, json.dumps([1, 3, 7, 11, 2**62]), cap=1)
    assert expected[0].tolist() == [3, 7, 11, 2**62] and expected[1].tolist() == [2, 1, 2, 1]
    assert expected[2].tolist() == [1, 5, 2, 4, 6, 8]  # the first cap + 1 of each
    for asked in ([2**62, 11, 7, 3, 1], [3, 3, 11, 7, 2**62, 7]):
        got = sqlite_postings.packed_listing(conn, json.dumps(asked), cap=1)
        assert all(np.array_equal(a, b) for a, b in zip(got, expected))


def _variants(seeds, copies: int) -> list:
    """`copies` distinct texts of each seed (a line of its own added), as Documents."""
    return [api.document_from_text(p.read_text(encoding="utf-8") + f"第{n}次。", f"{n}-{p.name}", DocumentMeta())
            for n in range(copies) for p in seeds]


def _postings_of(docs) -> int:
    return sum(len({(k, s) for s, row in enumerate(np.asarray(e.keys).tolist()) for k in row})
               for e in index_entries(docs, DEFAULT, workers=1))


def test_a_bulk_add_merges_what_it_left_recent_and_a_small_add_leaves_its_postings_recent(tmp_path, seeds, monkeypatch):
    """A build's merges inside (at RECENT_POSTINGS_MERGE_ROWS) left the postings of its last batches recent when they
    were under the share of the packed ones — 10 M of them after adding 10^5 reports, listed row by row by every scan
    (~10 ms each). An add of at least the share of what the index held merges them at its end; a small add does not."""
    bulk, later = _variants(seeds, 4), _variants(seeds[:1], 5)[-1:]
    last = bulk[-2:]
    monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 1)
    threshold = max(_postings_of(last), _postings_of(later)) + 1  # reached by every batch but the last, and the later add
    monkeypatch.setattr(settings, "RECENT_POSTINGS_MERGE_ROWS", threshold)
    assert _postings_of(last) < settings.RECENT_POSTINGS_SHARE * _postings_of(bulk[:-2])  # under the share
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        list(api.add_batches(corpus, [bulk[:9], bulk[9:-2], last]))
        assert not _rows(corpus.store, "postings_recent") and len(_packed(corpus.store)) == _postings_of(bulk)
    with api.open_corpus(tmp_path / "c.db") as corpus:  # another command: a small add
        list(api.add_batches(corpus, [later]))
        assert len(_rows(corpus.store, "postings_recent")) == _postings_of(later)
        assert corpus.store.problems() == []


def test_recent_postings_past_the_share_are_merged_at_the_end_of_any_add(tmp_path, seeds, monkeypatch):
    """The other half of the rule, unchanged: recent postings past the share of the packed ones are merged at the
    end of any command that added (here a small add on top of an earlier command's recent ones)."""
    monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 1)
    monkeypatch.setattr(settings, "RECENT_POSTINGS_MERGE_ROWS", 10**9)
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        monkeypatch.setattr(corpus.store, "settle", lambda announce=None: False)  # a command stopped before its end
        list(api.add_batches(corpus, [_variants(seeds, 2)]))
        assert _rows(corpus.store, "postings_recent") and not _packed(corpus.store)
    with api.open_corpus(tmp_path / "c.db") as corpus:
        list(api.add_batches(corpus, [_variants(seeds[:1], 3)[-1:]]))
        assert not _rows(corpus.store, "postings_recent") and corpus.store.problems() == []


@pytest.mark.skipif(not hasattr(sqlite3.Connection, "blobopen"), reason="incremental blob I/O came with Python 3.11")
def test_long_lists_read_in_part_list_what_whole_lists_give(tmp_path, seeds, monkeypatch):
    """In a snapshot a list over LONG_LIST_BYTES is read in part (its first cap + 1 segments, not its overflow pages):
    the same keys, counts and segments as cut from whole lists; outside one, whole lists."""
    store, entries = _build(tmp_path / "c.db", seeds, merge_rows=1, first_merge_rows=1, monkeypatch=monkeypatch)
    keys = sorted({k for e in entries for k in np.asarray(e.keys).ravel().tolist()})
    read_in_part = []
    first_bytes = sqlite_postings._first_bytes
    monkeypatch.setattr(sqlite_postings, "_first_bytes", lambda *a: read_in_part.append(a[1]) or first_bytes(*a))
    for cap in (0, 1, 3, 10_000):
        whole = sqlite_postings.packed_listing(store.conn, json.dumps(keys), cap)
        monkeypatch.setattr(sqlite_postings, "LONG_LIST_BYTES", 8)  # every list of three segments or more
        with store.reading():
            in_part = sqlite_postings.packed_listing(store.conn, json.dumps(keys), cap)
        monkeypatch.setattr(sqlite_postings, "LONG_LIST_BYTES", 65_536)
        assert [a.tolist() for a in in_part] == [a.tolist() for a in whole] and whole[1].max() == min(cap + 1, whole[1].max())
    longer = store.conn.execute("SELECT count(*) FROM posting_lists WHERE length(segments) > 8").fetchone()[0]
    assert longer and len(read_in_part) == 4 * longer
    store.close()


def test_a_damaged_long_list_is_refused_when_read_in_part_too(tmp_path, seeds, monkeypatch):
    """Its first bytes are whole segment ids; the length says it is damaged (a scan says so in one line)."""
    store, entries = _build(tmp_path / "c.db", seeds, merge_rows=1, first_merge_rows=1, monkeypatch=monkeypatch)
    longest = store.conn.execute("SELECT key FROM posting_lists ORDER BY length(segments) DESC, key LIMIT 1").fetchone()[0]
    with store.writing():
        store.conn.execute("UPDATE posting_lists SET segments = CAST(segments || x'00' AS BLOB) WHERE key = ?", (longest,))
    monkeypatch.setattr(sqlite_postings, "LONG_LIST_BYTES", 8)
    with store.reading(), pytest.raises(sqlite_postings.DamagedList, match=f"band key {longest} are damaged"):
        sqlite_postings.packed_listing(store.conn, json.dumps([longest]), 1)
    store.close()
