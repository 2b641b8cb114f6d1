"""The speed benchmark's instruments: deterministic corpora, planted spans, brute-force matcher, RESULTS.md editing."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.speed import baselines, corpora, recall, report

needs_corpora = pytest.mark.skipif(corpora.skip_reason() is not None, reason=str(corpora.skip_reason()))


def test_gram_hashes_equal_for_equal_windows():
    hashes = baselines.gram_hashes("甲乙丙丁戊己庚辛壬癸子丑寅" * 2, width=13)
    assert len(hashes) == 14
    assert hashes[0] == hashes[13] and hashes[0] != hashes[1]


def test_runs_merge_overlapping_windows():
    assert baselines.runs(np.array([0, 1, 2, 40]), 13) == [(0, 15), (40, 53)]
    assert baselines.runs(np.array([], dtype=np.int64), 13) == []


def test_brute_force_finds_a_planted_copy():
    engine = baselines.BruteForce13()
    source = corpora.CorpusDoc("a.txt", "这是一段用于测试的语料文本，其中包含足够长的连续文字以便被发现。")
    engine.build([source, corpora.CorpusDoc("b.txt", "完全无关的另一段文字内容。")])
    copied = source.text[5:30]
    hits = engine.scan("新写的开头部分" + copied + "新写的结尾部分")
    assert {h.source for h in hits} == {"a.txt"}
    assert hits[0].start == 7 and hits[0].end == 7 + len(copied)


def test_judge_counts_covered_characters_and_source():
    plant = corpora.Plant(10, 30, "a.txt", 0, 20)
    result = recall.judge(plant, [baselines.Hit(0, 20, "b.txt"), baselines.Hit(15, 25, "a.txt")])
    assert result.covered == 15 and result.sourced and result.found


def test_speed_section_replaced_and_quality_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "RESULTS", tmp_path / "RESULTS.md")
    report.write_results_section("## Speed\n\nfirst\n\n### sub\n\nx\n")
    report.RESULTS.write_text(report.RESULTS.read_text().replace("(not yet measured)", "plagdet 0.99"))
    report.write_results_section("## Speed\n\nsecond\n")
    text = report.RESULTS.read_text()
    assert "plagdet 0.99" in text and "second" in text and "first" not in text and "### sub" not in text


@needs_corpora
def test_composed_documents_are_deterministic_and_distinct():
    pool = corpora.SentencePool()
    first = [corpora.composed_doc(pool, n) for n in range(3)]
    assert first == [corpora.composed_doc(pool, n) for n in range(3)]
    assert len({doc.text for doc in first}) == 3
    assert all(3_000 < len(doc.text) < 8_000 for doc in first)


@needs_corpora
def test_planted_spans_point_at_the_copied_text():
    sources = list(corpora.item_docs(30))
    for sub in corpora.make_submissions(sources, 3):
        assert 4_000 < len(sub.text) < 7_000
        by_label = {doc.label: doc for doc in sources}
        for plant in sub.plants:
            source = by_label[plant.source_label]
            assert sub.text[plant.start:plant.end] == source.text[plant.source_start:plant.source_end]


def test_interleaved_rounds_give_each_ratio_and_their_medians():
    from benchmarks.speed import interleaved

    rounds = []
    for small, large, peer, batch in [(80, 160, 100, 40), (100, 150, 90, 60), (90, 171, 95, 50)]:
        found = {"chachong 10^3": small, "chachong 10^4": large, "copydetect 10^3": peer, "batch 10^3": batch}
        rounds.append((found, interleaved.ratios(found)))
    assert rounds[0][1] == {"growth 10^3 → 10^4": 2.0, "chachong ÷ copydetect": 0.8, "batch ÷ copydetect": 0.4}
    median = interleaved.table(rounds).splitlines()[-1]
    assert median.startswith("| median | 90.0 | 160.0 | 95.0 | 50.0 |")  # each column's own median
    assert "**1.90×**" in median and "**0.95×**" in median and "**0.53×**" in median


def test_interleaved_says_what_to_run_first_without_databases(tmp_path, monkeypatch):
    from benchmarks.speed import interleaved

    monkeypatch.setattr(interleaved, "WORK", tmp_path)
    assert "python -m benchmarks.speed.run --sizes 1000,10000 --kinds reports" in interleaved.missing()


def test_batch_timed_in_a_process_of_its_own_scans_every_file(corpus_without_base, planted, tmp_path):
    from benchmarks.speed.chachong import fresh_process_batch, timed_batch

    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "planted.txt").write_text(planted[0], encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    found = fresh_process_batch(corpus_without_base, folder, workers=1)
    assert found["reports"] == 2 and found["errors"] == 1 and found["ms_per_doc"] > 0
    with pytest.raises(RuntimeError, match="1 of the 2 submissions"):  # a batch of failures would time as a fast one
        timed_batch(corpus_without_base, folder)


def test_the_speed_table_shows_whether_the_true_source_was_named():
    from benchmarks.speed import run

    row = run.Row("reports", 1000, "chachong")
    row.recall = {"char_recall": 0.9, "found": 0.8, "sourced": 0.7}
    cells = report._cells({"rows": [row]}, row)
    assert len(cells) == len(report.MAIN_HEADER)
    assert cells[report.MAIN_HEADER.index("true source named")] == "0.700"


def test_a_run_without_brute_force_says_its_agreement_was_not_measured():
    """`--chachong-only` runs no brute force: nothing was compared, so nothing was missed or met."""
    from benchmarks.speed import run

    row = run.Row("reports", 10_000, "chachong")
    lines = report._speedup_targets([{"size": 10_000, "rows": [row], "chachong": {}}])
    assert ["no verbatim copy brute force finds is missed", "reports 10,000", "—", "not measured"] in lines
