"""Messages in the users' language (zh with a Chinese locale or --lang zh, else en); a path that does not exist is a usage error."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from click.testing import CliRunner

from detector import messages
from detector.cli import ExitCode, cli
from planting import SAMPLE

SEED = SAMPLE / "003_42e09aa36b9c46a6.txt"


@pytest.fixture(autouse=True)
def english_by_default(monkeypatch):
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    yield
    messages.set_language(None)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "corpus.db"
    assert CliRunner().invoke(cli, ["add", str(SAMPLE / "000_5a8c092b610fea23.txt"), "--db", str(path)]).exit_code == 0
    return path


@pytest.mark.parametrize("env, expected", [({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US"}, "zh"),
                                           ({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"), ({}, "en")])
def test_the_language_follows_the_locale_as_the_c_library_reads_it(env, expected):
    assert messages.language_from_environment(env) == expected


def test_a_folder_that_does_not_exist_says_so_and_no_scan_is_recorded(db, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["scan", str(tmp_path / "nosuchdir"), str(SEED), "--db", str(db)])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.strip() == f"error: {tmp_path / 'nosuchdir'}: no such file or folder; check the path"
    assert json.loads(runner.invoke(cli, ["scans", "--db", str(db), "--format", "json"]).stdout) == []


def test_errors_and_the_text_report_speak_chinese_with_a_chinese_locale(db, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["scan", str(tmp_path / "无此目录"), "--db", str(db)], env={"LANG": "zh_CN.UTF-8"})
    assert missing.stderr.startswith("错误：") and "没有这个文件或文件夹" in missing.stderr
    report = runner.invoke(cli, ["--lang", "zh", "compare", str(SAMPLE / "001_68ce4c9d992fb67a.txt"), str(SAMPLE / "000_5a8c092b610fea23.txt")])
    assert "总文字复制比: " in report.stdout and "copy ratio" not in report.stdout and "来源:" in report.stdout and "相似度" in report.stdout
    english = runner.invoke(cli, ["--lang", "en", "compare", str(SAMPLE / "001_68ce4c9d992fb67a.txt"), str(SAMPLE / "000_5a8c092b610fea23.txt")],
                            env={"LANG": "zh_CN.UTF-8"})
    assert "总文字复制比 total copy ratio" in english.stdout


def test_per_file_errors_are_in_chinese_with_a_chinese_locale(db, tmp_path):
    folder = tmp_path / "批次"
    folder.mkdir()
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"ab\x00\x00cd" * 10)
    (folder / "ok.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", str(folder), "--db", str(db)], env={"LANG": "zh_CN.UTF-8"})
    assert result.exit_code == ExitCode.ERROR
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("错误：") for line in lines)
    assert "文件中没有文字" in result.stderr and "二进制文件" in result.stderr and "无法读取" in result.stdout
    assert "排名（按去除本人复制比；本人旧稿另列）：" in result.stdout and "ranking" not in result.stdout
    assert "copied" not in result.stdout and "could not be read" not in result.stdout
    english = CliRunner().invoke(cli, ["scan", str(folder), "--db", str(db)], env={"LANG": "C.UTF-8"})
    assert "the file holds no text" in english.stderr and "错误" not in english.stderr


def test_every_known_phrase_is_translated_whole():
    messages.set_language("zh")
    text = messages.localized("x.txt: permission denied; make the file readable for this user")
    assert text == "x.txt: 没有读取权限；请让当前用户可以读取该文件"
    assert messages.localized("an unknown message") == "an unknown message"


def test_a_file_of_the_wrong_kind_is_told_in_chinese_whole(db, tmp_path):
    folder = tmp_path / "批次"
    folder.mkdir()
    (folder / "坏的.docx").write_bytes(b"not a zip at all")  # damaged, or another file renamed
    (folder / "伪装.docx").write_bytes(b"%PDF-1.4\n%%EOF\n")  # a PDF under .docx
    (folder / "rtf.txt").write_bytes(b"{\\rtf1 \\ansi hello}")  # an RTF file under .txt
    with zipfile.ZipFile(folder / "压缩包.docx", "w") as archive:
        archive.writestr("notes.txt", "not a report")
    result = CliRunner().invoke(cli, ["--lang", "zh", "scan", str(folder), "--db", str(db)])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("错误：") for line in lines)
    for line in lines:
        reason = line.split(": ", 1)[1]
        assert not re.search(r"[A-Za-z]{3,}[ ,;]+[A-Za-z]{2,}", reason.replace("Word/WPS", "")), line
    assert "改为 .pdf" in result.stderr and "另存为 .docx" in result.stderr


def test_the_text_reports_character_count_is_the_one_its_ratios_count(tmp_path):
    spaced = tmp_path / "spaced.txt"
    spaced.write_text(SEED.read_text(encoding="utf-8").replace("。", "。 \n\n   "), encoding="utf-8")
    result = CliRunner().invoke(cli, ["compare", str(spaced), str(SEED), "--format", "json"])
    counted = json.loads(result.stdout)["reports"][0]["metrics"]["counted_chars"]
    text = CliRunner().invoke(cli, ["compare", str(spaced), str(SEED)])
    assert f"({counted} 字)" in text.stdout.splitlines()[0]


def test_english_counts_agree_with_their_nouns():
    from detector.messages import language, say, set_language

    before = language()
    try:
        set_language("en")
        assert say("in_documents", docs=1, units=1, years=1, since="") == "in 1 document, 1 unit, 1 year"
        assert say("in_documents", docs=3, units=2, years=0, since="") == "in 3 documents, 2 units, 0 years"
        assert say("found_in", n=1) == "found in 1 document"
        set_language("zh")
        assert say("in_documents", docs=1, units=1, years=1, since="") == "见于 1 篇、1 个单位、1 个年度"
    finally:
        set_language(before)


def test_where_the_reports_went_is_said_in_chinese(db, tmp_path):
    """The last line of a scan that writes its reports ("scan N: reports written to …") follows --lang like the rest."""
    out = tmp_path / "报告"
    chinese = CliRunner().invoke(cli, ["--lang", "zh", "scan", str(SEED), "--db", str(db), "--out", str(out)])
    assert chinese.exit_code == ExitCode.OK, chinese.output
    assert f"：报告已写入 {out / 'index.html'}" in chinese.stderr and "written to" not in chinese.stderr, chinese.stderr
    english = CliRunner().invoke(cli, ["--lang", "en", "report", "1", "--db", str(db), "--out", str(tmp_path / "again")])
    assert f"scan 1: reports written to {tmp_path / 'again' / 'index.html'}" in english.stderr, english.stderr


def test_stats_scans_and_an_empty_meta_list_speak_chinese(db, tmp_path):
    """The administrator's listings in Chinese: stats' names (the JSON keeps the machine names), the scan history's
    lines, an empty document list; dicts shown as JSON, not as Python's repr."""
    runner = CliRunner()
    assert runner.invoke(cli, ["scan", str(SEED), "--db", str(db)]).exit_code == 0
    stats = runner.invoke(cli, ["--lang", "zh", "stats", "--db", str(db)]).stdout
    names = [line.split()[0] for line in stats.splitlines()]
    assert names[:3] == ["文档数", "字数", "片段数"] and all(re.fullmatch(r"[\u4e00-\u9fff]+", n) for n in names), stats
    assert "'" not in stats and '"num_perm": 64' in stats
    scans = runner.invoke(cli, ["--lang", "zh", "scans", "--db", str(db)]).stdout
    assert "1 份  0 份无法读取  最高" in scans and "个群组" in scans and not re.search(r"files|failed|max|clusters", scans)
    empty = tmp_path / "empty.db"
    assert runner.invoke(cli, ["add", str(SEED), "--db", str(empty)]).exit_code == 0
    assert runner.invoke(cli, ["remove", "1", "--db", str(empty)]).exit_code == 0
    assert runner.invoke(cli, ["--lang", "zh", "meta", "--db", str(empty)]).stdout.strip() == "文档库中没有文档"
    english = runner.invoke(cli, ["stats", "--db", str(db)]).stdout
    assert english.startswith("documents        ") and "1 files  0 failed" in runner.invoke(cli, ["scans", "--db", str(db)]).stdout


def test_the_template_site_line_says_it_once_in_chinese(tmp_path):
    """'⚠ 模板网站痕迹: 含模板网站痕迹 3 处（稿子铺整理 ×2, ##paidbegin## ×1）' said it twice, with an English comma."""
    seed = SAMPLE / "002_36651b71203e1f41.txt"  # carries 稿子铺整理 and ##paidbegin##
    chinese = CliRunner().invoke(cli, ["--lang", "zh", "compare", str(seed), str(seed)]).stdout
    line = next(line for line in chinese.splitlines() if "⚠" in line)
    assert line.count("模板网站痕迹") == 1 and re.fullmatch(r"  ⚠ 含模板网站痕迹 \d+ 处（[^,]+）", line), line
    english = CliRunner().invoke(cli, ["--lang", "en", "compare", str(seed), str(seed)]).stdout
    assert "⚠ 模板网站痕迹: contains" in english
