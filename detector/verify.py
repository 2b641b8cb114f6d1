"""Verify LSH candidates before aligning them: which colliding segment pairs really match, by the bigram Dice of the
two segments or of their whole sentences — every pair of every candidate at once, in numpy, straight from the
sources' stored content (no source text is cut into Python strings or hashed per pair)."""

from __future__ import annotations

import numpy as np

from detector.fingerprint import Fingerprint
from detector.settings import Settings
from detector.shingles import (Membership, Pool, Texts, bigram_chars, bigram_codes, distinct_by_text, ramps, shingles_of,
                               submission_lookups)
from detector.sorting import dense_ranks, stable_order

PAIRS_AT_ONCE = 50_000  # colliding pairs verified together (bounds the memory of a very long submission's join)


def verify(found: list, sub: Fingerprint, sources: dict, settings: Settings) -> None:
    """Set each candidate's `matched` (submission segment → the best Dice reaching `verify_dice`, of the two
    segments or of their whole sentences) and `matched_sources` (the source segments that matched)."""
    usable = [(position, c) for position, c in enumerate(found) if c.doc_id in sources and len(c.rows)]
    if not usable:
        return
    fps = [sources[c.doc_id][1] for _, c in usable]
    pool = Pool(fps)
    pooled_sentences = Texts(pool.codes, pool.sentence_ranges())
    segment_sizes = KnownSizes(fps, "segment", pool.segment_counts, settings.shingling)
    sentence_sizes = KnownSizes(fps, "sentence", pool.sentence_counts, settings.shingling)
    clauses = np.bincount(pool.sentence_of, minlength=len(pooled_sentences.bounds))[pool.sentence_of]  # per segment's sentence
    owners, rows, columns, segments = _colliding_pairs(usable, pool)
    by_segment, by_sentence = submission_lookups(sub, settings.shingling)
    clauses_of_sub = np.bincount(sub.sentences)[sub.sentences]
    for lo in range(0, len(rows), PAIRS_AT_ONCE):
        part = slice(lo, lo + PAIRS_AT_ONCE)
        dice = pair_dice(by_segment, rows[part], Texts(pool.codes, pool.segments), segments[part], settings.shingling,
                         segment_sizes.pooled)
        # a sentence that is one clause on both sides scores as its clause: only the others are compared whole
        longer = np.flatnonzero((clauses_of_sub[rows[part]] > 1) | (clauses[segments[part]] > 1))
        dice[longer] = np.maximum(dice[longer], pair_dice(
            by_sentence, sub.sentences[rows[part][longer]], pooled_sentences,
            pool.sentence_of[segments[part][longer]], settings.shingling, sentence_sizes.pooled))
        passed = np.flatnonzero(dice >= settings.verify_dice)
        _record(found, owners[part][passed], rows[part][passed], columns[part][passed], dice[passed])
    segment_sizes.keep()
    sentence_sizes.keep()


class KnownSizes:
    """The shingle-set sizes of a pool's texts as far as they are known (-1: not yet), kept with each source's
    fingerprint: stored at index time (bigrams), or worked out by an earlier scan. Where a size is known, only the
    shingles a text shares with the submission are de-duplicated."""

    def __init__(self, fps: list, kind: str, counts: np.ndarray, shingling: str):
        """`kind`: "segment" or "sentence" (texts of each fingerprint, `counts` of them)."""
        key, stored = (f"{kind} set sizes", shingling), ("segment", "sentence").index(kind)
        self._parts = [fp.remembered(key, lambda fp=fp, n=int(n): _starting_sizes(fp, n, shingling, stored))
                       for fp, n in zip(fps, counts.tolist())]
        self.pooled = np.concatenate(self._parts) if self._parts else np.zeros(0, np.int32)
        self._bases = (np.cumsum(counts) - counts).tolist()

    def keep(self) -> None:
        """Write the sizes found during this scan back to the sources' fingerprints."""
        for part, base in zip(self._parts, self._bases):
            part[:] = self.pooled[base : base + len(part)]


def _starting_sizes(fp: Fingerprint, count: int, shingling: str, stored: int) -> np.ndarray:
    """A source's set sizes as its stored layout gives them (`stored`: 0 segments, 1 sentences; bigrams only), else
    all unknown."""
    kept = fp.layout.set_sizes
    if shingling == "char2" and kept is not None and len(kept[stored]) == count:
        return kept[stored].astype(np.int32)  # a copy: scans fill in what they count
    return np.full(count, -1, dtype=np.int32)


def _colliding_pairs(usable: list, pool: Pool) -> tuple:
    """(candidate position, submission segment, source segment, pooled source segment) of every colliding pair."""
    per_candidate = [len(c.rows) for _, c in usable]
    owners = np.repeat(np.array([p for p, _ in usable]), per_candidate)
    rows = np.concatenate([c.rows for _, c in usable]).astype(np.int64)
    columns = np.concatenate([c.cols for _, c in usable]).astype(np.int64)
    return owners, rows, columns, columns + np.repeat(pool.segment_base, per_candidate)


