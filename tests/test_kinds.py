"""The five kinds of reuse on real reports: self_reuse across years, template across units, copied, formula, quotation."""

import pytest
from reuse_planting import PASSAGE, QUOTES, SEEDS, last_year_and_this_year, meta, plant, seed_text

from detector import api
from detector.model import COUNTED_KINDS, DocumentMeta
from detector.quotes import find_citations
from planting import SAMPLE


def _counted(report):
    return [p for p in report.passages if p.kind in COUNTED_KINDS]


def _scan(items, text, submission_meta, path="submission.txt"):
    """Scan `text` against a fresh in-memory corpus of (path, text, meta) items."""
    with api.open_corpus(":memory:", create=True) as corpus:
        api.add_texts(corpus, items)
        return api.scan_text(corpus, text, path=path, meta=submission_meta)


# ---------------------------------------------------------------- self_reuse


@pytest.fixture(scope="module")
def self_reuse_report():
    old, new, _ = last_year_and_this_year()
    items = [("2022/干部丙.txt", old, meta("干部丙", "某镇", 2022))]
    items += [(f"others/{i}.txt", seed_text(i), meta(f"干部{i}", f"单位{i}", 2023)) for i in range(3)]
    return _scan(items, new, meta("干部丙", "某镇", 2024, meeting="组织生活会"))


def test_reusing_last_years_report_is_self_reuse_with_the_years(self_reuse_report):
    counted = _counted(self_reuse_report)
    assert counted and all(p.kind == "self_reuse" for p in counted)
    assert all(p.years == "2022 → 2024" and p.source.path == "2022/干部丙.txt" for p in counted)


def test_ratio_excluding_own_text_drops_to_nothing(self_reuse_report):
    _, new, reused = last_year_and_this_year()
    m = self_reuse_report.metrics
    half = sum(not c.isspace() for c in reused) / sum(not c.isspace() for c in new)
    assert m["copy_ratio"] == pytest.approx(half, abs=0.05)
    assert m["self_reuse_ratio"] == m["copy_ratio"]
    assert m["copy_ratio_excluding_self"] < 0.01


def test_own_earlier_report_leads_the_sources_with_its_years(self_reuse_report):
    top = self_reuse_report.sources[0]
    assert top.kind == "self_reuse" and top.years == "2022 → 2024" and top.share == self_reuse_report.metrics["largest_source_ratio"]


def test_the_same_text_by_someone_else_is_copied_not_self_reuse():
    old, new, _ = last_year_and_this_year()
    report = _scan([("2022/干部丙.txt", old, meta("干部丙", "某镇", 2022))], new, meta("干部丁", "某镇", 2024))
    assert {p.kind for p in _counted(report)} == {"copied"}
    assert report.metrics["copy_ratio_excluding_self"] == report.metrics["copy_ratio"] > 0.3


def test_a_team_report_reused_by_the_same_unit_is_self_reuse():
    old = seed_text(1)
    new = old.replace("2022", "2023")
    report = _scan([("2022/班子.txt", old, meta("局党组", "市x局", 2022, team=True))], new,
                   meta("市x局领导班子", "市x局", 2023, team=True))
    assert {p.kind for p in _counted(report)} == {"self_reuse"}
    assert report.metrics["copy_ratio"] > 0.9


@pytest.mark.parametrize("copiers_year", [2023, None])
def test_reusing_ones_own_report_that_colleagues_copied_later_is_self_reuse_not_a_template(copiers_year):
    """Two colleagues copied 干部丙's 2022 passage into their 2023 reports: his 2024 reuse of it is his own text, not a
    template whose named source is a copier. Where the copiers' year is unknown, who wrote first is open: a template."""
    items = [("2022/干部丙.txt", plant(seed_text(3), PASSAGE), meta("干部丙", "某镇", 2022))]
    items += [(f"2023/{i}.txt", plant(seed_text(i), PASSAGE), meta(f"干部{i}", f"单位{i}", copiers_year)) for i in (0, 1)]
    report = _scan(items, plant(seed_text(4), PASSAGE, 5), meta("干部丙", "某镇", 2024))
    [passage] = _counted(report)
    if copiers_year is None:
        assert passage.kind == "template"
        return
    assert (passage.kind, passage.source.path, passage.years) == ("self_reuse", "2022/干部丙.txt", "2022 → 2024")
    assert report.metrics["copy_ratio_excluding_self"] == 0


# ---------------------------------------------------------------- template and copied


def test_a_passage_in_four_units_reports_over_three_years_is_a_template():
    years = (2021, 2022, 2022, 2023)
    items = [(f"{y}/{i}.txt", plant(seed_text(i), PASSAGE), meta(f"干部{i}", f"单位{i}", y)) for i, y in enumerate(years)]
    report = _scan(items, plant(seed_text(4), PASSAGE, 5), meta("干部戊", "单位戊", 2024))
    [passage] = _counted(report)
    assert passage.kind == "template" and PASSAGE[5:-5] in passage.submission_text
    assert (passage.document_count, passage.unit_count, passage.year_count, passage.earliest_year) == (4, 4, 3, 2021)
    assert report.metrics["template_ratio"] == report.metrics["copy_ratio"] > 0
    assert report.metrics["other_authors_ratio"] == 0


