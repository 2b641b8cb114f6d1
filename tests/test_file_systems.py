"""File systems as they are: names that are not UTF-8, newlines in names, unreadable files and folders, symlink loops."""

from __future__ import annotations

import builtins
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector import api, messages
from detector.cli import ExitCode, cli
from detector.ingest import find_input_files, read_document
from detector.paths import shown
from detector.store.sqlite import SqliteStore
from planting import SAMPLE

GBK_NAME = os.fsdecode(b"\xb2\xe2\xca\xd4.txt")  # 测试.txt in GBK: not UTF-8
SEEDS = sorted(SAMPLE.glob("*.txt"))


def _chachong(*args, cwd=None):
    """The real command in its own process (real stdout and stderr, as cron sees them)."""
    return subprocess.run([sys.executable, "-m", "detector", *map(str, args)], capture_output=True, cwd=cwd)


def _archive(root: Path, count: int = 5) -> Path:
    """The seeds under root, plus one file whose name is GBK bytes (a copy of a seed with a line added)."""
    root.mkdir(parents=True, exist_ok=True)
    for seed in SEEDS[:count]:
        shutil.copy(seed, root / seed.name)
    gbk = os.path.join(os.fsencode(root), os.fsencode(GBK_NAME))
    with open(gbk, "wb") as handle:
        handle.write(("第七份材料，与别的都不同。\n" + SEEDS[0].read_text(encoding="utf-8")[:500]).encode("utf-8"))
    return root


def _stored_paths(db) -> list[str]:
    store = SqliteStore(db)
    try:
        return [path for _, path, _ in store.documents()]
    finally:
        store.close()


# ---------------------------------------------------------------- names that are not UTF-8


def test_a_batch_with_one_gbk_named_file_adds_all_the_others(tmp_path):
    archive = _archive(tmp_path / "d")
    db = tmp_path / "x.db"
    done = _chachong("add", archive, "--db", db)
    assert done.returncode == 0, done.stderr.decode()
    assert b"added 6, already present 0, failed 0" in done.stdout
    paths = _stored_paths(db)
    assert os.path.join(str(archive), GBK_NAME) in paths  # stored byte for byte
    listing = _chachong("meta", "--db", db).stdout.decode("utf-8")  # the output is valid UTF-8
    assert "\\xb2\\xe2\\xca\\xd4.txt" in listing


def test_rebuild_with_a_gbk_named_file_indexes_everything_and_stays_incremental(tmp_path):
    archive = _archive(tmp_path / "d")
    db = tmp_path / "x.db"
    first = _chachong("rebuild", "--db", db, "--from", archive)
    assert first.returncode == 0, first.stderr.decode()
    assert len(_stored_paths(db)) == 6
    again = _chachong("rebuild", "--db", db, "--from", archive)
    assert again.returncode == 0, again.stderr.decode()
    assert b"unchanged 6, failed 0; 6 documents" in again.stdout
    os.rename(os.path.join(os.fsencode(archive), os.fsencode(GBK_NAME)), archive / "renamed.txt")
    moved = _chachong("rebuild", "--db", db, "--from", archive)
    assert b"renamed 1" in moved.stdout and str(archive / "renamed.txt") in _stored_paths(db)


def test_a_scan_of_a_gbk_named_file_prints_its_name_escaped(tmp_path):
    archive = _archive(tmp_path / "d", count=2)
    db = tmp_path / "x.db"
    _chachong("add", *SEEDS[2:], "--db", db)
    for fmt in ("json", "text"):
        scan = _chachong("scan", archive, "--db", db, "--format", fmt, "--out", tmp_path / f"r{fmt}")
        assert scan.returncode == 0, scan.stderr.decode()
    names = [r["submission"]["path"] for r in json.loads(_chachong("scan", archive, "--db", db, "--format", "json").stdout)["reports"]]
    assert str(archive / "\\xb2\\xe2\\xca\\xd4.txt") in names
    assert "\\xb2\\xe2" in (tmp_path / "rtext" / "results.csv").read_text(encoding="utf-8-sig")


