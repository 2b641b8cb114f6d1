"""A Redis server that goes away: a batch scan keeps the reports it finished, a corpus the server evicted is said to be evicted."""

from __future__ import annotations

import json
import shutil
import uuid

import pytest
from click.testing import CliRunner

from detector.cli import ExitCode, cli
from detector.messages import localized
from planting import BASE, SAMPLE
from redis_cluster import RedisNode, free_ports, redis_available

pytestmark = pytest.mark.skipif(redis_available() is not None, reason=str(redis_available()))

DEMO = SAMPLE.parent / "demo" / "submission.txt"
ARCHIVE = [p for p in sorted(SAMPLE.glob("*.txt")) if p != BASE]


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _target(node: RedisNode) -> str:
    return f"redis://{node.address}/t{uuid.uuid4().hex[:12]}"


def _submissions(folder):
    """Four submissions in input order: the demo (planted copies), two more reports, and an empty file between them."""
    folder.mkdir()
    shutil.copy(DEMO, folder / "1_demo.txt")
    shutil.copy(BASE, folder / "2_base.txt")
    (folder / "3_empty.txt").write_text("", encoding="utf-8")
    shutil.copy(ARCHIVE[1], folder / "4_filed.txt")
    return folder


def _kill_after_first_scan(monkeypatch, node: RedisNode) -> None:
    """The server dies (SIGKILL) as soon as the batch's first submission is scanned."""
    import detector.batch

    real = detector.batch.scan_document

    def scan_then_kill(*args, **kwargs):
        report = real(*args, **kwargs)
        node.kill()
        return report

    monkeypatch.setattr(detector.batch, "scan_document", scan_then_kill)
    monkeypatch.setattr("detector.store.redis_link.REDIS_FAILOVER_SECONDS", 1)


def test_a_server_that_dies_mid_batch_leaves_the_finished_reports_written(tmp_path, monkeypatch):
    node = RedisNode(tmp_path / "dies", free_ports(1)[0]).start()
    try:
        target = _target(node)
        assert _run("add", *ARCHIVE, "--db", target).exit_code == ExitCode.OK
        folder = _submissions(tmp_path / "batch")
        complete = _run("scan", folder, "--db", target, "--out", tmp_path / "complete")
        assert complete.exit_code == ExitCode.ERROR, complete.output  # the empty file
        node.client().save()  # a snapshot: the restarted server has the corpus and the complete scan again

        _kill_after_first_scan(monkeypatch, node)
        stopped = _run("scan", folder, "--db", target, "--out", tmp_path / "stopped")
        monkeypatch.undo()
        assert stopped.exit_code == ExitCode.ERROR, stopped.output
        _the_scanned_report_is_written_as_in_a_complete_batch(tmp_path / "complete", tmp_path / "stopped")
        _the_others_are_listed_as_not_scanned(stopped.output, tmp_path / "stopped", node)

        node.start()  # the corpus is whole and the stopped scan not recorded
        assert _run("check", "--db", target).exit_code == ExitCode.OK
        assert len(_run("scans", "--db", target).output.strip().splitlines()) == 1
    finally:
        node.stop()


def _the_scanned_report_is_written_as_in_a_complete_batch(complete, stopped) -> None:
    whole = json.loads((complete / "results.json").read_text(encoding="utf-8"))
    part = json.loads((stopped / "results.json").read_text(encoding="utf-8"))
    assert part["reports"][0] == whole["reports"][0] and part["reports"][0]["passages"]
    assert part["reports"][2] == whole["reports"][2] and "error" in part["reports"][2]  # the empty file: its own error
    assert (stopped / "s001.html").read_text(encoding="utf-8").count("<mark") == \
        (complete / "s001.html").read_text(encoding="utf-8").count("<mark")
    for name in ("index.html", "results.csv", "passages.csv"):
        assert (stopped / name).exists()
    assert part["scan"]["not_scanned"] == 2 and part["scan"]["failed"] == 1 and "did not answer" in part["scan"]["stopped"]


def _the_others_are_listed_as_not_scanned(output: str, stopped, node: RedisNode) -> None:
    part = json.loads((stopped / "results.json").read_text(encoding="utf-8"))
    assert [r.get("not_scanned", False) for r in part["reports"]] == [False, True, False, True]
    lines = output.splitlines()
    assert sum(f"the Redis node {node.address} did not answer for 1 s" in line for line in lines) == 1, output
    for name in ("2_base.txt", "4_filed.txt"):
        line = next(line for line in lines if name in line and line.startswith("error: "))
        assert "not scanned" in line and "scan this file again when it is back" in line, line
        assert "未扫描" in localized(line) and "scan this" not in localized(line)
    assert any(line.startswith("warning: this scan is not recorded") for line in lines), output
    index = (stopped / "index.html").read_text(encoding="utf-8")
    assert 'id="not-scanned"' in index and 'id="stopped"' in index and "未扫描 2 份" in index
    csv_text = (stopped / "results.csv").read_text(encoding="utf-8-sig")
    assert csv_text.count("未扫描：") == 2
