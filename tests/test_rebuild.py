"""Nightly rebuild: incremental equals fresh, no-op twice, locked, atomic for concurrent scans, intact after SIGKILL."""

from __future__ import annotations

import collections
from contextlib import closing
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector import api
from detector.cli import ExitCode, cli
from detector.errors import IndexLocked
from detector.fingerprint import fingerprint
from detector.locking import writer_lock
from detector.store.sqlite import SqliteStore
from detector.web.service import last_rebuild_log
from planting import BASE, SAMPLE, SOURCE

ROOT = Path(__file__).resolve().parent.parent
FILLERS = 60  # unrelated documents that give the rebuild some work
PREFACE = "根据上级通知精神，本人对照检查材料重新修订如下。\n"


# ---------------------------------------------------------------- building archives


def _filler(number: int, alphabet: str) -> str:
    """A document of random text in the seeds' characters: matches nothing, costs indexing time."""
    rng = random.Random(number)
    sentences = ("".join(rng.choices(alphabet, k=rng.randint(15, 40))) + "。" for _ in range(60))
    return f"第{number}号材料\n" + "".join(sentences)


def _write_archive(root: Path, version: int) -> Path:
    """Version 1: the seeds but BASE, plus fillers. Version 2 adds, changes, deletes and renames files."""
    alphabet = "".join(sorted({c for p in SAMPLE.glob("*.txt") for c in p.read_text(encoding="utf-8") if "\u4e00" <= c <= "\u9fff"}))
    shutil.rmtree(root, ignore_errors=True)
    (root / "2022").mkdir(parents=True)
    (root / "2023").mkdir()
    for seed in sorted(SAMPLE.glob("*.txt")):
        if seed != BASE:
            shutil.copy(seed, root / "2023" / seed.name)
    for number in range(FILLERS):
        (root / "2022" / f"filler{number:03}.txt").write_text(_filler(number, alphabet), encoding="utf-8")
    if version == 2:
        _second_version(root, alphabet)
    _age(root, version)
    return root.resolve()


def _second_version(root: Path, alphabet: str) -> None:
    source = root / "2023" / SOURCE.name
    source.write_text(PREFACE + source.read_text(encoding="utf-8"), encoding="utf-8")  # changed: spans move
    (root / "2023" / "000_5a8c092b610fea23.txt").unlink()  # deleted
    (root / "2023" / "002_36651b71203e1f41.txt").rename(root / "2023" / "002_renamed.txt")  # renamed
    for number in range(0, FILLERS, 3):  # a third of the fillers changed
        (root / "2022" / f"filler{number:03}.txt").write_text(_filler(1000 + number, alphabet), encoding="utf-8")
    (root / "2024").mkdir()
    (root / "2024" / "new.txt").write_text(_filler(5000, alphabet) + BASE.read_text(encoding="utf-8")[:600], encoding="utf-8")


def _age(root: Path, version: int) -> None:
    """Fixed modification times older than the rebuild's racy window; version 2's are later than version 1's."""
    when = 1_700_000_000 + 3600 * version
    for path in root.rglob("*.txt"):
        os.utime(path, (when, when))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(archive folder, DB rebuilt from its version 1, findings against version 1, against a fresh index of version 2).

    Every test writes the archive version it needs in place: the index knows files by their absolute paths.
    """
    base = tmp_path_factory.mktemp("rebuild")
    archive = _write_archive(base / "archive", 1)
    db = base / "v1.db"
    api.rebuild(db, archive)  # ends with a WAL checkpoint: copying the file copies the index
    _write_archive(archive, 2)
    with api.open_corpus(base / "fresh.db", create=True) as corpus:
        api.add_paths(corpus, [archive])
    return archive, db, _findings(db), _findings(base / "fresh.db")


def _seed_archive(root: Path, count: int | None = None) -> Path:
    """root/archive holding the bundled sample reports (the first `count` of them)."""
    archive = root / "archive"
    archive.mkdir()
    for seed in sorted(SAMPLE.glob("*.txt"))[:count]:
        shutil.copy(seed, archive / seed.name)
    return archive


def _stored_texts(db: Path) -> dict:
    """File name → stored text of every document."""
    with api.open_corpus(db) as corpus:
        return {Path(path).name: corpus.store.document(doc_id).text for doc_id, path, _ in api.list_documents(corpus)}


def _copy_db(db: Path, target: Path) -> Path:
    shutil.copy(db, target)
    return target


def _findings(db, corpus=None) -> list:
    """The planted submission's passages as comparable tuples (source paths relative to their archive)."""
    from planting import planted_submission

    def run(c):
        report = api.scan_text(c, planted_submission()[0], "submission.txt")
        return sorted([p.kind, "/".join(Path(p.source.path).parts[-2:]), list(p.submission_span), list(p.source_span)]
                      for p in report.passages)

    if corpus is not None:
        return run(corpus)
    with api.open_corpus(db) as c:
        return run(c)


