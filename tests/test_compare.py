"""The comparator finds exactly the planted passages, at the right characters, and nothing among unrelated seeds."""

import pytest

from detector import api
from detector.fingerprint import fingerprint
from detector.ingest import read_document
from detector.model import COUNTED_KINDS
from detector.settings import DEFAULT

TOLERANCE = 6  # characters at each end (trailing punctuation, a numbering mark)


def _counted(report):
    return [p for p in report.passages if p.kind in COUNTED_KINDS]


def _assert_matches_truth(passages, truth, source_name):
    assert len(passages) == len(truth), [(p.submission_span, p.submission_text[:20]) for p in passages]
    for passage, (sub_a, sub_b, src_a, src_b) in zip(sorted(passages, key=lambda p: p.submission_span), truth):
        assert passage.source.path.endswith(source_name)
        assert abs(passage.submission_span[0] - sub_a) <= TOLERANCE and abs(passage.submission_span[1] - sub_b) <= TOLERANCE
        assert abs(passage.source_span[0] - src_a) <= TOLERANCE and abs(passage.source_span[1] - src_b) <= TOLERANCE


def test_compare_reports_exactly_the_three_planted_passages(planted, source_path):
    text, truth = planted
    submission = api.document_from_text(text, "submission.txt")
    report = api.compare_documents(submission, read_document(source_path))
    _assert_matches_truth(_counted(report), truth, source_path.name)


def test_scan_reports_exactly_the_three_planted_passages(planted, corpus_without_base, source_path):
    text, truth = planted
    with api.open_corpus(corpus_without_base) as corpus:
        report = api.scan_text(corpus, text, path="submission.txt")
    _assert_matches_truth(_counted(report), truth, source_path.name)


def test_spans_are_offsets_into_the_original_texts(planted, corpus_without_base):
    text, _ = planted
    with api.open_corpus(corpus_without_base) as corpus:
        report = api.scan_text(corpus, text, path="submission.txt")
        for p in report.passages:
            assert p.submission_text == text[slice(*p.submission_span)]
            source = corpus.store.document(p.source.doc_id).text
            assert p.source_text == source[slice(*p.source_span)]


def test_comparing_a_file_with_itself_covers_it(seeds):
    doc = read_document(seeds[0])
    report = api.compare_documents(doc, doc)
    assert report.metrics["copy_ratio"] >= 0.99


@pytest.mark.parametrize("index", range(5))
def test_unrelated_seeds_share_under_three_percent(seed_corpus, seeds, index):
    with api.open_corpus(seed_corpus) as corpus:
        report = api.scan_document(corpus, read_document(seeds[index]))
    assert report.metrics["copy_ratio"] < 0.03
    assert all(not p.source.path.endswith(seeds[index].name) for p in report.passages)


def test_the_one_sentence_two_seeds_share_is_found(seed_corpus, seeds):
    with api.open_corpus(seed_corpus) as corpus:
        report = api.scan_document(corpus, read_document(seeds[0]))
    copied = _counted(report)
    assert len(copied) == 1
    assert "山水林田湖草" in copied[0].submission_text and copied[0].source.path.endswith(seeds[1].name)


COPIED = "本人对照党章党规党纪逐条查摆了自身在政治理论学习和业务工作中存在的突出问题。"
SOURCE_OTHER = ["去年全年共组织开展专题培训十二场次覆盖全体干部职工四百余人次。", "单位新建的档案库房已于九月底通过消防验收并正式投入使用。",
                "食堂伙食委员会每季度收集一次意见建议及时调整菜品和供应时间。", "车辆管理实行统一调度和派车单制度全年公务用车费用明显下降。",
                "办公楼电梯和空调系统完成了年度维保更换老旧配件二十余件。", "信息化平台上线了电子公文流转模块文件办理平均时长缩短一天。"]
