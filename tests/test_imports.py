"""What opening an index and scanning load: an index written by an older chachong (no stored layouts; a
content_segments table) is brought to the current tables and asks for a rebuild; a current one opens without
sqlite-utils; cutting texts into shingle sets does without numpy.ma."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from detector import api
from detector.errors import DatabaseError


def _corpus(tmp_path):
    path = tmp_path / "c.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_texts(corpus, [("a.txt", "本人认真学习了党的二十大精神，对照检查了自身存在的问题。" * 3, None)])
    return path


def test_an_older_index_gets_the_current_tables_and_asks_for_a_rebuild(tmp_path):
    path = _corpus(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE documents DROP COLUMN layout")
    conn.execute("CREATE TABLE content_segments (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    with api.open_corpus(path) as corpus:
        tables = {r[0] for r in corpus.store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = {r[1] for r in corpus.store.conn.execute("PRAGMA table_info(documents)")}
        assert "content_segments" not in tables and "layout" in columns
        with pytest.raises(DatabaseError, match="rebuild"):
            api.scan_text(corpus, "本人认真学习了党的二十大精神，对照检查了自身存在的问题。", path="s.txt")


def test_a_current_index_opens_without_sqlite_utils(tmp_path):
    path = _corpus(tmp_path)
    code = (f"import sys; from detector import api; api.open_corpus({str(path)!r}).close(); "
            "print('sqlite_utils' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_cutting_many_texts_into_sets_imports_no_numpy_ma():
    """numpy.ma (~10 ms to import) came with np.unique when a scan cut the texts of many new sources at once: every
    forked scanning process of a batch paid it on its first scan."""
    code = ("import sys; import numpy as np; from detector.shingles import distinct_by_text, _ONE_SORT_MAX; "
            "n = 3 * _ONE_SORT_MAX; units = np.repeat(np.arange(n // 30), 30); "
            "codes = np.random.default_rng(1).integers(0, 1 << 30, len(units)).astype(np.uint64); "
            "distinct_by_text(units, codes, n // 30); print('numpy.ma' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
