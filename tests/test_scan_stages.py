"""The scan's stages: timings per stage, verification before alignment, long sources aligned in windows."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from detector import api
from detector.corpus import Corpus, source_bytes
from detector.cli import cli
from detector.scan import STAGES, Timings
from detector.store.base import contents_from_layouts


def _spans(report) -> list:
    return sorted((p.kind, p.source.path, p.submission_span, p.source_span) for p in report.passages)


def test_timings_name_every_stage_and_count_the_candidates(corpus_without_base, planted):
    timings = Timings()
    with api.open_corpus(corpus_without_base) as corpus:
        api.scan_document(corpus, api.document_from_text(planted[0], "submission.txt"), timings=timings)
    assert list(timings.seconds) == list(STAGES) and all(s >= 0 for s in timings.seconds.values())
    counts = timings.counts
    assert counts["submissions"] == 1 and counts["candidates"] >= counts["verified"] >= counts["aligned"] >= 1


def test_scan_timings_option_prints_the_stages_on_stderr(corpus_without_base, source_path, tmp_path):
    result = CliRunner().invoke(cli, ["scan", str(source_path), "--db", str(corpus_without_base), "--timings"])
    assert result.exit_code == 0, result.output
    assert all(stage in result.stderr for stage in STAGES) and "ms per submission" in result.stderr


def test_a_long_source_aligned_in_windows_gives_the_passages_of_the_whole(corpus_without_base, planted, source_path):
    text = planted[0]
    with api.open_corpus(corpus_without_base) as corpus:
        whole = api.scan_text(corpus, text, "submission.txt")
        corpus.settings = corpus.settings.replace(max_source_segments=60, source_window_segments=4)
        corpus.forget_sources()
        windowed = api.scan_text(corpus, text, "submission.txt")
    planted_source = [p for p in whole.passages if p.source.path == str(source_path)]
    assert len(planted_source) == 3
    assert _spans(windowed) == _spans(whole)
    assert str(source_path) in windowed.capped_sources and not whole.capped_sources


def test_a_candidate_whose_colliding_segments_do_not_match_is_not_aligned(tmp_path):
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_texts(corpus, [("near.txt", "加强党的政治建设，坚持以人民为中心的发展思想。深入学习贯彻党的二十大精神。", None),
                               ("far.txt", "今天天气晴朗，我们去公园散步，看到湖边的柳树发芽了。", None)])
        timings = Timings()
        report = api.scan_document(corpus, api.document_from_text(
            "深入学习贯彻党的二十大精神，加强党的政治建设。今天我们去公园。", "s.txt"), timings=timings)
    assert timings.counts["aligned"] <= timings.counts["verified"] <= timings.counts["candidates"]
    assert all(p.source.path == "near.txt" for p in report.passages)


def test_the_source_cache_keeps_within_its_byte_budget_and_drops_the_least_recently_used(tmp_path):
    texts = [(f"r{n}.txt", f"第{n}份材料。" + "坚持以人民为中心的发展思想，深入学习贯彻党的二十大精神。" * (n + 1), None)
             for n in range(6)]
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        ids = api.add_texts(corpus, texts)
        one = source_bytes(*corpus.source_fingerprint(ids[-1]))
        corpus.forget_sources()
        small = Corpus(corpus.store, corpus.settings, cache_bytes=2 * one)
        small.sources(ids[:3])
        small.source_fingerprint(ids[0])  # used again: the most recent
        small.sources(ids[3:5])
        count, taken = small.cached_sources
        assert taken <= 2 * one and count >= 2
        assert ids[4] in small._sources.entries and ids[1] not in small._sources.entries
        small.forget(ids[4])
        assert small.cached_sources[1] == taken - source_bytes(*corpus.source_fingerprint(ids[4]))
        small.forget_sources()
        assert small.cached_sources == (0, 0)


def test_verifying_reads_segment_contents_equal_to_the_layouts_and_scans_as_from_the_layouts(tmp_path, seeds, planted,
                                                                                            monkeypatch):
    from detector.layout import SegmentContents
    from detector.report.json_report import report_dict

    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        ids = api.add_texts(corpus, [(str(p), p.read_text(encoding="utf-8"), None) for p in seeds])
        contents, layouts = corpus.store.contents(ids), corpus.store.layouts(ids)
        for doc_id in ids:
            (meta, stored), (doc, layout) = contents[doc_id], layouts[doc_id]
            assert isinstance(stored, SegmentContents) and meta == doc.meta
            assert np.array_equal(stored.codes, layout.codes) and stored.content == layout.content
            assert np.array_equal(stored.lengths, layout.lengths) and np.array_equal(stored.sentences, layout.sentences)
            assert all(np.array_equal(a, b) for a, b in zip(stored.set_sizes, layout.set_sizes))
        text, _ = planted
        from_contents = report_dict(api.scan_text(Corpus(corpus.store, corpus.settings), text, "s.txt"))
        monkeypatch.setattr(type(corpus.store), "contents", contents_from_layouts)
        from_layouts = report_dict(api.scan_text(Corpus(corpus.store, corpus.settings), text, "s.txt"))
    assert from_contents["passages"] and from_contents == from_layouts
