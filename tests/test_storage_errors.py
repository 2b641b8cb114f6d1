"""Disks and databases that refuse: busy, read-only, full, I/O errors, `ulimit -f` — one line, exit 1, nothing lost.

Also: files are private (0600/0700 whatever the umask) and report files are written atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

import detector.store.sqlite as sqlite_store
from detector import api
from detector.cli import ExitCode, cli
from detector.errors import storage_error
from planting import SAMPLE
from store_faults import fail_second_insert

SEEDS = sorted(SAMPLE.glob("*.txt"))
IS_ROOT = os.geteuid() == 0


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _documents(db) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?immutable=1", uri=True)) as conn:
        return conn.execute("SELECT count(*) FROM documents").fetchone()[0]


def _scans(db) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?immutable=1", uri=True)) as conn:
        return conn.execute("SELECT count(*) FROM scans").fetchone()[0]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "corpus.db"
    assert _run("add", *SEEDS[:4], "--db", path).exit_code == 0
    return path


@pytest.fixture
def submission(tmp_path):
    path = tmp_path / "sub.txt"
    path.write_text(SEEDS[3].read_text(encoding="utf-8")[:1500] + SEEDS[4].read_text(encoding="utf-8")[:1500], encoding="utf-8")
    return path


# ---------------------------------------------------------------- a writer holds the database


@contextlib.contextmanager
def _write_transaction(db):
    """Another process's write transaction (as a rebuild's apply stage holds it)."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_a_scan_keeps_its_results_when_the_history_cannot_wait(db, submission, tmp_path, monkeypatch):
    monkeypatch.setattr("detector.cli.HISTORY_WAIT_SECONDS", 0.3)
    with _write_transaction(db):
        result = _run("scan", submission, "--db", db, "--out", tmp_path / "out", "--format", "json")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["reports"][0]["metrics"]["copy_ratio"] > 0.3
    assert "warning: this scan was not recorded in the scan history" in result.stderr
    assert "busy" in result.stderr and "Traceback" not in result.output
    assert "copy_ratio" in (tmp_path / "out" / "results.json").read_text(encoding="utf-8")
    assert (tmp_path / "out" / "index.html").stat().st_size > 1000
    assert _scans(db) == 0


def test_meta_waiting_too_long_for_the_writer_is_one_line(db, monkeypatch):
    monkeypatch.setattr(sqlite_store, "BUSY_WAIT_MS", 300)
    with _write_transaction(db):
        result = _run("meta", "1", "--db", db, "--author", "张三")
    assert result.exit_code == ExitCode.ERROR
    assert result.output.strip().count("\n") == 0 and "busy" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- read-only database, read-only disk


@pytest.fixture
def read_only(tmp_path):
    """Turn a folder read-only: a read-only tmpfs mount as root (root writes to any file), else chmod."""
    made = []

    def make(folder: Path):
        if IS_ROOT:
            saved = tmp_path / f"saved-{uuid.uuid4().hex}"
            shutil.copytree(folder, saved)
            if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)], capture_output=True).returncode:
                pytest.skip("cannot mount a tmpfs to make a read-only disk (needs root with CAP_SYS_ADMIN)")
            made.append(folder)
            shutil.copytree(saved, folder, dirs_exist_ok=True)
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        else:
            for path in folder.iterdir():
                path.chmod(0o444)
            folder.chmod(0o555)
            made.append(folder)

    yield make
    for folder in made:
        if IS_ROOT:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        else:
            folder.chmod(0o755)


@pytest.fixture
def ro_db(tmp_path, read_only):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "corpus.db"
    assert _run("add", *SEEDS[:4], "--db", path).exit_code == 0
    read_only(folder)
    return path


def test_a_read_only_database_still_scans_and_says_the_history_is_skipped(ro_db, submission, tmp_path):
    assert _run("stats", "--db", ro_db).exit_code == 0
    result = _run("scan", submission, "--db", ro_db, "--out", tmp_path / "out")
    assert result.exit_code == ExitCode.OK, result.output
    assert "warning: this scan was not recorded in the scan history" in result.stderr and "read-only" in result.stderr
    assert (tmp_path / "out" / "index.html").exists()


