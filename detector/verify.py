"""Verify LSH candidates before aligning them: which colliding segment pairs really match, by the bigram Dice of the
two segments or of their whole sentences — every pair of every candidate at once, in numpy, straight from the
sources' stored content (no source text is cut into Python strings or hashed per pair)."""

from __future__ import annotations

import dataclasses

import numpy as np

from detector.fingerprint import Fingerprint, remembered_each
from detector.settings import Settings
from detector.shingles import (Membership, Pool, Texts, bigram_chars, bigram_codes, distinct_by_text, ramps, shingles_of,
                               submission_lookups)
from detector.sorting import dense_ranks, stable_order

PAIRS_AT_ONCE = 50_000  # colliding pairs verified together (bounds the memory of a very long submission's join)


def verify(found: list, sub: Fingerprint, sources: dict, settings: Settings) -> None:
    """Set each candidate's `matched` (submission segment → the best Dice reaching `verify_dice`, of the two
    segments or of their whole sentences), `matched_sources` (the source segments that matched) and `evidence`."""
    usable = [(position, c) for position, c in enumerate(found) if c.doc_id in sources and len(c.rows)]
    if not usable:
        return
    fps = [sources[c.doc_id][1] for _, c in usable]
    pool = Pool(fps)
    sizes = (KnownSizes(fps, "segment", pool.segment_counts, settings.shingling),
             KnownSizes(fps, "sentence", pool.sentence_counts, settings.shingling))
    clauses = np.bincount(pool.sentence_of)[pool.sentence_of]  # per segment's sentence
    owners, rows, columns, segments = _colliding_pairs(usable, pool)
    lookups = submission_lookups(sub, settings.shingling)
    clauses_of_sub = np.bincount(sub.sentences)[sub.sentences]
    for lo in range(0, len(rows), PAIRS_AT_ONCE):
        part = slice(lo, lo + PAIRS_AT_ONCE)
        # a sentence that is one clause on both sides scores as its clause: only the others are compared whole
        longer = np.flatnonzero((clauses_of_sub[rows[part]] > 1) | (clauses[segments[part]] > 1))
        pairs = _Pairs(rows[part], segments[part], longer, sub.sentences[rows[part][longer]],
                       pool.sentence_of[segments[part][longer]])
        dice = None
        if settings.shingling == "char2":
            dice = _bigram_dice(lookups, pairs, pool, (sizes[0].pooled, sizes[1].pooled), settings.verify_dice)
        if dice is None:
            dice = _counted_dice(lookups, pairs, pool, (sizes[0].pooled, sizes[1].pooled), settings.shingling)
        passed = np.flatnonzero(dice >= settings.verify_dice)
        _record(found, owners[part][passed], rows[part][passed], columns[part][passed], dice[passed])
    for known in sizes:
        known.keep()
    _weigh(found, sub.layout.lengths.tolist())


@dataclasses.dataclass
class _Pairs:
    """Colliding (submission segment, pooled source segment) pairs, and for those of them (`longer`) where either
    side's sentence has more than one clause, the (submission sentence, pooled source sentence) pairs."""

    sub_segments: np.ndarray
    segments: np.ndarray
    longer: np.ndarray
    sub_sentences: np.ndarray
    sentences: np.ndarray


def _counted_dice(lookups: tuple, pairs: _Pairs, pool: Pool, sizes: tuple, shingling: str) -> np.ndarray:
    """Each pair's Dice, the higher of its segments' and (where longer) its sentences', every text cut on its own
    (set sizes not yet known are counted and filled in)."""
    dice = pair_dice(lookups[0], pairs.sub_segments, Texts(pool.codes, pool.segments), pairs.segments, shingling,
                     sizes[0])
    whole = pair_dice(lookups[1], pairs.sub_sentences, Texts(pool.codes, pool.sentence_ranges()), pairs.sentences,
                      shingling, sizes[1])
    dice[pairs.longer] = np.maximum(dice[pairs.longer], whole)
    return dice


def _bigram_dice(lookups: tuple, pairs: _Pairs, pool: Pool, sizes: tuple, bar: float):
    """Each pair's bigram Dice where it reaches `bar` — the higher of its segments' and (where longer) its
    sentences' — and a lower value where it does not; None when a source text's set size is not known yet.

    The source sentences holding the pairs' segments are cut into bigrams once, for both kinds of text (see
    _SentenceCut). A pair's intersection is counted only where its Dice could reach the bar, and beat its
    segments' for sentences: the texts' sizes and the shared bigrams the source text holds bound it."""
    segment_used, segment_local = dense_ranks(pairs.segments)
    sentence_used, sentence_local = dense_ranks(pairs.sentences)
    segment_sizes, sentence_sizes = sizes[0][segment_used], sizes[1][sentence_used]
    if (segment_sizes < 0).any() or (sentence_sizes < 0).any():
        return None
    cut = _SentenceCut(pool, segment_used, sentence_used, lookups[0].vocabulary)
    dice = _texts_dice(lookups[0], pairs.sub_segments, segment_local, segment_sizes, cut.segment_ids, cut.segments, bar)
    floor = np.maximum(dice[pairs.longer], bar)
    whole = _texts_dice(lookups[1], pairs.sub_sentences, sentence_local, sentence_sizes, cut.sentence_ids,
                        cut.sentences, floor)
    dice[pairs.longer] = np.maximum(dice[pairs.longer], whole)
    return dice


