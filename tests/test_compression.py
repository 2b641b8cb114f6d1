"""Stored texts and layouts: written as zstd, zlib (older indexes) still read, damage of either a clear one-line error."""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import sqlite3
import zlib

import numpy as np
import pytest
import zstandard
from click.testing import CliRunner

from detector import api, compression, settings
from detector.cli import ExitCode, cli
from detector.compression import ZSTD_MAGIC, DamagedBlob, compress, decompress
from detector.errors import DatabaseError
from detector.fingerprint import layout_of
from detector.layout import decode as decode_layout
from detector.layout import encode as encode_layout
from detector.settings import DEFAULT
from detector.store import sqlite as sqlite_store
from detector.store.sqlite import _pack_text, _unpack_text
from planting import SAMPLE, planted_submission

SEEDS = sorted(SAMPLE.glob("*.txt"))
# full-width digits and letters, a year and a placeholder (tokens spanning several characters), traditional forms,
# characters outside the BMP: content characters that differ from the original ones, at shifted offsets
ODD_TEXT = "２０２３年度，本人在XX局工作。對照檢查：ＡＢＣ问题😀𠀀仍在。\n\n（一）理论学习方面，学习不够深入！" * 3


def _zlib_layout(blob: bytes) -> bytes:
    """The same layout as an older chachong stored it: the magic, then a zlib stream."""
    return blob[:2] + zlib.compress(decompress(blob[2:]), 6)


def _zlib_text(packed: bytes) -> bytes:
    """The same text as an older chachong stored it (tag byte for UTF-16, then a zlib stream)."""
    tag = packed[:1] if packed[:1] == b"\x16" else b""
    return tag + zlib.compress(decompress(packed[len(tag):]), 6)


def _same_layout(a, b) -> bool:
    return a.content == b.content and all(np.array_equal(getattr(a, f), getattr(b, f))
                                          for f in ("starts", "ends", "lengths", "sentences"))


@pytest.mark.parametrize("text", [ODD_TEXT, SEEDS[0].read_text(encoding="utf-8"), "", "ASCII only.\n" * 30])
def test_layouts_round_trip_exactly_in_both_formats(text):
    fresh = layout_of(text, DEFAULT)
    blob = encode_layout(fresh, text)
    assert blob[2:6] == ZSTD_MAGIC
    assert _same_layout(decode_layout(blob, text), fresh)
    assert _same_layout(decode_layout(_zlib_layout(blob), text), fresh)


@pytest.mark.parametrize("text", [ODD_TEXT, "ASCII only report\n" * 40, ""])
def test_texts_are_written_as_zstd_and_zlib_ones_still_read(text):
    packed = _pack_text(text)
    assert ZSTD_MAGIC in packed[:5]
    assert _unpack_text(packed) == text
    assert _unpack_text(_zlib_text(packed)) == text