def _record(found: list, owners, rows, columns, dice) -> None:
    for k, i, j, d in zip(owners.tolist(), rows.tolist(), columns.tolist(), dice.tolist()):
        candidate = found[k]
        if d > candidate.matched.get(i, 0.0):
            candidate.matched[i] = d
        candidate.matched_sources.add(j)


def pair_dice(left: Membership, left_ids: np.ndarray, right: Texts, right_ids: np.ndarray, shingling: str,
              right_sizes: np.ndarray | None = None) -> np.ndarray:
    """Dice of the shingle sets of each (left text, right text) pair.

    Each distinct right text is cut into shingles once; only the shingles the left side has anywhere are
    de-duplicated and looked up for each pair. `right_sizes`: the right texts' set sizes where known (-1 where
    not); the missing ones are counted and filled in."""
    used, local = dense_ranks(right_ids)
    cut = _Cut(Texts(right.codes, right.bounds[used]), left, shingling)
    known = np.full(len(used), -1, dtype=np.int32) if right_sizes is None else right_sizes[used]
    sizes, units, ids = _sizes_and_shared(left, cut, known)
    if right_sizes is not None:
        right_sizes[used] = sizes
    units, ids, first, held = _grouped(units, ids, len(used))
    per_pair = held[local]
    pair = np.repeat(np.arange(len(local)), per_pair)
    rows = np.repeat(first[local], per_pair) + ramps(per_pair)
    hit = left.holds(ids[rows], left_ids[pair])
    inter = np.bincount(pair[hit], minlength=len(local))
    total = left.sizes[left_ids] + sizes[local]
    return np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 0.0)


class _Cut:
    """The shingles of some texts: `units` (each shingle's text), and their codes or the left side's numbers for
    them (-1: absent), made only for the rows asked (bigrams stay character pairs until then)."""

    def __init__(self, texts: Texts, left: Membership, shingling: str):
        self._vocabulary = left.vocabulary
        if shingling == "char2":
            self.units, self._firsts, self._seconds = bigram_chars(texts.codes, texts.bounds)
            self._codes = None
        else:
            self.units, self._codes = shingles_of(texts, shingling)

    def codes(self, rows=slice(None)) -> np.ndarray:
        if self._codes is not None:
            return self._codes[rows]
        return bigram_codes(self._firsts[rows], self._seconds[rows])

    def ids(self, rows=slice(None)) -> np.ndarray:
        if self._codes is not None:
            return self._vocabulary.ids(self._codes[rows])
        return self._vocabulary.pair_ids(self._firsts[rows], self._seconds[rows])


def _sizes_and_shared(left: Membership, cut: _Cut, known: np.ndarray) -> tuple:
    """(every text's set size, then the text and number of each distinct shingle a text shares with the left side).

    A text whose size is known has only its shared shingles de-duplicated (by a radix order of (text, number)
    pairs); one whose size is not has all its shingles de-duplicated once — giving the size — and the distinct
    ones looked up, as they are fewer than the raw ones."""
    missing = known < 0
    if not missing.any():
        return known, *_shared_pairs(cut.units, cut.ids(), len(left.vocabulary.codes))
    if missing.all():
        return _counted_sizes(left, cut.units, cut.codes(), len(known))
    counted = missing[cut.units]
    rows = np.flatnonzero(~counted)
    found_units, found_ids = _shared_pairs(cut.units[rows], cut.ids(rows), len(left.vocabulary.codes))
    rows = np.flatnonzero(counted)
    sizes, new_units, new_ids = _counted_sizes(left, cut.units[rows], cut.codes(rows), len(known))
    return (np.where(missing, sizes, known).astype(np.int32), np.concatenate([found_units, new_units]),
            np.concatenate([found_ids, new_ids]))


def _counted_sizes(left: Membership, units: np.ndarray, codes: np.ndarray, count: int) -> tuple:
    """(set sizes, text and number of each distinct shared shingle) of texts counted from all their shingles."""
    units, codes, _, sizes = distinct_by_text(units, codes, count)
    ids = left.vocabulary.ids(codes)
    kept = ids >= 0
    return sizes.astype(np.int32), units[kept], ids[kept]


def _shared_pairs(units: np.ndarray, ids: np.ndarray, id_count: int) -> tuple:
    """The distinct (text, number) pairs of the shingles the left side has (ids ≥ 0)."""
    shared = ids >= 0
    return _distinct_numbered(units[shared], ids[shared], id_count)


def _distinct_numbered(units: np.ndarray, ids: np.ndarray, id_count: int) -> tuple:
    """The distinct (text, vocabulary number) pairs, sorted by text then number, by a radix order of the packed pairs."""
    keys = units.astype(np.int64) * max(id_count, 1) + ids
    keys = keys[stable_order(keys)]
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
    return keys // max(id_count, 1), keys % max(id_count, 1)


def _grouped(units: np.ndarray, ids: np.ndarray, count: int) -> tuple:
    """(units, ids, first, sizes): the pairs with each text's run together (runs already together stay in order)."""
    if len(units) > 1 and (units[1:] < units[:-1]).any():
        order = stable_order(units)
        units, ids = units[order], ids[order]
    held = np.bincount(units, minlength=count)
    return units, ids, np.cumsum(held) - held, held