SUBMISSION_OTHER = ["今年春季植树活动中机关干部义务栽种各类苗木三百余株。", "老干部活动室添置了图书报刊和健身器材方便离退休同志开展活动。",
                    "工会组织职工参加全市机关运动会获得拔河比赛团体第二名。", "节假日期间严格落实值班带班制度确保各类信息报送渠道畅通。",
                    "保密自查中对涉密计算机和移动存储介质逐台逐个进行了检查登记。", "机关党委组织青年干部赴革命纪念馆开展现场教学活动。"]
EDITED_SOURCE = "在担当作为方面面对复杂矛盾和历史遗留问题时有畏难情绪主动攻坚克难的劲头不足。在廉洁自律方面对身边工作人员教育管理不够严格日常提醒和监督检查抓得不够紧。"
EDITED = "在担己然为样面面对复杂出盾和历史遗下问题时有畏难情绪主动攻坚克难的劲头么足。在廉洁自律方说对身边在作人员教育管理不够严如日发提高开监督检查抓得不天长。"


def test_compare_finds_a_passage_read_back_past_every_band_key_far_from_the_one_verified(tmp_path):
    """Two sentences read back from a scan with a character in four wrong (OCR): no band key of theirs is the
    source's, and they lie seven sentences from the one sentence that is. A corpus scan compares a source only near
    its verified segments (verified_neighbourhood); compare, with one source, compares it whole and finds them."""
    source_text = COPIED + "".join(SOURCE_OTHER) + EDITED_SOURCE + "以上对照检查请大家批评指正。"
    submission_text = COPIED + "".join(SUBMISSION_OTHER) + EDITED + "恳请同志们提出宝贵意见。"
    source_keys = set(fingerprint(source_text, DEFAULT).keys.ravel().tolist())
    assert not source_keys & set(fingerprint(EDITED, DEFAULT).keys.ravel().tolist())  # no band key joins them
    report = api.compare_documents(api.document_from_text(submission_text, "submission.txt"),
                                   api.document_from_text(source_text, "source.txt"))
    edited_at = submission_text.index(EDITED)
    found = [p.submission_span for p in _counted(report)]
    assert any(start <= edited_at + 5 and end >= edited_at + len(EDITED) - 5 for start, end in found), found


def test_compare_out_writes_the_side_by_side_page_csv_and_json_of_a_docx_against_a_text(planted, source_path, tmp_path):
    """An inspector comparing a .docx is told offsets into the text chachong read from it: --out writes the page that
    shows that text with the passages marked, and the spreadsheets, as a scan's report folder has them."""
    import csv
    import html
    import json
    import re

    from click.testing import CliRunner

    from detector.cli import cli
    from ingest_samples import write_docx

    text, truth = planted
    submission = write_docx(tmp_path / "送检.docx", [line for line in text.split("\n") if line.strip()])
    out = tmp_path / "对照"
    result = CliRunner().invoke(cli, ["--lang", "zh", "compare", str(submission), str(source_path), "--out", str(out)])
    assert result.exit_code == 0 and "报告已写入" in result.stderr, result.output
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "passages.csv", "results.csv", "results.json", "s001.html"]
    report = json.loads((out / "results.json").read_text(encoding="utf-8"))["reports"][0]
    read = read_document(submission).text
    counted = [p for p in report["passages"] if p["kind"] in COUNTED_KINDS]
    assert len(counted) == len(truth)
    for passage in report["passages"]:
        start, end = passage["submission_span"]
        assert read[start:end] == passage["submission_text"]
    with open(out / "passages.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["本文起"]), int(r["本文止"])) for r in rows] == [tuple(p["submission_span"]) for p in report["passages"]]
    page = html.unescape(re.sub(r"<[^>]+>", "", (out / "s001.html").read_text(encoding="utf-8")))
    assert all(p["submission_text"] in page for p in counted) and "全文对照" in page
    index = html.unescape(re.sub(r"<[^>]+>", "", (out / "index.html").read_text(encoding="utf-8")))
    assert "两篇对照" in index and "批量扫描报告" not in index and "扫描编号" not in index and "扫描编号" not in page