class _SentenceCut:
    """The shared bigrams of some pooled source sentences — those holding the segments wanted — cut once for the
    sentences and their segments: a segment's bigrams are its sentence's that lie inside it, bar the one that
    runs on into the next clause and a one-character segment's own.

    The bigrams the submission has (and each one-character segment's position) are kept in text order, as
    vocabulary numbers as the sentences have them (`sentence_ids`) and as the segments do (`segment_ids`); the
    number len(vocabulary) stands for none (the bigram running on into the next clause, for a segment).
    `segments`, `sentences`: (first row, rows, bigram count) of each wanted text."""

    def __init__(self, pool: Pool, segment_used: np.ndarray, sentence_used: np.ndarray, vocabulary):
        parts, lengths, offsets, chars = _sentence_characters(pool, segment_used)
        of_part = pool.sentence_of[parts]
        firsts = np.flatnonzero(np.r_[True, of_part[1:] != of_part[:-1]])  # each sentence's first segment
        sentence_lengths = np.add.reduceat(lengths, firsts) if len(parts) else lengths
        ids = _ended(vocabulary.chain_ids(chars), offsets[firsts], sentence_lengths, chars, vocabulary)
        before = self._keep_shared(ids, offsets, lengths, chars, vocabulary)
        first, held = before[offsets], before[offsets + lengths] - before[offsets]  # of each segment
        at = np.searchsorted(parts, segment_used)
        self.segments = first[at], held[at], _bigram_counts(lengths[at])
        at = np.searchsorted(of_part[firsts], sentence_used)
        held = np.add.reduceat(held, firsts) if len(firsts) else held
        self.sentences = first[firsts][at], held[at], _bigram_counts(sentence_lengths[at])

    def _keep_shared(self, ids: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, chars: np.ndarray,
                     vocabulary) -> np.ndarray:
        """Keep the numbers of the bigrams the submission has (the sentences' `ids`) and of each one-character
        segment's position, as the sentences and as the segments have them; how many are kept before each position."""
        singles = offsets[lengths == 1]
        kept = ids >= 0
        kept[singles] = True
        before = np.zeros(len(kept) + 1, dtype=np.int32)
        np.cumsum(kept, out=before[1:])
        none = len(vocabulary.codes)
        self.sentence_ids = np.compress(kept, ids)
        self.sentence_ids[self.sentence_ids < 0] = none
        self.segment_ids = self.sentence_ids.copy()
        ends = (offsets + lengths - 1)[lengths > 1]
        self.segment_ids[before[ends[kept[ends]]]] = none
        if len(singles):
            own = vocabulary.pair_ids(np.zeros(len(singles), dtype=chars.dtype), chars[singles])
            self.segment_ids[before[singles]] = np.where(own >= 0, own, none)
        return before


def _sentence_characters(pool: Pool, segment_used: np.ndarray) -> tuple:
    """(every pooled segment of the sentences holding the segments used, in order; each one's length and offset in the
    characters; their characters, one after another)."""
    wanted = np.zeros(int(pool.sentence_counts.sum()), dtype=bool)
    wanted[pool.sentence_of[segment_used]] = True
    parts = np.flatnonzero(wanted[pool.sentence_of])
    bounds = pool.segments[parts]
    lengths = (bounds[:, 1] - bounds[:, 0]).astype(np.int32)
    offsets = np.cumsum(lengths, dtype=np.int32) - lengths
    # one gather from all the candidates' contents pooled (a copy of ~1.6M characters: 0.4 ms), not one per
    # candidate: 400 gathers cost ~7 µs each in calls (2.8 -> 1.1 ms for the ~350k characters a scan reads)
    return parts, lengths, offsets, np.take(pool.codes, np.arange(int(lengths.sum()), dtype=np.int32) + np.repeat(
        (bounds[:, 0] - offsets).astype(np.int32), lengths))


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
                texts: tuple, floor) -> np.ndarray:
    """Dice of each (left text, right text `local`) pair where it can reach `floor`, else 0, from the right texts'
    set sizes and bigram numbers `ids` (`texts`: first row, rows and bigram count of each; none: len(vocabulary)).
    A bigram held more than once by a text whose set is smaller than its bigram count is counted once."""
    first, held, counts = (column[local] for column in texts)
    left_sizes = left.sizes[left_ids]
    total = left_sizes + sizes[local]
    # the intersection is at most the shared bigrams either side has: the Dice it gives bounds the pair's
    some = np.flatnonzero(2.0 * np.minimum(held, left_sizes) / np.maximum(total, 1) >= floor)
    first, held, left_ids, total = first[some], held[some], left_ids[some], total[some]
    ends = np.cumsum(held, dtype=np.int64)
    starts = ends - held
    numbers = np.take(ids, np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int32) + np.repeat(
        (first - starts).astype(np.int32), held))
    hit = _holds(left, numbers, np.repeat(left_ids.astype(np.int32), held))
    inter = np.add.reduceat(hit, np.minimum(starts, max(len(hit) - 1, 0)), dtype=np.int64) if len(hit) else held
    inter = np.where(held > 0, inter, 0)
    repeating = (sizes[local] < counts)[some]
    if repeating.any():
        inter -= _repeated_hits(hit & np.repeat(repeating, held), numbers, held)
    dice = np.zeros(len(local))
    dice[some] = np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 0.0)
    return dice