@pytest.mark.parametrize("old", [False, True], ids=["zstd", "zlib"])
@pytest.mark.parametrize("where", ["middle", "end", "header"])
def test_damaged_bytes_of_either_format_are_a_clear_error(old, where):
    blob = bytearray(zlib.compress(ODD_TEXT.encode("utf-8"), 6) if old else compress(ODD_TEXT.encode("utf-8")))
    position = {"middle": len(blob) // 2, "end": len(blob) - 2, "header": 5}[where]
    blob[position] ^= 0x55
    with pytest.raises(DamagedBlob, match=f"damaged {'zlib stream' if old else 'zstd frame'}") as caught:
        decompress(bytes(blob))
    assert isinstance(caught.value, DatabaseError) and "restore a backup or rebuild" in str(caught.value)


def test_a_frame_that_claims_an_impossible_size_allocates_nothing():
    huge = ZSTD_MAGIC + bytes([0xE0]) + (2**40).to_bytes(8, "little") + b"\x01\x00\x00"  # single segment, 8-byte content size
    with pytest.raises(DamagedBlob, match="impossible size"):
        decompress(huge)


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """The seed corpus as written now (zstd), and the same file rewritten to what an older chachong stored (zlib)."""
    folder = tmp_path_factory.mktemp("formats")
    new, old = folder / "zstd.db", folder / "zlib.db"
    assert CliRunner().invoke(cli, ["add", *map(str, SEEDS), "--db", str(new)]).exit_code == 0
    shutil.copy(new, old)
    with contextlib.closing(sqlite3.connect(old)) as conn:  # closed: the WAL goes back into the file copied below
        rows = conn.execute("SELECT id, text, layout FROM documents").fetchall()
        conn.executemany("UPDATE documents SET text = ?, layout = ? WHERE id = ?",
                         [(_zlib_text(text), _zlib_layout(layout), i) for i, text, layout in rows])
        conn.commit()
    return new, old


def _scan_json(db, path) -> dict:
    result = CliRunner().invoke(cli, ["scan", str(path), "--db", str(db), "--format", "json"])
    assert result.exit_code == ExitCode.OK, result.output
    report = json.loads(result.stdout)
    report.pop("scan", None)
    return report


def test_an_index_of_zlib_blobs_scans_as_the_zstd_one_does(indexes, tmp_path):
    new, old = indexes
    submission = tmp_path / "submission.txt"
    submission.write_text(planted_submission()[0], encoding="utf-8")
    with contextlib.closing(sqlite3.connect(old)) as conn:
        assert all(t[:1] in (b"\x16", b"\x78") and l[2:3] == b"\x78" for t, l in conn.execute("SELECT text, layout FROM documents"))
    found = _scan_json(new, submission)
    assert json.dumps(found, ensure_ascii=False).count('"kind"') >= 3  # the planted passages are there
    assert _scan_json(old, submission) == found
    assert api.check(old) == [] and api.check(new) == []


def _damage(db, column: str) -> None:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        for doc_id, blob in conn.execute(f"SELECT id, {column} FROM documents").fetchall():
            broken = bytearray(blob)
            broken[len(broken) // 2] ^= 0x55
            conn.execute(f"UPDATE documents SET {column} = ? WHERE id = ?", (bytes(broken), doc_id))
        conn.commit()


@pytest.mark.parametrize("column", ["text", "layout"])
@pytest.mark.parametrize("fmt", ["zstd", "zlib"])
def test_a_scan_of_damaged_stored_bytes_says_which_document_in_one_line(indexes, tmp_path, column, fmt):
    db = tmp_path / "damaged.db"
    shutil.copy(indexes[0] if fmt == "zstd" else indexes[1], db)
    _damage(db, column)
    submission = tmp_path / "submission.txt"
    submission.write_text(planted_submission()[0], encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", str(submission), "--db", str(db)])
    assert result.exit_code == ExitCode.ERROR and "Traceback" not in result.output
    said = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(said) == 1 and f"damaged {fmt}" in said[0] and "document " in said[0], result.output
    problems = api.check(db)
    assert len([p for p in problems if f"cannot be read (damaged {fmt}" in p]) == len(SEEDS), problems


def _reports(count: int, seed: int) -> list:
    """`count` report-like texts made of the sample reports' paragraphs, shuffled (they share formulae and frames)."""
    paragraphs = [p for path in SEEDS for p in path.read_text(encoding="utf-8").splitlines() if p.strip()]
    rng = random.Random(seed)
    return [(f"r{seed}_{n}.txt", "\n".join(rng.sample(paragraphs, 12)), None) for n in range(count)]


def _few_texts_train_a_dictionary(monkeypatch) -> None:
    """Dictionaries trained from 30+ texts of any size (as an index's first large batch of reports would)."""
    monkeypatch.setattr(settings, "TEXT_DICTIONARY_MIN_DOCS", 30)
    monkeypatch.setattr(compression, "TEXT_DICTIONARY_MIN_SAMPLES", 0)


def test_a_dictionary_is_kept_only_when_it_helps_texts_it_was_not_trained_on():
    rng = random.Random(5)
    noise = [bytes(rng.getrandbits(8) for _ in range(6000)) for _ in range(200)]
    reports = [text.encode("utf-16-le") for _, text, _ in _reports(400, 6)]
    assert compression.train_dictionary(noise) is None
    assert compression.train_dictionary(reports[:20]) is None  # too little to learn from
    assert compression.train_dictionary(reports) is not None


def _dictionaries(db) -> list:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT id, trained_on FROM text_dictionaries").fetchall()


def _frame_dictionaries(db) -> set:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        blobs = [t[1:] if t[:1] == b"\x16" else t for (t,) in conn.execute("SELECT text FROM documents")]
    return {zstandard.get_frame_parameters(b).dict_id for b in blobs}


def test_a_large_first_batch_trains_a_text_dictionary_that_later_texts_share(tmp_path, monkeypatch):
    _few_texts_train_a_dictionary(monkeypatch)
    small, large, later = _reports(5, 1), _reports(40, 2), _reports(5, 3)
    db = tmp_path / "c.db"
    with api.open_corpus(db, create=True) as corpus:
        api.add_texts(corpus, small)  # too few to learn from: stored without a dictionary
        assert _dictionaries(db) == [] and _frame_dictionaries(db) == {0}
        api.add_texts(corpus, large)
        api.add_texts(corpus, later)
    [(dictionary, trained_on)] = _dictionaries(db)
    assert trained_on == len(large) and _frame_dictionaries(db) == {0, dictionary}
    compression._dictionaries.clear()  # as in a fresh process: the store registers what the index holds
    with api.open_corpus(db) as corpus:
        stored = {doc.path: doc.text for doc, _ in corpus.store.layouts(range(1, 51)).values()}
    assert stored == {path: text for path, text, _ in small + large + later}
    without = sum(len(_pack_text(text)) for _, text, _ in later)
    assert sum(len(_pack_text(text, dictionary)) for _, text, _ in later) < 0.8 * without


def test_texts_whose_dictionary_is_missing_are_a_clear_error_naming_the_document(tmp_path, monkeypatch):
    _few_texts_train_a_dictionary(monkeypatch)
    db = tmp_path / "c.db"
    texts = _reports(40, 4)
    with api.open_corpus(db, create=True) as corpus:
        api.add_texts(corpus, texts)
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("DELETE FROM text_dictionaries")
        conn.commit()
    compression._dictionaries.clear()
    submission = tmp_path / "submission.txt"
    submission.write_text(texts[0][1], encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", str(submission), "--db", str(db)])
    said = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code == ExitCode.ERROR and "Traceback" not in result.output
    assert len(said) == 1 and "document " in said[0] and "which the database does not hold" in said[0], result.output


def test_an_index_whose_texts_a_dictionary_does_not_help_stops_training_after_a_few_tries(tmp_path, monkeypatch):
    _few_texts_train_a_dictionary(monkeypatch)
    trained = []
    monkeypatch.setattr(sqlite_store, "train_dictionary", lambda samples: trained.append(len(samples)))  # never helps
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        for seed in range(settings.TEXT_DICTIONARY_ATTEMPTS + 2):
            api.add_texts(corpus, _reports(30, 10 + seed))
    assert trained == [30] * settings.TEXT_DICTIONARY_ATTEMPTS and _dictionaries(tmp_path / "c.db") == []


@pytest.mark.parametrize("text", [SEEDS[0].read_text(encoding="utf-8"), ODD_TEXT, "。"])
@pytest.mark.parametrize("with_sizes", [False, True])
def test_segment_contents_round_trip_exactly(text, with_sizes):
    from detector.fingerprint import fingerprint
    from detector.layout import decode_contents, encode_contents
    from detector.shingles import bigram_set_sizes

    fp = fingerprint(text, DEFAULT, signed=False)
    layout = fp.layout
    layout.set_sizes = bigram_set_sizes(fp) if with_sizes else None
    read = decode_contents(encode_contents(layout))
    expected = np.frombuffer(layout.content.encode("utf-32-le"), dtype="<u4")
    assert read.codes.dtype == np.dtype("<u4") and np.array_equal(read.codes, expected)
    assert read.lengths.dtype == np.int64 and read.lengths.tolist() == np.asarray(layout.lengths).tolist()
    assert read.sentences.dtype == np.int64 and read.sentences.tolist() == np.asarray(layout.sentences).tolist()
    if with_sizes and len(layout.lengths):  # no segments: no sentences, no sizes stored
        assert [a.dtype for a in read.set_sizes] == [np.int32, np.int32]
        assert [a.tolist() for a in read.set_sizes] == [np.asarray(a).tolist() for a in layout.set_sizes]
    else:
        assert read.set_sizes is None


@pytest.mark.parametrize("cut", [0, 3, 15, 17, -1])
def test_segment_contents_cut_short_are_a_clear_error(cut):
    from detector.layout import _CONTENTS_MAGIC, decode_contents, encode_contents

    layout = layout_of(ODD_TEXT, DEFAULT)
    raw = decompress(encode_contents(layout)[len(_CONTENTS_MAGIC):])
    with pytest.raises(DamagedBlob, match="do not parse"):
        decode_contents(_CONTENTS_MAGIC + compress(raw[:cut]))
