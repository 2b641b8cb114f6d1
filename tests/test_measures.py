"""The measures, checked against numbers worked out by hand: ratios by kind, per source, per section, quoted words left out."""

import pytest
from reuse_planting import PASSAGE, SEEDS, meta, seed_text

from detector import api
from detector.measure import measure, rank_sources, section_measures
from detector.model import Passage, SourceRef
from detector.quotes import Citation
from detector.sections import Section, find_sections

# 200 counted characters: 100, two line breaks (not counted), 100
TEXT = "字" * 100 + "\n\n" + "字" * 100
A = SourceRef(path="a.txt", author="甲", year=2023, doc_id=1)
B = SourceRef(path="b.txt", author="本人", year=2022, doc_id=2)
C = SourceRef(path="c.txt", author="丙", year=2021, doc_id=3)


def _p(kind, source, start, end, years=None):
    return Passage(kind=kind, source=source, submission_span=(start, end), source_span=(0, 0), similarity=1.0, years=years)


PASSAGES = [
    _p("copied", A, 0, 60),  # 60 characters, 10 of them inside a citation: 50 count
    _p("quotation", A, 20, 30),  # 10
    _p("self_reuse", B, 60, 90, years="2022 → 2024"),  # 30
    _p("template", C, 95, 115),  # 5 + the two line breaks (not counted) + 13 = 18
    _p("copied", A, 150, 160),  # 10
    _p("formula", C, 170, 180),  # 10
]
CITATIONS = [Citation(20, 30, "习近平总书记")]
SECTIONS = [Section("problems", 0, 101), Section("measures", 101, 202)]


@pytest.fixture(scope="module")
def metrics():
    return measure(TEXT, PASSAGES, CITATIONS, SECTIONS, traces=[object()] * 3)


def test_counted_characters_leave_out_whitespace_and_quoted_words(metrics):
    assert metrics["counted_chars"] == 200
    assert metrics["reused_chars"] == 50 + 30 + 18 + 10
    assert metrics["copy_ratio"] == 0.54


def test_ratios_by_kind(metrics):
    assert metrics["copy_ratio_excluding_self"] == (50 + 18 + 10) / 200 == 0.39
    assert (metrics["self_reuse_ratio"], metrics["self_reuse_chars"]) == (0.15, 30)
    assert (metrics["template_ratio"], metrics["template_chars"]) == (0.09, 18)
    assert (metrics["other_authors_ratio"], metrics["copied_chars"]) == (0.3, 60)


def test_largest_source_formulae_quotations_and_traces(metrics):
    assert metrics["largest_source_ratio"] == 0.3  # a.txt: 50 + 10
    assert metrics["formula_chars"] == 10 and metrics["quotation_chars"] == 10
    assert metrics["sources"] == 3 and metrics["template_traces"] == 3


def test_ratios_per_section(metrics):
    problems, measures_ = section_measures(TEXT, PASSAGES, SECTIONS, CITATIONS)
    assert problems.label == "问题" and problems.metrics["counted_chars"] == 100
    assert problems.metrics["copy_ratio"] == (50 + 30 + 5) / 100
    assert problems.metrics["copy_ratio_excluding_self"] == (50 + 5) / 100
    assert measures_.metrics["copy_ratio"] == (13 + 10) / 100
    assert (metrics["problems_copy_ratio"], metrics["causes_copy_ratio"], metrics["measures_copy_ratio"]) == (0.85, None, 0.23)


def test_sources_ranked_by_share_with_kind_and_years():
    ranked = rank_sources(TEXT, PASSAGES, CITATIONS)
    assert [(s.source.path, s.kind, s.chars, s.share, s.passages) for s in ranked] == [
        ("a.txt", "copied", 60, 0.3, 2), ("b.txt", "self_reuse", 30, 0.15, 1), ("c.txt", "template", 18, 0.09, 1)]
    assert ranked[1].years == "2022 → 2024"


def test_measures_of_a_scan_match_the_planted_characters():
    fresh = seed_text(4)[:600]
    with api.open_corpus(":memory:", create=True) as corpus:
        api.add_text(corpus, seed_text(0) + "\n" + PASSAGE, "source.txt", meta("甲", "某局", 2023))
        report = api.scan_text(corpus, fresh + "\n" + PASSAGE, "sub.txt", meta("乙", "某区", 2024))
    counted = sum(not c.isspace() for c in fresh + PASSAGE)
    assert report.metrics["counted_chars"] == counted
    assert abs(report.metrics["reused_chars"] - len(PASSAGE)) <= 2  # the closing 。 may be left out
    assert report.metrics["copy_ratio"] == pytest.approx(len(PASSAGE) / counted, abs=0.003)
    assert [(s.source.path, s.kind) for s in report.sources] == [("source.txt", "copied")]


# ---------------------------------------------------------------- sections


def test_sections_of_the_seeds_follow_their_headings():
    text = seed_text(3)
    sections = find_sections(text)
    assert [s.name for s in sections] == ["opening", "problems", "causes", "measures"]
    assert text[sections[2].start:].startswith("二、产生问题的原因分析")
    assert all(len(find_sections(p.read_text(encoding="utf-8"))) == 4 for p in SEEDS)


def test_reports_without_numbered_headings_fall_back_to_cue_words():
    text = "我在学习上有不足，工作上有差距。\n究其原因，主要是放松了要求。\n下一步，我将加强学习。"
    assert [(s.name, text[s.start:s.end][:4]) for s in find_sections(text)] == [
        ("problems", "我在学习"), ("causes", "究其原因"), ("measures", "下一步，")]
    assert [s.name for s in find_sections("一段没有任何标题的话。")] == ["unsectioned"]


def test_whitespace_not_counted_is_what_str_isspace_says():
    """The measures skip whitespace found by a regular expression; it must be str.isspace() over every code point."""
    import sys

    from detector.measure import _WHITESPACE

    assert [c for c in range(sys.maxunicode + 1) if bool(_WHITESPACE.match(chr(c))) != chr(c).isspace()] == []
