"""The comparator finds exactly the planted passages, at the right characters, and nothing among unrelated seeds."""

import pytest

from detector import api
from detector.ingest import read_document
from detector.model import COUNTED_KINDS

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
