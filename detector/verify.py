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
        # a sentence that is one clause on both sides scores as its clause: only the others are compared whole
        longer = np.flatnonzero((clauses_of_sub[rows[part]] > 1) | (clauses[segments[part]] > 1))
        sub_sentences, src_sentences = sub.sentences[rows[part][longer]], pool.sentence_of[segments[part][longer]]
        found_both = None
        if settings.shingling == "char2":
            found_both = _bigram_dice((by_segment, by_sentence), (rows[part], segments[part]),
                                      (sub_sentences, src_sentences), pool, (segment_sizes.pooled, sentence_sizes.pooled))
        if found_both is None:
            found_both = (pair_dice(by_segment, rows[part], Texts(pool.codes, pool.segments), segments[part],
                                    settings.shingling, segment_sizes.pooled),
                          pair_dice(by_sentence, sub_sentences, pooled_sentences, src_sentences, settings.shingling,
                                    sentence_sizes.pooled))
        dice, whole = found_both
        dice[longer] = np.maximum(dice[longer], whole)
        passed = np.flatnonzero(dice >= settings.verify_dice)
        _record(found, owners[part][passed], rows[part][passed], columns[part][passed], dice[passed])
    segment_sizes.keep()
    sentence_sizes.keep()


def _bigram_dice(lookups: tuple, segment_pairs: tuple, sentence_pairs: tuple, pool: Pool, sizes: tuple):
    """The bigram Dice of each (submission segment, source segment) pair and of each (submission sentence, source
    sentence) pair, or None when a source text's set size is not known yet (pair_dice counts it).

    The source sentences holding the pairs' segments are cut into bigrams once, for both kinds of text (a
    segment's bigrams are those of its sentence that lie inside it, bar a one-character segment's own); only
    the texts that repeat a bigram (their set is smaller than their bigram count) are de-duplicated."""
    (sub_segments, segments), (sub_sentences, sentences) = segment_pairs, sentence_pairs
    segment_used, segment_local = dense_ranks(segments)
    sentence_used, sentence_local = dense_ranks(sentences)
    segment_sizes, sentence_sizes = sizes[0][segment_used], sizes[1][sentence_used]
    if (segment_sizes < 0).any() or (sentence_sizes < 0).any():
        return None
    cut = _SentenceCut(pool, segment_used, sentence_used, lookups[0].vocabulary)
    whole = _texts_dice(lookups[1], sub_sentences, sentence_local, sentence_sizes, cut.ids, *cut.sentences)
    cut.to_segments()
    return _texts_dice(lookups[0], sub_segments, segment_local, segment_sizes, cut.ids, *cut.segments), whole


class _SentenceCut:
    """Some pooled source sentences — those holding the segments wanted — as one run of their characters, with the
    vocabulary number of the bigram starting at each position (`ids`: first as the sentences have them, then,
    after `to_segments`, as their segments have them), and where the wanted texts of each kind lie in the run."""

    def __init__(self, pool: Pool, segment_used: np.ndarray, sentence_used: np.ndarray, vocabulary):
        wanted = np.zeros(int(pool.sentence_counts.sum()), dtype=bool)
        wanted[pool.sentence_of[segment_used]] = True
        parts = np.flatnonzero(wanted[pool.sentence_of])  # every segment of those sentences, in order
        bounds, sentence_of = pool.segments[parts], pool.sentence_of[parts]
        lengths = (bounds[:, 1] - bounds[:, 0]).astype(np.int32)
        offsets = np.cumsum(lengths, dtype=np.int32) - lengths
        self._chars = pool.codes[np.arange(int(lengths.sum()), dtype=np.int32) + np.repeat(
            (bounds[:, 0] - offsets).astype(np.int32), lengths)]
        firsts = np.flatnonzero(np.r_[True, sentence_of[1:] != sentence_of[:-1]])  # each sentence's first segment
        sentence_lengths = np.add.reduceat(lengths, firsts) if len(parts) else lengths
        self._vocabulary, self._parts = vocabulary, (offsets, lengths)
        self.ids = _ended(vocabulary.chain_ids(self._chars), offsets[firsts], sentence_lengths, self._chars, vocabulary)
        at = np.searchsorted(parts, segment_used)
        self.segments = offsets[at], lengths[at], _bigram_counts(lengths[at])
        at = np.searchsorted(sentence_of[firsts], sentence_used)
        self.sentences = offsets[firsts][at], sentence_lengths[at], _bigram_counts(sentence_lengths[at])

    def to_segments(self) -> None:
        """Make `ids` the segments' (the sentences' run on across their clauses' ends)."""
        self.ids = _ended(self.ids, *self._parts, self._chars, self._vocabulary)


