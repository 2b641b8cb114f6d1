"""Parts of the aligner checked against plain reference computations: the segment and sentence pairs of a source
that reach the bar, and stand-ins joining the kept passages they overlap."""

from __future__ import annotations

import random

import numpy as np
import pytest

from detector import align
from detector.align import Alignment
from detector.fingerprint import fingerprint
from detector.settings import DEFAULT
from detector.sign import shingles


def _alignment(rng: random.Random, doc_id: int) -> Alignment:
    start = rng.randrange(0, 400)
    return Alignment(doc_id=doc_id, sub_span=(start, start + rng.choice([0, 1, 5, 20, 60])), src_span=(0, 0),
                     similarity=1.0, evidence=1.0, matched_chars=0, sub_segments=())


def _reference(kept: list, stand_ins: list) -> list:
    """Each stand-in to the first kept passage of another document that it overlaps most, if that is half of it."""
    for stand_in in stand_ins:
        start, end = stand_in.sub_span
        overlaps = [max(0, min(k.sub_span[1], end) - max(k.sub_span[0], start)) * (k.doc_id != stand_in.doc_id)
                    for k, _ in kept]
        best = overlaps.index(max(overlaps))
        if overlaps[best] >= 0.5 * max(1, end - start):
            kept[best][1].append(stand_in)
    return kept


@pytest.mark.parametrize("block", [1, 7, 1_000_000])
def test_stand_ins_join_the_passages_a_plain_loop_gives(monkeypatch, block):
    monkeypatch.setattr(align, "_OVERLAPS_AT_ONCE", block)
    rng = random.Random(block)
    for _ in range(30):
        kept = [_alignment(rng, rng.randrange(4)) for _ in range(rng.randrange(1, 12))]
        stand_ins = [_alignment(rng, rng.randrange(4)) for _ in range(rng.randrange(0, 40))]
        found = align.with_carriers([(k, []) for k in kept], stand_ins)
        expected = _reference([(k, []) for k in kept], stand_ins)
        assert [[id(s) for s in others] for _, others in found] == [[id(s) for s in others] for _, others in expected]
    assert align.with_carriers([], stand_ins) == []


def _set_dice(a: set, b: set) -> float:
    return 2.0 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _units(fp, by_sentence: bool) -> dict:
    found: dict = {}
    for i, text in enumerate(fp.segment_texts()):
        found.setdefault(int(fp.sentences[i]) if by_sentence else i, set()).update(shingles(text, "char2"))
    return found


def test_source_similarities_are_every_segment_pair_and_the_sentence_pairs_with_a_longer_sentence(seeds):
    """Segment pairs at the bar, all of them; sentence pairs at the bar where either sentence has several clauses."""
    texts = [p.read_text(encoding="utf-8") for p in seeds[:3]]
    pieces = [s for s in texts[0].split("。") if len(s) >= 24]
    # sentences of two clauses in the submission, of one in a source: longer sentences meet whole sentences
    sub_text = "".join(p[:12] + "，" + p[12:24] + "。" for p in pieces) + texts[1]
    sub = fingerprint(sub_text, DEFAULT)
    sources = ["".join(p[:24] + "。" for p in pieces), texts[1], texts[2], sub_text[-800:], ""]
    srcs = [fingerprint(t, DEFAULT, signed=False) for t in sources]
    kinds: set = set()
    for src, (segment_pairs, sentence_pairs) in zip(srcs, align.source_similarities(sub, srcs, DEFAULT)):
        clauses_a, clauses_b = np.bincount(sub.sentences), np.bincount(src.sentences, minlength=1)
        for pairs, by_sentence in ((segment_pairs, False), (sentence_pairs, True)):
            expected = {(i, j): _set_dice(a, b) for i, a in _units(sub, by_sentence).items()
                        for j, b in _units(src, by_sentence).items() if _set_dice(a, b) >= DEFAULT.verify_dice
                        and (not by_sentence or clauses_a[i] > 1 or clauses_b[j] > 1)}
            assert pairs == expected
        kinds |= {(bool(clauses_a[i] > 1), bool(clauses_b[j] > 1)) for i, j in sentence_pairs}
    assert kinds == {(True, True), (True, False), (False, True)}  # every kind of sentence pair was compared


