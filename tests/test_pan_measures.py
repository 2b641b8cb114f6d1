"""The PAN measures of benchmarks.quality.measures on small hand-computed examples."""

import math

import pytest

from benchmarks.quality.measures import Alignment, score, union_length

CASE = Alignment("s1", 100, 200, "src1", 1000, 1100)  # 100 + 100 characters


def test_perfect_detection_scores_one():
    result = score([CASE], [CASE])
    assert (result.precision, result.recall, result.granularity, result.plagdet) == (1.0, 1.0, 1.0, 1.0)


def test_half_coverage_halves_recall_only():
    half = Alignment("s1", 100, 150, "src1", 1000, 1050)
    result = score([CASE], [half])
    assert result.precision == 1.0
    assert result.recall == pytest.approx(0.5)
    assert result.plagdet == pytest.approx(2 * 0.5 / 1.5)


def test_split_detection_has_granularity_two():
    first = Alignment("s1", 100, 150, "src1", 1000, 1050)
    second = Alignment("s1", 150, 200, "src1", 1050, 1100)
    result = score([CASE], [first, second])
    assert result.recall == 1.0 and result.precision == 1.0
    assert result.granularity == 2.0
    assert result.plagdet == pytest.approx(1 / math.log2(3))


def test_detection_with_no_case_drops_precision():
    stray = Alignment("s1", 500, 540, "src2", 0, 40)
    result = score([CASE], [CASE, stray])
    assert result.precision == pytest.approx(0.5)
    assert result.recall == 1.0 and result.granularity == 1.0


def test_detection_reaching_past_case_counts_extra_characters():
    # 50 characters too many on each side: 200 of 300 characters are case characters
    wide = Alignment("s1", 100, 250, "src1", 1000, 1150)
    assert score([CASE], [wide]).precision == pytest.approx(200 / 300)


def test_wrong_source_document_detects_nothing():
    wrong = Alignment("s1", 100, 200, "src9", 1000, 1100)
    result = score([CASE], [wrong])
    assert result.precision == 0.0 and result.recall == 0.0 and result.plagdet == 0.0


def test_overlap_on_one_side_only_detects_nothing():
    elsewhere = Alignment("s1", 100, 200, "src1", 5000, 5100)
    assert score([CASE], [elsewhere]).recall == 0.0


def test_two_cases_macro_average():
    other = Alignment("s2", 0, 50, "src1", 0, 50)
    result = score([CASE, other], [CASE])
    assert result.recall == pytest.approx(0.5)  # (1 + 0) / 2: macro, not weighted by size


def test_empty_sets():
    assert score([], []).plagdet == 1.0
    nothing_found = score([CASE], [])
    assert nothing_found.recall == 0.0 and nothing_found.precision == 1.0 and nothing_found.plagdet == 0.0
    false_alarm = score([], [CASE])
    assert false_alarm.precision == 0.0 and false_alarm.recall == 1.0


def test_union_length_merges_overlaps():
    assert union_length([(0, 10), (5, 15), (20, 25), (3, 3)]) == 20


def test_shared_runs_of_thirty_characters_are_the_natural_truth():
    from benchmarks.quality.kgrams import mask_to_spans, shared_mask

    common = "".join(chr(0x4E00 + i) for i in range(35))
    a = "甲" * 10 + common + "乙" * 10 + common[:29]
    b = "丙" * 5 + common + "丁" * 5
    in_a, in_b = shared_mask(a, b, 30)
    assert mask_to_spans(in_a) == [(10, 45)]  # the 29-character repeat is too short
    assert mask_to_spans(in_b) == [(5, 40)]


def test_exact_baseline_maps_spans_back_across_whitespace():
    from benchmarks.quality.baselines import ExactMatcher

    copied = "".join(chr(0x4E00 + i) for i in range(40))
    matcher = ExactMatcher()
    matcher.add("src", "前言" + copied + "后记")
    submission = "新的开头" + copied[:15] + " \n" + copied[15:]
    [hit] = matcher.scan(submission)
    assert (hit.susp_start, hit.susp_end, hit.src_start, hit.src_end) == (4, 46, 2, 42)


def test_attribution_counts_a_copy_as_named_only_by_a_passage_covering_it():
    from benchmarks.quality import attribution
    from benchmarks.quality.baselines import Hit
    from benchmarks.quality.generate import Case, SuspiciousDoc

    copy = Case(100, 400, "src/a.txt", 0, 300, "attribution")
    doc = SuspiciousDoc("attribution/000-none.txt", "", "none", [copy])
    right = Hit(100, 400, "src/a.txt", 0, 300)
    decoy = Hit(150, 190, "decoy/000-01-0.txt", 10, 50)
    elsewhere = Hit(500, 560, "src/a.txt", 0, 60)  # names the source, but not over the copy
    assert attribution._named_share([doc], {doc.name: [elsewhere]}) == 0.0
    assert attribution._named_share([doc], {doc.name: [decoy, right]}) == 1.0
    assert attribution._decoy_share([doc], {doc.name: [decoy, right]}) == 1.0
    assert attribution._decoy_share([doc], {doc.name: [right, elsewhere]}) == 0.0


@pytest.mark.skipif(not __import__("benchmarks.quality.sources", fromlist=["available"]).available(),
                    reason="seeds or corpora not found")
def test_attribution_cases_hide_each_copied_sentence_in_two_older_decoys():
    from benchmarks.quality import attribution
    from benchmarks.quality.generate import SEED, generate

    benchmark = generate(size=2)
    copies = attribution.generate(benchmark.pools, SEED, cases=3)
    by_label = {doc.label: doc.text for doc in benchmark.sources}
    for doc in copies.documents:
        [case] = doc.cases
        source = by_label[case.src_label][case.src_start : case.src_end]
        if doc.obfuscation == "none":
            assert doc.text[case.susp_start : case.susp_end] == source
        number = doc.name.split("/")[1][:3]
        decoys = [text for label, text in copies.decoys if label.startswith(f"decoy/{number}-")]
        sentences = attribution._sentences(source)
        assert len(sentences) >= 2 and len(decoys) == attribution.DECOYS_PER_SENTENCE * len(sentences)
        assert all(sum(sentence in text for text in decoys) == attribution.DECOYS_PER_SENTENCE for sentence in sentences)
