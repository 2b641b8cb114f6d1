"""normalize.normalize gives exactly what the straightforward normaliser (tests/normalize_reference.py) gives: text, starts, ends."""

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from detector.normalize import normalize, template_traces
from normalize_reference import JUNK, fold_characters, reference_normalize

REPO = Path(__file__).resolve().parent.parent
BUNDLED = sorted((REPO / "corpus").rglob("*.txt"))

EDGE_CASES = [
    "", " ", "\n", "年", "一是", "x", "*", "○", "\ue000\ue001",
    # junk at the edges, junk that only forms once junk inside it is removed, junk joining digits into a year
    "稿子铺整理", "稿子稿子铺铺整理", "20稿子铺23年", "19##paidend##99", "##ab##cd##", "##paid##paidbegin##begin##",
    "本文来源:网络", "文章来源：互联网。一是", "来源网络来源网络", "免费下载更多范文免费获取更多范文",
    # numbering after removed junk, numbering that only starts a sentence once numbering before it is removed
    "。稿子铺一是加强", "一是首先,其次：最后加强学习", "（一）一、1.首先学习", "学习。第一，第二、再次",
    "。1、2、学习", "。1.2.学习", "首先首先其次,再次:最后", "(一)(二)1.2)", "。第一,一是⑴1.学习" + "。一是首先" * 300,
    "1.2倍", "12、13.", "123、", "\r\n1、学习\r\n2、工作", "一是。。二是！三是？四是；", "十一、十二是",
    # years: boundaries, full-width and Chinese numerals, next to placeholders and tokens
    "2023", "12023年", "20231", "1939年1940年2099年2100年", "２０２３年度", "二〇二三年", "一二〇二三年", "○○○○年",
    "○○○○○年", "x二〇二三年", "市x2023年", "2023年2024年", "2023\ue000", "二〇二三年x局", "零零零零年", "一九四九年",
    # placeholders next to CJK, at the edges, in long runs, in full width and capitals
    "市x局", "XX县", "市××局", "市*局", "xxxx局", "市xxxxx。", "字*****", "**", "××同志", "○○○同志", "a×b",
    "x局", "局x", "\u3400x", "x\u9fff", "\ua000x\ua000", "＊＊", "×x*局", "xx*××○○", "同志xx,x同志",
    # characters that fold to several (slow folding path) and traditional characters
    "⑴加强学习⑵改进作风", "⒈学习⒉工作", "㈠理论学习", "①②③", "气温25℃，Ⅱ级", "½", "堅持黨的領導。一是加強學習",
    "發展後勁", "ﬁ", "\u200b一是\ufeff学习", "。\u00a0一是",
]

JOINED = st.sampled_from(
    list("党建学习稿子铺整理年度一二三四五六七八九十〇零○是首先其次再次最后第（）()，,。.、；;！？!?:：\n\r \u3000")
    + list("0123456789０１２xX×*＊①⑴⒈㈠℃Ⅱ後發")
    + ["##", "##paidbegin##", "##paidend##", "##ab##", "来源", "本文", "网络", "互联网", "免费下载更多范文",
       "一是", "首先,", "(一)", "1.", "第一,", "二、", "2023年", "二〇二三年", "市x局", "××", "○○", "\ue000", "\ue001", "\u3400", "\u9fff"]
)


def assert_same(text):
    new, old = normalize(text), reference_normalize(text)
    assert new.text == old.text, text
    assert new.starts.dtype == old.starts.dtype and new.ends.dtype == old.ends.dtype
    assert np.array_equal(new.starts, old.starts) and np.array_equal(new.ends, old.ends), text


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_as_the_reference(text):
    assert_same(text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_template_traces_as_without_the_pre_check(text):
    folded = fold_characters(text)
    expected = [(*folded.original_span(*m.span()), m.group()) for m in JUNK.finditer(folded.text)]
    assert template_traces(text) == expected


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_texts_as_the_reference(path):
    text = path.read_text(encoding="utf-8")
    assert_same(text)
    for line in text.splitlines():
        assert_same(line)


@given(st.lists(JOINED, max_size=40).map("".join))
@hsettings(max_examples=500, deadline=None)
def test_texts_made_of_pattern_pieces_as_the_reference(text):
    assert_same(text)


@pytest.mark.skipif(__import__("benchmarks.speed.corpora", fromlist=["skip_reason"]).skip_reason() is not None,
                    reason="../shared/corpora absent")
def test_real_texts_as_the_reference():
    from benchmarks.speed import corpora

    days = (doc.text for doc in itertools.islice(corpora.day_docs(), 250))
    reports = (item["text"] for item in itertools.islice(corpora._jsonl(corpora.GOV), 30))
    for text in itertools.chain(days, reports):
        assert_same(text)
