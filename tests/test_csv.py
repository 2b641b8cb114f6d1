"""results.csv and passages.csv: UTF-8 with BOM for Excel, quoting that survives commas, quotes and line breaks, parsed back whole."""

import copy
import csv
import io

import pytest
from click.testing import CliRunner
from batch_planting import HOSTILE, scanned_batch

from detector.batch import BatchScan
from detector.cli import cli
from detector.report.csv_report import PASSAGE_COLUMNS, RESULT_COLUMNS, percent, render_results_csv, write_csv
from detector.report.view import ScanInfo, build_view


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    return scanned_batch(tmp_path_factory.getbasetemp() / "batch")


def read_back(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    return list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


def test_results_csv_has_one_row_per_submission_in_rank_order(scanned):
    rows = read_back(scanned.out / "results.csv")
    assert list(rows[0]) == list(RESULT_COLUMNS)
    assert [r["文件"] for r in rows] == [s.name for s in scanned.view.ranked]
    assert [int(r["排名"]) for r in rows] == list(range(1, 32))
    top = rows[0]
    assert top["总文字复制比"] == percent(scanned.view.ranked[0].metrics["copy_ratio"])
    assert "本批" in top["主要来源"] and top["页面"].endswith(".html")
    # 字数 is what the ratios count (no whitespace, as Word's and CNKI's 字数): 重复字数 ÷ 字数 = 总文字复制比
    assert int(top["字数"]) == scanned.view.ranked[0].metrics["counted_chars"]
    assert rows[-1]["错误"].startswith("无法读取：不是可读的 .docx") and rows[-1]["总文字复制比"] == ""
    assert "could not be read: is not a readable .docx" in rows[-1]["错误"]


def test_results_csv_header_carries_every_measure_by_the_name_users_know(scanned):
    rows = read_back(scanned.out / "results.csv")
    for name in ("总文字复制比", "去除本人复制比", "他人复制比", "本人旧稿复制比", "模板复制比", "单篇最大文字复制比", "重复字数"):
        assert name in rows[0]
    for row, sub in zip(rows, scanned.view.ranked):
        if sub.error is None:
            assert row["去除本人复制比"] == percent(sub.metrics["copy_ratio_excluding_self"])
            assert row["单篇最大文字复制比"] == percent(sub.metrics["largest_source_ratio"])
            assert int(row["重复字数"]) == sub.metrics["reused_chars"]
            assert row["总文字复制比"].endswith("%")


def test_passages_csv_round_trips_chinese_quotes_and_line_breaks(scanned):
    rows = read_back(scanned.out / "passages.csv")
    assert list(rows[0]) == list(PASSAGE_COLUMNS)
    expected = [(s.name, p) for s in scanned.view.ranked for p in s.passages]
    assert len(rows) == len(expected) > 20
    for row, (name, passage) in zip(rows, expected):
        assert row["文件"] == name and row["类型代码"] == passage.kind
        assert (int(row["本文起"]), int(row["本文止"])) == tuple(passage.submission_span)
        assert row["本文文字"] == passage.submission_text and row["来源文字"] == passage.source_text
    assert any("\n" in r["本文文字"] for r in rows)  # multi-line cells come back whole
    assert any("“" in r["本文文字"] or "，" in r["本文文字"] for r in rows)


def test_hostile_text_and_spreadsheet_formulae_are_inert(scanned, tmp_path):
    sub = scanned.view.submissions[0]
    report = copy.deepcopy(sub.report)
    report.submission.path = 'a,"b".txt'
    report.passages[0].submission_text = "=HYPERLINK(\"x\")," + HOSTILE
    batch = BatchScan(reports=[report], clusters=[], peers=[[None] * len(report.passages)], started_at="", seconds=0)
    view = build_view(batch, ScanInfo(id=1, started_at="", seconds=0, paths=[], files=1, failed=0))
    write_csv(view, tmp_path)
    back = read_back(tmp_path / "passages.csv")[0]
    assert back["本文文字"] == "'=HYPERLINK(\"x\")," + HOSTILE  # a leading ' keeps Excel from running it
    assert read_back(tmp_path / "results.csv")[0]["路径"] == 'a,"b".txt'
    assert render_results_csv(view).startswith("排名,文件,")


def test_an_unreadable_file_keeps_the_author_and_unit_the_manifest_gave(scanned, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.docx").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 40)
    (folder / "good.txt").write_text(scanned.texts["p1"], encoding="utf-8")
    (folder / "manifest.csv").write_text("path,author,unit,year\nbroken.docx,张三,某局,2024\ngood.txt,李四,某县,2024\n",
                                         encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", str(folder), "--db", str(scanned.db), "--manifest", str(folder / "manifest.csv"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    rows = {r["文件"]: r for r in read_back(tmp_path / "out" / "results.csv")}
    assert (rows["broken.docx"]["作者"], rows["broken.docx"]["单位"], rows["broken.docx"]["年度"]) == ("张三", "某局", "2024")
    assert rows["broken.docx"]["错误"] and rows["good.txt"]["作者"] == "李四"


def test_the_scan_time_is_in_the_local_time_zone(scanned, monkeypatch):
    import time

    from detector.report.view import local_time

    monkeypatch.setenv("TZ", "CST-8")  # POSIX form: needs no time zone database
    time.tzset()
    try:
        assert local_time("2024-03-01T02:00:00+00:00") == "2024-03-01 10:00:00 CST"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    rows = read_back(scanned.out / "results.csv")
    assert rows[0]["扫描时间"] == scanned.view.scan.local_time and rows[0]["扫描时间"].startswith("20")