def _recounted_df(store: SqliteStore) -> dict:
    """segment_df as a count from scratch over the stored texts."""
    counts = collections.Counter()
    for doc_id, _, _ in store.documents():
        counts.update(set(fingerprint(store.document(doc_id).text, api.DEFAULT).hashes))
    return dict(counts)


def _stored_df(store: SqliteStore) -> dict:
    return dict(store.conn.execute("SELECT hash, docs FROM segment_df"))


def _assert_intact(db) -> None:
    store = SqliteStore(db)
    try:
        assert store.index_problems() == []
        assert _stored_df(store) == _recounted_df(store)
    finally:
        store.close()


# ---------------------------------------------------------------- incremental = fresh; twice = nothing


def test_rebuild_after_adding_changing_deleting_equals_a_fresh_index(built, tmp_path):
    archive, db_v1, old, new = built
    v2 = _write_archive(archive, 2)
    db = _copy_db(db_v1, tmp_path / "c.db")
    summary = api.rebuild(db, v2)
    assert [Path(p).name for p in summary.added] == ["new.txt"]
    assert len(summary.changed) == 1 + len(range(0, FILLERS, 3))
    assert [Path(p).name for p in summary.removed] == ["000_5a8c092b610fea23.txt"]
    assert [Path(n).name for _, n in summary.renamed] == ["002_renamed.txt"]
    assert old != new and _findings(db) == new
    _assert_intact(db)
    with closing(SqliteStore(db)) as store:
        assert sorted(p for _, p, _ in store.documents()) == sorted(str(p) for p in v2.rglob("*.txt"))


def test_a_second_rebuild_changes_nothing_and_hashes_nothing(built, tmp_path):
    archive, db_v1, _, _ = built
    _write_archive(archive, 2)
    db = _copy_db(db_v1, tmp_path / "c.db")
    api.rebuild(db, archive)
    before = _file_bytes(db)
    again = api.rebuild(db, archive)
    assert (again.changed_index, again.hashed, again.failed) == (False, 0, [])
    assert "apply" not in again.stages and _file_bytes(db) == before


def _file_bytes(db: Path) -> dict:
    return {p.name: p.read_bytes() for p in db.parent.glob(db.name + "*") if not p.name.endswith((".lock", "-shm"))}


def test_full_rebuild_matches_a_fresh_index_and_keeps_every_documents_id(built, tmp_path):
    """The same documents and findings as a fresh index, and each content stored before under the id it had: people
    wrote the ids down (`meta 17`, `remove 17`, a recorded report's source); a new or changed text gets an id above
    every id given before (the removed one's is not given again)."""
    archive, db_v1, _, new = built
    _write_archive(archive, 2)
    db = _copy_db(db_v1, tmp_path / "c.db")
    with closing(SqliteStore(db)) as store:
        before = {sha: doc_id for doc_id, _, sha in store.documents()}
    summary = api.rebuild(db, archive, full=True)
    assert summary.full and _findings(db) == new
    with api.open_corpus(tmp_path / "fresh.db", create=True) as corpus:
        api.add_paths(corpus, [archive])
        fresh = corpus.store.documents()
    with closing(SqliteStore(db)) as store:
        after = store.documents()
    assert sorted((path, sha) for _, path, sha in after) == sorted((path, sha) for _, path, sha in fresh)
    kept = [(doc_id, before[sha]) for doc_id, _, sha in after if sha in before]
    new_ids = [doc_id for doc_id, _, sha in after if sha not in before]
    assert kept and new_ids and all(now == then for now, then in kept)
    assert min(new_ids) > max(before.values())
    with closing(SqliteStore(db)) as store:  # segments ascend with ids, as in an index added to over time
        in_segment_order = [row[0] for row in store.conn.execute("SELECT id FROM documents ORDER BY first_segment")]
    assert in_segment_order == sorted(in_segment_order)
    _assert_intact(db)


