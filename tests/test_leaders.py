"""Which verified candidates are aligned in full: per submission segment the best, and a runner-up only where no
better one dominates it; and the sentence check that short passages get, made only where classify asks for it."""

from __future__ import annotations

import numpy as np

from detector import api
from detector.align import Candidate
from detector.scan import _by_segment, _leaders


def _candidate(doc_id: int, matched: dict, evidence: float) -> Candidate:
    return Candidate(doc_id=doc_id, score=1.0, rows=np.zeros(0, np.int64), cols=np.zeros(0, np.int64),
                     matched=matched, evidence=evidence)


def _aligned_in_full(candidates: list, count: int = 2) -> set:
    ranked = sorted(candidates, key=lambda c: (-c.evidence, c.doc_id))
    return {c.doc_id for segment, best in _by_segment(ranked).items()
            for c in _leaders(segment, best, count, lambda doc_id: False)}


def test_a_runner_up_matching_nothing_better_than_the_leader_is_not_aligned_in_full():
    leader = _candidate(1, {0: 1.0, 1: 1.0, 2: 0.9}, evidence=120.0)
    carrier = _candidate(2, {0: 1.0, 2: 0.8}, evidence=40.0)  # holds two of its sentences, no better
    assert _aligned_in_full([leader, carrier]) == {1}


def test_a_runner_up_with_more_evidence_is_aligned_in_full():
    """The document a paragraph was copied from, edited in one sentence, and an older one holding that sentence."""
    older = _candidate(1, {0: 1.0}, evidence=30.0)
    source = _candidate(2, {0: 0.8, 1: 1.0, 2: 1.0}, evidence=200.0)
    assert _aligned_in_full([older, source]) == {1, 2}


def test_a_runner_up_that_spans_two_leaders_is_aligned_in_full():
    """Second on two segments led by two different documents: only it can give the passage over both."""
    first, second = _candidate(1, {0: 1.0}, evidence=100.0), _candidate(2, {1: 1.0}, evidence=90.0)
    spanning = _candidate(3, {0: 0.9, 1: 0.9}, evidence=60.0)
    assert _aligned_in_full([first, second, spanning]) == {1, 2, 3}


def test_only_the_best_count_are_looked_at():
    ranked = [_candidate(k, {0: 1.0 - k / 10}, evidence=10.0 * k) for k in range(1, 5)]  # each beats the one before on evidence
    assert _aligned_in_full(ranked, count=2) == {1, 2}


PHRASE_SOURCE = "把调查研究作为谋事之基成事之道切实摸清基层一线的真实情况"
PHRASE_REWORDED = "把调查研究当作谋事之基成事之要切实摸清基层一线的真实情况"  # no 25-character run in common
FILLER = "本人认真学习了党的二十大精神，对照检查了自身存在的问题。"


def _scan(tmp_path, sentence: str) -> list:
    source = FILLER + "今年以来我们在基层调研走访中发现了许多新情况新问题，" + PHRASE_SOURCE + "，相关工作还有不少短板需要认真补齐。" + FILLER
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_texts(corpus, [("source.txt", source, None)])
        report = api.scan_text(corpus, "张三的材料。" + sentence + "其他内容完全不同，这里写的是别的事情。", path="sub.txt")
    return [p.submission_text for p in report.passages]


def test_a_reworded_phrase_inside_other_sentences_is_not_reported(tmp_path):
    """Short, its sentences otherwise different, no long word-for-word run: a shared phrase, not evidence (the
    check is made after alignment, only for the passages classify asks about: without it this one is reported)."""
    sentence = "在防汛救灾的关键时刻各级干部闻令而动冲锋在前，" + PHRASE_REWORDED + "，连续奋战七个昼夜保住了大堤。"
    assert _scan(tmp_path, sentence) == []


def test_the_same_phrase_in_the_same_sentence_is_reported(tmp_path):
    sentence = "今年以来我们在基层调研走访中发现了许多新情况新问题，" + PHRASE_REWORDED + "，相关工作还有不少短板需要认真补齐。"
    passages = _scan(tmp_path, sentence)
    assert len(passages) == 1 and PHRASE_REWORDED in passages[0]


def test_aligning_compares_the_source_segments_near_the_verified_ones():
    from detector.align import near_verified

    candidate = _candidate(1, {0: 1.0}, evidence=10.0)
    candidate.matched_sources = {2, 10, 11}
    assert np.flatnonzero(near_verified(candidate, 14, reach=1)).tolist() == [1, 2, 3, 9, 10, 11, 12]
    assert np.flatnonzero(near_verified(candidate, 12, reach=3)).tolist() == list(range(0, 6)) + list(range(7, 12))
    assert not near_verified(_candidate(2, {}, evidence=0.0), 5, reach=3).any()


def test_the_authors_own_report_is_aligned_beyond_the_cap(tmp_path):
    """With more documents to align in full than `max_candidate_documents`, the author's own earlier report was cut
    to a carrier made of its verified segments, and a self_reuse passage then named it with an empty source span
    and no source text (offsets must point at the evidence)."""
    import dataclasses
    import re

    from detector.model import DocumentMeta
    from detector.settings import Settings
    from planting import BASE, SOURCE

    def sentences(path) -> list:
        return [s for s in re.findall(r"[^。！？\n]+[。！？]", path.read_text(encoding="utf-8")) if len(s) >= 25]

    copied, own = sentences(SOURCE), sentences(BASE)
    reused, borrowed = "".join(copied[10:13]), "".join(copied[20:28])
    own_report = "".join(own[:5]) + reused + "".join(own[5:10])
    colleague = "".join(own[20:24]) + reused + borrowed + "".join(own[24:28])  # more evidence: it leads
    submission = "".join(own[30:34]) + reused + "".join(own[34:36]) + borrowed + "".join(own[36:40])
    path = tmp_path / "c.db"
    with api.open_corpus(path, create=True) as corpus:
        api.add_texts(corpus, [("own-2023.txt", own_report, DocumentMeta(author="张三", year=2023)),
                               ("colleague.txt", colleague, DocumentMeta(author="李四", year=2024))])
    with api.open_corpus(path, settings=dataclasses.replace(Settings(), max_candidate_documents=1)) as corpus:
        report = api.scan_text(corpus, submission, path="s.txt", meta=DocumentMeta(author="张三", year=2024))
    mine = [p for p in report.passages if p.kind == "self_reuse"]
    assert mine and all(p.source.path == "own-2023.txt" for p in mine)
    for p in mine:
        start, end = p.source_span
        assert end > start and p.source_text == own_report[start:end]


def test_own_documents_are_those_same_owner_names():
    from detector.metadata import same_owner
    from detector.model import DocumentMeta
    from detector.scan import _own_documents

    people = [DocumentMeta(), DocumentMeta(author="张三"), DocumentMeta(author="張　三"), DocumentMeta(author="李四"),
              DocumentMeta(author="张三", unit="一局", team=True), DocumentMeta(unit="一局", team=True),
              DocumentMeta(unit="一局"), DocumentMeta(author="张三（副局长）"), DocumentMeta(author=" ")]
    verified = [Candidate(doc_id, 1.0, np.zeros(0, np.int64), np.zeros(0, np.int64)) for doc_id in range(len(people))]
    sources = {doc_id: (meta, None) for doc_id, meta in enumerate(people)}
    for submission in people:
        expected = {doc_id for doc_id, meta in enumerate(people) if same_owner(submission, meta)}
        assert _own_documents(submission, verified, sources) == expected
    assert _own_documents(DocumentMeta(author="张三"), verified, sources) == {1, 2, 7}
