"""The similarity join (Membership.similar / similar_each): exactly the pairs, and the Dice values, that comparing
every pair of shingle sets by brute force gives — on random sets, random texts and the seed reports."""

from __future__ import annotations

import random

import numpy as np
import pytest

from detector import shingles
from detector.fingerprint import fingerprint
from detector.settings import DEFAULT
from detector.shingles import Membership, ShingleSets, Vocabulary, submission_lookups, text_sets
from detector.sign import shingles as python_shingles

BARS = [0.1, 0.3, 0.45, 0.6, 0.8, 1.0]


def _brute_force(left: list[set], right: list[set], bar: float) -> dict:
    """Every (left, right) pair of non-empty sets whose Dice reaches `bar`, computed as the join computes it."""
    found = {}
    for i, a in enumerate(left):
        for j, b in enumerate(right):
            dice = 2.0 * len(a & b) / (len(a) + len(b)) if a and b else 0.0
            if dice >= bar:
                found[(i, j)] = dice
    return found


def _sets_of(groups: list[set]) -> ShingleSets:
    """ShingleSets of given sets of codes, each text's run in the order given (not sorted by text)."""
    order = list(range(len(groups)))
    random.Random(len(groups)).shuffle(order)
    units = np.array([t for t in order for _ in groups[t]], dtype=np.int64)
    codes = np.array([c for t in order for c in sorted(groups[t])], dtype=np.uint64)
    first = np.zeros(len(groups), dtype=np.int64)
    for t, start in zip(order, np.cumsum([0] + [len(groups[t]) for t in order])[:-1]):
        first[t] = start
    return ShingleSets(units, codes, first, np.array([len(g) for g in groups], dtype=np.int64))


def _random_groups(rng: random.Random, count: int, alphabet: int) -> list[set]:
    """Sets of very different sizes (some empty) over a skewed alphabet: a few codes are in most sets."""
    groups = []
    for _ in range(count):
        size = rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 40, 80])
        groups.append({int(min(rng.paretovariate(0.8), alphabet)) * 7919 + 1 for _ in range(size)})
    return groups


@pytest.mark.parametrize("seed", range(6))
def test_join_of_random_sets_equals_brute_force(seed):
    rng = random.Random(seed)
    left = _random_groups(rng, 60, 300)
    others = [_random_groups(rng, rng.choice([0, 1, 30, 70]), 300) for _ in range(4)]
    here = _sets_of(left)
    membership = Membership(Vocabulary(here.codes, exact_bigrams=False), here)
    some = 0
    for bar in BARS:
        each = membership.similar_each([_sets_of(groups) for groups in others], bar)
        for groups, found in zip(others, each):
            expected = _brute_force(left, groups, bar)
            assert list(found.items()) == sorted(expected.items())
            assert membership.similar(_sets_of(groups), bar) == found
            some += len(found)
    assert some > 100  # skewed alphabets make many similar pairs: the comparison is not vacuous


def _random_text(rng: random.Random) -> str:
    """Sentences of clauses drawn from a small vocabulary of common words, so that texts share many bigrams."""
    words = ["发展", "问题", "工作", "我们", "学习", "群众", "思想", "认识", "不够", "深刻", "加强", "落实", "责任", "党员", "作风"]
    sentences = []
    for _ in range(rng.randrange(3, 25)):
        clauses = ["".join(rng.choice(words) for _ in range(rng.randrange(1, 7))) for _ in range(rng.randrange(1, 4))]
        sentences.append("，".join(clauses) + "。")
    return "".join(sentences)


def _python_sets(fp, shingling: str, by_sentence: bool) -> list[set]:
    """Each segment's shingle set, or each sentence's (the union of its clauses')."""
    found: dict = {}
    for i, text in enumerate(fp.segment_texts()):
        found.setdefault(int(fp.sentences[i]) if by_sentence else i, set()).update(python_shingles(text, shingling))
    return [found.get(k, set()) for k in range(max(found, default=-1) + 1)]


def _check_texts(sub_text: str, source_texts: list[str], shingling: str, bars=BARS) -> int:
    """Compare the join of a submission with several sources to brute force, for segments and sentences."""
    settings = DEFAULT.replace(shingling=shingling)
    sub = fingerprint(sub_text, settings)
    srcs = [fingerprint(t, settings, signed=False) for t in source_texts]
    compared = 0
    for kind, membership in enumerate(submission_lookups(sub, shingling)):
        left = _python_sets(sub, shingling, by_sentence=kind == 1)
        for bar in bars:
            each = membership.similar_each([text_sets(src, shingling)[kind] for src in srcs], bar)
            for src, found in zip(srcs, each):
                expected = _brute_force(left, _python_sets(src, shingling, by_sentence=kind == 1), bar)
                assert list(found.items()) == sorted(expected.items())
                compared += len(found)
    return compared


@pytest.mark.parametrize("shingling", ["char2", "char3"])
def test_join_of_random_texts_equals_brute_force(shingling):
    rng = random.Random(5)
    compared = sum(_check_texts(_random_text(rng), [_random_text(rng) for _ in range(5)], shingling) for _ in range(4))
    assert compared > 100


@pytest.mark.parametrize("shingling", ["char2", "char3", "jieba"])
def test_join_of_seed_reports_equals_brute_force(seeds, shingling):
    texts = [p.read_text(encoding="utf-8") for p in seeds[:4]]
    edited = texts[0].replace("。", "，", 5)[-2000:] + texts[1][:1500]  # sentences joined, and two reports mixed
    assert _check_texts(texts[0], [edited, texts[1], texts[2], texts[3], ""], shingling, bars=[0.3, 0.45, 0.9]) > 50