def test_an_index_of_another_normaliser_version_says_so_and_is_rebuilt_in_full(built, tmp_path, capsys):
    archive, db_v1, old, _ = built
    _write_archive(archive, 1)
    db = _copy_db(db_v1, tmp_path / "c.db")
    with closing(SqliteStore(db)) as store:
        stored = store.meta()["index"]
        store.set_meta("index", dict(stored, normaliser_version=0))
    runner = CliRunner()
    for command in (["stats", "--db", str(db)], ["scan", str(SOURCE), "--db", str(db)]):
        result = runner.invoke(cli, command)
        assert result.exit_code == ExitCode.ERROR and "normaliser version 0" in result.output
        assert "chachong rebuild --full" in result.output
    summary = api.rebuild(db, archive)
    assert summary.full and "normaliser version 0" in summary.full_reason
    assert _findings(db) == old
    stats = json.loads(runner.invoke(cli, ["stats", "--db", str(db), "--format", "json"]).output)
    assert stats["settings"]["normaliser_version"] == stats["built_by"]["normaliser_version"] > 0
    assert stats["last_rebuild"]["full"] is True and stats["last_rebuild"]["archive"] == str(archive)


def test_remove_and_add_keep_statistics_equal_to_a_recount(built, tmp_path):
    archive, db_v1, _, _ = built
    _write_archive(archive, 1)
    db = _copy_db(db_v1, tmp_path / "c.db")
    runner = CliRunner()
    target = archive / "2023" / SOURCE.name
    result = runner.invoke(cli, ["remove", str(target), "1", "--db", str(db)])
    assert result.exit_code == 0 and result.output.count("removed ") == 2
    _assert_intact(db)
    assert runner.invoke(cli, ["add", str(target), "--db", str(db)]).exit_code == 0
    _assert_intact(db)
    missing = runner.invoke(cli, ["remove", "no/such/file.txt", "--db", str(db)])
    assert missing.exit_code == ExitCode.ERROR and "no document" in missing.output
    summary = api.rebuild(db, archive)  # the archive is the truth: document 1 comes back
    assert len(summary.added) == 1 and summary.removed == []
    _assert_intact(db)


def test_keep_missing_keeps_documents_whose_files_are_gone(built, tmp_path):
    archive, db_v1, _, _ = built
    _write_archive(archive, 2)
    db = _copy_db(db_v1, tmp_path / "c.db")
    summary = api.rebuild(db, archive, keep_missing=True)
    assert summary.removed == [] and [Path(p).name for p in summary.kept_missing] == ["000_5a8c092b610fea23.txt"]
    full = api.rebuild(db, archive, keep_missing=True, full=True)
    assert full.documents == summary.documents
    _assert_intact(db)


def test_a_file_overwritten_with_a_copy_of_another_counts_as_changed(built, tmp_path):
    archive, db_v1, _, _ = built
    _write_archive(archive, 1)
    db = _copy_db(db_v1, tmp_path / "c.db")
    copy = archive / "2022" / "filler001.txt"
    shutil.copy(archive / "2022" / "filler002.txt", copy)
    summary = api.rebuild(db, archive)
    assert summary.changed == [str(copy)] and summary.added == summary.removed == []
    assert summary.documents == FILLERS + 3
    _assert_intact(db)


def test_manifest_changes_relabel_documents_without_reindexing(built, tmp_path):
    archive, db_v1, _, _ = built
    _write_archive(archive, 1)
    db = _copy_db(db_v1, tmp_path / "c.db")
    manifest = archive / "manifest.csv"
    manifest.write_text(f"path,author,unit,year\n2023/{SOURCE.name},干部丙,某镇,2021\n", encoding="utf-8")
    summary = api.rebuild(db, archive, manifest=manifest)
    assert [Path(p).name for p in summary.relabelled] == [SOURCE.name] and summary.changed == []
    with api.open_corpus(db) as corpus:
        doc_id = [i for i, p, _ in corpus.store.documents() if p.endswith(SOURCE.name)][0]
        assert (corpus.store.source_ref(doc_id).author, corpus.store.source_ref(doc_id).year) == ("干部丙", 2021)
    assert not api.rebuild(db, archive, manifest=manifest).changed_index
    manifest.unlink()