@pytest.mark.parametrize("command", [["add", SEEDS[4]], ["remove", "1"], ["meta", "1", "--author", "张三"]])
def test_writing_to_a_read_only_database_is_one_line(ro_db, command):
    result = _run(*command, "--db", ro_db)
    assert result.exit_code == ExitCode.ERROR, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "read-only" in errors[0] and "Traceback" not in result.output
    assert _documents(ro_db) == 4


def test_a_rebuild_of_a_read_only_database_is_one_line(ro_db, tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(SEEDS[4], archive)
    result = _run("rebuild", "--db", ro_db, "--from", archive)
    assert result.exit_code == ExitCode.ERROR
    assert "read-only" in result.output and "Traceback" not in result.output
    assert _documents(ro_db) == 4


# ---------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path):
    if not IS_ROOT:
        pytest.skip("a full disk is made with a small tmpfs mount (root only)")
    folder = tmp_path / "small"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs (needs CAP_SYS_ADMIN)")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_adding_to_a_full_disk_is_one_line_and_changes_nothing(small_disk):
    db = small_disk / "corpus.db"
    assert _run("add", SEEDS[0], "--db", db).exit_code == 0
    filler = small_disk / "filler"
    with contextlib.suppress(OSError):
        filler.write_bytes(b"x" * 10**6)  # whatever is left
    result = _run("add", SAMPLE.parent / "demo", *SEEDS, "--db", db)
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "the disk is full" in result.output and "Traceback" not in result.output
    filler.unlink()
    assert _run("stats", "--db", db).exit_code == 0
    with api.open_corpus(db) as corpus:
        assert corpus.store.index_problems() == []


def test_reports_to_a_full_disk_are_one_line_and_never_half_written(db, submission, small_disk):
    with contextlib.suppress(OSError):
        (small_disk / "filler").write_bytes(b"x" * 10**6)
    out = small_disk / "out"
    result = _run("scan", submission, "--db", db, "--out", out)
    assert result.exit_code == ExitCode.ERROR
    assert "the reports could not be written" in result.output and "the disk is full" in result.output
    assert "总文字复制比" in result.stdout or "copy" in result.stdout  # the results are printed all the same
    assert not out.exists() or all(f.stat().st_size > 0 for f in out.iterdir() if not f.name.endswith(".part"))
    assert not out.exists() or not list(out.glob("*.part"))


# ---------------------------------------------------------------- ulimit -f and I/O errors


def test_the_file_size_limit_is_one_line_and_the_index_stays_intact(tmp_path):
    db = tmp_path / "corpus.db"
    assert _run("add", SEEDS[0], "--db", db).exit_code == 0
    size = db.stat().st_size

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 64 * 1024, size + 64 * 1024))

    done = subprocess.run([sys.executable, "-m", "detector", "add", *map(str, SEEDS[1:]), "--db", str(db)],
                          capture_output=True, preexec_fn=limit)
    assert done.returncode == ExitCode.ERROR
    stderr = done.stderr.decode()
    assert "file size limit" in stderr and "ulimit" in stderr and "Traceback" not in stderr, stderr
    assert _documents(db) == 1
    with api.open_corpus(db) as corpus:
        assert corpus.store.index_problems() == []


def test_sqlite_and_os_errors_say_what_happened_and_what_to_do():
    def said(err):
        message = str(storage_error(err, "/srv/c.db"))
        assert "\n" not in message and message.startswith("/srv/c.db: ")
        return message

    assert "disk is full" in said(sqlite3.OperationalError("database or disk is full"))
    assert "read-only" in said(sqlite3.OperationalError("attempt to write a readonly database"))
    assert "I/O error" in said(OSError(5, "Input/output error"))
    assert "permission denied" in said(PermissionError(13, "Permission denied"))
    assert "busy" in said(sqlite3.OperationalError("database is locked"))
    assert "damaged" in said(sqlite3.DatabaseError("database disk image is malformed"))


# ---------------------------------------------------------------- private files


