"""Batch scans: 30 submissions against the corpus and each other give the expected ranking, clusters, history and exit codes."""

import json
import os

import pytest
from batch_planting import (CLEAN, CORPUS_ALONE, CORPUS_PAIR, CORPUS_SEED, PAIR, RING, TEMPLATE, fresh_pool, planned_texts,
                            scanned_batch)
from click.testing import CliRunner

from detector import api, batch, history
from detector.cli import ExitCode, cli
from detector.model import COUNTED_KINDS, Document, DocumentMeta

PLANTED = TEMPLATE + RING + PAIR + CORPUS_PAIR + CORPUS_ALONE


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    return scanned_batch(tmp_path_factory.getbasetemp() / "batch")


def roles_of(scanned, positions):
    names = {sub.position: role for role, sub in scanned.by_role.items()}
    return {names[p] for p in positions}


def test_every_file_is_reported_and_the_corrupt_one_says_why(scanned):
    assert scanned.run.exit_code == ExitCode.ERROR  # one file could not be read
    reports = json.loads(scanned.run.stdout)["reports"]
    assert len(reports) == 31
    broken = [r for r in reports if "error" in r]
    assert [r["submission"]["path"].rsplit("/", 1)[1] for r in broken] == ["99_broken.docx"]
    assert "99_broken.docx" in scanned.run.stderr


def test_ranking_puts_the_planted_reuse_on_top_and_the_clean_reports_at_the_bottom(scanned):
    ranked = scanned.view.ranked
    ratios = [s.metrics[scanned.view.rank_by] for s in ranked if s.error is None]
    assert ratios == sorted(ratios, reverse=True)
    top = {role for role, sub in scanned.by_role.items() if sub.rank <= len(PLANTED)}
    assert top == set(PLANTED)
    assert all(scanned.by_role[r].metrics["copy_ratio"] < 0.05 for r in CLEAN)
    assert all(scanned.by_role[r].metrics["copy_ratio"] >= 0.15 for r in PLANTED)
    assert ranked[-1].name == "99_broken.docx" and ranked[-1].error


def test_a_report_copied_whole_by_a_colleague_ranks_near_the_top(scanned):
    assert scanned.by_role["r1"].rank <= 3 and scanned.by_role["p1"].rank <= 3
    assert scanned.by_role["p1"].sources[0].peer == scanned.by_role["p2"].position


def test_top_sources_name_the_archive_or_the_colleague(scanned):
    for role in CORPUS_PAIR + CORPUS_ALONE:
        top = scanned.by_role[role].sources[0]
        assert top.path == str(CORPUS_SEED) and top.peer is None
    for role in TEMPLATE:  # this year's template is not in the archive: only the colleagues carry it
        assert scanned.by_role[role].sources[0].peer is not None
    for role in PLANTED:
        assert set(scanned.by_role[role].kinds) - {"formula", "quotation"} <= set(COUNTED_KINDS)


def test_clusters_are_the_planted_groups(scanned):
    clusters = [roles_of(scanned, c.members) for c in scanned.view.clusters]
    assert sorted(clusters, key=len) == sorted([set(TEMPLATE), set(RING), set(PAIR), set(CORPUS_PAIR)], key=len)
    for role in CLEAN + CORPUS_ALONE:
        assert scanned.by_role[role].clusters == []


def test_clusters_show_the_shared_text(scanned):
    template, _ = fresh_pool()
    texts = planned_texts()
    by_members = {frozenset(roles_of(scanned, c.members)): c for c in scanned.view.clusters}
    shared = by_members[frozenset(TEMPLATE)].shared
    assert roles_of(scanned, shared[0]["members"]) == set(TEMPLATE)
    assert template[1][10:60] in shared[0]["text"]
    ring = by_members[frozenset(RING)].shared
    assert len(ring) == 2 and all(roles_of(scanned, s["members"]) < set(RING) for s in ring)
    corpus_pair = by_members[frozenset(CORPUS_PAIR)].shared[0]
    assert [s["path"] for s in corpus_pair["sources"]] == [str(CORPUS_SEED)]
    for s in shared + ring:
        for pos, spans in s["spans"].items():
            text = texts[next(iter(roles_of(scanned, [int(pos)])))]
            assert all(0 <= a < b <= len(text) for a, b in spans)


def test_the_batch_is_not_written_into_the_corpus(scanned):
    with api.open_corpus(scanned.db) as corpus:
        assert corpus.store.document_count() == 1