def test_manifest_rows_naming_no_archive_file_are_logged(built, tmp_path, caplog):
    archive, db_v1, _, _ = built
    _write_archive(archive, 1)
    db = _copy_db(db_v1, tmp_path / "c.db")
    manifest = archive / "manifest.csv"
    manifest.write_text(f"path,author\n2023/{SOURCE.name},干部丙\n2023/张三 2023.txt,张三\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="chachong"):
        api.rebuild(db, archive, manifest=manifest)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    manifest.unlink()
    assert len(warned) == 1 and "张三 2023.txt" in warned[0] and SOURCE.name not in warned[0]


# ---------------------------------------------------------------- unattended: locked, logged, failures listed


def test_a_second_writer_exits_at_once_with_code_4(built, tmp_path):
    archive, db_v1, _, _ = built
    db = _copy_db(db_v1, tmp_path / "c.db")
    runner = CliRunner()
    with writer_lock(db, "rebuild"):
        for command in (["rebuild", "--db", str(db), "--from", str(archive)], ["add", str(SOURCE), "--db", str(db)],
                        ["remove", "1", "--db", str(db)], ["meta", "1", "--db", str(db), "--author", "某人"]):
            started = time.perf_counter()
            result = runner.invoke(cli, command)
            assert result.exit_code == ExitCode.LOCKED == 4, result.output
            assert f"`chachong rebuild` (pid {os.getpid()}" in result.output and time.perf_counter() - started < 5
        with pytest.raises(IndexLocked):
            api.rebuild(db, archive)
        listed = runner.invoke(cli, ["meta", "1", "--db", str(db), "--format", "json"])  # reading needs no lock
        assert listed.exit_code == 0 and json.loads(listed.stdout)[0]["author"] != "某人"
    assert runner.invoke(cli, ["remove", "1", "--db", str(db)]).exit_code == 0


@pytest.mark.parametrize("left", [0, 5])
def test_an_archive_that_lost_most_of_its_files_changes_nothing_and_fails(built, tmp_path, left):
    """An unmounted share is an empty folder; a half-finished copy a short one: more likely that than the archive
    emptied on purpose. The index is kept (scans the next morning still find the copies) and cron hears of it."""
    _, db_v1, _, _ = built
    db = _copy_db(db_v1, tmp_path / "c.db")
    with api.open_corpus(db) as corpus:
        stored = len(api.list_documents(corpus))
    archive = tmp_path / "mount"
    archive.mkdir()
    for seed in sorted(SAMPLE.glob("*.txt"))[:left]:
        shutil.copy(seed, archive / seed.name)
    result = CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)])
    assert result.exit_code == ExitCode.ERROR and "is it mounted" in result.stderr and "nothing was changed" in result.stderr
    with api.open_corpus(db) as corpus:
        assert len(api.list_documents(corpus)) == stored
    chinese = CliRunner().invoke(cli, ["--lang", "zh", "rebuild", "--db", str(db), "--from", str(archive)])
    assert "文件夹是否已挂载" in chinese.stderr and "未作任何改动" in chinese.stderr
    allowed = CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive), "--allow-mass-removal"])
    assert allowed.exit_code == 0 and f"; {left} documents;" in allowed.stdout