def test_database_lock_and_reports_are_owner_only_whatever_the_umask(tmp_path, submission):
    old = os.umask(0o022)
    try:
        db = tmp_path / "private.db"
        assert _run("add", *SEEDS[:2], "--db", db).exit_code == 0
        assert _run("scan", submission, "--db", db, "--out", tmp_path / "reports" / "2024").exit_code == 0
        with api.open_corpus(db) as corpus, corpus.reading():  # -wal and -shm exist while a connection is open
            files = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}.lock")]
            modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files if f.exists()}
    finally:
        os.umask(old)
    assert {"private.db", "private.db.lock", "private.db-wal"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes
    for folder in (tmp_path / "reports", tmp_path / "reports" / "2024"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for report in (tmp_path / "reports" / "2024").iterdir():
        assert stat.S_IMODE(report.stat().st_mode) == 0o600, report


def test_a_database_on_a_full_disk_still_scans_and_says_the_history_is_skipped(small_disk, submission):
    db = small_disk / "corpus.db"
    assert _run("add", SEEDS[0], SEEDS[1], "--db", db).exit_code == 0
    with contextlib.suppress(OSError):
        (small_disk / "filler").write_bytes(b"x" * 10**6)
    assert _run("stats", "--db", db).exit_code == 0
    result = _run("scan", submission, "--db", db)
    assert result.exit_code == ExitCode.OK, result.output
    assert "warning: this scan was not recorded in the scan history" in result.stderr and "the disk is full" in result.stderr
    meta = _run("meta", "1", "--author", "张三", "--db", db)
    assert meta.exit_code == ExitCode.ERROR and "the disk is full" in meta.output


def test_a_failure_in_a_later_batch_of_add_says_what_was_added_before(tmp_path, monkeypatch):
    from detector.errors import StorageError

    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        fail_second_insert(monkeypatch, corpus.store, sqlite3.OperationalError("database or disk is full"))
        with pytest.raises(StorageError) as caught:
            api.add_paths(corpus, SEEDS, batch_size=2)
        assert corpus.store.document_count() == 2
    message = str(caught.value)
    assert "the disk is full; this batch was not written" in message and "the 2 files added before it stay added" in message


def test_a_rebuild_whose_compacting_the_disk_refuses_says_the_changes_were_committed(db, tmp_path, monkeypatch):
    """VACUUM needs room for a copy of the database: a disk that fills then has the new index committed already, so
    'nothing was changed' would send the administrator after a problem that is not there (and hide the failed files)."""
    archive = tmp_path / "archive"
    archive.mkdir()
    for seed in SEEDS:
        shutil.copy(seed, archive / seed.name)
    (archive / "broken.docx").write_bytes(b"not a zip at all")

    def full_disk(self, *args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(sqlite_store.SqliteStore, "compact", full_disk)
    result = _run("rebuild", "--db", db, "--from", archive)
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "Traceback" not in result.output and "nothing was changed" not in result.output
    assert "the disk is full; the changes were committed" in result.stderr and "only compacting was not done" in result.stderr
    assert "broken.docx" in result.stderr and result.stdout.startswith("added 1, changed 0, removed 0, renamed 4")
    assert _documents(db) == len(SEEDS)
    monkeypatch.undo()
    assert _run("check", "--db", db).exit_code == 0
    assert _run("rebuild", "--db", db, "--from", archive, "--full").exit_code == ExitCode.ERROR  # broken.docx only
    assert _documents(db) == len(SEEDS) and _run("check", "--db", db).exit_code == 0



def test_the_next_rebuild_compacts_what_a_refused_compacting_left_even_when_nothing_changed(tmp_path, monkeypatch):
    """Compacting refused by a full disk after the commit was redone only by the next rebuild that changed something:
    the free pages (and the WAL) kept their space meanwhile. The database's meta says it is pending, so the next rebuild
    compacts whatever it changes, says so in its summary, and the one after it has nothing left to do."""
    from detector.messages import localized

    archive, db = tmp_path / "archive", tmp_path / "corpus.db"
    archive.mkdir()
    for seed in SEEDS:
        shutil.copy(seed, archive / seed.name)
    assert _run("rebuild", "--db", db, "--from", archive).exit_code == ExitCode.OK
    for seed in SEEDS[1:]:
        (archive / seed.name).unlink()  # most of the index freed: compacting would VACUUM

    def full_disk(self, *args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(sqlite_store.SqliteStore, "compact", full_disk)
    refused = _run("rebuild", "--db", db, "--from", archive, "--allow-mass-removal")
    assert refused.exit_code == ExitCode.ERROR and "only compacting was not done" in refused.stderr, refused.output
    monkeypatch.undo()
    uncompacted = db.stat().st_size
    again = _run("rebuild", "--db", db, "--from", archive)
    assert again.exit_code == ExitCode.OK, again.output
    assert "compact: optimized" in again.stderr and ", vacuumed" in again.stderr, again.stderr
    assert again.stdout.startswith("added 0, changed 0, removed 0, renamed 0, relabelled 0, unchanged 1, failed 0")
    assert again.stdout.rstrip().endswith("; compacted (the last rebuild's compacting had not finished)"), again.stdout
    assert "已整理（上次重建的整理未完成）" in localized(again.stdout)
    assert db.stat().st_size < uncompacted / 2 and _documents(db) == 1
    after = _run("rebuild", "--db", db, "--from", archive)
    assert after.exit_code == ExitCode.OK and "compact:" not in after.stderr and "compacted" not in after.stdout, after.output

@pytest.mark.parametrize("command", ["add", "rebuild"])
def test_a_database_in_a_folder_that_does_not_exist_says_so(command, tmp_path):
    """A typo in the crontab's --db folder: the line names the missing folder and what to do, in both languages."""
    db = tmp_path / "没有的文件夹" / "corpus.db"
    args = [command, str(SEEDS[0].parent), "--db", db] if command == "add" else [command, "--db", db, "--from", SEEDS[0].parent]
    result = _run(*args)
    assert result.exit_code == ExitCode.ERROR and "Traceback" not in result.output
    assert result.stderr.strip() == (f"error: {db}: its folder {db.parent} does not exist; nothing was changed — check the "
                                     "--db path, or create the folder first"), result.stderr
    chinese = _run("--lang", "zh", *args)
    assert chinese.stderr.strip() == (f"错误：{db}: 所在文件夹 {db.parent} 不存在；未作任何改动 — 请检查 --db 路径，或先建立该文件夹")
    assert not db.parent.exists()


def test_a_backup_into_a_folder_that_does_not_exist_names_the_backup_not_the_db(tmp_path):
    """`chachong backup OUT` with a typo in OUT's folder: the line named the temporary file it could not make there
    ('.b.db.x1y2.part') and said to check the --db path, which is right; it names OUT and says to check that path."""
    db = tmp_path / "corpus.db"
    assert _run("add", SEEDS[0], "--db", db).exit_code == 0
    out = tmp_path / "没有的文件夹" / "backup.db"
    result = _run("backup", out, "--db", db)
    assert result.exit_code == ExitCode.ERROR and "Traceback" not in result.output
    assert result.stderr.strip() == (f"error: {out}: its folder {out.parent} does not exist; nothing was changed — check "
                                     "the path, or create the folder first"), result.stderr
    chinese = _run("--lang", "zh", "backup", out, "--db", db)
    assert chinese.stderr.strip() == f"错误：{out}: 所在文件夹 {out.parent} 不存在；未作任何改动 — 请检查路径，或先建立该文件夹"
    assert not out.parent.exists()


@pytest.mark.skipif(not os.path.isdir("/proc") or os.statvfs("/proc").f_blocks != 0, reason="needs a /proc of no blocks")
def test_a_file_system_of_no_blocks_is_not_called_a_full_disk(tmp_path):
    """/proc has no free blocks because it has no blocks at all: a report folder there cannot be made, but the disk is not
    full (the reviewer's `compare --out /proc/nope` was told so)."""
    from planting import SAMPLE

    seeds = sorted(SAMPLE.glob("*.txt"))
    result = CliRunner().invoke(cli, ["compare", str(seeds[0]), str(seeds[1]), "--out", "/proc/chachong-test"])
    assert result.exit_code != 0 and "/proc/chachong-test" in result.output, result.output
    assert "disk is full" not in result.output, result.output
