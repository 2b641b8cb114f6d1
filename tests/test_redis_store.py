"""The Redis Cluster backend end to end: one-line errors, the same passages as SQLite, failover, generations, the lock."""

from __future__ import annotations

import json
import re
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from detector.cli import ExitCode, cli
from detector.errors import DatabaseError
from detector.messages import localized
from detector.store import open_store
from detector.store.redis import Keys
from planting import BASE, SAMPLE
from redis_cluster import RedisNode, free_ports
from store_faults import fail_second_insert

DEMO = SAMPLE.parent / "demo" / "submission.txt"
REPO = SAMPLE.parent.parent


def _name() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def _chachong(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "detector", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def _scan_json(db: str, *paths) -> dict:
    result = CliRunner().invoke(cli, ["scan", *map(str, paths), "--db", db, "--format", "json"])
    assert result.exit_code == ExitCode.OK, result.output
    return json.loads(result.stdout)  # stderr may warn (authors unknown)


def _add(db: str, *paths) -> None:
    result = CliRunner().invoke(cli, ["add", *map(str, paths), "--db", db])
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- one-line errors
def _one_line_error(target: str, match: str) -> None:
    with pytest.raises(DatabaseError, match=match) as caught:
        open_store(target)
    assert "\n" not in str(caught.value)
    result = CliRunner().invoke(cli, ["stats", "--db", target])
    assert result.exit_code == ExitCode.ERROR and len(result.output.strip().splitlines()) == 1, result.output


def _chinese_error(target: str) -> str:
    """The one line `chachong --lang zh stats` prints for a Redis that cannot be used: Chinese, not English."""
    result = CliRunner().invoke(cli, ["--lang", "zh", "stats", "--db", target])
    line = result.output.strip()
    assert result.exit_code == ExitCode.ERROR and "\n" not in line and line.startswith("错误："), result.output
    assert not any(english in line for english in ("check the", "give it", "create one", "name the corpus")), line
    return line


def test_connection_refused_is_one_line(redis_server):
    _one_line_error(f"redis://127.0.0.1:{free_ports(1)[0]}/corpus", "cannot connect to a Redis server")


def test_redis_errors_are_in_chinese_with_lang_zh(redis_server):
    assert "无法连接" in _chinese_error(f"redis://127.0.0.1:{free_ports(1)[0]}/corpus")
    assert "请在地址后写上语料库名" in _chinese_error(f"redis://{redis_server.address}")
    assert "没有名为" in _chinese_error(f"redis://{redis_server.address}/{_name()}")


def test_a_url_without_a_corpus_name_is_refused(redis_server):
    _one_line_error(f"redis://{redis_server.address}", "name the corpus")


def test_an_empty_namespace_is_one_line(redis_cluster):
    _one_line_error(redis_cluster.url(_name()), "no corpus named")


def test_a_server_that_is_not_redis_is_one_line():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def answer():
        conn, _ = listener.accept()
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    try:
        with pytest.raises(DatabaseError, match="does not answer as a Redis server"):
            open_store(f"redis://127.0.0.1:{listener.getsockname()[1]}/corpus")
    finally:
        listener.close()


def test_a_password_is_asked_for_and_used(tmp_path):
    node = RedisNode(tmp_path / "auth", free_ports(1)[0], "--requirepass", "s3cret").start()
    try:
        _one_line_error(f"redis://{node.address}/corpus", "needs a password \\(none was given\\)")
        _one_line_error(f"redis://:wrong@{node.address}/corpus", "refused the password")
        assert "需要密码" in _chinese_error(f"redis://{node.address}/corpus")
        assert "拒绝了密码" in _chinese_error(f"redis://:wrong@{node.address}/corpus")
        store = open_store(f"redis://:s3cret@{node.address}/corpus", create=True)
        assert "s3cret" not in store.location
        store.close()
        _add(f"redis://:s3cret@{node.address}/corpus", SAMPLE / "003_42e09aa36b9c46a6.txt")
        checked = CliRunner().invoke(cli, ["check", "--db", f"redis://:s3cret@{node.address}/corpus"])
        assert checked.output.strip().endswith(": ok") and "s3cret" not in checked.output, checked.output
        from detector.web.server import _banner

        assert "s3cret" not in _banner("127.0.0.1", 8765, None, f"redis://:s3cret@{node.address}/corpus")
    finally:
        node.stop()


def test_check_names_a_server_that_would_drop_index_keys_when_full(tmp_path):
    """With a maxmemory and an evicting policy (a cache's usual set-up) Redis deletes keys when full: index postings
    and documents vanish with no error, and scans miss what they held. `check` says so; noeviction is fine."""
    node = RedisNode(tmp_path / "lru", free_ports(1)[0], "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru").start()
    try:
        target = f"redis://{node.address}/{_name()}"
        _add(target, SAMPLE / "003_42e09aa36b9c46a6.txt")
        result = CliRunner().invoke(cli, ["check", "--db", target])
        assert result.exit_code == ExitCode.ERROR, result.output
        assert f"{node.address} (allkeys-lru) drops keys" in result.output and "noeviction" in result.output
        chinese = CliRunner().invoke(cli, ["--lang", "zh", "check", "--db", target]).output
        assert f"问题：Redis 服务器 {node.address}（allkeys-lru）在内存达到 maxmemory 时会删除键" in chinese, chinese
        assert "请设置 maxmemory-policy noeviction" in chinese and "drops keys" not in chinese, chinese
        node.client().config_set("maxmemory-policy", "noeviction")
        result = CliRunner().invoke(cli, ["check", "--db", target])
        assert result.exit_code == ExitCode.OK, result.output
    finally:
        node.stop()


def test_check_says_what_is_broken_in_chinese_with_lang_zh(redis_server):
    """A corpus whose totals, documents, postings and frequencies disagree: every problem line in Chinese."""
    name = _name()
    target = f"redis://{redis_server.address}/{name}"
    _add(target, *sorted(SAMPLE.glob("*.txt"))[:3])
    keys, gen = Keys(name), int(redis_server.client().get(Keys(name).current))
    with redis_server.client() as conn:
        conn.hincrby(keys.of(gen, "state"), "documents", 1)
        conn.hincrby(keys.of(gen, "state"), "segments", 2)
        conn.hset(keys.of(gen, "pending"), 99, "add")
        conn.delete(keys.document(gen, 1))
    result = CliRunner().invoke(cli, ["--lang", "zh", "check", "--db", target])
    lines = result.output.strip().splitlines()
    problems = [line for line in lines if line.startswith("问题：")]
    assert result.exit_code == ExitCode.ERROR and len(problems) >= 4 and len(problems) == len(lines) - 1, result.output
    assert lines[-1].endswith(f"：{len(problems)} 个问题"), result.output
    for line in problems:
        english = re.findall(r"[A-Za-z]{3,}", re.sub(r"`[^`]*`|（[^）]*）", "", line))
        assert set(english) <= {"add", "remove", "rebuild"} and "; " not in line, line  # commands as typed

    english = CliRunner().invoke(cli, ["--lang", "en", "check", "--db", target]).output
    assert "problem: 1 document was left half-written" in english and "1 catalogued document has no stored text" in english, english


# ---------------------------------------------------------------- the same results as SQLite
def test_the_cluster_finds_the_same_passages_as_sqlite(redis_cluster, tmp_path, planted):
    sqlite_db, redis_db = str(tmp_path / "c.db"), redis_cluster.url(_name())
    submission = tmp_path / "提交.txt"
    submission.write_text(planted[0], encoding="utf-8")
    corpus = [p for p in sorted(SAMPLE.glob("*.txt")) if p != BASE]
    for db in (sqlite_db, redis_db):
        _add(db, *corpus)
    from_sqlite = _scan_json(sqlite_db, submission, DEMO, BASE)
    from_redis = _scan_json(redis_db, submission, DEMO, BASE)
    assert sum(len(r["passages"]) for r in from_sqlite["reports"]) >= 3
    assert from_redis == from_sqlite


def test_a_rebuild_on_the_cluster_gives_what_sqlite_gives(redis_cluster, tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    for path in sorted(SAMPLE.glob("*.txt")):
        shutil.copy(path, archive / path.name)
    sqlite_db, redis_db = str(tmp_path / "c.db"), redis_cluster.url(_name())
    for db in (sqlite_db, redis_db):
        assert _chachong("rebuild", "--db", db, "--from", archive).returncode == 0
    sources = sorted(archive.glob("*.txt"))
    sources[0].unlink()
    sources[1].write_text(sources[1].read_text(encoding="utf-8") + "\n补充说明：以上材料已经支部审阅。", encoding="utf-8")
    shutil.copy(DEMO, archive / "demo.txt")
    results = []
    for db in (sqlite_db, redis_db):
        for full in ((), ("--full",)):
            done = _chachong("rebuild", "--db", db, "--from", archive, *full)
            assert done.returncode == 0, done.stderr
        results.append((_scan_json(db, BASE, DEMO), json.loads(_chachong("stats", "--db", db, "--format", "json").stdout)))
    (sqlite_scan, sqlite_stats), (redis_scan, redis_stats) = results
    assert redis_scan == sqlite_scan
    assert [redis_stats[k] for k in ("documents", "characters", "segments")] == [sqlite_stats[k] for k in ("documents", "characters", "segments")]


# ---------------------------------------------------------------- faults and generations
_SCAN_LOOP = """
import json, sys, time
from click.testing import CliRunner
from detector.cli import cli
db, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
results, stop = [], time.monotonic() + seconds
while time.monotonic() < stop or not results:
    r = CliRunner().invoke(cli, ["scan", {paths}, "--db", db, "--format", "json"])
    results.append([r.exit_code, r.stdout])
json.dump(results, open(out, "w"))
"""


def _scanning(db: str, out: Path, seconds: float, *paths) -> subprocess.Popen:
    """A separate process scanning `paths` again and again for `seconds`, each result kept."""
    script = _SCAN_LOOP.format(paths=", ".join(repr(str(p)) for p in paths))
    return subprocess.Popen([sys.executable, "-c", script, db, str(out), str(seconds)], cwd=REPO)


def _results(process: subprocess.Popen, out: Path) -> list:
    assert process.wait(timeout=300) == 0
    return json.loads(out.read_text())


def test_scans_go_on_when_a_master_is_killed(redis_cluster, tmp_path):
    db = redis_cluster.url(_name(), every_node=True)  # the killed master may be the first entry node
    _add(db, *[p for p in sorted(SAMPLE.glob("*.txt")) if p != BASE])
    expected = _scan_json(db, DEMO)
    scanner = _scanning(db, tmp_path / "scans.json", 9.0, DEMO)
    time.sleep(2)
    victim = redis_cluster.masters()[0]
    victim.kill()
    try:
        results = _results(scanner, tmp_path / "scans.json")  # at least the scan running when the master died
        failed = [output for code, output in results if code != 0 or json.loads(output) != expected]
        assert not failed, failed[0][:2000]
        redis_cluster.wait_failover(victim)
        assert _scan_json(db, DEMO) == expected
    finally:
        redis_cluster.heal(victim)


def test_a_scan_during_a_full_rebuild_sees_the_old_index_or_the_new(redis_cluster, tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    for path in sorted(SAMPLE.glob("*.txt")):
        shutil.copy(path, archive / path.name)
    db = redis_cluster.url(_name())
    assert _chachong("rebuild", "--db", db, "--from", archive).returncode == 0
    before = _scan_json(db, DEMO)
    (archive / SAMPLE.glob("003_*.txt").__next__().name).unlink()  # the planted passages' source goes
    scanner = _scanning(db, tmp_path / "scans.json", 6.0, DEMO)
    time.sleep(1.5)
    assert _chachong("rebuild", "--db", db, "--from", archive, "--full").returncode == 0
    after = _scan_json(db, DEMO)
    assert after != before
    seen = [json.loads(output) for code, output in _results(scanner, tmp_path / "scans.json")]
    assert all(result in (before, after) for result in seen)
    store = open_store(db)
    try:
        assert store.stats()["generation"] == 2
        assert _generation_keys(store, 1) == []
    finally:
        store.close()


def _generation_keys(store, gen: int) -> list:
    name = store.keys.name
    keys = [k for tag in range(256) for k in store.link.keys_with_prefix(store.keys.posting_prefix(gen, tag))]
    for node in redis_nodes(store):
        keys += list(node.scan_iter(match=f"{{{name}:{gen}*", count=1000))
    return keys


def redis_nodes(store):
    client = store.link.client
    return [client.get_redis_connection(n) for n in client.get_primaries()] if store.link.cluster else [client]


_KILLED_REBUILD = """
import os, signal, sys
from detector.corpus import open_corpus
from detector.index import index_entries
from detector.ingest import read_document
import detector.store.redis as backend
backend.REDIS_LOCK_SECONDS = 8
corpus = open_corpus(sys.argv[1])
store = corpus.store
with store.writer_lock("rebuild"):
    with store.writing():
        store.clear_index()
        store.insert_documents(index_entries([read_document(p) for p in sys.argv[2:]], corpus.settings, workers=1))
        os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_rebuild_leaves_the_old_index_and_its_lock_expires(redis_cluster, tmp_path):
    db = redis_cluster.url(_name())
    _add(db, *sorted(SAMPLE.glob("*.txt")))
    before = _scan_json(db, DEMO)
    killed = subprocess.run([sys.executable, "-c", _KILLED_REBUILD, db, str(BASE)], cwd=REPO, capture_output=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    locked = CliRunner().invoke(cli, ["remove", str(BASE), "--db", db])  # the dead writer's lock lives 8 s more
    assert locked.exit_code == ExitCode.LOCKED and "rebuild" in locked.output
    assert _scan_json(db, DEMO) == before
    store = open_store(db)
    try:
        assert _generation_keys(store, 2), "the killed rebuild should have left a partial generation"
        deadline = time.monotonic() + 30
        while (result := CliRunner().invoke(cli, ["remove", str(BASE), "--db", db])).exit_code == ExitCode.LOCKED:
            assert time.monotonic() < deadline, "the dead writer's lock did not expire"
            time.sleep(0.5)
        assert result.exit_code == 0, result.output
        assert _generation_keys(store, 2) == []
        assert store.index_problems() == []
        assert store.document_count() == 4
    finally:
        store.close()


def test_a_second_writer_exits_4_while_the_first_writes(redis_cluster, tmp_path):
    db = redis_cluster.url(_name())
    _add(db, *sorted(SAMPLE.glob("*.txt"))[:1])
    store = open_store(db)
    try:
        with store.writer_lock("rebuild"):
            result = CliRunner().invoke(cli, ["add", str(DEMO), "--db", db])
            assert result.exit_code == ExitCode.LOCKED, result.output
            assert f"pid {os.getpid()}" in result.output
    finally:
        store.close()
    assert CliRunner().invoke(cli, ["add", str(DEMO), "--db", db]).exit_code == 0


def test_the_redis_store_offers_every_method_of_the_store_interface():
    from detector.store.base import Store
    from detector.store.redis import RedisStore

    assert [name for name in dir(Store) if not name.startswith("_") and not hasattr(RedisStore, name)] == []


def test_a_node_that_stays_down_is_named_in_one_line(tmp_path, monkeypatch):
    node = RedisNode(tmp_path / "lone", free_ports(1)[0]).start()
    store = open_store(f"redis://{node.address}/corpus", create=True)
    try:
        node.kill()
        monkeypatch.setattr("detector.store.redis_link.REDIS_FAILOVER_SECONDS", 1)
        began = time.monotonic()
        with pytest.raises(DatabaseError, match=f"the Redis node {node.address} did not answer for 1 s") as caught:
            store.document_count()
        assert "\n" not in str(caught.value) and time.monotonic() - began < 15
        assert f"check that the Redis server runs (redis-cli -h 127.0.0.1 -p {node.port} ping)" in str(caught.value)
        chinese = localized(str(caught.value))
        assert "已 1 秒没有应答" in chinese and "请确认 Redis 服务器正在运行" in chinese and "check" not in chinese, chinese
    finally:
        store.close()
        node.stop()


def test_a_redis_failure_in_a_later_batch_of_add_says_what_was_added_before(redis_server, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from detector import api
    from detector.errors import StorageError

    with api.open_corpus(f"redis://{redis_server.address}/later-batch-{uuid.uuid4().hex[:8]}", create=True) as corpus:
        fail_second_insert(monkeypatch, corpus.store, RedisConnectionError("Connection closed by server."))
        with pytest.raises(StorageError) as caught:
            api.add_paths(corpus, [BASE, SAMPLE], batch_size=1)
        assert corpus.store.document_count() == 1
    assert "the 1 files added before it stay added" in str(caught.value) and "\n" not in str(caught.value)


def test_a_cluster_client_does_not_resend_commands_once_open(redis_cluster):
    """Past opening (retried past a node that dies meanwhile), redis-py's own retries are off: it would resend a
    command whose reply was lost, and an APPEND of postings sent twice stores a pair twice (reads are retried by
    Link.read; tests/test_redis_writes_once.py shows the standalone client sends a write once)."""
    from detector.store.redis_link import Link, parse_target

    link = Link(parse_target(redis_cluster.url(_name())))
    try:
        assert link.cluster and link.client.retry.get_retries() == 0
    finally:
        link.client.close()