def test_cli_logs_each_stage_lists_failures_and_exits_1(built, tmp_path):
    archive, db_v1, _, _ = built
    _write_archive(archive, 2)
    (archive / "2024" / "empty.txt").write_text("   \n", encoding="utf-8")
    (archive / "2024" / "broken.docx").write_bytes(b"not a zip at all")
    db = _copy_db(db_v1, tmp_path / "c.db")
    result = subprocess.run([sys.executable, "-m", "detector", "rebuild", "--db", str(db), "--from", str(archive)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == ExitCode.ERROR
    for stage in ("lock:", "survey:", "prepare:", "apply:", "compact:", "done:"):
        assert f"chachong INFO {stage}" in result.stderr
    assert f"error: {archive / '2024' / 'empty.txt'}: the file holds no text" in result.stderr
    assert "broken.docx" in result.stderr and "\r" not in result.stderr  # no progress bar without a terminal
    assert result.stdout.startswith("added 1, changed 21, removed 1, renamed 1") and "failed 2" in result.stdout
    again = api.rebuild(db, archive)  # failed files are tried again, the rest stays
    assert len(again.failed) == 2 and not again.changed_index
    (archive / "2024" / "empty.txt").unlink()
    (archive / "2024" / "broken.docx").unlink()


# ---------------------------------------------------------------- atomic for readers, intact after SIGKILL

SCAN_LOOP = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, "tests")
from detector import api
from test_rebuild import _findings
db, stop = sys.argv[1], Path(sys.argv[2])
kept = api.open_corpus(db)  # one long-lived corpus (its caches must notice the rebuild), one opened per scan
for n in range(100000):
    if stop.exists():
        break
    started = time.time()
    try:
        findings = _findings(db) if n % 2 else _findings(db, corpus=kept)
    except Exception as err:
        findings = "failed: " + repr(err)
    print(json.dumps({"started": started, "ended": time.time(), "findings": findings}, ensure_ascii=False), flush=True)
"""


def test_scans_during_a_rebuild_see_the_old_or_the_new_index(built, tmp_path):
    archive, db_v1, old, new = built
    _write_archive(archive, 2)
    db = _copy_db(db_v1, tmp_path / "c.db")
    stop, results = tmp_path / "stop", []
    loop = subprocess.Popen([sys.executable, "-c", SCAN_LOOP, str(db), str(stop)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE)
    reader = threading.Thread(target=lambda: results.extend(json.loads(line) for line in loop.stdout), daemon=True)
    reader.start()
    try:
        _wait_for(lambda: len(results) >= 3)
        windows = [_timed(lambda: api.rebuild(db, archive)), _timed(lambda: api.rebuild(db, archive, full=True))]
        seen = len(results)
        _wait_for(lambda: len(results) >= seen + 3)
    finally:
        stop.touch()
        loop.wait(timeout=60)
        reader.join(timeout=10)
    findings = [r["findings"] for r in results]
    assert all(f == old or f == new for f in findings), [f for f in findings if f not in (old, new)][:1]
    assert (findings[0] == old, findings[-1] == new, old != new) == (True, True, True), findings
    assert all(f == new for f in findings[findings.index(new):])  # never back to the old index
    overlapping = [r for r in results if any(r["ended"] > start and r["started"] < end for start, end in windows)]
    assert len(overlapping) >= 1, (windows, [(r["started"], r["ended"]) for r in results])  # scans ran meanwhile


def _wait_for(condition, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def _timed(work) -> tuple:
    started = time.time()
    work()
    return started, time.time()


# killed while surveying and preparing, while writing, just before the commit, while compacting
KILL_POINTS = ("lock:", "prepare:", "statistics:", "apply:")


def test_sigkill_at_random_moments_leaves_a_usable_index_and_the_next_rebuild_finishes(built, tmp_path):
    archive, db_v1, old, new = built
    _write_archive(archive, 2)
    stages = api.rebuild(_copy_db(db_v1, tmp_path / "baseline.db"), archive).stages
    rng = random.Random(20261122)
    windows = {"lock:": stages["survey"] + stages["prepare"], "prepare:": stages["apply"], "statistics:": 0.01,
               "apply:": stages["compact"]}
    for run in range(8):
        db = _copy_db(db_v1, tmp_path / f"run{run}.db")
        after = KILL_POINTS[run % 4]
        _kill_rebuild(db, archive, after, rng.uniform(0, windows[after] * 1.5), full=run >= 4)
        if run % 2:  # power loss: the shared-memory WAL index does not survive, SQLite rebuilds it from the WAL
            Path(f"{db}-shm").unlink(missing_ok=True)
        _assert_intact(db)
        assert _findings(db) in (old, new)
        summary = api.rebuild(db, archive)  # the lock died with the killed process
        assert summary.failed == [] and _findings(db) == new
        _assert_intact(db)


def _kill_rebuild(db: Path, archive: Path, after: str, delay: float, full: bool) -> None:
    command = [sys.executable, "-m", "detector", "rebuild", "--db", str(db), "--from", str(archive)] + ["--full"] * full
    process = subprocess.Popen(command, cwd=ROOT, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for line in process.stderr:
            if f"INFO {after}" in line:
                break
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
        process.stderr.close()


def test_sigterm_logs_one_line_saying_whether_the_changes_were_committed_and_nothing_is_half_written(built, tmp_path):
    archive, db_v1, old, new = built
    _write_archive(archive, 2)
    # surveying; the write transaction (all of it follows "prepare:" — "statistics:", its last line, left a window of
    # a few milliseconds that a loaded machine's SIGTERM missed: the commit came first); compacting after the commit
    for after in ("lock:", "prepare:", "apply:"):
        db = _copy_db(db_v1, tmp_path / f"{after[:-1]}.db")
        command = [sys.executable, "-m", "detector", "rebuild", "--db", str(db), "--from", str(archive)]
        process = subprocess.Popen(command, cwd=ROOT, text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        lines = []
        for line in process.stderr:
            lines.append(line)
            if f"INFO {after}" in line:
                process.send_signal(signal.SIGTERM)
                break
        lines += process.stderr.read().splitlines()
        assert process.wait(timeout=60) == -signal.SIGTERM, lines
        stopped = [line for line in lines if "stopped (SIGTERM)" in line]
        assert len(stopped) == 1 and not any("Traceback" in line for line in lines), lines
        committed = "after the changes were committed" in stopped[0]
        assert committed or "before the changes were committed" in stopped[0], stopped
        assert committed == (after == "apply:"), stopped  # the statistics come inside the transaction
        _assert_intact(db)
        assert _findings(db) == (new if committed else old)
        assert api.rebuild(db, archive).failed == [] and _findings(db) == new  # the lock went with the process


# ---------------------------------------------------------------- the README's crontab line


def _readme_cron_command(db: Path, archive: Path, log: Path) -> str:
    """The command of the README's crontab line, with this checkout's chachong and the test's paths."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```cron\n", 1)[1].split("```", 1)[0]
    line = next(line for line in block.splitlines() if line[:1].isdigit() or line.startswith("*"))
    command = line.split(None, 5)[5]  # after minute, hour, day, month, weekday
    chachong, readme_log = Path(sys.executable).parent / "chachong", command.split(">> ", 1)[1].split()[0]
    for readme_path, here in (("cd /srv/chachong", f"cd {ROOT}"), (".venv/bin/chachong", str(chachong)),
                              ("/srv/corpus.db", str(db)), ("/srv/archive", str(archive)), (readme_log, str(log))):
        assert readme_path in command, (readme_path, command)
        command = command.replace(readme_path, here)
    return command


def test_the_readme_crontab_line_logs_every_night_and_prints_what_cron_mails_only_on_failure(tmp_path):
    """cron mails what a command prints and looks at nothing else: a line that sends all output to the log never tells
    anyone that the share was not mounted or a file could not be read."""
    if not (Path(sys.executable).parent / "chachong").exists():
        pytest.skip("chachong is not installed beside this Python")
    archive, db, log = _seed_archive(tmp_path), tmp_path / "corpus.db", tmp_path / "rebuild.log"
    command = _readme_cron_command(db, archive, log)
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh"}  # as cron runs it
    night = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=environment, timeout=120)
    assert night.stdout + night.stderr == "" and "chachong INFO done: added 5" in log.read_text(encoding="utf-8")
    for seed in archive.iterdir():  # the share is not mounted: an empty mount point
        seed.unlink()
    unmounted = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, env=environment, timeout=120)
    mailed = unmounted.stdout + unmounted.stderr
    assert "exit 1" in mailed and "is it mounted" in mailed, mailed
    assert "is it mounted" in log.read_text(encoding="utf-8")