def test_identical_files_in_a_batch_find_each_other(tmp_path, seed_corpus, seeds):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(seeds[3].read_text(encoding="utf-8").replace("2023", "2024"), encoding="utf-8")
    with api.open_corpus(seed_corpus) as corpus:
        result = batch.scan_batch(corpus, [tmp_path])
    assert [r.metrics["largest_source_ratio"] > 0.9 for r in result.reports] == [True, True]
    assert result.peers[0][0] in (1, None) and len(result.clusters) == 1


def test_scan_history_lists_rerenders_and_rechecks(scanned, tmp_path):
    runner = CliRunner()
    listed = json.loads(runner.invoke(cli, ["scans", "--db", str(scanned.db), "--format", "json"]).stdout)
    first = next(s for s in listed if s["id"] == scanned.scan_id)
    assert first["files"] == 31 and first["failed"] == 1 and first["clusters"] == 4
    again = runner.invoke(cli, ["report", str(scanned.scan_id), "--db", str(scanned.db), "--out", str(tmp_path / "again")])
    assert again.exit_code == 0, again.output
    for name in ("index.html", "results.csv", "passages.csv", "results.json", "s001.html"):
        assert (tmp_path / "again" / name).read_bytes() == (scanned.out / name).read_bytes(), name
    assert "排名 ranking" in again.stdout


def test_a_recheck_finds_the_template_once_it_is_in_the_archive(scanned, tmp_path):
    db = tmp_path / "grown.db"
    db.write_bytes(scanned.db.read_bytes())
    template, _ = fresh_pool()
    with api.open_corpus(db) as corpus:
        api.add_text(corpus, "\n".join(template) + "\n", "archive/2022/范文.txt")
    result = CliRunner().invoke(cli, ["recheck", str(scanned.scan_id), "--db", str(db)])
    assert result.exit_code == ExitCode.ERROR  # the corrupt file is still listed as unreadable
    with api.open_corpus(db) as corpus:
        newest = history.list_scans(corpus.store)[0]
        view = history.view(corpus.store, newest.id)
    assert newest.rechecks == scanned.scan_id
    template_cluster = next(c for c in view.clusters if len(c.members) == len(TEMPLATE))
    assert "archive/2022/范文.txt" in [s["path"] for s in template_cluster.shared[0]["sources"]]


def test_fail_above_exits_3_for_a_batch(scanned, tmp_path):
    folder = tmp_path / "pair"
    folder.mkdir()
    for role in PAIR:
        (folder / f"{role}.txt").write_text(scanned.texts[role], encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["scan", str(folder), "--db", str(scanned.db), "--fail-above", "0.3"]).exit_code == ExitCode.FINDINGS
    result = runner.invoke(cli, ["scan", str(folder), "--db", str(scanned.db), "--fail-above", "0.99"])
    assert result.exit_code == ExitCode.OK
    assert "群组 clusters: 1" in result.stdout


def test_history_gives_back_typed_reports_equal_to_the_scan(scanned):
    from detector.model import Report
    from detector.report.json_report import report_dict

    with api.open_corpus(scanned.db) as corpus:
        info, result = history.load_scan(corpus.store, scanned.scan_id)
    assert info.id == scanned.scan_id and info.files == 31
    assert all(isinstance(r, Report) for r in result.reports)
    stored = json.loads((scanned.out / "results.json").read_text(encoding="utf-8"))["reports"]
    assert [report_dict(r) for r in result.reports] == stored


def test_a_recheck_in_two_processes_gives_what_one_process_gives(scanned):
    """`recheck` scans on every core as `scan` does; the reports are the same as in one process."""
    from detector.report.json_report import report_dict

    with api.open_corpus(scanned.db) as corpus:
        one, two = (history.recheck(corpus, scanned.scan_id, workers=w) for w in (1, 2))
    assert [report_dict(r) for r in one.reports] == [report_dict(r) for r in two.reports]
    assert one.clusters == two.clusters and one.peers == two.peers
    assert sum(len(r.passages) for r in two.reports) > 20


def test_a_batch_scanned_in_two_processes_gives_the_same_reports(scanned, tmp_path):
    """Forked scanning processes (each with its own connection) report exactly what one process does."""
    runs = {}
    for workers in (1, 2):
        run = CliRunner().invoke(cli, ["scan", str(scanned.folder), "--db", str(scanned.db), "--format", "json",
                                       "--workers", str(workers), "--timings"])
        assert run.exit_code == ExitCode.ERROR, run.output  # the corrupt file, in both
        runs[workers] = run
    one, two = (json.loads(runs[w].stdout) for w in (1, 2))
    assert one.keys() == two.keys() and one["reports"] == two["reports"]
    assert {k: v for k, v in one.items() if k not in ("reports", "scan")} == {k: v for k, v in two.items() if k not in ("reports", "scan")}
    assert sum(len(r.get("passages", [])) for r in one["reports"]) > 20
    assert "30 scanned" in runs[2].stderr  # every readable submission's timings came back from the workers


