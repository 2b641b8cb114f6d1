"""results.csv and passages.csv: UTF-8 with BOM for Excel, quoting that survives commas, quotes and line breaks, parsed back whole."""

import csv
import io

import pytest
from batch_planting import HOSTILE, scanned_batch

from detector.report.batch_view import build_view
from detector.report.csv_report import PASSAGE_COLUMNS, RESULT_COLUMNS, render_results_csv, write_csv


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
    assert [r["file"] for r in rows] == [s["name"] for s in scanned.view["ranked"]]
    assert [int(r["rank"]) for r in rows] == list(range(1, 32))
    top = rows[0]
    assert float(top["copy_ratio"]) == scanned.view["ranked"][0]["metrics"]["copy_ratio"]
    assert "本批" in top["top_sources"] and top["page"].endswith(".html")
    assert rows[-1]["error"].startswith("could not be read: ") and rows[-1]["copy_ratio"] == ""


def test_passages_csv_round_trips_chinese_quotes_and_line_breaks(scanned):
    rows = read_back(scanned.out / "passages.csv")
    assert list(rows[0]) == list(PASSAGE_COLUMNS)
    expected = [(s["name"], p) for s in scanned.view["ranked"] for p in s["passages"]]
    assert len(rows) == len(expected) > 20
    for row, (name, passage) in zip(rows, expected):
        assert row["file"] == name and row["kind"] == passage["kind"]
        assert (int(row["submission_start"]), int(row["submission_end"])) == tuple(passage["submission_span"])
        assert row["submission_text"] == passage["submission_text"] and row["source_text"] == passage["source_text"]
    assert any("\n" in r["submission_text"] for r in rows)  # multi-line cells come back whole
    assert any("“" in r["submission_text"] or "，" in r["submission_text"] for r in rows)


def test_hostile_text_and_spreadsheet_formulae_are_inert(scanned, tmp_path):
    sub = scanned.view["submissions"][0]
    row = {**sub["report"], "passages": [{**sub["report"]["passages"][0], "submission_text": "=HYPERLINK(\"x\")," + HOSTILE}]}
    rows = [{"position": 0, "path": 'a,"b".txt', "text": sub["text"], "error": None, "report": row, "peers": [None]}]
    view = build_view({"id": 1}, rows, [])
    write_csv(view, tmp_path)
    back = read_back(tmp_path / "passages.csv")[0]
    assert back["submission_text"] == "'=HYPERLINK(\"x\")," + HOSTILE  # a leading ' keeps Excel from running it
    assert read_back(tmp_path / "results.csv")[0]["path"] == 'a,"b".txt'
    assert render_results_csv(view).startswith("rank,file,")