def test_a_damaged_file_alone_is_tried_again_each_night_without_writing_the_index(tmp_path):
    """A file that cannot be read is no change to the index: the night re-reads it, lists it and exits 1, and opens no
    write transaction (no recount of the statistics, no compacting) — a damaged file left in a large archive for weeks
    would otherwise cost a full recount every night."""
    archive, db = _seed_archive(tmp_path), tmp_path / "corpus.db"
    _age(archive, 1)
    assert CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)]).exit_code == 0
    (archive / "broken.docx").write_bytes(b"PK\x03\x04 not a zip after all")
    before = db.stat().st_mtime_ns, db.stat().st_size
    for night in range(2):
        result = CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)])
        assert result.exit_code == ExitCode.ERROR and "broken.docx" in result.stderr, result.output
        assert "INFO apply:" not in result.stderr and "INFO compact:" not in result.stderr, result.stderr
        assert result.stdout.startswith("added 0, changed 0, removed 0") and "failed 1" in result.stdout
    assert (db.stat().st_mtime_ns, db.stat().st_size) == before


@pytest.mark.parametrize("full", [False, True])
def test_a_stored_report_whose_file_is_damaged_stays_until_the_file_reads_again(tmp_path, full):
    """A damaged copy saved over an archived report (a .txt that is now binary) cannot replace it: the night lists the
    file and exits 1, the report stays indexed as it was (later scans still find copies of it), and once the file reads
    again the next rebuild indexes its new content."""
    archive, db = _seed_archive(tmp_path), tmp_path / "corpus.db"
    _age(archive, 1)
    assert CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)]).exit_code == 0
    victim = archive / BASE.name
    original = victim.read_text(encoding="utf-8")
    victim.write_bytes(b"ab\x00\x00cd" * 64)
    result = CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)] + (["--full"] if full else []))
    assert result.exit_code == ExitCode.ERROR and "failed 1" in result.stdout, result.output
    assert f"{victim}: " in result.stderr and "stays until the file can be read" in result.stderr, result.stderr
    stored = _stored_texts(db)
    assert len(stored) == 5 and stored[victim.name] == original
    assert CliRunner().invoke(cli, ["check", "--db", str(db)]).exit_code == 0
    victim.write_text(original.replace("问题", "不足"), encoding="utf-8")
    again = CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)])
    assert again.exit_code == 0 and again.stdout.startswith("added 0, changed 1, removed 0"), again.output
    stored = _stored_texts(db)
    assert len(stored) == 5 and "不足" in stored[victim.name]