def test_a_source_aligned_once_has_only_its_compared_texts_cut_and_finds_what_its_whole_sets_find(seeds):
    """Compared around its verified segments, a source met for the first time has only those texts' sets made; met
    again, its whole sets are made and kept. Both give the pairs of the same segments and sentences."""
    texts = [p.read_text(encoding="utf-8") for p in seeds[:4]]
    sub = fingerprint(texts[0][:3000] + texts[1][:2000], DEFAULT)
    srcs = [fingerprint(t, DEFAULT, signed=False) for t in texts]
    rng = np.random.default_rng(7)
    near = [rng.random(src.segment_count) < 0.3 for src in srcs]
    first = align.source_similarities(sub, srcs, DEFAULT, near)
    assert not any(src.remembers(("sets", "char2")) for src in srcs)
    again = align.source_similarities(sub, srcs, DEFAULT, near)
    assert all(src.remembers(("sets", "char2")) for src in srcs)
    assert first == again and sum(len(segment_pairs) for segment_pairs, _ in first) > 50
    for (segment_pairs, _), chosen in zip(first, near):
        assert all(chosen[j] for _, j in segment_pairs)


def _texts(rng: random.Random, alphabet: str, count: int) -> list[tuple[str, str]]:
    """Pairs of short texts over a small alphabet (so that they share bigrams and runs), the second often a copy of
    the first with edits."""
    pairs = []
    for _ in range(count):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        b = list(a) if rng.random() < 0.5 else [rng.choice(alphabet) for _ in range(rng.randrange(0, 40))]
        for _ in range(rng.randrange(0, 6)):
            if b:
                b[rng.randrange(len(b))] = rng.choice(alphabet)
        pairs.append((a, "".join(b)))
    return pairs


def _marked_count(a: str, b: str, run: int) -> int:
    """The characters of `a` in a run of `run` consecutive bigrams `b` has, marked one by one (the plain way)."""
    grams = {b[k : k + 2] for k in range(len(b) - 1)}
    mask = [False] * len(a)
    for k in range(len(a) - run):
        if all(a[m : m + 2] in grams for m in range(k, k + run)):
            mask[k : k + run + 1] = [True] * (run + 1)
    return sum(mask)


@pytest.mark.parametrize("alphabet", ["干部学习作风", "党的建设工作不够深入扎实到位问题", "1234567890年月日亿万"])
def test_shared_characters_are_those_a_plain_marking_gives(alphabet):
    for a, b in _texts(random.Random(alphabet), alphabet, 400):
        for run in (1, 2, 3):
            assert align._shared_count(a, b, run) == _marked_count(a, b, run)


def _plain_extension(a: str, b: str, max_gap: int = 2, first_block: int = 4, min_block: int = 2) -> tuple[int, int]:
    """_extension without its first check: every pair of texts aligned."""
    reach_a = reach_b = 0
    for op in align.Indel.opcodes(a, b) if a and b else ():
        if op.tag != "equal":
            continue
        if (op.src_start - reach_a > max_gap or op.dest_start - reach_b > max_gap
                or op.src_end - op.src_start < (first_block if reach_a == 0 else min_block)):
            break
        reach_a, reach_b = op.src_end, op.dest_end
    return reach_a, reach_b


@pytest.mark.parametrize("alphabet", ["干部学习作风", "党的建设工作不够深入扎实到位问题"])
def test_extensions_are_those_of_aligning_every_pair(alphabet):
    pairs = _texts(random.Random(alphabet), alphabet, 1500)
    pairs += [("x" * n + a, "y" * m + a) for a, _ in pairs[:200] for n in range(4) for m in range(4)]
    found = [align._extension.__wrapped__(a, b) for a, b in pairs]
    assert found == [_plain_extension(a, b) for a, b in pairs]
    assert sum(f != (0, 0) for f in found) > 100 and sum(f == (0, 0) for f in found) > 100  # both ways were taken


def test_number_agreement_is_the_share_of_figures_counted_alike():
    rng = random.Random(7)
    figures = ["10", "11", "2023", "三十", "一百", "十二"]
    for _ in range(2000):
        a, b = ("的".join(rng.choice(figures) for _ in range(rng.randrange(0, 4))) for _ in range(2))
        found_a, found_b = align._NUMBER.findall(a), align._NUMBER.findall(b)
        union = sum((align.Counter(found_a) | align.Counter(found_b)).values())
        expected = sum((align.Counter(found_a) & align.Counter(found_b)).values()) / union if union else 1.0
        assert align._number_agreement(a, b) == expected


