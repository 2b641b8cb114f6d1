"""Signatures are bit-identical to datasketch's MinHash; band keys follow datasketch's band/row choice."""

import numpy as np
import pytest
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from detector.fingerprint import fingerprint
from detector.settings import KEY_BITS, Settings
from detector.sign import band_keys, shingle_hash32, shingles, signatures


@pytest.mark.parametrize("shingling", ["char2", "char3", "jieba"])
@pytest.mark.parametrize("num_perm,seed", [(64, 1), (128, 7)])
def test_signatures_equal_datasketch(seeds, shingling, num_perm, seed):
    settings = Settings(num_perm=num_perm, seed=seed, shingling=shingling)
    fp = fingerprint(seeds[2].read_text(encoding="utf-8"), settings)
    contents = [fp.segment_content(i) for i in range(fp.segment_count)]
    ours = signatures(contents, settings)
    for content, row in zip(contents, ours):
        reference = MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash32, scheme="affine32")
        reference.update_batch(shingles(content, shingling))
        assert np.array_equal(reference.hashvalues, row), content


def test_short_segment_is_one_shingle():
    assert shingles("党", "char2") == ["党"]
    assert shingles("党性修养", "char2") == ["党性", "性修", "修养"]


def test_bands_rows_are_datasketchs_choice():
    settings = Settings()
    assert settings.bands_rows == _optimal_param(settings.lsh_threshold, settings.num_perm, *settings.lsh_weights)


def test_identical_segments_share_every_band_key_and_different_ones_few(seeds):
    settings = Settings()
    fp = fingerprint(seeds[0].read_text(encoding="utf-8"), settings)
    keys = band_keys(np.vstack([fp.signatures[5], fp.signatures[5], fp.signatures[40]]), *settings.bands_rows)
    assert (keys[0] == keys[1]).all()
    assert (keys[0] == keys[2]).sum() < settings.bands_rows[0] // 2
    assert (keys >= 0).all() and (keys < 2**KEY_BITS).all()


def test_shipped_permutations_and_band_splits_are_datasketchs(monkeypatch):
    from detector.settings import shipped_params
    from detector.sign import _permutations

    params = shipped_params()
    for key, shipped in params["permutations"].items():
        num_perm, seed = map(int, key.split("/"))
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        assert np.array_equal(np.array(shipped["a"], dtype=np.uint32), a.astype(np.uint32)), key
        assert np.array_equal(np.array(shipped["b"], dtype=np.uint32), b.astype(np.uint32)), key
        assert all(np.array_equal(x, y) for x, y in zip(_permutations(num_perm, seed), (a, b)))
    for key, split in params["bands_rows"].items():
        threshold, num_perm, fp, fn = key.split("/")
        assert tuple(split) == _optimal_param(float(threshold), int(num_perm), float(fp), float(fn)), key


def test_signing_with_the_shipped_table_imports_no_datasketch():
    import subprocess
    import sys

    code = ("import sys; from detector.fingerprint import fingerprint; from detector.settings import DEFAULT; "
            "fingerprint('按照要求，本人认真查摆问题。', DEFAULT); print('datasketch' in sys.modules, 'scipy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == ["False", "False"]
