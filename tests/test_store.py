"""The corpus database: settings travel with the index, foreign files are refused, nothing is half-written."""

import sqlite3

import numpy as np
import pytest

from detector import api
from detector.errors import DatabaseError, SettingsMismatch
from detector.settings import Settings


def test_a_query_with_other_index_settings_is_refused(seed_corpus):
    with pytest.raises(SettingsMismatch, match="num_perm=64 \\(asked 128\\).*rebuild"):
        api.open_corpus(seed_corpus, settings=Settings(num_perm=128))


def test_opening_without_settings_adopts_the_stored_ones(tmp_path, seeds):
    path = tmp_path / "c.db"
    with api.open_corpus(path, settings=Settings(num_perm=32, shingling="char3"), create=True) as corpus:
        api.add_paths(corpus, seeds[:1])
    with api.open_corpus(path) as corpus:
        assert (corpus.settings.num_perm, corpus.settings.shingling) == (32, "char3")


def test_a_foreign_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(DatabaseError, match="not a chachong database"):
        api.open_corpus(path)


def test_a_failure_while_storing_leaves_nothing_half_written(tmp_path, seeds, monkeypatch):
    path = tmp_path / "c.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_paths(corpus, seeds[:2])
        before = api.stats(corpus)

        def broken(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(corpus.store, "_count_segments", broken)
        with pytest.raises(OSError):
            api.add_paths(corpus, seeds[2:3])
        after = api.stats(corpus)
    assert (after["documents"], after["postings"]) == (before["documents"], before["postings"])


def test_removing_a_document_restores_the_previous_index(tmp_path, seeds):
    path = tmp_path / "c.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_paths(corpus, seeds[:2])
        before = api.stats(corpus)
        df_before = corpus.store.conn.execute("SELECT hash, docs FROM segment_df ORDER BY hash").fetchall()
        api.add_paths(corpus, seeds[2:3])
        doc_id = corpus.store.documents()[-1][0]
        api.remove_document(corpus, doc_id)
        after = api.stats(corpus)
        df_after = corpus.store.conn.execute("SELECT hash, docs FROM segment_df ORDER BY hash").fetchall()
    assert (after["documents"], after["postings"]) == (before["documents"], before["postings"])
    assert df_after == df_before


@pytest.mark.parametrize("text", ["中文的检讨材料，第一部分。" * 50, "ASCII only report\n" * 40, "混合 mixed 文本 😀 𠀀 text", ""])
def test_texts_come_back_exactly_and_chinese_is_stored_as_utf16(text):
    from detector.store.sqlite import _pack_text, _unpack_text

    packed = _pack_text(text)
    assert _unpack_text(packed) == text
    assert (packed[:1] == b"\x16") == (len(text.encode("utf-8")) > 2 * len(text))


def test_a_text_stored_by_an_older_chachong_still_reads():
    import zlib

    from detector.store.sqlite import _unpack_text

    assert _unpack_text(zlib.compress("旧版本存的文本".encode("utf-8"), 6)) == "旧版本存的文本"


def test_segment_owners_are_each_segments_document_and_its_index_there(tmp_path, seeds):
    """Every stored segment maps to the document holding it and its index in it (the documents' first segments read
    as two strings of numbers, parsed at once); a store without documents has none to map."""
    import numpy as np

    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        store = corpus.store
        assert [a.tolist() for a in store._documents_by_first_segment()] == [[], []]
        api.add_paths(corpus, seeds[:3])
        rows = store.conn.execute("SELECT id, first_segment, segment_count FROM documents ORDER BY id DESC").fetchall()
        segments = [first + n for _, first, count in rows for n in range(count)]
        owners, indices = store.segment_owner(np.array(segments, dtype=np.int64))
        assert list(zip(owners.tolist(), indices.tolist())) == [(doc, n) for doc, _, count in rows for n in range(count)]
        assert len(rows) == 3 and len(segments) > 30


def test_segment_owners_from_the_table_equal_the_search(tmp_path, seeds):
    """From its second lookup the store maps segments to documents through a table; with a removed document's gap
    in the numbering, every segment still maps to what the binary search gives."""
    import numpy as np

    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_paths(corpus, seeds[:4])
        api.remove_document(corpus, corpus.store.documents()[1][0])
        store = corpus.store
        total = store.conn.execute("SELECT max(first_segment + segment_count) FROM documents").fetchone()[0]
        segments = np.arange(int(total), dtype=np.int64)
        searched = store.segment_owner(segments)
        assert store._owner_table is None  # one lookup: no table yet
        tabled = store.segment_owner(segments)
        first = store.conn.execute("SELECT min(first_segment) FROM documents").fetchone()[0]
        assert store._owner_table is not None and len(store._owner_table) == total - first
        assert all(np.array_equal(a, b) for a, b in zip(searched, tabled))
        assert len(set(searched[0].tolist())) == 3


def test_removing_a_folder_reads_the_packed_postings_once_and_leaves_an_intact_index(tmp_path, seeds, monkeypatch):
    """`remove FOLDER` removes its documents in one transaction: the packed lists are read and rewritten once, not
    once per document (a full pass over them: ~5 s a document at 10^4 reports), and all their postings go. A document
    named twice (its folder, its file) is removed once, not then called unknown."""
    import shutil

    from detector import settings

    monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 1)  # every add merges: the postings are packed
    folder = tmp_path / "2019"
    folder.mkdir()
    for seed in seeds[2:]:
        shutil.copy(seed, folder)
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_paths(corpus, seeds[:2])
        before = api.stats(corpus)["postings"]
        api.add_paths(corpus, [folder])
        passes = []
        corpus.store.conn.set_trace_callback(lambda sql: passes.append(sql) if "SELECT key, segments FROM posting_lists" in sql else None)
        removed, unknown = api.remove_paths(corpus, [folder, folder / seeds[2].name])  # one of them named twice
        corpus.store.conn.set_trace_callback(None)
        assert len(removed) == 3 and not unknown and len(passes) == 1
        assert api.stats(corpus)["postings"] == before and corpus.store.problems() == []