def test_a_batch_summary_printed_before_the_scan_is_recorded_names_no_placeholder(scanned, tmp_path):
    folder = tmp_path / "pair"
    folder.mkdir()
    for role in PAIR:
        (folder / f"{role}.txt").write_text(scanned.texts[role], encoding="utf-8")
    result = CliRunner().invoke(cli, ["scan", str(folder), "--db", str(scanned.db)])
    head = next(line for line in result.stdout.splitlines() if "份 files" in line)
    assert head.startswith("本次扫描 this scan: 2 份 files") and "scan -" not in result.stdout, head



def _files(folder):
    return sorted(p for p in folder.iterdir() if p.is_file())


def test_files_read_and_fingerprinted_in_two_processes_are_what_one_process_reads(scanned):
    """The parallel reading path: the same documents and failed reports in the same order, and each document's
    fingerprint as signing its text here gives it."""
    from detector.index import signed_text
    from detector.model import Report
    from detector.settings import DEFAULT

    paths = _files(scanned.folder)
    alone, none_signed = batch._read_all(paths, [None] * len(paths), DEFAULT, None, None, workers=1)
    forked, signed = batch._read_all(paths, [None] * len(paths), DEFAULT, None, None, workers=2)
    assert none_signed == [None] * len(paths) and len(forked) == len(paths) == 31
    failed = [n for n, item in enumerate(alone) if isinstance(item, Report)]
    assert failed == [n for n, item in enumerate(forked) if isinstance(item, Report)] == [30]  # the broken .docx
    assert forked[30].error == alone[30].error and signed[30] is None
    for here, there, sign in list(zip(alone, forked, signed))[:30]:
        assert (there.path, there.text, there.sha256, there.meta) == (here.path, here.text, here.sha256, here.meta)
        layout, keys, hashes = sign
        _, keys_here, hashes_here = signed_text(here.text, DEFAULT)
        assert (keys == keys_here).all() and list(hashes) == list(hashes_here) and layout.content


_REAL_READER = batch._read_and_signed


def _reader_dying_on_a_docx(path, meta, settings, encoding):
    if str(path).endswith(".docx"):
        os._exit(3)  # as the out-of-memory killer ends a process converting a huge file
    return _REAL_READER(path, meta, settings, encoding)


def test_a_reading_process_that_dies_is_one_line_and_nothing_is_scanned(scanned, monkeypatch):
    monkeypatch.setattr(batch, "_read_and_signed", _reader_dying_on_a_docx)
    run = CliRunner().invoke(cli, ["scan", str(scanned.folder), "--db", str(scanned.db), "--workers", "2"])
    assert run.exit_code == ExitCode.ERROR and not run.stdout.strip()
    said = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and "reading and fingerprinting the submissions ended" in said[0], run.stderr
    assert "run the same command again" in said[0]


def _reader_logging_slowly(path, meta, settings, encoding):
    import time

    with open(os.environ["READ_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{path}\n")
    time.sleep(0.05)  # a .pdf takes this long and more
    return _REAL_READER(path, meta, settings, encoding)


def test_a_batch_stopped_while_reading_begins_no_more_files(scanned, monkeypatch, tmp_path):
    from detector.settings import DEFAULT

    def stop_after_two(label, done, total):
        if label == "reading" and done == 2:
            raise KeyboardInterrupt  # Ctrl-C

    monkeypatch.setenv("READ_LOG", str(tmp_path / "read.log"))
    monkeypatch.setattr(batch, "_read_and_signed", _reader_logging_slowly)
    paths = _files(scanned.folder)
    with pytest.raises(KeyboardInterrupt):
        batch._read_all(paths, [None] * len(paths), DEFAULT, None, stop_after_two, workers=2)
    begun = (tmp_path / "read.log").read_text(encoding="utf-8").splitlines()
    assert 2 <= len(begun) < len(paths) // 2, begun


def test_the_scanning_processes_take_the_longest_submissions_first():
    docs = [Document(path=f"{n}.txt", text="字" * length, sha256=str(n), encoding="utf-8", meta=DocumentMeta())
            for n, length in enumerate([300, 5000, 300, 80, 5000])]
    assert batch._longest_first(docs) == [1, 4, 0, 2, 3]  # equal lengths keep their input order