def _ended(ids: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, chars: np.ndarray, vocabulary) -> np.ndarray:
    """The numbers of a run's bigrams (changed in place) as texts at `offsets` of `lengths` in it have them: none
    starting at a text's last character, and a one-character text's own shingle (0, its character)."""
    ids[(offsets + lengths - 1)[lengths > 1]] = -1
    single = offsets[lengths == 1]
    if len(single):
        ids[single] = vocabulary.pair_ids(np.zeros(len(single), dtype=chars.dtype), chars[single])
    return ids


def _bigram_counts(lengths: np.ndarray) -> np.ndarray:
    """How many bigrams texts of `lengths` characters have (a one-character text: one, its own)."""
    return np.where(lengths > 1, lengths - 1, lengths)


def _texts_dice(left: Membership, left_ids: np.ndarray, local: np.ndarray, sizes: np.ndarray, ids: np.ndarray,
                offsets: np.ndarray, lengths: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Dice of each (left text, right text `local`) pair, the right texts lying at `offsets` of `lengths` in a run
    of bigram numbers `ids` (-1: none the left side has, or no bigram), with their set sizes and bigram counts."""
    shared = ids >= 0
    before = np.zeros(len(ids) + 1, dtype=np.int32)  # shared bigrams before each position
    np.cumsum(shared, out=before[1:])
    shared_ids, first = ids[shared], before[offsets]
    held = before[offsets + lengths] - first
    repeats = np.flatnonzero(sizes < counts)
    if len(repeats):
        shared_ids[_repeated_rows(shared_ids, first[repeats], held[repeats])] = len(left.vocabulary.codes)  # none
    per_pair = held[local]
    ends = np.cumsum(per_pair)
    starts = ends - per_pair
    rows = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int32) + np.repeat(
        (first[local] - starts).astype(np.int32), per_pair)
    hit = _holds(left, shared_ids[rows], np.repeat(left_ids, per_pair))
    inter = np.where(per_pair > 0, np.add.reduceat(hit, np.minimum(starts, max(len(hit) - 1, 0)), dtype=np.int64)
                     if len(hit) else 0, 0)
    total = left.sizes[left_ids] + sizes[local]
    return np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 0.0)


def _repeated_rows(ids: np.ndarray, first: np.ndarray, held: np.ndarray) -> np.ndarray:
    """The rows of texts (`held` rows from `first` each) whose number an earlier row of the same text has."""
    rows = np.arange(int(held.sum()), dtype=np.int32) + np.repeat((first - (np.cumsum(held) - held)).astype(np.int32), held)
    texts = np.repeat(np.arange(len(held), dtype=np.int32), held)
    numbers = ids[rows]
    order = np.argsort(numbers, kind="stable") if numbers.dtype.itemsize <= 2 else stable_order(numbers)
    numbers, texts = numbers[order], texts[order]
    again = np.flatnonzero((numbers[1:] == numbers[:-1]) & (texts[1:] == texts[:-1])) + 1
    return rows[order[again]]


def _holds(left: Membership, ids: np.ndarray, units: np.ndarray) -> np.ndarray:
    if left.flat_flags is not None:
        return left.flat_flags[ids.astype(np.int32) * np.int32(left.count) + units]
    return left.holds(ids.astype(np.int64), units)


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
    return _grouped_dice(left, left_ids, local, sizes, *_grouped(units, ids))


def _grouped_dice(left: Membership, left_ids: np.ndarray, local: np.ndarray, sizes: np.ndarray, units: np.ndarray,
                  ids: np.ndarray) -> np.ndarray:
    """Dice of each (left text, right text `local`) pair, from the distinct shared (text, number) pairs of the right
    texts (`units` in order) and their set sizes."""
    held = np.bincount(units, minlength=len(sizes))
    first = np.cumsum(held) - held
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


def _grouped(units: np.ndarray, ids: np.ndarray) -> tuple:
    """(units, ids): the pairs ordered by text (runs already in order stay as they are)."""
    if len(units) > 1 and (units[1:] < units[:-1]).any():
        order = stable_order(units)
        units, ids = units[order], ids[order]
    return units, ids
