"""Shingles, MinHash signatures and LSH band keys, computed vectorised over a whole document.

The signatures are bit-identical to ``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash32)``
(scheme ``affine32``) fed the same shingles: tests/test_sign.py proves it.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

from detector.settings import KEY_BITS, Settings, shipped_params

_MASK64 = (1 << 64) - 1
_PRIME = 0x100000001B3  # multiplier folding the code points of a shingle into one 64-bit number
_GOLDEN = 0x9E3779B97F4A7C15


def shingle_hash32(shingle: str) -> int:
    """The 32-bit hash of one shingle (the scalar twin of the vectorised hashing below)."""
    acc = 0
    for char in shingle:
        acc = (acc * _PRIME + ord(char)) & _MASK64
    return _mix64_scalar(acc) >> 32


def shingles(content: str, shingling: str) -> list[str]:
    """The shingles of one segment's content: character n-grams or jieba words."""
    if shingling == "jieba":
        return _jieba_words(content) or [content]
    size = 3 if shingling == "char3" else 2
    if len(content) <= size:
        return [content]
    return [content[i : i + size] for i in range(len(content) - size + 1)]


def signatures(contents: list[str], settings: Settings) -> np.ndarray:
    """MinHash signature (num_perm uint32 values) of each segment content, as one (n, num_perm) array."""
    if not contents:
        return np.zeros((0, settings.num_perm), dtype=np.uint32)
    hashes, starts = shingle_hashes(contents, settings.shingling)
    a, b = _permutations(settings.num_perm, settings.seed)
    mixed = _fmix32(hashes)
    permuted = mixed[:, None] * a[None, :] + b[None, :]  # uint32 wrap-around is the modulo 2^32
    return np.minimum.reduceat(permuted, starts, axis=0)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One integer key per (segment, band): a hash of the band's `rows` signature values and the band number."""
    keys = np.empty((len(sigs), bands), dtype=np.int64)
    for band in range(bands):
        acc = np.full(len(sigs), (band + 1) * _GOLDEN & _MASK64, dtype=np.uint64)
        for row in range(rows):
            acc = mix64(acc ^ sigs[:, band * rows + row].astype(np.uint64))
        keys[:, band] = (acc >> np.uint64(64 - KEY_BITS)).astype(np.int64)
    return keys


def content_hash(content: str) -> int:
    """A stable 63-bit hash of a segment's normalised content (to count documents that carry it)."""
    return int.from_bytes(hashlib.blake2b(content.encode("utf-8"), digest_size=8).digest(), "little") >> 1


def shingle_hashes(contents: list[str], shingling: str) -> tuple[np.ndarray, np.ndarray]:
    """All shingle hashes of all segments in one array, and where each segment's run starts."""
    if shingling == "jieba":
        per_segment = [[shingle_hash32(s) for s in shingles(c, shingling)] for c in contents]
        lengths = np.array([len(h) for h in per_segment])
        flat = np.array([h for seg in per_segment for h in seg], dtype=np.uint32)
        return flat, np.concatenate([[0], np.cumsum(lengths)[:-1]])
    size = 3 if shingling == "char3" else 2
    return _char_ngram_hashes(contents, size)


def _char_ngram_hashes(contents: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    joined = "".join(contents)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.array([len(c) for c in contents], dtype=np.int64)
    seg_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    # a segment of n chars has max(1, n - size + 1) shingles; short ones use the whole content
    counts = np.maximum(lengths - size + 1, 1)
    first = np.repeat(seg_starts, counts)
    offset = np.arange(counts.sum()) - np.repeat(np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    begin = first + offset
    width = np.minimum(np.repeat(lengths, counts), size)
    acc = np.zeros(len(begin), dtype=np.uint64)
    for k in range(size):
        take = k < width
        acc[take] = acc[take] * np.uint64(_PRIME) + codes[begin[take] + k]
    hashes = (mix64(acc) >> np.uint64(32)).astype(np.uint32)
    return hashes, np.concatenate([[0], np.cumsum(counts)[:-1]])


def mix64(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _mix64_scalar(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch applies it before its affine permutations."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


@functools.lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's own affine32 permutation parameters for (num_perm, seed): from the shipped table, else from datasketch."""
    shipped = shipped_params()["permutations"].get(f"{num_perm}/{seed}")
    if shipped:
        return np.array(shipped["a"], dtype=np.uint32), np.array(shipped["b"], dtype=np.uint32)
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return a.astype(np.uint32), b.astype(np.uint32)


def _jieba_words(content: str) -> list[str]:
    import jieba

    jieba.setLogLevel(60)
    return [w for w in jieba.lcut(content, HMM=False) if w.strip()]
