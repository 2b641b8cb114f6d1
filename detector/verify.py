"""Verify LSH candidates before aligning them: which colliding segment pairs really match, by the bigram Dice of the
two segments or of their whole sentences — every pair of every candidate at once, in numpy, straight from the
sources' stored content (no source text is cut into Python strings or hashed per pair)."""

from __future__ import annotations

import dataclasses

import numpy as np

from detector.fingerprint import Fingerprint, distinct
from detector.settings import Settings
from detector.sign import mix64, shingle_hashes

_CHAR_BITS = 21  # a Unicode code point fits in 21 bits: two of them make an exact bigram code
_CODE_BITS = 42  # shingle codes are below 2^42 ...
_UNIT_BITS = 21  # ... and text numbers below 2^21, so (code, text) packs into one 64-bit key
_DENSE_LIMIT = 8_000_000  # entries of a lookup table built per submission (larger: binary search instead)
_PAD = np.uint64(2**64 - 1)  # fills the rows of texts shorter than their matrix (no shingle code is this large)
PAIRS_AT_ONCE = 50_000  # colliding pairs verified together (bounds the memory of a very long submission's join)


def verify(found: list, sub: Fingerprint, sources: dict, settings: Settings) -> None:
    """Set each candidate's `matched` (submission segment → the best Dice reaching `verify_dice`, of the two
    segments or of their whole sentences) and `matched_sources` (the source segments that matched)."""
    usable = [(position, c) for position, c in enumerate(found) if c.doc_id in sources and len(c.rows)]
    if not usable:
        return
    pool = _Pool([sources[c.doc_id][1] for _, c in usable])
    owners, rows, columns, segments = _colliding_pairs(usable, pool)
    by_segment, by_sentence = _submission_side(sub, settings.shingling)
    clauses_of_sub = np.bincount(sub.sentences)[sub.sentences]
    for lo in range(0, len(rows), PAIRS_AT_ONCE):
        part = slice(lo, lo + PAIRS_AT_ONCE)
        dice = pair_dice(by_segment, rows[part], _Texts(pool.codes, pool.segments), segments[part], settings.shingling)
        # a sentence that is one clause on both sides scores as its clause: only the others are compared whole
        longer = np.flatnonzero((clauses_of_sub[rows[part]] > 1) | (pool.clauses[segments[part]] > 1))
        dice[longer] = np.maximum(dice[longer], pair_dice(
            by_sentence, sub.sentences[rows[part][longer]], _Texts(pool.codes, pool.sentences),
            pool.sentence_of[segments[part][longer]], settings.shingling))
        passed = np.flatnonzero(dice >= settings.verify_dice)
        _record(found, owners[part][passed], rows[part][passed], columns[part][passed], dice[passed])


def _colliding_pairs(usable: list, pool: "_Pool") -> tuple:
    """(candidate position, submission segment, source segment, pooled source segment) of every colliding pair."""
    per_candidate = [len(c.rows) for _, c in usable]
    owners = np.repeat(np.array([p for p, _ in usable]), per_candidate)
    rows = np.concatenate([c.rows for _, c in usable]).astype(np.int64)
    columns = np.concatenate([c.cols for _, c in usable]).astype(np.int64)
    return owners, rows, columns, columns + np.repeat(pool.segment_base, per_candidate)


def _submission_side(sub: Fingerprint, shingling: str) -> tuple:
    """Lookups of the submission's segment shingle sets and sentence shingle sets (sharing one vocabulary)."""
    codes = _codes(sub)
    segments = ShingleSets.of(_Texts(codes, sub.bounds), shingling)
    sentences = ShingleSets.of(_Texts(codes, sub.bounds, of_sentence=sub.sentences, count=len(sentence_bounds(sub))),
                               shingling)
    vocabulary = Vocabulary(segments.codes, exact_bigrams=shingling == "char2")
    return Membership(vocabulary, segments), Membership(vocabulary, sentences)


def _record(found: list, owners, rows, columns, dice) -> None:
    for k, i, j, d in zip(owners.tolist(), rows.tolist(), columns.tolist(), dice.tolist()):
        candidate = found[k]
        if d > candidate.matched.get(i, 0.0):
            candidate.matched[i] = d
        candidate.matched_sources.add(j)


@dataclasses.dataclass
class _Texts:
    """Texts as [start, end) ranges of one code-point array. With `of_sentence`, the ranges are clauses and the
    texts are the sentences they belong to: a sentence's shingles are its clauses', none across a clause
    boundary (as the aligner's sentence tables have them)."""

    codes: np.ndarray
    bounds: np.ndarray
    of_sentence: np.ndarray | None = None
    count: int | None = None

    def __len__(self) -> int:
        return self.count if self.count is not None else len(self.bounds)


@dataclasses.dataclass
class ShingleSets:
    """The distinct shingles of some texts, grouped by text: `codes[first[t] : first[t] + sizes[t]]` are text t's."""

    units: np.ndarray
    codes: np.ndarray
    first: np.ndarray
    sizes: np.ndarray

    @classmethod
    def of(cls, texts: _Texts, shingling: str) -> "ShingleSets":
        return cls(*_distinct_by_text(*_shingles(texts, shingling), len(texts)))

    def only(self, keep: np.ndarray) -> "ShingleSets":
        """The same texts with only the shingles `keep` marks (their sizes stay those of the whole sets)."""
        units, codes = self.units[keep], self.codes[keep]
        return ShingleSets(units, codes, _firsts(units, len(self.sizes)), self.sizes)


def _distinct_by_text(units: np.ndarray, codes: np.ndarray, count: int) -> tuple:
    """(units, codes, first, sizes) of the distinct (text, code) pairs, each text's run contiguous.

    Texts are sorted row by row: texts of similar length padded into one matrix per power-of-two width,
    then sorted along the rows, which numpy does far faster than one sort of everything."""
    lengths = np.bincount(units, minlength=count)
    starts = np.cumsum(lengths) - lengths
    widths = np.maximum(8, 1 << np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64))
    out_units, out_codes = [], []
    for width in np.unique(widths[lengths > 0]).tolist():
        chosen = np.flatnonzero((widths == width) & (lengths > 0))
        n = lengths[chosen]
        matrix = np.full((len(chosen), width), _PAD, dtype=np.uint64)
        matrix[np.repeat(np.arange(len(chosen)), n), _ramps(n)] = codes[np.repeat(starts[chosen], n) + _ramps(n)]
        matrix.sort(axis=1)
        keep = matrix != _PAD
        keep[:, 1:] &= matrix[:, 1:] != matrix[:, :-1]
        out_units.append(np.repeat(chosen, keep.sum(axis=1)))
        out_codes.append(matrix[keep])
    units = np.concatenate(out_units) if out_units else np.zeros(0, np.int64)
    codes = np.concatenate(out_codes) if out_codes else np.zeros(0, np.uint64)
    return units, codes, _firsts(units, count), np.bincount(units, minlength=count)


def _firsts(units: np.ndarray, count: int) -> np.ndarray:
    """Where each text's run starts in `units` (runs are contiguous, in any order of texts)."""
    first = np.zeros(count, dtype=np.int64)
    if len(units):
        starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
        first[units[starts]] = starts
    return first


class Vocabulary:
    """The left side's distinct shingle codes, each with a number: `ids` finds the numbers of any codes (-1: absent).

    For exact bigram codes the lookup is two table reads — character → its rank among the left side's
    characters, then (rank, rank) → number — instead of a binary search per code."""

    def __init__(self, codes: np.ndarray, exact_bigrams: bool):
        self.codes = distinct(codes)
        self._table = self._bigram_table() if exact_bigrams else None

    def _bigram_table(self):
        firsts, seconds = self.codes >> np.uint64(_CHAR_BITS), self.codes & np.uint64((1 << _CHAR_BITS) - 1)
        chars = distinct(np.concatenate([firsts[firsts > 0], seconds]))
        if (len(chars) + 1) ** 2 > _DENSE_LIMIT:
            return None
        rank = np.full(1 << _CHAR_BITS, -1, dtype=np.int32)
        rank[chars.astype(np.int64)] = np.arange(len(chars), dtype=np.int32)
        rank[0] = len(chars)  # the "first character" of a one-character shingle
        table = np.full((len(chars) + 1) * len(chars), -1, dtype=np.int32)
        table[rank[firsts.astype(np.int64)].astype(np.int64) * len(chars) + rank[seconds.astype(np.int64)]] = np.arange(len(self.codes), dtype=np.int32)
        return rank, table, len(chars)

    def ids(self, codes: np.ndarray) -> np.ndarray:
        if self._table is None:
            if not len(self.codes):
                return np.full(len(codes), -1, dtype=np.int64)
            where = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
            return np.where(self.codes[where] == codes, where, -1)
        rank, table, width = self._table
        first = rank[(codes >> np.uint64(_CHAR_BITS)).astype(np.int64)]
        second = rank[(codes & np.uint64((1 << _CHAR_BITS) - 1)).astype(np.int64)]
        found = np.full(len(codes), -1, dtype=np.int64)
        known = (first >= 0) & (second >= 0) & (second < width)
        found[known] = table[first[known].astype(np.int64) * width + second[known]]
        return found


class Membership:
    """Which of the left side's texts (segments, or sentences) hold which vocabulary shingle: a dense table of
    (shingle, text) flags, or sorted (shingle, text) keys when that table would be large."""

    def __init__(self, vocabulary: Vocabulary, sets: ShingleSets):
        self.vocabulary, self.sizes, self.count = vocabulary, sets.sizes, len(sets.sizes)
        ids = vocabulary.ids(sets.codes)
        if len(vocabulary.codes) * self.count <= _DENSE_LIMIT:
            self._flags = np.zeros((len(vocabulary.codes), self.count), dtype=bool)
            self._flags[ids, sets.units] = True
        else:
            self._flags, self._keys = None, np.sort(ids * self.count + sets.units)

    def holds(self, ids: np.ndarray, units: np.ndarray) -> np.ndarray:
        if self._flags is not None:
            return self._flags[ids, units]
        wanted = ids * self.count + units
        where = np.minimum(np.searchsorted(self._keys, wanted), max(len(self._keys) - 1, 0))
        return self._keys[where] == wanted if len(self._keys) else np.zeros(len(wanted), dtype=bool)


def pair_dice(left: Membership, left_ids: np.ndarray, right: _Texts, right_ids: np.ndarray, shingling: str) -> np.ndarray:
    """Dice of the shingle sets of each (left text, right text) pair.

    Each distinct right text is cut into shingles once; only the shingles the left side has anywhere are then
    looked up for each pair."""
    used, local = np.unique(right_ids, return_inverse=True)
    sets = ShingleSets.of(_Texts(right.codes, right.bounds[used]), shingling)
    ids = left.vocabulary.ids(sets.codes)
    shared = sets.only(ids >= 0)
    ids = ids[ids >= 0]
    per_pair = np.bincount(shared.units, minlength=len(used))[local]
    pair = np.repeat(np.arange(len(local)), per_pair)
    rows = np.repeat(shared.first[local], per_pair) + _ramps(per_pair)
    hit = left.holds(ids[rows], left_ids[pair])
    inter = np.bincount(pair[hit], minlength=len(local))
    total = left.sizes[left_ids] + sets.sizes[local]
    return np.where(total > 0, 2.0 * inter / np.maximum(total, 1), 0.0)


def _ramps(lengths: np.ndarray) -> np.ndarray:
    """0, 1, …, n-1 for each n of `lengths`, concatenated."""
    return np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _shingles(texts: _Texts, shingling: str) -> tuple[np.ndarray, np.ndarray]:
    """(text, shingle code) of every shingle of every text (duplicates included)."""
    if shingling == "jieba":
        strings = [texts.codes[a:b].astype("<u4").tobytes().decode("utf-32-le") for a, b in texts.bounds.tolist()]
        hashes, starts = shingle_hashes(strings, shingling)
        units, codes = np.repeat(np.arange(len(strings)), np.diff(np.append(starts, len(hashes)))), hashes.astype(np.uint64)
    else:
        units, codes = _range_shingles(texts.codes, texts.bounds, 3 if shingling == "char3" else 2)
    return (texts.of_sentence[units] if texts.of_sentence is not None else units), codes


def _range_shingles(codes: np.ndarray, bounds: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(range, code) of the character n-grams of each [start, end) range; a range shorter than n is one shingle
    of its own characters, as the signing has it. Bigram codes are exact; trigram codes a 42-bit hash."""
    starts, lengths = bounds[:, 0].astype(np.int64), (bounds[:, 1] - bounds[:, 0]).astype(np.int64)
    counts = np.where(lengths > 0, np.maximum(lengths - size + 1, 1), 0)
    unit = np.repeat(np.arange(len(bounds)), counts)
    begin = np.repeat(starts, counts) + _ramps(counts)
    width = np.minimum(np.repeat(lengths, counts), size)
    acc = codes[begin].astype(np.uint64)
    for k in range(1, size):
        following = codes[np.minimum(begin + k, len(codes) - 1)].astype(np.uint64)
        acc = np.where(width > k, (acc << np.uint64(_CHAR_BITS)) | following, acc)
    if size > 2:
        acc = mix64(acc) >> np.uint64(64 - _CODE_BITS)
    return unit, acc


class _Pool:
    """The candidates' sources side by side: one code-point array, global segment and sentence ranges."""

    def __init__(self, docs: list):
        offsets = np.cumsum([0] + [len(d.content) for d in docs[:-1]]).astype(np.int64)
        sentence_ranges = [sentence_bounds(d) for d in docs]
        sentence_base = np.cumsum([0] + [len(r) for r in sentence_ranges[:-1]]).astype(np.int64)
        self.codes = np.concatenate([_codes(d) for d in docs])
        self.segment_base = np.cumsum([0] + [d.segment_count for d in docs[:-1]]).astype(np.int64)
        self.segments = np.concatenate([d.bounds + o for d, o in zip(docs, offsets)]).reshape(-1, 2)
        self.sentences = np.concatenate([r + o for r, o in zip(sentence_ranges, offsets)]).reshape(-1, 2)
        self.sentence_of = np.concatenate([d.sentences + b for d, b in zip(docs, sentence_base)]).astype(np.int64)
        self.clauses = np.bincount(self.sentence_of, minlength=len(self.sentences))[self.sentence_of]  # of each segment's sentence


def sentence_bounds(fp: Fingerprint) -> np.ndarray:
    """[start, end) in the content of each sentence, by sentence index (empty for an index no segment has);
    computed once per fingerprint."""
    if "sentence_bounds" not in fp._tables:
        bounds, sentences = fp.bounds, fp.sentences
        found = np.zeros((int(sentences.max(initial=-1)) + 1, 2), dtype=np.int64)
        if len(sentences):
            first = np.flatnonzero(np.r_[True, sentences[1:] != sentences[:-1]])
            last = np.r_[first[1:] - 1, len(sentences) - 1]
            found[sentences[first], 0] = bounds[first, 0]
            found[sentences[first], 1] = bounds[last, 1]
        fp._tables["sentence_bounds"] = found
    return fp._tables["sentence_bounds"]


def _codes(fp: Fingerprint) -> np.ndarray:
    """The content's code points; computed once per fingerprint."""
    if "codes" not in fp._tables:
        fp._tables["codes"] = np.frombuffer(fp.content.encode("utf-32-le"), dtype="<u4")
    return fp._tables["codes"]