def test_a_passage_in_one_other_authors_report_is_copied():
    items = [(f"2023/{i}.txt", plant(seed_text(i), PASSAGE) if i == 2 else seed_text(i), meta(f"干部{i}", f"单位{i}", 2023))
             for i in range(4)]
    report = _scan(items, plant(seed_text(4), PASSAGE, 5), meta("干部戊", "单位戊", 2024))
    [passage] = _counted(report)
    assert passage.kind == "copied" and passage.source.path == "2023/2.txt" and passage.document_count == 1
    assert report.metrics["other_authors_ratio"] == report.metrics["copy_ratio"] > 0


def test_template_threshold_is_a_setting():
    items = [(f"{i}.txt", plant(seed_text(i), PASSAGE), meta(f"干部{i}", f"单位{i}", 2023)) for i in range(2)]
    with api.open_corpus(":memory:", create=True) as corpus:
        api.add_texts(corpus, items)
        submission = plant(seed_text(4), PASSAGE, 5)
        assert {p.kind for p in _counted(api.scan_text(corpus, submission))} == {"template"}
        corpus.settings = corpus.settings.replace(template_min_owners=3)
        assert {p.kind for p in _counted(api.scan_text(corpus, submission))} == {"copied"}


# ---------------------------------------------------------------- the seeds against each other


@pytest.fixture(scope="module")
def seed_reports(tmp_path_factory):
    path = tmp_path_factory.mktemp("kinds") / "seeds.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_paths(corpus, SEEDS, manifest=SAMPLE / "manifest.csv")
        return api.scan_paths(corpus, SEEDS)


def test_among_the_seeds_only_the_shared_sentence_counts(seed_reports):
    counted = [p for r in seed_reports for p in _counted(r)]
    assert len(counted) == 2 and all("山水林田湖草" in p.submission_text and p.kind == "copied" for p in counted)


def test_shared_headings_and_formulae_among_the_seeds_are_formula(seed_reports):
    others = [p for r in seed_reports for p in r.passages if p.kind not in COUNTED_KINDS]
    assert others and {p.kind for p in others} == {"formula"}
    texts = "".join(p.submission_text for p in others)
    assert "产生问题的原因分析" in texts and "习近平新时代中国特色社会主义思想" in texts


GUIDING_IDEOLOGY = ("坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大和二十届二中、三中全会精神，深刻领悟“两个确立”"
                    "的决定性意义，增强“四个意识”、坚定“四个自信”、做到“两个维护”。")


def test_the_guiding_ideology_sentence_everyone_writes_is_not_counted_against_its_writer():
    """90 characters of official formulae: longer than a formula may be, shared with one colleague — not a copy."""
    report = _scan([("2023/a.txt", plant(seed_text(3), GUIDING_IDEOLOGY, 4), meta("干部丁", "某区", 2023))],
                   plant(seed_text(4), GUIDING_IDEOLOGY, 6), meta("干部戊", "某县", 2024))
    assert not [p for p in _counted(report) if "两个确立" in p.submission_text]
    assert report.metrics["copy_ratio"] == 0


# ---------------------------------------------------------------- quotation


@pytest.fixture(scope="module")
def quoting_report():
    quoting = plant(plant(seed_text(4), QUOTES[0], 4), QUOTES[1], 12)
    items = [("2022/quoting.txt", quoting, meta("干部丁", "某区", 2022)), ("2023/000.txt", seed_text(0), meta("局长甲", "市某局", 2023))]
    return _scan(items, seed_text(1), meta("局党组", "市x局", 2022, team=True), path="001.txt")


def test_quotations_of_the_general_secretary_are_quotation(quoting_report):
    quotations = [p for p in quoting_report.passages if p.kind == "quotation"]
    assert len(quotations) == 2 and all(p.cited == "习近平总书记" for p in quotations)
    assert "精神上就会“缺钙”" in quotations[0].submission_text and "打铁还需自身硬" in quotations[1].submission_text


def test_quotations_are_reported_apart_and_not_counted(quoting_report):
    m = quoting_report.metrics
    assert m["quotation_chars"] >= 80
    assert [p.kind for p in _counted(quoting_report)] == ["copied"]  # the one real shared sentence, with seed 000
    assert m["reused_chars"] < 70


def test_citations_quoted_and_unquoted_run_to_the_end_of_the_cited_words():
    text = "一是加强学习。习近平总书记在大会上强调：“学史明理、学史增信。”我们要照做。毛泽东同志指出，没有调查就没有发言权。下一步……"
    spans = [text[c.start:c.end] for c in find_citations(text)]
    assert spans == ["习近平总书记在大会上强调：“学史明理、学史增信。”", "毛泽东同志指出，没有调查就没有发言权。"]