def test_a_newline_in_a_file_name_cannot_forge_a_log_line(tmp_path):
    archive = tmp_path / "d"
    archive.mkdir()
    shutil.copy(SEEDS[0], archive / "good.txt")
    (archive / "bad\nerror: etc-passwd: forged.txt").write_bytes(b"\x00\x01\x02binary" * 50)
    done = _chachong("rebuild", "--db", tmp_path / "x.db", "--from", archive)
    assert done.returncode == ExitCode.ERROR
    errors = [line for line in done.stderr.decode().splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "bad\\nerror: etc-passwd: forged.txt" in errors[0]


def test_shown_escapes_only_what_is_not_printable_utf8():
    assert shown("本人/对照 检查.txt") == "本人/对照 检查.txt"
    assert shown(os.fsdecode(b"a\xff/b.txt")) == "a\\xff/b.txt"
    assert shown("a\r\nb\x1b[31m") == "a\\r\\nb\\x1b[31m"


# ---------------------------------------------------------------- unreadable files and folders


@pytest.fixture
def deny(monkeypatch):
    """Make paths unreadable: chmod 000, and (as root, who reads anything) refuse them in open() and os.scandir()."""
    denied: list[str] = []

    def refuse(path):
        name = os.fsdecode(path) if isinstance(path, (str, bytes)) else None
        if name and any(name == d or name.startswith(d + os.sep) for d in denied):
            raise PermissionError(13, "Permission denied", name)

    real_open, real_scandir = builtins.open, os.scandir
    monkeypatch.setattr(builtins, "open", lambda file, *a, **k: (refuse(file), real_open(file, *a, **k))[1])
    monkeypatch.setattr(os, "scandir", lambda path=".": (refuse(path), real_scandir(path))[1])

    def deny_path(path: Path):
        denied.append(str(path))
        path.chmod(0)

    yield deny_path
    for path in denied:
        os.chmod(path, 0o700)


def _rebuilt(tmp_path, count=4):
    archive = tmp_path / "archive"
    (archive / "sub").mkdir(parents=True)
    for n, seed in enumerate(SEEDS[:count]):
        shutil.copy(seed, (archive / "sub" if n % 2 else archive) / seed.name)
    db = tmp_path / "x.db"
    result = CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)])
    assert result.exit_code == 0, result.output
    return archive, db


def test_rebuild_with_an_unreadable_folder_deletes_nothing_and_exits_1(tmp_path, deny):
    archive, db = _rebuilt(tmp_path)
    before = _stored_paths(db)
    deny(archive / "sub")
    result = CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)])
    assert result.exit_code == ExitCode.ERROR
    assert f"error: {archive / 'sub'}: folder could not be read" in result.output
    assert "removed 0" in result.output and "failed 1" in result.output
    assert _stored_paths(db) == before


def test_a_full_rebuild_with_an_unreadable_folder_keeps_its_documents(tmp_path, deny):
    archive, db = _rebuilt(tmp_path)
    before = sorted(_stored_paths(db))
    deny(archive / "sub")
    result = CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive), "--full"])
    assert result.exit_code == ExitCode.ERROR
    assert sorted(_stored_paths(db)) == before


def test_rebuild_with_an_unreadable_file_keeps_its_document(tmp_path, deny):
    archive, db = _rebuilt(tmp_path)
    before = _stored_paths(db)
    victim = archive / SEEDS[0].name
    os.utime(victim, (1, 1))  # changed since the last run: it must be read again
    deny(victim)
    result = CliRunner().invoke(cli, ["rebuild", "--db", str(db), "--from", str(archive)])
    assert result.exit_code == ExitCode.ERROR
    assert f"error: {victim}: " in result.output and "removed 0" in result.output
    assert _stored_paths(db) == before


