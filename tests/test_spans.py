"""Spans end where the reuse ends, on both sides: an uncopied paragraph or heading next to a copied one is not evidence."""

from __future__ import annotations

import pytest

from detector import api
from planting import SAMPLE

SOURCE = SAMPLE / "004_53bd226f14dc173a.txt"  # line 2: （一）带头深刻感悟“两个确立”… (not copied); lines 3–5 copied
OTHER = SAMPLE / "002_36651b71203e1f41.txt"
HALF = {"，": ",", "。": ".", "、": ",", "；": ";", "：": ":"}


def lightly_reworded(text: str) -> str:
    """Numbering, punctuation width, a space and a line break changed, the words left as they are."""
    text = text.replace("1、", "一是").replace("2、", "二是").replace("3、", "三是")
    text = "".join(HALF.get(ch, ch) for ch in text)
    middle = text.index(".", len(text) // 2) + 1
    return text[:middle] + "\n" + text[middle:].replace(",", ", ", 2)


@pytest.fixture(scope="module")
def planted():
    source = SOURCE.read_text(encoding="utf-8")
    lines = source.split("\n")
    copied = "\n".join(lines[3:6])
    src_start = source.index(copied)
    other = OTHER.read_text(encoding="utf-8").split("\n")
    head = "\n".join(other[:2]) + "\n一、存在的主要问题\n"  # the same heading as the source's, right before the copy
    reworded = lightly_reworded(copied)
    submission = head + reworded + "\n" + "\n".join(other[2:])
    with api.open_corpus(":memory:", create=True) as corpus:
        api.add_text(corpus, source, "archive/2021/干部丁.txt")
        report = api.scan_text(corpus, submission, "2024/干部乙.txt")
    truth = ((len(head), len(head) + len(reworded)), (src_start, src_start + len(copied)))
    return report, truth, source, lines[2]


def test_a_lightly_reworded_paragraph_is_found_within_5_characters_on_both_sides(planted):
    report, (sub_truth, src_truth), _, _ = planted
    [passage] = [p for p in report.passages if p.kind == "copied"]
    for found, truth in ((passage.submission_span, sub_truth), (passage.source_span, src_truth)):
        assert abs(found[0] - truth[0]) <= 5 and abs(found[1] - truth[1]) <= 5, (found, truth)


def test_the_uncopied_paragraph_and_the_heading_are_not_evidence(planted):
    report, _, source, uncopied = planted
    [passage] = [p for p in report.passages if p.kind == "copied"]
    assert uncopied[:20] not in passage.source_text and "存在的主要问题" not in passage.source_text
    assert "存在的主要问题" not in passage.submission_text


def test_a_shared_closing_line_after_an_uncopied_paragraph_does_not_stretch_the_end():
    lines = SOURCE.read_text(encoding="utf-8").split("\n")
    copied, closing = "\n".join(lines[3:6]), "以上是我的对照检查，不妥之处，恳请大家批评指正。"
    source = "\n".join(lines[:7] + [closing] + lines[7:])  # line 6 (not copied) stands between the copy and the closing
    other = OTHER.read_text(encoding="utf-8").split("\n")
    head = "\n".join(other[:3]) + "\n"
    submission = head + lightly_reworded(copied) + "\n" + closing + "\n" + "\n".join(other[3:])
    with api.open_corpus(":memory:", create=True) as corpus:
        api.add_text(corpus, source, "archive/2021/干部丁.txt")
        report = api.scan_text(corpus, submission, "2024/干部乙.txt")
    [passage] = [p for p in report.passages if p.kind == "copied"]
    end = source.index(copied) + len(copied)
    assert abs(passage.source_span[1] - end) <= 5 and lines[6][:20] not in passage.source_text


def test_a_heading_of_the_submissions_own_that_shares_a_formula_with_the_sources_is_not_evidence():
    """The submission's headings 理论学习不深入 / 政治素质不过硬 around a copied paragraph share only the formulae 理论学习方面 /
    政治素质方面 with the source's: the passage starts and ends where the copy does (it took 8 characters of each)."""
    source = "\n".join((SAMPLE / "003_42e09aa36b9c46a6.txt").read_text(encoding="utf-8").split("\n")[:6])
    paragraph = source.split("\n")[2]  # （一）理论学习方面。一是学深悟透不够足。…  then （二）政治素质方面。…
    copied = paragraph[paragraph.index("一是") :]
    other = OTHER.read_text(encoding="utf-8").split("\n")
    head = "\n".join(other[:2]) + "\n一、理论学习不深入。\n"
    submission = head + copied + "\n二、政治素质不过硬。\n" + "\n".join(other[3:])
    with api.open_corpus(":memory:", create=True) as corpus:
        api.add_text(corpus, source, "archive/2023/干部丙.txt")
        report = api.scan_text(corpus, submission, "2024/干部乙.txt")
    [passage] = [p for p in report.passages if p.kind == "copied"]
    numbering = len("一是")  # not content: no span starts on it
    assert passage.submission_span == (len(head) + numbering, len(head) + len(copied)), passage.submission_text
    src_start = source.index(copied)
    assert passage.source_span == (src_start + numbering, src_start + len(copied)), passage.source_text