def test_a_full_rebuild_keeps_the_stored_reports_whose_unchanged_files_it_cannot_read_again(tmp_path):
    """A full rebuild clears the index and indexes every file again: one it cannot read this time (here a wrong
    --encoding for every file) must not take the stored report with it. It wiped the whole corpus ('unchanged 4,
    failed 4; 0 documents'); now each report stays as indexed before, listed as not read, and exit 1."""
    archive, db = _seed_archive(tmp_path, 4), tmp_path / "corpus.db"
    assert CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)]).exit_code == 0
    before = _stored_texts(db)
    result = CliRunner().invoke(cli, ["rebuild", "--full", "--encoding", "gb18030", "--db", str(db), "--from", str(archive)])
    assert result.exit_code == ExitCode.ERROR and "failed 4; 4 documents" in result.stdout, result.output
    assert result.stderr.count("stays until the file can be read") == 4, result.stderr
    assert _stored_texts(db) == before
    assert CliRunner().invoke(cli, ["check", "--db", str(db)]).exit_code == 0
    again = CliRunner().invoke(cli, ["rebuild", "--full", "--db", str(db), "--from", str(archive)])
    assert again.exit_code == 0 and "failed 0; 4 documents" in again.stdout, again.output


# ---------------------------------------------------------------- in Chinese

ENGLISH_ALLOWED = re.compile(r"chachong|INFO|WARNING|VACUUM|WAL|SIGTERM|Word|WPS|UTF-8|docx|pdf|txt|\.db|index\.html|path|`[^`]*`")


def _english_left(output: str, *paths: Path) -> list[str]:
    """The lines of `output` that still hold English words once paths, timestamps and names kept as they are go."""
    left = []
    for line in output.splitlines():
        bare = line
        for path in sorted(map(str, paths), key=len, reverse=True):
            bare = bare.replace(path, "")
        bare = ENGLISH_ALLOWED.sub("", bare)
        if re.search(r"[A-Za-z]{2,}", bare):
            left.append(line)
    return left


def test_a_rebuild_in_chinese_says_every_line_in_chinese(tmp_path, monkeypatch):
    """The office's administrator in a Chinese locale reads the night's log: stage lines, summary, warnings, the files
    that failed, a full disk while compacting and another writer holding the index — all in Chinese."""
    archive, db = tmp_path / "archive", tmp_path / "corpus.db"
    archive.mkdir()
    seeds = sorted(SAMPLE.glob("*.txt"))
    for number, seed in enumerate(seeds):
        shutil.copy(seed, archive / f"材料{number}.txt")
    shutil.copy(seeds[0], archive / "李四.txt")  # the same text under another author
    (archive / "损坏.docx").write_bytes(b"PK\x03\x04 not a zip after all")
    (archive / "链接.txt").symlink_to(archive / "不存在.txt")
    (archive / "manifest.csv").write_text("path,author,unit,year\n材料0.txt,张三,某局,2023\n李四.txt,李四,某局,2023\n"
                                          "笔误.txt,王五,某局,2023\n", encoding="utf-8")
    command = ["--lang", "zh", "rebuild", "--db", str(db), "--from", str(archive), "--manifest", str(archive / "manifest.csv")]
    first = CliRunner().invoke(cli, command)
    assert first.exit_code == ExitCode.ERROR and "新增 5，" in first.stdout and "盘点：" in first.stderr, first.output
    assert "张三" in first.stderr and "清单：" in first.stderr and "已跳过" in first.stderr, first.stderr
    monkeypatch.setattr(SqliteStore, "compact", lambda self, *a, **k: (_ for _ in ()).throw(
        __import__("sqlite3").OperationalError("database or disk is full")))
    full = CliRunner().invoke(cli, command + ["--full"])
    assert "磁盘已满；改动已提交" in full.stderr, full.stderr
    with writer_lock(db, "add"):
        locked = CliRunner().invoke(cli, command)
    assert locked.exit_code == ExitCode.LOCKED and "另一个 `chachong add`" in locked.stderr, locked.stderr
    for result in (first, full, locked):
        assert _english_left(result.output, archive, db) == [], result.output
    log = tmp_path / "rebuild.log"  # the web page's archive view shows the last run of the log cron appends to
    log.write_text("2026-01-01 02:00:00 chachong INFO lock: holding the writer lock of x.db\n" + full.stderr, encoding="utf-8")
    assert last_rebuild_log(log) == full.stderr.splitlines()