def test_add_and_scan_report_an_unreadable_folder_and_go_on(tmp_path, deny):
    archive, db = _rebuilt(tmp_path)
    deny(archive / "sub")
    added = CliRunner().invoke(cli, ["add", str(archive), "--db", str(tmp_path / "y.db")])
    assert added.exit_code == ExitCode.ERROR
    assert "added 2," in added.output and f"error: {archive / 'sub'}: folder could not be read" in added.output
    scanned = CliRunner().invoke(cli, ["scan", str(archive), "--db", str(db), "--format", "json"])
    assert scanned.exit_code == ExitCode.ERROR
    assert f"error: {archive / 'sub'}: folder could not be read" in scanned.output


# ---------------------------------------------------------------- symbolic links


def test_symlink_loops_are_skipped_with_a_warning(tmp_path):
    archive = tmp_path / "d"
    archive.mkdir()
    shutil.copy(SEEDS[0], archive / "good.txt")
    (archive / "loop1.txt").symlink_to("loop2.txt")
    (archive / "loop2.txt").symlink_to("loop1.txt")
    (archive / "folder").symlink_to(archive)  # a folder linking to its parent is not followed
    found = find_input_files([archive])
    assert found.files == [archive / "good.txt"] and len(found.skipped) == 2
    runner = CliRunner()
    for args in (["add", str(archive), "--db", str(tmp_path / "a.db")],
                 ["scan", str(archive), "--db", str(tmp_path / "a.db")],
                 ["rebuild", "--from", str(archive), "--db", str(tmp_path / "b.db")]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert "loop1.txt: a symbolic link that loops or points nowhere; skipped" in result.output


# ---------------------------------------------------------------- files of types chachong does not read


def _folder_with_types_not_read(tmp_path) -> Path:
    folder = tmp_path / "subs"
    (folder / "inner").mkdir(parents=True)
    shutil.copy(SEEDS[0], folder / "a.txt")
    for name in ("b.wps", "inner/c.WPS", "noext", "scan.jpg", "evil\nerror: forged.wps",  # reports that go unread
                 "manifest.csv", "results.json", ".hidden.wps", "~$a.docx",  # beside reports: no warning
                 "corpus.db.lock", "corpus.db-journal"):  # chachong's own lock, SQLite's journal
        (folder / name).write_bytes(b"x")
    for n in range(7):
        (folder / f"p{n}.rtf").write_bytes(b"x")
    return folder


def test_a_folders_files_of_types_not_read_are_named_in_one_warning_per_type(tmp_path):
    folder = _folder_with_types_not_read(tmp_path)
    found = find_input_files([folder])
    assert found.files == [folder / "a.txt"]
    reasons = sorted(reason.split(":")[0] for path, reason in found.skipped if path == str(folder))
    assert reasons == ["1 file not read (noext)", "1 file not read (scan.jpg)",
                       "3 files not read (b.wps, evil\\nerror", "7 files not read (p0.rtf, p1.rtf, p2.rtf, p3.rtf, p4.rtf and 2 more)"]
    assert any("c.WPS): unsupported file type '.wps'; chachong reads" in reason for _, reason in found.skipped)


def test_add_and_scan_warn_of_a_submission_they_cannot_read_and_go_on(tmp_path):
    folder = _folder_with_types_not_read(tmp_path)
    runner = CliRunner()
    for args in (["add", str(folder), "--db", str(tmp_path / "a.db")], ["scan", str(folder), "--db", str(tmp_path / "a.db")]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert f"warning: {folder}: 3 files not read (b.wps, evil\\nerror: forged.wps, c.WPS)" in result.output
        assert not any(line.startswith("error: forged") for line in result.output.splitlines())
        assert "manifest.csv" not in result.output and "results.json" not in result.output
    try:
        chinese = runner.invoke(cli, ["--lang", "zh", "scan", str(folder), "--db", str(tmp_path / "a.db")])
    finally:
        messages.set_language(None)  # --lang holds for the process: the tests after this one read English
    assert "7 个文件未读取（p0.rtf, p1.rtf, p2.rtf, p3.rtf, p4.rtf 等，另有 2 个）：不支持的文件类型“.rtf”" in chinese.output


def test_a_symlink_loop_named_directly_is_a_one_line_error(tmp_path):
    (tmp_path / "loop.txt").symlink_to("loop.txt")
    result = CliRunner().invoke(cli, ["add", str(tmp_path / "loop.txt"), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == ExitCode.ERROR
    assert f"error: {tmp_path / 'loop.txt'}: could not be read" in result.output


# ---------------------------------------------------------------- encodings and punctuation


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(tmp_path, encoding):
    text = SEEDS[1].read_text(encoding="utf-8")
    (tmp_path / "u.txt").write_bytes(text.encode(encoding))
    doc = read_document(tmp_path / "u.txt")
    assert doc.text == text and doc.encoding == encoding


def test_all_chinese_utf16_without_line_breaks_is_read(tmp_path):
    text = "本人对照检查材料存在的问题主要有理论学习不够深入系统"
    (tmp_path / "u.txt").write_bytes(text.encode("utf-16-le"))
    assert read_document(tmp_path / "u.txt").text == text


def test_a_text_without_punctuation_is_still_found(tmp_path):
    source = SEEDS[0].read_text(encoding="utf-8")
    stripped = "".join(ch for ch in source[:3000] if "\u4e00" <= ch <= "\u9fff")
    report = api.compare_documents(api.document_from_text(stripped, "bare.txt"), api.document_from_text(source, "src.txt"))
    assert report.metrics["copy_ratio"] > 0.9


def test_the_report_folder_names_the_files_not_read_too(tmp_path):
    """The office reads the printed report, not the terminal: a .wps submission left out is named there as well."""
    folder = _folder_with_types_not_read(tmp_path)
    runner = CliRunner()
    db = tmp_path / "a.db"
    assert runner.invoke(cli, ["add", str(SEEDS[1]), "--db", str(db)]).exit_code == 0
    assert runner.invoke(cli, ["scan", str(folder), "--db", str(db), "--out", str(tmp_path / "out")]).exit_code == 0
    assert runner.invoke(cli, ["report", "1", "--db", str(db), "--out", str(tmp_path / "again")]).exit_code == 0
    for out in ("out", "again"):
        index = (tmp_path / out / "index.html").read_text(encoding="utf-8")
        section = index[index.index('id="not-read"'):]
        assert "3 个文件未读取（b.wps, evil\\nerror: forged.wps, c.WPS）：不支持的文件类型“.wps”" in section
        assert "3 files not read (b.wps" in section and "<script" not in section


TRADITIONAL = ("本人對照檢查材料。在學習貫徹習近平新時代中國特色社會主義思想方面，存在理論學習不夠深入、聯繫實際不夠緊密的問題。"
               "對黨的創新理論學習還停留在表面，沒有真正做到學思用貫通、知信行統一。\n以上對照檢查，請同志們批評指正。")


def test_a_big5_text_file_is_read_as_big5_not_as_gbk_nonsense(tmp_path):
    (tmp_path / "繁體.txt").write_bytes(TRADITIONAL.encode("big5"))
    doc = read_document(tmp_path / "繁體.txt")
    assert doc.text == TRADITIONAL and doc.encoding == "big5"


@pytest.mark.parametrize("seed", range(5))
def test_gbk_reports_stay_gbk(tmp_path, seed):
    text = SEEDS[seed].read_text(encoding="utf-8")
    (tmp_path / "g.txt").write_bytes(text.encode("gb18030"))
    doc = read_document(tmp_path / "g.txt")
    assert doc.text == text and doc.encoding == "gb18030"


def test_a_big5_copy_of_a_report_is_found_in_its_simplified_source(tmp_path):
    simplified = "本人对照检查材料。在学习贯彻习近平新时代中国特色社会主义思想方面，存在理论学习不够深入、联系实际不够紧密的问题。" \
                 "对党的创新理论学习还停留在表面，没有真正做到学思用贯通、知信行统一。\n以上对照检查，请同志们批评指正。"
    (tmp_path / "繁體.txt").write_bytes(TRADITIONAL.encode("big5"))
    report = api.compare_documents(read_document(tmp_path / "繁體.txt"), api.document_from_text(simplified, "src.txt"))
    assert report.metrics["copy_ratio"] > 0.8
