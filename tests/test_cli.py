"""The chachong command: every command end to end, exit codes, JSON contract, one-line errors, batches that go on."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from detector.cli import ExitCode, cli


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def db(tmp_path, runner, seeds):
    path = tmp_path / "c.db"
    result = runner.invoke(cli, ["add", *map(str, seeds[:4]), "--db", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_add_reports_counts_and_twice_is_a_no_op(runner, db, seeds):
    again = runner.invoke(cli, ["add", str(seeds[0]), "--db", str(db)])
    assert again.exit_code == 0
    assert "added 0, already present 1" in again.output
    stats = json.loads(runner.invoke(cli, ["stats", "--db", str(db), "--format", "json"]).output)
    assert stats["documents"] == 4


def test_scan_json_follows_the_contract(runner, db, planted, tmp_path):
    text, truth = planted
    sub = tmp_path / "提交 材料.txt"
    sub.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["scan", str(sub), "--db", str(db), "--format", "json"])
    assert result.exit_code == ExitCode.OK, result.output
    data = json.loads(result.stdout)  # stderr may warn (the submission's author is unknown)
    assert data["schema"] == "chachong/1"
    report = data["reports"][0]
    assert report["submission"]["path"] == str(sub) and report["submission"]["chars"] == len(text)
    assert set(report["submission"]) >= {"path", "chars", "author", "unit", "year"}
    assert "copy_ratio" in report["metrics"]
    for passage in report["passages"]:
        assert passage["kind"] in {"copied", "template", "self_reuse", "formula", "quotation"}
        assert set(passage["source"]) >= {"path", "author", "unit", "year"}
        start, end = passage["submission_span"]
        assert passage["submission_text"] == text[start:end]
    assert "材料" in result.output  # Chinese is not \u-escaped


def test_fail_above_gives_exit_code_3(runner, db, planted, tmp_path):
    sub = tmp_path / "sub.txt"
    sub.write_text(planted[0], encoding="utf-8")
    assert runner.invoke(cli, ["scan", str(sub), "--db", str(db), "--fail-above", "0.01"]).exit_code == ExitCode.FINDINGS
    assert runner.invoke(cli, ["scan", str(sub), "--db", str(db), "--fail-above", "0.99"]).exit_code == ExitCode.OK


def test_compare_text_output_shows_the_passages(runner, planted, source_path, tmp_path):
    sub = tmp_path / "sub.txt"
    sub.write_text(planted[0], encoding="utf-8")
    result = runner.invoke(cli, ["compare", str(sub), str(source_path)])
    assert result.exit_code == 0
    assert "总文字复制比" in result.output and "抓落实不够坚决" in result.output


def test_compare_offers_no_ranking_but_tests_a_measure(runner, planted, source_path, tmp_path):
    """Two files have nothing to rank: --rank-by is a usage error for compare (it was accepted and did nothing), while
    --fail-above / --fail-measure still decide the exit code."""
    sub = tmp_path / "sub.txt"
    sub.write_text(planted[0], encoding="utf-8")
    refused = runner.invoke(cli, ["compare", str(sub), str(source_path), "--rank-by", "copy_ratio"])
    assert refused.exit_code == ExitCode.USAGE and "--rank-by" in refused.output, refused.output
    assert "--rank-by" not in runner.invoke(cli, ["compare", "--help"]).output
    found = runner.invoke(cli, ["compare", str(sub), str(source_path), "--fail-above", "0.01", "--fail-measure", "copy_ratio"])
    assert found.exit_code == ExitCode.FINDINGS, found.output


def test_a_batch_goes_on_past_bad_files(runner, db, tmp_path, seeds):
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a_empty.txt").write_text("", encoding="utf-8")
    (folder / "b_junk.txt").write_bytes(bytes(range(256)) * 20)
    (folder / "c_good.txt").write_text(seeds[4].read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(cli, ["scan", str(folder), "--db", str(db), "--format", "json"])
    assert result.exit_code == ExitCode.ERROR
    reports = json.loads(result.stdout)["reports"]
    assert [r["submission"]["path"].rsplit("/", 1)[1] for r in reports] == ["a_empty.txt", "b_junk.txt", "c_good.txt"]
    assert "error" in reports[0] and "error" in reports[1] and "error" not in reports[2]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and all("a_empty.txt" in e or "b_junk.txt" in e for e in errors)


def test_missing_file_and_missing_db_are_one_line_errors(runner, db, tmp_path):
    result = runner.invoke(cli, ["scan", str(tmp_path / "nope.txt"), "--db", str(db)])
    assert result.exit_code == ExitCode.USAGE and "nope.txt" in result.stderr and "no such file" in result.stderr
    result = runner.invoke(cli, ["scan", str(tmp_path / "nope.txt"), "--db", str(tmp_path / "none.db")])
    assert result.exit_code == ExitCode.ERROR and "none.db" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_add_with_a_bad_file_adds_the_others(runner, tmp_path, seeds):
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00\xd8" * 3 + b"\x00" * 50)
    db = tmp_path / "x.db"
    result = runner.invoke(cli, ["add", str(tmp_path / "bad.txt"), str(seeds[0]), "--db", str(db)])
    assert result.exit_code == ExitCode.ERROR
    assert "added 1" in result.stdout and "bad.txt" in result.stderr


def test_manifest_sets_metadata(runner, tmp_path, seeds):
    (tmp_path / "a.txt").write_text(seeds[0].read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "m.csv").write_text("path,author,unit,year\na.txt,张三,某局,2022\n", encoding="utf-8")
    db = tmp_path / "x.db"
    assert runner.invoke(cli, ["add", "--manifest", str(tmp_path / "m.csv"), "--db", str(db)]).exit_code == 0
    result = runner.invoke(cli, ["compare", str(seeds[0]), str(seeds[0]), "--format", "json"])
    assert result.exit_code == 0
    from detector import api

    with api.open_corpus(db) as corpus:
        doc = corpus.store.document(corpus.store.documents()[0][0])
    assert (doc.meta.author, doc.meta.unit, doc.meta.year) == ("张三", "某局", 2022)


def test_usage_errors_exit_2(runner):
    assert runner.invoke(cli, ["scan"]).exit_code == ExitCode.USAGE
    assert runner.invoke(cli, ["compare", "onlyone"]).exit_code == ExitCode.USAGE


def test_python_dash_m_detector_works(seeds):
    result = subprocess.run([sys.executable, "-m", "detector", "compare", str(seeds[0]), str(seeds[1]), "--format", "json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["schema"] == "chachong/1"


def test_scan_metadata_options_tell_self_reuse_from_copying(runner, tmp_path, planted, source_path):
    db = tmp_path / "c.db"
    assert runner.invoke(cli, ["add", str(source_path), "--db", str(db), "--author", "张三", "--year", "2023"]).exit_code == 0
    sub = tmp_path / "sub.txt"
    sub.write_text(planted[0], encoding="utf-8")

    def kinds(*options):
        result = runner.invoke(cli, ["scan", str(sub), "--db", str(db), "--format", "json", *options])
        assert result.exit_code == 0, result.output
        return {p["kind"] for p in json.loads(result.stdout)["reports"][0]["passages"] if p["kind"] != "formula"}

    assert kinds("--author", "张三", "--year", "2024") == {"self_reuse"}
    assert kinds("--author", "李四", "--year", "2024") == {"copied"}
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,author,unit,year\nsub.txt,张三,,2024\n", encoding="utf-8")
    assert kinds("--manifest", str(manifest)) == {"self_reuse"}


def test_ocr_option_reaches_the_pdf_reader(runner, tmp_path, db, monkeypatch):
    import detector.ingest.pdf as pdf_reader

    seen = []
    monkeypatch.setattr(pdf_reader, "read_pdf", lambda path, data, ocr=False: seen.append(ocr) or "加强理论学习，提高政治站位。" * 5)
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert runner.invoke(cli, ["scan", str(tmp_path / "scan.pdf"), "--db", str(db), "--ocr"]).exit_code == 0
    assert runner.invoke(cli, ["scan", str(tmp_path / "scan.pdf"), "--db", str(db)]).exit_code == 0
    assert seen == [True, False]


@pytest.mark.parametrize("command", [["stats"], ["meta"]])
def test_output_read_by_a_reader_that_left_is_no_disk_error(seed_corpus, command):
    """`chachong stats | head -1`: once the reader has gone, nothing blames the disk or the database."""
    run = subprocess.Popen([sys.executable, "-m", "detector", *command, "--db", str(seed_corpus)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    run.stdout.close()  # the reader leaves before a line is written
    complaint = run.stderr.read().decode("utf-8")
    assert run.wait() in (ExitCode.OK, ExitCode.ERROR)
    assert complaint == ""