def test_chain_sums_are_numpy_sums_to_the_bit():
    rng = random.Random(3)
    for n in list(range(0, 20)) * 200:
        values = [rng.randrange(1, 80) * rng.random() for _ in range(n)]
        assert align._summed(values) == float(np.array(values, dtype=float).sum())


def test_segment_and_sentence_texts_cut_from_the_content_are_the_listed_ones(seeds):
    for path in seeds[:4]:
        fp = fingerprint(path.read_text(encoding="utf-8"), DEFAULT, signed=False)
        assert [align._segment_text(fp, i) for i in range(fp.segment_count)] == fp.segment_texts()
        sentences = fp.sentence_texts()
        assert [align._sentence_text(fp, s) for s in range(len(sentences))] == sentences
        counts = align._clause_counts(fp)
        assert counts.tolist() == np.bincount(fp.sentences, minlength=len(sentences)).tolist()


def test_stand_ins_weigh_their_segments_as_plain_sums_do():
    rng = random.Random(5)
    for _ in range(300):
        count = rng.randrange(1, 30)
        starts = sorted(rng.sample(range(2000), count))
        ends = [start + rng.randrange(0, 40) for start in starts]
        free = [rng.randrange(0, e - s + 1) for s, e in zip(starts, ends)]
        run = sorted(rng.sample(range(count), rng.randrange(1, count + 1)))
        candidate = align.Candidate(doc_id=7, score=1.0, rows=np.zeros(0), cols=np.zeros(0),
                                    matched={i: rng.random() for i in run})
        lengths, dice = [ends[i] - starts[i] for i in run], [candidate.matched[i] for i in run]
        made = align._stand_in(candidate, run, starts, ends, free)
        assert made.similarity == sum(n * d for n, d in zip(lengths, dice)) / max(1, sum(lengths))
        assert made.evidence == sum(free[i] * d for i, d in zip(run, dice))
        assert (made.matched_chars, made.sub_span, made.sub_segments) == (sum(lengths), (starts[run[0]], ends[run[-1]]), tuple(run))


def test_the_sentences_a_span_touches_are_those_listed(seeds):
    """_sentences_of against the fingerprint's list of sentence texts, for every span of up to 60 characters."""
    fp = fingerprint(seeds[0].read_text(encoding="utf-8"), DEFAULT, signed=False)
    texts, starts, ends = fp.sentence_texts(), *align._starts_and_ends(fp)
    sentence_of = fp.sentences.tolist()
    for start in range(0, len(fp.content), 17):
        for end in range(start, min(len(fp.content), start + 60) + 1, 6):
            touched = [k for k in range(fp.segment_count) if ends[k] > start and starts[k] < max(end, start + 1)]
            expected = "".join(texts[sentence_of[touched[0]] : sentence_of[touched[-1]] + 1]) if touched else ""
            assert align._sentences_of(fp, start, end) == expected


@pytest.mark.parametrize("alphabet", ["干部学习作风", "党的建设工作不够深入扎实到位问题"])
def test_edges_are_the_unmatched_ends_a_bigram_set_gives(alphabet):
    for a, b in _texts(random.Random(alphabet), alphabet, 1500):
        grams = {b[k : k + 2] for k in range(len(b) - 1)}
        matched = [k for k in range(len(a) - 1) if a[k : k + 2] in grams]
        assert align._edges(a, b) == ((matched[0], len(a) - 2 - matched[-1]) if matched else (0, 0))


def test_segments_near_the_verified_are_those_a_difference_array_marks():
    rng = random.Random(11)
    for _ in range(2000):
        count, reach = rng.randrange(0, 40), rng.randrange(0, 6)
        verified = set(rng.sample(range(count), rng.randrange(0, count + 1))) if count else set()
        edges = np.zeros(count + 1, dtype=np.int64)
        for j in verified:
            edges[min(max(j - reach, 0), count)] += 1
            edges[min(max(j + reach + 1, 0), count)] -= 1
        candidate = align.Candidate(doc_id=1, score=1.0, rows=np.zeros(0), cols=np.zeros(0), matched_sources=verified)
        found = align.near_verified(candidate, count, reach)
        assert found.dtype == bool and found.tolist() == (np.cumsum(edges[:-1]) > 0).tolist()