OTHER_QUOTES = ["党的二十大报告指出：“全面建设社会主义现代化国家，最艰巨最繁重的任务仍然在农村。坚持农业农村优先发展，坚持城乡融合发展，畅通城乡要素流动。”",
                 "《中国共产党纪律处分条例》规定：“党员必须自觉遵守党纪国法，严格执行党的各项决定，不得以任何理由违反组织纪律和工作纪律。”",
                 "列宁说过：“没有革命的理论，就不会有革命的运动。在目前机会主义的时髦宣传和迷恋于最狭隘的实际活动的情况下，必须坚持这个思想。”"]


@pytest.mark.parametrize("quote", OTHER_QUOTES, ids=["congress_report", "regulation", "classic"])
def test_a_quotation_of_a_congress_report_a_regulation_or_a_classic_is_not_counted_as_copied(quote):
    """Two cadres quoting the 二十大报告 (no 《》), what a 《条例》 规定, or 列宁 have each cited it, not copied the other."""
    report = _scan([("2023/a.txt", plant(seed_text(3), quote, 4), meta("干部丁", "某区", 2023))], plant(seed_text(4), quote, 6),
                   meta("干部戊", "某县", 2024))
    assert [p.kind for p in report.passages if quote[8:20] in p.submission_text] == ["quotation"]
    assert report.metrics["copy_ratio"] == 0


def test_mentions_of_speeches_are_not_citations():
    assert find_citations("深入学习习近平总书记重要讲话精神，对照总书记的要求还有差距。") == []


# ---------------------------------------------------------------- formula: said by many, not by one author's series

SHORT = "对群众反映的村组道路硬化和饮水安全问题跟踪督办不够及时，整改销号拖了村里的后腿。"  # 40 characters: short enough to be a formula


def _series_and_others(sentence: str, series_years=(2021, 2022, 2023)):
    """干部2's yearly reports, each with `sentence`; three other authors' reports without it."""
    items = [(f"{y}/干部2.txt", plant(seed_text(2).replace("2023", str(y)), sentence, 4 + n), meta("干部2", "单位2", y))
             for n, y in enumerate(series_years)]
    items += [(f"2023/{i}.txt", seed_text(i), meta(f"干部{i}", f"单位{i}", 2023)) for i in (0, 1, 3)]
    return items


def test_a_short_sentence_in_one_colleagues_yearly_reports_is_copied_not_formula():
    report = _scan(_series_and_others(SHORT), plant(seed_text(4), SHORT, 6), meta("干部戊", "单位戊", 2024))
    [passage] = [p for p in report.passages if SHORT[3:-3] in p.submission_text]
    assert passage.kind == "copied" and passage.source.author == "干部2" and passage.document_count == 3
    assert report.metrics["other_authors_ratio"] > 0


def test_the_same_sentence_in_six_units_reports_is_still_a_formula_or_template():
    items = [(f"2023/{n}.txt", plant(seed_text(n % 4).replace("2023", str(2017 + n)), SHORT, 4 + n),
              meta(f"干部{n}", f"单位{n}", 2017 + n)) for n in range(6)]
    report = _scan(items, plant(seed_text(4), SHORT, 6), meta("干部戊", "单位戊", 2024))
    [passage] = [p for p in report.passages if SHORT[3:-3] in p.submission_text]
    assert passage.kind in ("formula", "template")


def test_without_authors_a_sentence_in_three_documents_stays_a_formula():
    items = [(path, text, DocumentMeta()) for path, text, _ in _series_and_others(SHORT)]
    report = _scan(items, plant(seed_text(4), SHORT, 6), DocumentMeta())
    [passage] = [p for p in report.passages if SHORT[3:-3] in p.submission_text]
    assert passage.kind == "formula"


def test_a_stored_report_scanned_again_does_not_count_itself_among_a_sentences_writers(tmp_path):
    sentence = "我们要把解决群众急难愁盼问题作为检验工作成效的重要标尺。"  # two other authors wrote it: a template
    texts = {author: seed_text(i) + "\n" + sentence for i, author in enumerate(("甲", "乙", "丙"))}
    kinds = []
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_texts(corpus, [(f"archive/{a}.txt", texts[a], meta(a, a + "单位", 2023)) for a in ("乙", "丙")])
        for _ in range(2):  # before it is stored, then stored and scanned again at its path
            report = api.scan_text(corpus, texts["甲"], path="archive/甲.txt", meta=meta("甲", "甲单位", 2023))
            start = report.submission.text.index(sentence)
            kinds.append({p.kind for p in report.passages if start <= p.submission_span[0] < start + len(sentence)})
            api.add_texts(corpus, [("archive/甲.txt", texts["甲"], meta("甲", "甲单位", 2023))])
    assert kinds[0] == kinds[1] == {"template"}, kinds
