"""The radix orders and dense ranks equal numpy's sorts, and the capped postings rows built from runs equal the sorted ones."""

import numpy as np
import pytest

from detector.sorting import dense_ranks, stable_order
from detector.store.sqlite import _capped_rows, _capped_runs


@pytest.mark.parametrize("top", [3, 70_000, 1 << 33, 1 << 62])
@pytest.mark.parametrize("size", [0, 5, 1_999, 2_000, 50_000])
def test_stable_order_is_numpys_stable_argsort(top, size):
    values = np.random.default_rng(size + top % 97).integers(0, top, size, dtype=np.int64)
    assert np.array_equal(stable_order(values), np.argsort(values, kind="stable"))


def test_stable_order_keeps_equal_values_in_their_order():
    values = np.repeat(np.array([7, 1, 7, 1 << 40, 1], dtype=np.int64), 1_000)
    order = stable_order(values)
    assert np.array_equal(order, np.argsort(values, kind="stable"))
    assert (np.diff(order[values[order] == 7]) > 0).all()


def test_stable_order_of_negative_values_falls_back_to_numpy():
    values = np.random.default_rng(1).integers(-1_000, 1_000, 10_000)
    assert np.array_equal(stable_order(values), np.argsort(values, kind="stable"))


@pytest.mark.parametrize("top", [1, 100, 100_000, 1 << 40])
def test_dense_ranks_are_unique_and_inverse(top):
    values = np.random.default_rng(top % 1000).integers(0, top, 20_000, dtype=np.int64)
    distinct, rank = dense_ranks(values)
    assert np.array_equal(distinct, np.unique(values))
    assert np.array_equal(distinct[rank], values)


def test_dense_ranks_of_corpus_ids_mixed_with_a_batchs_ids():
    """A batch's own submissions have ids past 2^40, among corpus ids below a few million: both kinds ranked as one."""
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.integers(0, 5_000, 30_000), (1 << 40) + rng.integers(0, 30, 3_000)])
    rng.shuffle(values)
    distinct, rank = dense_ranks(values)
    assert np.array_equal(distinct, np.unique(values))
    assert np.array_equal(distinct[rank], values)


def test_capped_runs_equal_capped_rows():
    rng = np.random.default_rng(3)
    keys = np.sort(rng.choice(1 << 40, 300, replace=False))
    per_key = rng.integers(1, 12, len(keys))
    segments = np.concatenate([np.sort(rng.choice(10_000, n, replace=False)) for n in per_key])
    for cap in (1, 4, 20):
        hot = keys[per_key > cap].tolist()
        expected = _capped_rows(np.repeat(keys, per_key), segments, cap, hot)
        assert np.array_equal(_capped_runs(keys, per_key, segments, cap), expected)
    shuffled = rng.permutation(len(keys))  # keys not ascending: the rows are sorted first, as before
    runs = np.split(segments, np.cumsum(per_key)[:-1])
    mixed = np.concatenate([runs[i] for i in shuffled])
    assert np.array_equal(_capped_runs(keys[shuffled], per_key[shuffled], mixed, 4),
                          _capped_rows(np.repeat(keys[shuffled], per_key[shuffled]), mixed, 4, keys[per_key > 4].tolist()))
