"""A Redis server that goes away: a batch scan keeps the reports it finished, a corpus the server evicted is said to be evicted."""

from __future__ import annotations

import contextlib
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


def test_a_corpus_the_server_evicted_is_said_to_be_evicted_not_missing(tmp_path):
    """A server with a maxmemory and allkeys-lru evicts every key of a corpus when it fills up: opening the corpus says
    that, that the server must not evict and that the corpus is to be rebuilt, not to create one over it."""
    from redis.exceptions import ResponseError

    node = RedisNode(tmp_path / "lru", free_ports(1)[0], "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru").start()
    try:
        target = _target(node)
        assert _run("add", *ARCHIVE[:2], "--db", target).exit_code == ExitCode.OK
        with node.client() as conn:
            conn.config_set("maxmemory", "1")  # full: every key is evicted to make room (Redis 7 evicts at once)
            with contextlib.suppress(ResponseError):
                conn.set("one more", "x")  # older servers evict on the next write
            RedisNode.wait_until(lambda: conn.dbsize() == 0, "the server did not evict every key", 20)  # a bit at a time
            conn.config_set("maxmemory", "100mb")
            assert conn.info("stats")["evicted_keys"] > 0
        result = _run("stats", "--db", target)
        line = result.output.strip()
        assert result.exit_code == ExitCode.ERROR and "\n" not in line, result.output
        assert "keys evicted, maxmemory-policy allkeys-lru" in line and "its keys were evicted" in line, line
        assert "set maxmemory-policy noeviction" in line and f"`chachong rebuild --db {target} --from ARCHIVE`" in line, line
        assert "create one" not in line, line
        chinese = _run("--lang", "zh", "scan", DEMO, "--db", target).output.strip()
        assert "其键已被逐出" in chinese and "设为 noeviction" in chinese and "从文档库重建语料库" in chinese, chinese
        assert "evicted" not in chinese and "\n" not in chinese, chinese
    finally:
        node.stop()


def test_a_corpus_whose_pointer_was_evicted_with_other_keys_left_is_said_to_be_evicted(tmp_path):
    """Eviction that took the corpus's pointer and left some of its keys, the server's count reset since (CONFIG
    RESETSTAT): still told; a name never used on that server is only 'no corpus named'."""
    node = RedisNode(tmp_path / "lru", free_ports(1)[0], "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru").start()
    try:
        target = _target(node)
        assert _run("add", ARCHIVE[0], "--db", target).exit_code == ExitCode.OK
        with node.client() as conn:
            conn.delete("{" + target.rsplit("/", 1)[1] + "}:current")
            conn.config_resetstat()
        said = _run("stats", "--db", target).output
        assert "its keys were evicted (some of them are left)" in said and "noeviction" in said, said
        never = _run("stats", "--db", _target(node)).output
        assert "no corpus named" in never and "evicted" not in never, never
    finally:
        node.stop()


def _kill_before_the_batch_is_read(monkeypatch, node: RedisNode) -> None:
    """The server dies (SIGKILL) once the corpus is opened, before the batch looks anything up in it."""
    import detector.batch

    real = detector.batch.stored_self

    def kill_then_look_up(*args, **kwargs):
        node.kill()
        return real(*args, **kwargs)

    monkeypatch.setattr(detector.batch, "stored_self", kill_then_look_up)
    monkeypatch.setattr("detector.store.redis_link.REDIS_FAILOVER_SECONDS", 1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_server_that_dies_before_the_corpus_is_read_is_said_so_not_0_corpus_documents(tmp_path, monkeypatch, lang):
    """Every file is not scanned, and the report's head says the corpus could not be read: its size is not known."""
    node = RedisNode(tmp_path / "dies", free_ports(1)[0]).start()
    try:
        target = _target(node)
        assert _run("add", *ARCHIVE, "--db", target).exit_code == ExitCode.OK
        folder = _submissions(tmp_path / "batch")
        _kill_before_the_batch_is_read(monkeypatch, node)
        stopped = _run("--lang", lang, "scan", folder, "--db", target, "--out", tmp_path / "out")
        assert stopped.exit_code == ExitCode.ERROR, stopped.output
        part = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
        assert part["scan"]["corpus_documents"] is None and part["scan"]["not_scanned"] == 3, part["scan"]
        index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
        assert "语料库未能读取" in index and "corpus could not be read" in index and "语料库 0 篇" not in index
        head = next(line for line in stopped.output.splitlines() if line.startswith("本次扫描"))  # the summary's first line
        assert "3 份未扫描" in head and "语料库未能读取" in head, head
        assert ("the corpus could not be read" in head) == (lang == "en"), head
    finally:
        node.stop()