@pytest.mark.parametrize("keys_made_again", ["as indexed", "otherwise"])
def test_removing_a_document_reads_only_the_lists_of_its_band_keys(tmp_path, seeds, monkeypatch, keys_made_again):
    """A removal makes the document's band keys again from its layout and rewrites only their lists (a full pass over
    every list took ~5 s a document at 10^4 reports); keys that come out otherwise than when indexed (settings or
    code changed under the index) remove fewer postings than expected, and the full pass then removes the rest."""
    from detector import settings, sign

    monkeypatch.setattr(settings, "FIRST_POSTINGS_MERGE_ROWS", 1)  # packed lists
    monkeypatch.setattr(settings, "REMOVAL_BY_KEYS_SHARE", 0.5)
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_paths(corpus, seeds[:4])
        before = _postings_in(corpus.store)
        api.add_paths(corpus, seeds[4:])
        if keys_made_again == "otherwise":
            monkeypatch.setattr(sign, "band_keys", lambda sigs, bands, rows: np.zeros((len(sigs), bands), np.int64) + 7)
        statements = []
        corpus.store.conn.set_trace_callback(statements.append)
        api.remove_paths(corpus, [str(corpus.store.documents()[-1][0])])
        corpus.store.conn.set_trace_callback(None)
        full_passes = [s for s in statements if "FROM posting_lists WHERE length(segments)" in s]
        assert len(full_passes) == (keys_made_again == "otherwise")
        assert _postings_in(corpus.store) == before and corpus.store.problems() == []


def _postings_in(store) -> list:
    from detector.store import sqlite_postings

    keys, segments = sqlite_postings.all_postings(store.conn)
    return list(zip(keys.tolist(), segments.tolist()))


def test_the_segment_total_is_read_from_an_index_and_an_older_file_gets_it(tmp_path, seeds):
    """Each new connection (each scanning process of a batch) counts the index's segments: from the rows of the
    table that took 123 ms at 10^4 reports. An index made by an older chachong gets the index when next opened."""
    path = tmp_path / "c.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_paths(corpus, seeds[:3])
        expected = corpus.store.segment_total()
    older = sqlite3.connect(path)
    older.executescript("DROP INDEX documents_segments; CREATE INDEX documents_first_segment ON documents (first_segment);")
    older.close()
    with api.open_corpus(path) as corpus:
        indexes = {row[1] for row in corpus.store.conn.execute("PRAGMA index_list(documents)")}
        assert "documents_segments" in indexes and "documents_first_segment" not in indexes
        plan = " ".join(str(row) for row in corpus.store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT coalesce(sum(segment_count), 0) FROM documents"))
        assert "COVERING INDEX documents_segments" in plan
        with corpus.reading():
            assert corpus.store.segment_total() == expected > 0


def test_vacuum_makes_its_copy_on_disk_and_merges_keep_their_sorts_in_memory(tmp_path, seeds):
    """Under temp_store=MEMORY VACUUM copies the whole database into memory (3.1 GB at 10^5 reports); it runs with
    the copy on disk, and the connection goes back to temporary tables in memory."""
    path = tmp_path / "c.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_paths(corpus, seeds)
        api.remove_documents(corpus, [doc_id for doc_id, _, _ in api.list_documents(corpus)][1:])
        statements = []
        corpus.store.conn.set_trace_callback(statements.append)
        result = corpus.store.compact(vacuum_above=0.0)
        corpus.store.conn.set_trace_callback(None)
        assert result["vacuumed"]
        vacuum = statements.index("VACUUM")
        assert statements[vacuum - 1] == "PRAGMA temp_store=FILE" and statements[vacuum + 1] == "PRAGMA temp_store=MEMORY"
        assert corpus.store.conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY
