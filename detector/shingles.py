"""Shingle sets of texts as numpy arrays, for verifying and aligning: exact bigram codes from code points, each
text's distinct shingles, and the submission's shingles as lookups (which text holds which shingle).

A text is a [start, end) range of a content's code points — a segment, or a sentence made of its clauses —
so a source's shingles come straight from its stored content: nothing is cut into Python strings or hashed.
Bigram codes are exact (two 21-bit code points); trigrams and words (jieba) are hashed.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from detector.fingerprint import Fingerprint, distinct
from detector.sign import mix64, shingle_hashes

_CHAR_BITS = 21  # a Unicode code point fits in 21 bits: two of them make an exact bigram code
_CODE_BITS = 42  # shingle codes are below 2^42, so (code, text) packs into one 64-bit key
_DENSE_LIMIT = 8_000_000  # entries of a lookup table built per submission (larger: binary search instead)
_ONE_SORT_MAX = 20_000  # shingles sorted in one go; more are sorted row by row (see distinct_by_text)
_JOIN_AT_ONCE = 4_000_000  # prefix hits of a similarity join made together (bounds its memory)
_PAD = np.uint64(2**64 - 1)  # fills the rows of texts shorter than their matrix (no shingle code is this large)


@dataclasses.dataclass
class Texts:
    """Texts as [start, end) ranges of one code-point array. With `of_sentence` (each range's sentence) and `count`
    (how many sentences), the ranges are clauses and the texts are their sentences: a sentence's shingles are its
    clauses', none across a clause boundary."""

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
    def of(cls, texts: Texts, shingling: str) -> "ShingleSets":
        return cls(*distinct_by_text(*shingles_of(texts, shingling), len(texts)))

    @classmethod
    def pooled(cls, sets: list) -> "ShingleSets":
        """Several ShingleSets as one: the texts of the first, then those of the second, and so on."""
        if len(sets) == 1:
            return sets[0]
        texts = np.array([len(one.sizes) for one in sets], dtype=np.int64)
        entries = np.array([len(one.codes) for one in sets], dtype=np.int64)
        text_base, entry_base = (np.cumsum(texts) - texts).tolist(), (np.cumsum(entries) - entries).tolist()
        return cls(np.concatenate([one.units + base for one, base in zip(sets, text_base)]),
                   np.concatenate([one.codes for one in sets]),
                   np.concatenate([one.first + base for one, base in zip(sets, entry_base)]),
                   np.concatenate([one.sizes for one in sets]))

    def only(self, keep: np.ndarray) -> "ShingleSets":
        """The same texts with only the shingles `keep` marks (their sizes stay those of the whole sets)."""
        units, codes = self.units[keep], self.codes[keep]
        return ShingleSets(units, codes, _firsts(units, len(self.sizes)), self.sizes)


def distinct_by_text(units: np.ndarray, codes: np.ndarray, count: int) -> tuple:
    """(units, codes, first, sizes) of the distinct (text, code) pairs, each text's run contiguous.

    A few thousand shingles (one document's) are sorted at once. More are sorted row by row: texts of similar
    length padded into one matrix per power-of-two width, then sorted along the rows, which numpy does far
    faster than one sort of everything."""
    if len(codes) <= _ONE_SORT_MAX and count < 1 << (64 - _CODE_BITS):
        units, codes = _distinct_pairs(units, codes)
        return units, codes, _firsts(units, count), np.bincount(units, minlength=count)
    lengths = np.bincount(units, minlength=count)
    starts = np.cumsum(lengths) - lengths
    widths = np.maximum(8, 1 << np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64))
    out_units, out_codes = [], []
    for width in sorted(set(widths[lengths > 0].tolist())):  # not np.unique: it imports numpy.ma (~10 ms)
        chosen = np.flatnonzero((widths == width) & (lengths > 0))
        n = lengths[chosen]
        matrix = np.full((len(chosen), width), _PAD, dtype=np.uint64)
        matrix[np.repeat(np.arange(len(chosen)), n), ramps(n)] = codes[np.repeat(starts[chosen], n) + ramps(n)]
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
        width = len(chars) + 1  # ranks of the characters, then one for "a character the left side lacks"
        if (width + 1) * width > _DENSE_LIMIT:
            return None
        small = np.int16 if width + 1 <= np.iinfo(np.int16).max else np.int32  # a smaller table to fill per submission
        # one entry per character up to the left side's highest, then "lacking" for all above (read clipped): a
        # table of every code point (4 MB) costs more to fill per submission than the rest of the lookups
        rank = np.full(int(chars[-1]) + 2 if len(chars) else 2, len(chars), dtype=small)
        rank[chars.astype(np.int64)] = np.arange(len(chars), dtype=small)
        rank[0] = width  # the "first character" of a one-character shingle: a row of its own
        number = np.int16 if len(self.codes) < np.iinfo(np.int16).max else np.int32  # a smaller table to fill
        table = np.full((width + 1) * width, -1, dtype=number)
        table[self._cells(rank, width, self.codes)] = np.arange(len(self.codes))
        return rank, table, width

    @staticmethod
    def _cells(rank: np.ndarray, width: int, codes: np.ndarray) -> np.ndarray:
        first = np.take(rank, (codes >> np.uint64(_CHAR_BITS)).astype(np.int64), mode="clip").astype(np.int64)
        return first * width + np.take(rank, (codes & np.uint64((1 << _CHAR_BITS) - 1)).astype(np.int64), mode="clip")

    def pair_ids(self, firsts: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """The numbers of the exact bigrams (firsts[k], seconds[k]) (see bigram_chars), -1 where absent."""
        if self._table is None:
            return self.ids(bigram_codes(firsts, seconds))
        rank, table, width = self._table
        ranks = np.take(rank, firsts, mode="clip").astype(np.int64) * width + np.take(rank, seconds, mode="clip")
        return table[ranks].astype(np.int64)

    def chain_ids(self, chars: np.ndarray) -> np.ndarray:
        """The numbers of the exact bigrams (chars[k], chars[k + 1]) of a run of code points, as small integers (-1
        where absent; the last, which has no following character, gets a number of no use): each character's
        rank is read once."""
        if self._table is None or not len(chars):
            return self.ids(bigram_codes(chars, np.r_[chars[1:], chars[:1]]))
        rank, table, width = self._table
        ranks = np.take(rank, chars, mode="clip")  # np.take: a gather numpy does faster than indexing
        cells = ranks.astype(np.int32) * np.int32(width)  # below (width + 1) * width, at most _DENSE_LIMIT
        cells[:-1] += ranks[1:]
        return np.take(table, cells)

    def ids(self, codes: np.ndarray) -> np.ndarray:
        if self._table is None:
            if not len(self.codes):
                return np.full(len(codes), -1, dtype=np.int64)
            where = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
            return np.where(self.codes[where] == codes, where, -1)
        rank, table, width = self._table
        return table[self._cells(rank, width, codes)].astype(np.int64)


class Membership:
    """Which of the submission's texts (segments, or sentences) hold which vocabulary shingle: sorted (shingle, text)
    keys, with a dense table of flags beside them when it is small (`flat_flags`: text t holds shingle n at
    n * count + t; the number len(vocabulary.codes) stands for no shingle, held by no text)."""

    def __init__(self, vocabulary: Vocabulary, sets: ShingleSets):
        self.vocabulary, self.sizes, self.count = vocabulary, sets.sizes, len(sets.sizes)
        ids = vocabulary.ids(sets.codes)
        self._keys = np.sort(ids * self.count + sets.units)
        self._flags = self.flat_flags = None
        if len(vocabulary.codes) * self.count <= _DENSE_LIMIT:
            self._flags = np.zeros((len(vocabulary.codes) + 1, self.count), dtype=bool)
            self._flags[ids, sets.units] = True
            self.flat_flags = self._flags.ravel()
        self._holders = np.bincount(self._keys // max(self.count, 1), minlength=len(vocabulary.codes))
        self._prefix_cache: dict = {}

    def holds(self, ids: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Whether text `units[k]` holds shingle `ids[k]`, for every k."""
        if self._flags is not None:
            return self._flags[ids, units]
        wanted = ids * self.count + units
        where = np.minimum(np.searchsorted(self._keys, wanted), max(len(self._keys) - 1, 0))
        return self._keys[where] == wanted if len(self._keys) else np.zeros(len(wanted), dtype=bool)

    def similar(self, other: ShingleSets, bar: float) -> dict:
        """(text here, text of `other`) → Dice of their shingle sets, for every pair at or above `bar`."""
        return self.similar_each([other], bar)[0]

    def similar_each(self, others: list, bar: float, compared: list | None = None) -> list[dict]:
        """`similar` for each of `others`, joined together (pooled in batches): a scan aligns tens of sources, and
        per-source numpy calls cost more than their work. `compared`: for each of `others`, the texts to compare
        (a boolean array by text); the others' pairs are left out."""
        found: list = []
        for lo, hi in _batches(others, self._codes_at_once(bar)):
            pooled = ShingleSets.pooled(others[lo:hi])
            if compared is not None:
                pooled = pooled.only(np.concatenate(compared[lo:hi])[pooled.units])
            found += _by_source(*self._similar_pairs(pooled, bar), [len(sets.sizes) for sets in others[lo:hi]])
        return found

    def _similar_pairs(self, other: ShingleSets, bar: float) -> tuple:
        """(text here, text there, Dice) of every pair at or above `bar`, ordered by text here, then there.

        A prefix-filtered join: only the pairs that share a shingle of the prefix here (see _Prefixes) and whose
        hits there, plus what the rest could add, can reach the bar have their intersection counted."""
        ids = self.vocabulary.ids(other.codes)
        shared = np.flatnonzero(ids >= 0)
        i, j, hits, known = self._prefix_hits(ids[shared], other.units[shared], other.sizes, bar)
        total = self.sizes[i] + other.sizes[j]
        most = hits + np.minimum(self._prefixes(bar).rest[i], known[j] - hits)  # the rest is beyond the prefix
        possible = np.flatnonzero(2.0 * most / total >= bar)
        i, j, total = i[possible], j[possible], total[possible]
        dice = 2.0 * self._intersections(i, j, ids, other) / total
        keep = dice >= bar
        return i[keep], j[keep], dice[keep]

    def _prefix_hits(self, ids: np.ndarray, units: np.ndarray, sizes: np.ndarray, bar: float) -> tuple:
        """(text here, text there, shared shingles of the prefix here) of every pair sharing one, except those too
        different in size to reach `bar`; and each text there's count of shingles the vocabulary has."""
        prefixes = self._prefixes(bar)
        known = np.bincount(units, minlength=len(sizes))
        per_shingle = prefixes.holders[ids]
        here = prefixes.texts[np.repeat(prefixes.first[ids], per_shingle) + ramps(per_shingle)]
        there = np.repeat(units, per_shingle)
        size_here = self.sizes[here]
        fits = np.flatnonzero(2.0 * np.minimum(size_here, known[there]) / (size_here + sizes[there]) >= bar)
        pairs, hits = _counted(here[fits] * len(sizes) + there[fits], self.count * len(sizes))
        return pairs // max(len(sizes), 1), pairs % max(len(sizes), 1), hits, known

    def _intersections(self, i: np.ndarray, j: np.ndarray, ids: np.ndarray, other: ShingleSets) -> np.ndarray:
        """How many shingles text i[k] here and text j[k] of `other` share, for every k (`ids`: other's codes' ids)."""
        per_pair = other.sizes[j]
        rows = np.repeat(other.first[j], per_pair) + ramps(per_pair)
        pair = np.repeat(np.arange(len(i)), per_pair)
        found = ids[rows]
        looked_up = np.flatnonzero(found >= 0)
        held = looked_up[self.holds(found[looked_up], i[pair[looked_up]])]
        return np.bincount(pair[held], minlength=len(i))

    def _prefixes(self, bar: float) -> "_Prefixes":
        if bar not in self._prefix_cache:
            self._prefix_cache[bar] = _Prefixes.of(self, bar)
        return self._prefix_cache[bar]

    def _codes_at_once(self, bar: float) -> int:
        """Codes of other texts joined together: about _JOIN_AT_ONCE prefix hits, as each prefix shingle has
        `prefix entries / vocabulary` holders on average (a long submission has many)."""
        mean_holders = len(self._prefixes(bar).texts) / max(len(self.vocabulary.codes), 1)
        return int(_JOIN_AT_ONCE / max(mean_holders, 1.0))


@dataclasses.dataclass
class _Prefixes:
    """Each text's prefix — its rarest shingles (held by the fewest texts), all but `least_overlap` - 1 of them —
    as lists of holders by shingle. A pair reaching the bar shares at least `least_overlap` shingles, so its rarest
    shared shingle lies in the prefix: pairs found through prefixes alone miss none (the set-similarity join
    "prefix filter"), and the common shingles, which most texts hold, seldom lie in one."""

    texts: np.ndarray  # the texts whose prefix holds each shingle, grouped by shingle
    first: np.ndarray  # where each shingle's group starts in `texts`
    holders: np.ndarray  # how long it is
    rest: np.ndarray  # each text's shingles beyond its prefix

    @classmethod
    def of(cls, membership: "Membership", bar: float) -> "_Prefixes":
        count = max(membership.count, 1)
        ids, units = membership._keys // count, membership._keys % count
        rarest_first = np.lexsort((ids, membership._holders[ids], units))
        ids, units = ids[rarest_first], units[rarest_first]
        held = np.bincount(units, minlength=membership.count)
        position = np.arange(len(units)) - np.repeat(np.cumsum(held) - held, held)
        prefix = position <= (held - least_overlap(membership.sizes, bar))[units]
        by_shingle = np.argsort(ids[prefix], kind="stable")
        holders = np.bincount(ids[prefix], minlength=len(membership.vocabulary.codes))
        return cls(units[prefix][by_shingle], np.cumsum(holders) - holders, holders,
                   held - np.bincount(units[prefix], minlength=membership.count))


def least_overlap(sizes: np.ndarray, bar: float) -> np.ndarray:
    """The fewest shingles a text of each size must share with another for their Dice to reach `bar` (at least
    one): 2I / (a + b) >= bar and I <= b give I >= bar·a / (2 - bar). Taken a hair low, so that float rounding of
    a Dice just at the bar cannot make a pair pass that this bound ruled out."""
    slack = bar * (1 - 1e-9)
    return np.maximum(1, np.ceil(slack * sizes / (2 - slack) - 1e-9)).astype(np.int64)


def _batches(sets: list, codes_at_once: int) -> list[tuple[int, int]]:
    """[lo, hi) of consecutive runs of `sets` of up to `codes_at_once` codes (at least one set each)."""
    cuts: list = []
    used = 0
    for k, one in enumerate(sets):
        if not cuts or used + len(one.codes) > codes_at_once:
            cuts.append(k)
            used = 0
        used += len(one.codes)
    return list(zip(cuts, cuts[1:] + [len(sets)]))


def _counted(keys: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (all below `space`), ascending, and how often each occurs; a sort of 32-bit keys when
    they fit, which is faster."""
    keys = np.sort(keys.astype(np.int32) if space < 2**31 else keys)
    if not len(keys):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return keys[starts].astype(np.int64), np.diff(np.r_[starts, len(keys)])


def _by_source(i: np.ndarray, j: np.ndarray, dice: np.ndarray, counts: list) -> list[dict]:
    """Pooled pairs (ordered by i, then j) as one dict per pooled ShingleSets of `counts` texts, j numbered in it."""
    starts = np.cumsum(counts) - np.array(counts, dtype=np.int64)
    owner = np.searchsorted(starts, j, side="right") - 1
    order = np.argsort(owner, kind="stable")
    cuts = np.searchsorted(owner[order], np.arange(len(counts) + 1)).tolist()
    i, j, dice = i[order].tolist(), (j - starts[owner])[order].tolist(), dice[order].tolist()
    return [dict(zip(zip(i[a:b], j[a:b]), dice[a:b])) for a, b in zip(cuts[:-1], cuts[1:])]


def submission_lookups(fp: Fingerprint, shingling: str) -> tuple[Membership, Membership]:
    """Lookups of a submission's segment shingle sets and of its sentences' (sharing one vocabulary); made once."""
    def make():
        segments, sentences = text_sets(fp, shingling)
        vocabulary = Vocabulary(segments.codes, exact_bigrams=shingling == "char2")
        return Membership(vocabulary, segments), Membership(vocabulary, sentences)
    return fp.remembered(("lookups", shingling), make)


def segment_and_long_sentence_lookup(fp: Fingerprint, shingling: str) -> Membership:
    """Lookup of a submission's segments, then of its sentences (numbered on after the segments) of which only those
    of more than one clause have shingles in it: one join of other segments with it compares them to both; made once."""
    def make():
        by_segment, _ = submission_lookups(fp, shingling)
        segments, sentences = text_sets(fp, shingling)
        longer = np.bincount(fp.sentences, minlength=len(sentences.sizes)) > 1
        return Membership(by_segment.vocabulary, ShingleSets.pooled([segments, sentences.only(longer[sentences.units])]))
    return fp.remembered(("segment_and_long_sentence_lookup", shingling), make)


def text_sets(fp: Fingerprint, shingling: str) -> tuple[ShingleSets, ShingleSets]:
    """The shingle sets of a fingerprint's segments and of its sentences (each its clauses' shingles); made once."""
    def make():
        codes = codes_of(fp)
        return (ShingleSets.of(Texts(codes, fp.bounds), shingling),
                ShingleSets.of(Texts(codes, fp.bounds, of_sentence=fp.sentences, count=len(sentence_bounds(fp))), shingling))
    return fp.remembered(("sets", shingling), make)


class Pool:
    """Fingerprints side by side, built with a few array operations over all of them (a scan meets hundreds of
    sources, and per-source numpy calls cost more than the work): one code-point array (`codes`, made when first
    asked), each segment's [start, end) in it, and sentences numbered across the pool."""

    def __init__(self, fps: list):
        layouts = [fp.layout for fp in fps]
        each = [layout.lengths for layout in layouts]
        self.segment_counts = np.fromiter(map(len, each), dtype=np.int64, count=len(each))
        self.segment_base = np.cumsum(self.segment_counts) - self.segment_counts
        self._fps = fps
        lengths = np.concatenate(each).astype(np.int64, copy=False)
        ends = np.cumsum(lengths)  # each content is its segments' characters, so the pooled contents line up
        self.segments = np.stack([ends - lengths, ends], axis=1)
        local = np.concatenate([layout.sentences for layout in layouts]).astype(np.int64, copy=False)
        last = np.maximum(self.segment_base + self.segment_counts - 1, 0)  # sentence numbers rise through a document
        self.sentence_counts = (np.where(self.segment_counts > 0, local[last] + 1, 0) if len(local)
                                else self.segment_counts * 0)
        self.sentence_of = local + np.repeat(np.cumsum(self.sentence_counts) - self.sentence_counts, self.segment_counts)

    @functools.cached_property
    def codes(self) -> np.ndarray:
        return np.concatenate([codes_of(fp) for fp in self._fps]) if self._fps else np.zeros(0, dtype="<u4")

    def sentence_ranges(self) -> np.ndarray:
        """[start, end) in the pooled codes of each pooled sentence."""
        return _sentence_ranges(self.segments, self.sentence_of, int(self.sentence_counts.sum()))


def prepare_text_sets(fps: list, shingling: str) -> None:
    """Make the text sets (see text_sets) of many fingerprints in one pass over their pooled content: a scan aligns
    tens of sources it has not met before, and tens of small passes cost more in numpy calls than in work."""
    key = ("sets", shingling)
    todo = [fp for fp in {id(fp): fp for fp in fps}.values() if not fp.remembers(key)]
    if len(todo) < 2:
        return
    pool = Pool(todo)
    segment_sets = _split(*_sorted_by_text(Texts(pool.codes, pool.segments), shingling), pool.segment_counts)
    sentences = Texts(pool.codes, pool.segments, of_sentence=pool.sentence_of, count=int(pool.sentence_counts.sum()))
    sentence_sets = _split(*_sorted_by_text(sentences, shingling), pool.sentence_counts)
    for fp, segments, sentences in zip(todo, segment_sets, sentence_sets):
        fp.remember(key, (segments, sentences))


def some_text_sets(fps: list, segments: list, sentences: list, shingling: str) -> list[tuple[ShingleSets, ShingleSets]]:
    """The text sets (see text_sets) of only some texts of each fingerprint — `segments`, `sentences`: a boolean
    array per fingerprint — numbered as in the whole sets; the other texts have no shingles and size 0. A source
    aligned once is compared around its verified segments only (a fifth of it, in reports): its whole sets cost five
    times the work and the memory of the texts compared. Made in one pass over the pooled texts, not remembered."""
    if not fps:
        return []
    pool = Pool(fps)
    chosen = np.flatnonzero(np.concatenate(segments))
    units, codes = _sorted_by_text(Texts(pool.codes, pool.segments[chosen]), shingling)
    segment_sets = _split(chosen[units], codes, pool.segment_counts)
    wanted = np.flatnonzero(np.concatenate(sentences))  # pooled sentence numbers, ascending
    parts = np.flatnonzero(np.isin(pool.sentence_of, wanted))  # the clauses of the sentences wanted
    clauses = Texts(pool.codes, pool.segments[parts], of_sentence=np.searchsorted(wanted, pool.sentence_of[parts]),
                    count=len(wanted))
    units, codes = _sorted_by_text(clauses, shingling)
    sentence_sets = _split(wanted[units], codes, pool.sentence_counts)
    return list(zip(segment_sets, sentence_sets))


def _sorted_by_text(texts: Texts, shingling: str) -> tuple[np.ndarray, np.ndarray]:
    """(text, code) of the distinct shingles of every text, sorted by text then code: each text's shingles sorted
    on their own (see distinct_by_text), then the texts' runs put in order."""
    units, codes, first, sizes = distinct_by_text(*shingles_of(texts, shingling), len(texts))
    in_order = np.repeat(first, sizes) + ramps(sizes)
    return units[in_order], codes[in_order]


def _distinct_pairs(units: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (text, code) pairs, sorted by text then code, by one sort of packed 64-bit keys."""
    keys = distinct((units.astype(np.uint64) << np.uint64(_CODE_BITS)) | codes)
    return (keys >> np.uint64(_CODE_BITS)).astype(np.int64), keys & np.uint64((1 << _CODE_BITS) - 1)


def _split(units: np.ndarray, codes: np.ndarray, counts: np.ndarray) -> list[ShingleSets]:
    """Per document (`counts` texts each, in order), its texts' ShingleSets, numbered from 0. Where each text's run
    starts and how long it is are found once for all the pooled texts (`units` ascending), then cut per document: a
    handful of numpy calls per document cost more than the work (0.79 -> 0.3 ms per submission at 10^3 reports)."""
    bases = np.cumsum(counts) - counts
    total = int(counts.sum())
    cuts = np.searchsorted(units, np.append(bases, total)).tolist()
    sizes = np.bincount(units, minlength=total)
    starts = np.searchsorted(units, np.arange(total)) - np.repeat(np.array(cuts[:-1], dtype=np.int64), counts)
    first = np.where(sizes > 0, starts, 0)  # in its document's run; 0 for a text without shingles, as _firsts has it
    found = []
    for base, count, lo, hi in zip(bases.tolist(), counts.tolist(), cuts[:-1], cuts[1:]):
        found.append(ShingleSets(units[lo:hi] - base, codes[lo:hi], first[base : base + count], sizes[base : base + count]))
    return found


def ramps(lengths: np.ndarray) -> np.ndarray:
    """0, 1, …, n-1 for each n of `lengths`, concatenated."""
    return np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def shingles_of(texts: Texts, shingling: str) -> tuple[np.ndarray, np.ndarray]:
    """(text, shingle code) of every shingle of every text (duplicates included)."""
    if shingling == "jieba":
        strings = [texts.codes[a:b].astype("<u4").tobytes().decode("utf-32-le") for a, b in texts.bounds.tolist()]
        hashes, starts = shingle_hashes(strings, shingling) if strings else (np.zeros(0, np.uint32), np.zeros(0, np.int64))
        per_text = np.diff(np.append(starts, len(hashes))).astype(np.int64)
        units, codes = np.repeat(np.arange(len(strings)), per_text), hashes.astype(np.uint64)
    elif shingling == "char2":  # the common case, cut as character pairs (fewer passes than the general cutter)
        units, firsts, seconds = bigram_chars(texts.codes, texts.bounds)
        codes = bigram_codes(firsts, seconds)
    else:
        units, codes = _range_shingles(texts.codes, texts.bounds, 3)
    return (texts.of_sentence[units] if texts.of_sentence is not None else units), codes


def _range_shingles(codes: np.ndarray, bounds: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(range, code) of the character n-grams of each [start, end) range; a range shorter than n is one shingle
    of its own characters, as the signing has it. Bigram codes are exact; trigram codes a 42-bit hash."""
    starts, lengths = bounds[:, 0].astype(np.int64), (bounds[:, 1] - bounds[:, 0]).astype(np.int64)
    counts = np.where(lengths > 0, np.maximum(lengths - size + 1, 1), 0)
    unit = np.repeat(np.arange(len(bounds)), counts)
    begin = np.repeat(starts, counts) + ramps(counts)
    width = np.minimum(np.repeat(lengths, counts), size)
    acc = codes[begin].astype(np.uint64)
    for k in range(1, size):
        following = codes[np.minimum(begin + k, len(codes) - 1)].astype(np.uint64)
        acc = np.where(width > k, (acc << np.uint64(_CHAR_BITS)) | following, acc)
    if size > 2:
        acc = mix64(acc) >> np.uint64(64 - _CODE_BITS)
    return unit, acc


def bigram_chars(codes: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(range, first character, second character) of every bigram of each [start, end) range, as code points; a
    one-character range is the bigram (0, its character), so that its code (bigram_codes) is the character's
    own, as _range_shingles has it."""
    starts, lengths = bounds[:, 0].astype(np.int64), (bounds[:, 1] - bounds[:, 0]).astype(np.int64)
    counts = np.where(lengths > 1, lengths - 1, lengths)
    offsets = np.cumsum(counts) - counts
    units = np.repeat(np.arange(len(bounds)), counts)
    begin = np.arange(int(counts.sum())) + np.repeat(starts - offsets, counts)
    follow = begin + 1
    single = offsets[lengths == 1]  # the row of each one-character range
    follow[single] = begin[single]
    firsts, seconds = codes[begin], codes[follow]
    firsts[single] = 0
    return units, firsts, seconds


def bigram_codes(firsts: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Exact bigram codes (first << 21 | second) of bigram_chars' characters."""
    return (firsts.astype(np.uint64) << np.uint64(_CHAR_BITS)) | seconds


def bigram_set_sizes(fp: Fingerprint) -> tuple[np.ndarray, np.ndarray]:
    """How many distinct bigrams each segment has, and each sentence's whole text ([first clause's start, last
    clause's end) of the content): what verification divides by, worked out once at index time."""
    codes = codes_of(fp)
    return (ShingleSets.of(Texts(codes, fp.bounds), "char2").sizes.astype(np.int32),
            ShingleSets.of(Texts(codes, sentence_bounds(fp)), "char2").sizes.astype(np.int32))


def sentence_bounds(fp: Fingerprint) -> np.ndarray:
    """[start, end) in the content of each sentence, by sentence index (empty for an index no segment has); made once."""
    return fp.remembered("sentence_bounds",
                         lambda: _sentence_ranges(fp.bounds, fp.sentences, int(fp.sentences.max(initial=-1)) + 1))


def _sentence_ranges(bounds: np.ndarray, sentence_of: np.ndarray, count: int) -> np.ndarray:
    """[start, end) of each of `count` sentences, from its segments' bounds (a sentence's segments are consecutive;
    a number no segment has gets an empty range)."""
    found = np.zeros((count, 2), dtype=np.int64)
    if len(sentence_of):
        first = np.flatnonzero(np.r_[True, sentence_of[1:] != sentence_of[:-1]])
        last = np.r_[first[1:] - 1, len(sentence_of) - 1]
        found[sentence_of[first], 0] = bounds[first, 0]
        found[sentence_of[first], 1] = bounds[last, 1]
    return found


def codes_of(fp: Fingerprint) -> np.ndarray:
    """The content's code points; made once."""
    if fp.layout.codes is not None:
        return fp.layout.codes
    return fp.remembered("codes", lambda: np.frombuffer(fp.content.encode("utf-32-le"), dtype="<u4"))
