"""Candidate selection: the best `limit` documents are the first `limit` of the full ranking, to the bit."""

from __future__ import annotations

import types

import numpy as np
import pytest

from detector import align
from detector.store.base import Postings


def _collisions(seed: int, documents: int = 3000, keys: int = 1500):
    """A submission of 80 segments × 4 band keys, and postings of `documents` documents drawing on the same keys
    (a few documents share many: the submission's likely sources)."""
    rng = np.random.default_rng(seed)
    sub = types.SimpleNamespace(keys=rng.integers(0, keys, size=(80, 4)))
    rows = []
    for doc in range(1, documents + 1):
        shared = 60 if doc % 97 == 0 else int(rng.integers(1, 6))
        for key in rng.choice(keys, size=shared, replace=False).tolist():
            rows.append((key, doc, int(rng.integers(0, 50))))
    rows.sort()
    table = np.array(rows, dtype=np.int64)
    counts = dict(zip(*np.unique(table[:, 0], return_counts=True)))
    return sub, Postings(table[:, 0], table[:, 1:], {int(k): int(n) for k, n in counts.items()})


def _listed(found) -> list:
    return [(c.doc_id, c.score, c.rows.tolist(), c.cols.tolist()) for c in found]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("limit", [1, 10, 150, 400])
def test_the_best_few_are_the_head_of_the_full_ranking(seed, limit):
    sub, postings = _collisions(seed)
    ranked = align.candidates(sub, postings, segment_total=200_000)
    assert len(ranked) > limit
    assert _listed(align.candidates(sub, postings, segment_total=200_000, limit=limit)) == _listed(ranked[:limit])


def test_documents_that_cannot_make_the_cut_are_left_out_before_grouping():
    sub, postings = _collisions(4)
    segment, posting_row, weight = align._collisions(sub, postings, 200_000)
    sources = postings.pairs[posting_row]
    kept = align._contenders(segment, sources, weight, 10)[1]
    assert len(np.unique(kept[:, 0])) < len(np.unique(sources[:, 0])) / 4  # most documents share a key or two
    assert set(c.doc_id for c in align.candidates(sub, postings, 200_000, limit=10)) <= set(kept[:, 0].tolist())


def test_a_limit_of_zero_gives_no_candidates():
    sub, postings = _collisions(5)
    assert align.candidates(sub, postings, segment_total=200_000, limit=0) == []


def test_a_key_of_infinite_weight_ranks_as_without_a_limit():
    """A key counted 0 weighs log(total / 0) = inf: the documents carrying it come first, with or without a limit."""
    sub, postings = _collisions(6)
    rare = int(sub.keys[0, 0])
    postings.counts[rare] = 0
    with np.errstate(divide="ignore"):
        ranked = align.candidates(sub, postings, segment_total=200_000)
        assert ranked[0].score == np.inf
        assert _listed(align.candidates(sub, postings, segment_total=200_000, limit=1)) == _listed(ranked[:1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_collisions_summed_by_pair_equal_a_plain_sum(seed):
    """Packed as wide as each part needs (a batch's own submissions have ids past 2^40), the rows and sums are a
    plain dictionary's, ordered by document, then submission segment, then source segment."""
    rng = np.random.default_rng(seed)
    n = 5000
    docs = np.where(rng.random(n) < 0.1, (1 << 40) + rng.integers(0, 20, n), rng.integers(0, 3000, n))
    segments = rng.integers(0, [1, 150, 4000][seed], n)
    columns = rng.integers(0, [1, 300, 70000][seed], n)
    weights = rng.random(n).astype(np.float32)
    pairs, summed = align._summed_by_pair(segments, np.stack([docs, columns], axis=1), weights)
    expected: dict = {}
    for s, d, c, w in zip(segments.tolist(), docs.tolist(), columns.tolist(), weights.astype(np.float64).tolist()):
        expected[(d, s, c)] = expected.get((d, s, c), 0.0) + w
    order = sorted(expected)
    assert pairs.tolist() == [[s, d, c] for d, s, c in order]
    assert summed.tolist() == [expected[k] for k in order]