def test_the_files_a_rebuild_or_a_scan_skips_are_said_in_chinese(tmp_path):
    """A rebuild's log and a scan's warnings name the files they leave out: a file of a type not read (the rebuild's
    'skipped ARCHIVE: 1 file not read …' kept its English head) and a dangling link (a scan said 'a symbolic link that
    loops or points nowhere; skipped' in English)."""
    archive, db = tmp_path / "archive", tmp_path / "corpus.db"
    archive.mkdir()
    shutil.copy(sorted(SAMPLE.glob("*.txt"))[0], archive / "材料.txt")
    (archive / "笔记.xyz").write_text("不是材料", encoding="utf-8")
    (archive / "链接.txt").symlink_to(archive / "不存在.txt")
    rebuilt = CliRunner().invoke(cli, ["--lang", "zh", "rebuild", "--db", str(db), "--from", str(archive)])
    assert rebuilt.exit_code == 0 and rebuilt.stderr.count("已跳过") == 2, rebuilt.stderr
    scanned = CliRunner().invoke(cli, ["--lang", "zh", "scan", str(archive), "--db", str(db)])
    assert scanned.exit_code == 0 and "已跳过" in scanned.stderr, scanned.stderr
    for result in (rebuilt, scanned):  # the file types chachong reads (.doc, .md, .text …) are names
        assert _english_left(re.sub(r"\.(?:doc|md|text|xyz)\b", "", result.stderr), archive, db) == [], result.stderr


def test_add_remove_backup_and_a_scans_report_line_in_chinese(tmp_path):
    """The administrator's other commands, and the line a scan with --out ends with, in Chinese with --lang zh."""
    archive, db = tmp_path / "文档库", tmp_path / "语料库.db"
    archive.mkdir()
    for number, seed in enumerate(sorted(SAMPLE.glob("*.txt"))):
        shutil.copy(seed, archive / f"材料{number}.txt")
    runs = [CliRunner().invoke(cli, ["--lang", "zh", *args]) for args in (
        ["add", str(archive), "--db", str(db)],
        ["remove", "1", "99", "--db", str(db)],
        ["backup", "--db", str(db), str(tmp_path / "备份.db")],
        ["scan", str(archive / "材料1.txt"), "--db", str(db), "--out", str(tmp_path / "报告")])]
    assert "新增 5 篇" in runs[0].stdout and "已移除 1" in runs[1].stdout and "99：文档库中没有" in runs[1].stderr
    assert "已将" in runs[2].stdout and "报告已写入" in runs[3].stderr, runs[3].stderr
    for result in runs:
        assert _english_left(result.stderr + "\n".join(result.stdout.splitlines()[:1]), tmp_path) == [], result.output


def test_an_unmounted_share_that_holds_the_manifest_is_said_to_be_unmounted(tmp_path):
    """The README's nightly line reads the manifest from the archive: with the share not mounted both are gone, and the
    line asks whether it is mounted (in Chinese too) instead of calling the --manifest path wrong."""
    mount, db = tmp_path / "mnt", tmp_path / "corpus.db"
    mount.mkdir()
    command = ["rebuild", "--db", str(db), "--from", str(mount), "--manifest", str(mount / "manifest.csv")]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == ExitCode.ERROR and "is the archive mounted" in result.stderr, result.output
    assert "nothing was changed" in result.stderr and not db.exists()
    chinese = CliRunner().invoke(cli, ["--lang", "zh", *command])
    assert "文档库文件夹是否已挂载" in chinese.stderr and "未作任何改动" in chinese.stderr, chinese.stderr
    (mount / "材料.txt").write_text(SAMPLE.joinpath("003_42e09aa36b9c46a6.txt").read_text(encoding="utf-8"), encoding="utf-8")
    typo = CliRunner().invoke(cli, command)  # mounted, the manifest really is missing: the path is what is wrong
    assert typo.exit_code == ExitCode.ERROR and "no such manifest file; check the --manifest path" in typo.stderr


def test_a_full_rebuild_says_it_indexed_everything_again(tmp_path):
    """'unchanged 5' alone after --full (or the automatic full rebuild of a new normaliser) read as if nothing was done."""
    archive, db = tmp_path / "archive", tmp_path / "corpus.db"
    archive.mkdir()
    for number, seed in enumerate(sorted(SAMPLE.glob("*.txt"))):
        shutil.copy(seed, archive / f"材料{number}.txt")
    assert CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)]).exit_code == 0
    full = CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive), "--full"])
    assert "unchanged 5, failed 0; 5 documents;" in full.stdout and full.stdout.rstrip().endswith("; full: all 5 indexed again")
    assert "; full:" not in CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)]).stdout
    chinese = CliRunner().invoke(cli, ["--lang", "zh", "rebuild", "--db", str(db), "--from", str(archive), "--full"])
    assert chinese.stdout.rstrip().endswith("；完全重建：全部 5 篇重新索引") and _english_left(chinese.output, archive, db) == []