def test_join_in_small_batches_finds_the_same(seeds, monkeypatch):
    texts = [p.read_text(encoding="utf-8") for p in seeds[:4]]
    sub = fingerprint(texts[0], DEFAULT)
    sets = [text_sets(fingerprint(t, DEFAULT, signed=False), "char2")[0] for t in texts]
    by_segment, _ = submission_lookups(sub, "char2")
    whole = by_segment.similar_each(sets, DEFAULT.verify_dice)
    monkeypatch.setattr(shingles, "_JOIN_AT_ONCE", 1)
    assert by_segment.similar_each(sets, DEFAULT.verify_dice) == whole and whole[0]


def test_join_of_chosen_texts_leaves_out_only_the_others():
    rng = random.Random(9)
    left = _random_groups(rng, 50, 200)
    others = [_random_groups(rng, 40, 200) for _ in range(3)]
    here = _sets_of(left)
    membership = Membership(Vocabulary(here.codes, exact_bigrams=False), here)
    chosen = [np.array([rng.random() < 0.4 for _ in groups]) for groups in others]
    found = membership.similar_each([_sets_of(groups) for groups in others], 0.3, chosen)
    for groups, marks, pairs in zip(others, chosen, found):
        expected = {(i, j): d for (i, j), d in _brute_force(left, groups, 0.3).items() if marks[j]}
        assert list(pairs.items()) == sorted(expected.items())
    assert sum(len(pairs) for pairs in found) > 20


@pytest.mark.parametrize("highest", [0x9FA5, 0x2A6D6])  # CJK only; with a character beyond the basic plane
def test_bigram_table_numbers_any_code_point_as_a_binary_search_does(highest):
    """The exact-bigram table numbers bigrams of characters above, between and below the left side's — one-character
    shingles, astral characters — as the plain lookup does, in each of its ways of reading them (content never
    holds NUL, which stands for "no first character": the normaliser drops control characters)."""
    rng = np.random.default_rng(highest)
    own = np.r_[rng.integers(0x4E00, 0x4F00, 300), highest].astype(np.uint32)
    own_codes = shingles.bigram_codes(own[:-1], own[1:])
    own_codes = np.r_[own_codes, shingles.bigram_codes(np.zeros(3, np.uint32), own[:3])]  # one-character shingles
    table, plain = Vocabulary(own_codes, exact_bigrams=True), Vocabulary(own_codes, exact_bigrams=False)
    others = np.r_[rng.integers(1, 0x10FFFF, 200), [1, 0x4DFF, 0x9FA6, 0xFFFF, 0x10000, 0x2A6D6, 0x10FFFF]]
    # above the highest, after a character whose bigram with the highest, or with the character that much lower,
    # the left side has (what a table read clipped to the highest, or modulo its size, would mistake)
    above = np.c_[own[:-2], highest + 2 + own[1:-1]].ravel()
    chars = np.r_[own, others[rng.permutation(len(others))], own[::-1], above, own[-2], highest + 1].astype(np.uint32)
    firsts, seconds = chars[:-1], chars[1:]
    expected = plain.ids(shingles.bigram_codes(firsts, seconds))
    assert (expected >= 0).sum() > 100
    assert np.array_equal(table.ids(shingles.bigram_codes(firsts, seconds)), expected)
    assert np.array_equal(table.pair_ids(firsts, seconds), expected)
    assert np.array_equal(table.chain_ids(chars)[:-1], expected)
    singles = np.zeros(len(chars), np.uint32)
    assert np.array_equal(table.pair_ids(singles, chars), plain.ids(shingles.bigram_codes(singles, chars)))


def _split_one_by_one(units: np.ndarray, codes: np.ndarray, counts: np.ndarray) -> list:
    """Each document's ShingleSets made on its own: its texts' runs found in its own part of the pooled arrays."""
    found, lo = [], 0
    for base, count in zip((np.cumsum(counts) - counts).tolist(), counts.tolist()):
        hi = lo + int(((units >= base) & (units < base + count)).sum())
        own = units[lo:hi] - base
        first = np.zeros(count, dtype=np.int64)
        for t in range(count):
            where = np.flatnonzero(own == t)
            first[t] = where[0] if len(where) else 0
        found.append((own, codes[lo:hi], first, np.bincount(own, minlength=count)))
        lo = hi
    return found


@pytest.mark.parametrize("seed", range(6))
def test_pooled_sets_split_per_document_as_one_by_one(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        counts = rng.integers(0, 6, size=rng.integers(0, 8))
        total = int(counts.sum())
        units = np.sort(rng.choice(total, size=rng.integers(0, 3 * total + 1))) if total else np.zeros(0, np.int64)
        codes = rng.integers(0, 1 << 40, size=len(units)).astype(np.uint64)
        found = shingles._split(units, codes, counts)
        expected = _split_one_by_one(units, codes, counts)
        assert len(found) == len(expected)
        for sets, (own, own_codes, first, sizes) in zip(found, expected):
            for got, wanted in ((sets.units, own), (sets.codes, own_codes), (sets.first, first), (sets.sizes, sizes)):
                assert got.dtype == wanted.dtype and got.tolist() == wanted.tolist()
