"""`chachong backup` (consistent while rebuilds run, owner-only) and `chachong check` (every problem listed, exit 1)."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sqlite3
import stat
import threading

import pytest
from click.testing import CliRunner

from detector import api
from detector.cli import ExitCode, cli
from planting import SAMPLE

SEEDS = sorted(SAMPLE.glob("*.txt"))


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "corpus.db"
    assert _run("add", *SEEDS, "--db", path).exit_code == 0
    return path


def _tamper(db, *statements):
    with contextlib.closing(sqlite3.connect(db)) as conn:
        for sql in statements:
            conn.execute(sql)
        conn.commit()


def test_check_of_an_intact_index_says_ok(db):
    result = _run("check", "--db", db)
    assert result.exit_code == ExitCode.OK and result.output.strip().endswith(": ok")


def test_check_of_a_report_of_no_segments_says_ok(tmp_path):
    """A text with nothing to segment (punctuation alone, a control character) stores no set sizes in its segment
    contents, where its layout has two empty arrays: check called them different ('its stored segment contents differ
    from its layout'), exit 1, for an intact index."""
    (tmp_path / "a.txt").write_text("。！", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\x01")
    db = tmp_path / "c.db"
    assert _run("add", tmp_path / "a.txt", tmp_path / "b.txt", SEEDS[0], "--db", db).exit_code == 0
    result = _run("check", "--db", db)
    assert result.exit_code == ExitCode.OK and result.output.strip().endswith(": ok"), result.output


BROKEN = [  # (statements that break an index, what `check` says of it)
    (["DELETE FROM postings_recent WHERE key IN (SELECT key FROM postings_recent LIMIT 5)"], "do not have one posting per band"),
    (["UPDATE documents SET segment_count = segment_count + 1 WHERE id = 2"], "segments recorded, its layout has"),
    (["UPDATE segment_df SET docs = docs + 1 WHERE hash IN (SELECT hash FROM segment_df LIMIT 3)"],
     "3 of"),
    (["UPDATE documents SET layout = x'00ff' WHERE id = 1"], "cannot be read"),
    (["UPDATE documents SET contents = x'00ff' WHERE id = 1"], "cannot be read"),
    (["UPDATE documents SET contents = (SELECT contents FROM documents WHERE id = 2) WHERE id = 1"],
     "stored segment contents differ from its layout"),
    (["UPDATE meta SET value = json_set(value, '$.bands', 7) WHERE key = 'index'"], "do not match what they imply (bands)"),
    (["UPDATE meta SET value = json_set(value, '$.normaliser_version', 1) WHERE key = 'index'"], "normaliser version 1"),
    (["DELETE FROM meta WHERE key = 'index'"], "no index settings recorded"),
]


@pytest.mark.parametrize("statements, said", BROKEN)
def test_check_lists_what_is_broken_and_exits_1(db, statements, said):
    _tamper(db, *statements)
    result = _run("check", "--db", db)
    assert result.exit_code == ExitCode.ERROR, result.output
    problems = [line for line in result.output.splitlines() if line.startswith("problem: ")]
    assert problems and any(said in p for p in problems), result.output
    assert result.output.strip().endswith(f"{len(problems)} problem{'s' if len(problems) > 1 else ''}")


@pytest.mark.parametrize("statements", [statements for statements, _ in BROKEN])
def test_check_says_what_is_broken_in_chinese_with_lang_zh(db, statements):
    _tamper(db, *statements)
    result = _run("--lang", "zh", "check", "--db", db)
    lines = result.output.strip().splitlines()
    problems = [line for line in lines if line.startswith("问题：")]
    assert result.exit_code == ExitCode.ERROR and problems and len(problems) == len(lines) - 1, result.output
    assert lines[-1] == f"{db}：{len(problems)} 个问题", result.output
    for line in problems:
        assert not _english(line) and "; " not in line, line


def _english(line: str) -> list:
    """English words left in a Chinese line, besides commands (`chachong …`), details in brackets (paths, setting
    names, what is damaged) and names of programs."""
    bare = re.sub(r"`[^`]*`|（[^）]*）", "", line)
    return [word for word in re.findall(r"[A-Za-z]{3,}", bare) if word not in ("SQLite", "chachong")]


def test_check_of_a_file_that_is_no_database_is_one_line(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    result = _run("check", "--db", junk)
    assert result.exit_code == ExitCode.ERROR and result.output.count("\n") == 1 and "Traceback" not in result.output


def test_backup_is_a_checked_owner_only_copy(db, tmp_path):
    result = _run("backup", "--db", db, tmp_path / "copy.db")
    assert result.exit_code == 0, result.output
    copy = tmp_path / "copy.db"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert api.check(copy) == []
    stats = json.loads(_run("stats", "--db", copy, "--format", "json").stdout)
    assert stats["documents"] == len(SEEDS)
    (tmp_path / "folder").mkdir()
    assert _run("backup", "--db", db, tmp_path / "folder").exit_code == 0
    assert (tmp_path / "folder" / "corpus.db").exists()
    assert _run("backup", "--db", db, db).exit_code == ExitCode.ERROR  # never over the database itself


def test_backups_taken_while_rebuilds_run_are_each_the_before_or_the_after(tmp_path):
    small, large = tmp_path / "small", tmp_path / "large"
    for folder, seeds in ((small, SEEDS[:2]), (large, SEEDS)):
        folder.mkdir()
        for seed in seeds:
            shutil.copy(seed, folder / seed.name)
    db = tmp_path / "corpus.db"
    api.rebuild(db, small)
    stop, errors = threading.Event(), []

    def rebuild_back_and_forth():
        try:
            while not stop.is_set():
                for archive in (large, small):
                    api.rebuild(db, archive)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    worker = threading.Thread(target=rebuild_back_and_forth)
    worker.start()
    counts = set()
    try:
        for n in range(12):
            copy = api.backup(db, tmp_path / f"copy{n}.db")
            assert api.check(copy) == [], n
            with contextlib.closing(sqlite3.connect(copy)) as conn:
                counts.add(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    finally:
        stop.set()
        worker.join()
    assert not errors
    assert counts <= {2, len(SEEDS)}


def test_check_and_backup_of_a_missing_database_are_one_line(tmp_path):
    for args in (["check", "--db", tmp_path / "none.db"], ["backup", "--db", tmp_path / "none.db", tmp_path / "b.db"]):
        result = _run(*args)
        assert result.exit_code == ExitCode.ERROR and "no such database" in result.output and result.output.count("\n") == 1