def _repeated_hits(hit: np.ndarray, numbers: np.ndarray, held: np.ndarray) -> np.ndarray:
    """For each pair (`held` rows each, in order), how many of its hits repeat the bigram number of an earlier one."""
    found = np.flatnonzero(hit)
    numbers = np.take(numbers, found)
    order = np.argsort(numbers, kind="stable")  # by number, then row: a pair's hits of one number lie together
    pair = np.take(np.repeat(np.arange(len(held), dtype=np.int32), held), np.take(found, order))
    numbers = np.take(numbers, order)
    again = (numbers[1:] == numbers[:-1]) & (pair[1:] == pair[:-1])
    return np.bincount(pair[1:][again], minlength=len(held))


def _holds(left: Membership, ids: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Whether left text units[k] holds bigram number ids[k] (none: len(vocabulary), held by no text)."""
    if left.flat_flags is not None:
        return np.take(left.flat_flags, ids.astype(np.int32) * np.int32(left.count) + units)
    return left.holds(ids.astype(np.int64), units)


class KnownSizes:
    """The shingle-set sizes of a pool's texts as far as they are known (-1: not yet), kept with each source's
    fingerprint: stored at index time (bigrams), or worked out by an earlier scan. Where a size is known, only the
    shingles a text shares with the submission are de-duplicated."""

    def __init__(self, fps: list, kind: str, counts: np.ndarray, shingling: str):
        """`kind`: "segment" or "sentence" (texts of each fingerprint, `counts` of them)."""
        key, stored = (f"{kind} set sizes", shingling), ("segment", "sentence").index(kind)
        self._parts = remembered_each(fps, key, lambda k, fp: _starting_sizes(fp, int(counts[k]), shingling, stored))
        self.pooled = np.concatenate(self._parts) if self._parts else np.zeros(0, np.int32)
        bases = np.cumsum(counts) - counts
        unknown = np.searchsorted(bases, np.flatnonzero(self.pooled < 0), side="right") - 1
        self._unfinished = [(k, int(bases[k])) for k in np.flatnonzero(np.bincount(unknown, minlength=len(counts)))]

    def keep(self) -> None:
        """Write the sizes found during this scan back to the fingerprints that lacked some (only to those: a
        fingerprint's stored sizes are its layout's own array)."""
        for k, base in self._unfinished:
            self._parts[k][:] = self.pooled[base : base + len(self._parts[k])]


def _starting_sizes(fp: Fingerprint, count: int, shingling: str, stored: int) -> np.ndarray:
    """A source's set sizes as its stored layout gives them (`stored`: 0 segments, 1 sentences; bigrams only), else
    all unknown."""
    kept = fp.layout.set_sizes
    if shingling == "char2" and kept is not None and len(kept[stored]) == count:
        return kept[stored].astype(np.int32, copy=False)  # complete: never written to (see keep)
    return np.full(count, -1, dtype=np.int32)


def _colliding_pairs(usable: list, pool: Pool) -> tuple:
    """(candidate position, submission segment, source segment, pooled source segment) of every colliding pair."""
    per_candidate = [len(c.rows) for _, c in usable]
    owners = np.repeat(np.array([p for p, _ in usable]), per_candidate)
    rows = np.concatenate([c.rows for _, c in usable]).astype(np.int64)
    columns = np.concatenate([c.cols for _, c in usable]).astype(np.int64)
    return owners, rows, columns, columns + np.repeat(pool.segment_base, per_candidate)


def _weigh(found: list, lengths: list) -> None:
    """Each verified candidate's evidence: the content characters of the submission segments it matches, each times
    its best Dice. Among documents matching a segment equally well, the one matching most of the submission leads
    (the document a passage was copied from, not an older one that holds some of its sentences)."""
    for candidate in found:
        if candidate.matched:
            candidate.evidence = float(sum(lengths[i] * dice for i, dice in candidate.matched.items()))


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
