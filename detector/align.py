"""From LSH candidates to verified passages: which documents to align, which segments match, how matches chain into passages, where passages really begin and end."""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
import operator
import re
from collections import Counter

import numpy as np
from rapidfuzz.distance import Indel

from detector.fingerprint import Fingerprint
from detector.formulae import without_formulae
from detector.settings import Settings
from detector.shingles import (prepare_text_sets, segment_and_long_sentence_lookup, some_text_sets,
                               submission_lookups, text_sets)
from detector.sorting import dense_ranks, stable_order


LONG_PASSAGE = 60  # content characters
_OVERLAPS_AT_ONCE = 1_000_000  # (stand-in, kept passage) overlaps worked out together in with_carriers
_NUMBER = re.compile(r"[0-9]+|[零〇一二三四五六七八九十百千万亿两]{2,}")


@dataclasses.dataclass
class Alignment:
    """A passage before classification: content-character spans in the submission and in one source."""

    doc_id: int
    sub_span: tuple  # [start, end) in the submission's content characters
    src_span: tuple  # [start, end) in the source's content characters
    similarity: float  # length-weighted mean segment similarity
    evidence: float  # matched content characters x similarity, summed
    matched_chars: int  # submission characters inside equal blocks of the character alignment
    sub_segments: tuple  # submission segment indices that matched
    sentence_similarity: float = 1.0  # bigram Dice of the whole sentences the passage lies in, on both sides
    verbatim_run: int = 0  # content characters of the longest run both sides share word for word
    short_pieces: tuple = ()  # (sub span, source span) of each refined piece shorter than sentence_check_chars: the
    # two checks above are made of them only for the passages classify asks about (see with_sentence_checks)


# ---------------------------------------------------------------- candidates


@dataclasses.dataclass
class Candidate:
    """A source document sharing band keys with the submission: its rarity-weighted score and the colliding segment pairs."""

    doc_id: int
    score: float
    rows: np.ndarray  # submission segment of each colliding pair
    cols: np.ndarray  # source segment of each colliding pair
    matched: dict = dataclasses.field(default_factory=dict)  # set by verify: submission segment → verified Dice
    matched_sources: set = dataclasses.field(default_factory=set)  # set by verify: source segments that matched
    evidence: float = 0.0  # set by verify: content characters x Dice of the matched submission segments (ranks ties)


def candidates(sub: Fingerprint, postings, segment_total: int, exclude=(), limit: int | None = None) -> list[Candidate]:
    """Source documents sharing band keys with the submission, best first.

    A shared band key weighs by its rarity (a key found in a handful of segments says more than one
    found in hundreds). For each submission segment a document scores the weight its best segment
    shares with it; the document's score is the sum over submission segments. `limit`: only the best that many.
    """
    found = _collisions(sub, postings, max(segment_total, 2))
    if found is None:
        return []
    segment, posting_row, weight = found
    if exclude:
        keep = ~np.isin(postings.pairs[posting_row, 0], np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
        if not keep.any():
            return []
        segment, posting_row, weight = segment[keep], posting_row[keep], weight[keep]
    sources = postings.pairs[posting_row]
    if limit is not None:
        segment, sources, weight = _contenders(segment, sources, weight, limit)
    pairs, weights = _summed_by_pair(segment, sources, weight)
    new_doc, scores = _document_scores(pairs, weights)
    starts = np.flatnonzero(new_doc)
    ends = np.r_[starts[1:], len(pairs)]
    best_first = np.lexsort((pairs[starts, 1], -scores))[:limit]  # score down, then document id up
    return [Candidate(int(pairs[a, 1]), float(score), pairs[a:b, 0], pairs[a:b, 2])
            for a, b, score in zip(starts[best_first].tolist(), ends[best_first].tolist(), scores[best_first].tolist())]


def _document_scores(pairs: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(where each document's rows start, each document's score) of _summed_by_pair's rows: for each submission
    segment, the weight of the document's best segment for it, summed."""
    new_doc = np.r_[True, np.diff(pairs[:, 1]) != 0]
    new_group = new_doc | np.r_[True, np.diff(pairs[:, 0]) != 0]
    best = np.maximum.reduceat(weights, np.flatnonzero(new_group))  # per (document, submission segment)
    return new_doc, np.add.reduceat(best, np.flatnonzero(new_doc[new_group]))  # per document


def _contenders(segments: np.ndarray, sources: np.ndarray, weights: np.ndarray, limit: int) -> tuple:
    """The collisions of the documents that can be among the `limit` best, the others left out before the costly
    grouping. A document scores at most the sum of its collisions' weights (its bound); the limit-th best score is
    at least the lowest score of the `limit` documents with the highest bounds; a document whose bound is below
    that cannot make the cut. Each kept document's rows keep their order, so its score is the same to the bit. (Worth
    it in a large corpus, where most documents share only a boilerplate key or two with the submission.)"""
    doc_ids, rank = dense_ranks(sources[:, 0])
    if len(doc_ids) <= limit or limit < 1 or not len(weights) or weights.min() < 0:
        return segments, sources, weights
    bound = np.bincount(rank, weights=weights.astype(np.float64))
    likely = np.zeros(len(doc_ids), dtype=bool)
    likely[np.argpartition(-bound, limit - 1)[:limit]] = True
    rows = likely[rank]
    if rows.sum() * 4 > len(rows):  # the likely documents hold a good part of the collisions: too little to save
        return segments, sources, weights
    _, scores = _document_scores(*_summed_by_pair(segments[rows], sources[rows], weights[rows]))
    floor = float(scores.min())
    if not np.isfinite(floor):  # a weight that is not finite (a key counted 0): no allowance for rounding to make
        return segments, sources, weights
    rows = (bound >= floor - 1e-9 * max(floor, 1.0))[rank]  # a bound is summed in another order: allow for rounding
    return segments[rows], sources[rows], weights[rows]


def _summed_by_pair(segments: np.ndarray, sources: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (submission segment, document, source segment) rows of the collisions, ordered by document, then
    submission segment, with their key weights summed (one radix sort of packed keys, each part as wide as its
    largest value: ~27 bits for a report, two 16-bit passes where fixed 20-bit fields took four)."""
    docs, columns = sources[:, 0], sources[:, 1]
    doc_ids, doc_rank = dense_ranks(docs)
    column_bits, segment_bits = int(columns.max()).bit_length(), int(segments.max()).bit_length()
    if column_bits + segment_bits + (len(doc_ids) - 1).bit_length() > 63:
        raise ValueError("too many segments or documents to pack (a submission over the size limits?)")
    doc_shift = column_bits + segment_bits
    packed = (doc_rank << doc_shift) | (segments.astype(np.int64) << column_bits) | columns
    order = stable_order(packed)
    packed = packed[order]
    first = np.flatnonzero(np.r_[True, packed[1:] != packed[:-1]])
    packed = packed[first]
    pairs = np.stack([(packed >> column_bits) & ((1 << segment_bits) - 1), doc_ids[packed >> doc_shift],
                      packed & ((1 << column_bits) - 1)], axis=1)
    return pairs, np.add.reduceat(weights[order].astype(np.float64), first)


def _collisions(sub: Fingerprint, postings, total: int):
    """(submission segment, posting row, key weight) of every band-key collision, as three compact arrays.

    A join on the band key: each posting row meets every submission segment that has its key. The join is
    worked out once per run of rows with the same key (a store lists each key's postings together).
    """
    if not len(postings.keys) or not len(sub.keys):
        return None
    sub_keys = sub.keys.ravel()
    order = np.argsort(sub_keys, kind="stable")
    sorted_keys, sorted_rows = sub_keys[order], (order // sub.keys.shape[1]).astype(np.int32)
    run_starts = np.flatnonzero(np.r_[True, postings.keys[1:] != postings.keys[:-1]])
    run_keys, run_lengths = postings.keys[run_starts], np.diff(np.r_[run_starts, len(postings.keys)])
    run_lo = np.searchsorted(sorted_keys, run_keys, side="left")
    run_hits = np.searchsorted(sorted_keys, run_keys, side="right") - run_lo
    if not run_hits.any():
        return None
    lo, hits = np.repeat(run_lo, run_lengths), np.repeat(run_hits, run_lengths)
    posting_row = np.repeat(np.arange(len(postings.keys), dtype=np.int32), hits)
    offsets = np.arange(hits.sum()) - np.repeat(np.cumsum(hits) - hits, hits)
    segment = sorted_rows[np.repeat(lo, hits) + offsets]
    run_weights = np.log(total / np.array([postings.counts[k] for k in run_keys.tolist()], dtype=float)).astype(np.float32)
    return segment, posting_row, np.repeat(run_weights, run_lengths)[posting_row]


# ---------------------------------------------------------------- verification


def segment_similarities(sub: Fingerprint, src: Fingerprint, settings: Settings, similar: tuple | None = None):
    """Matching (submission segment, source segment, score) triples above the bar, as three arrays.

    Segments are compared by shingle-set Dice, and so are whole sentences: when clauses were packed
    differently on the two sides (a long sentence rewritten and reordered), the sentences still match.
    `similar`: the source's (segment pairs, sentence pairs) from `source_similarities`, when made already.
    """
    clause, sentence = similar if similar is not None else source_similarities(sub, [src], settings)[0]
    scores = _merge_sentence_scores(clause, sentence, sub, src)
    if not scores:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    rows, cols, dice = zip(*sorted((i, j, d) for (i, j), d in scores.items()))
    return np.array(rows), np.array(cols), np.array(dice)


def source_similarities(sub: Fingerprint, srcs: list, settings: Settings, near: list | None = None) -> list[tuple[dict, dict]]:
    """For each source, its (segment, sentence) pairs with the submission's that reach `verify_dice`, each → its
    Dice: one join for all the sources, whose text sets are made together first. `near`: for each source, the
    segments to compare (see near_verified; None: all), and the sentences holding them.

    Only the sentence pairs _merge_sentence_scores uses are made — those with a sentence of two clauses or more on
    either side (a few in a hundred): a longer source sentence with any submission sentence; a one-clause source
    sentence (whose set is its clause's) with a longer submission sentence, in the join of the source's segments."""
    shingling, bar = settings.shingling, settings.verify_dice
    clauses = [_clause_counts(src) for src in srcs]
    longer = [count > 1 for count in clauses]
    if near is not None:
        longer = [more & (np.bincount(src.sentences, weights=chosen, minlength=len(more)) > 0)
                  for more, src, chosen in zip(longer, srcs, near)]
    segments, sentences = _sets_compared(srcs, near, longer, shingling)
    by_segment, by_sentence = submission_lookups(sub, shingling)
    with_longer = by_sentence.similar_each(sentences, bar, longer)
    both = segment_and_long_sentence_lookup(sub, shingling).similar_each(segments, bar, near)
    return [_segment_pairs_apart(found, by_segment.count, count, src, pairs)
            for found, count, src, pairs in zip(both, clauses, srcs, with_longer)]


def _sets_compared(srcs: list, near: list | None, longer: list, shingling: str) -> tuple[list, list]:
    """Each source's segment and sentence sets, for comparing its `near` segments and `longer` sentences: its whole
    sets where it has them, or is aligned a second time (then kept: a source met twice is met again); else, aligned
    for the first time, the sets of those texts only (see some_text_sets)."""
    if near is None:
        prepare_text_sets(srcs, shingling)
        return [text_sets(src, shingling)[0] for src in srcs], [text_sets(src, shingling)[1] for src in srcs]
    whole = [src.remembers(("sets", shingling)) or src.remembers(_ALIGNED) for src in srcs]
    prepare_text_sets([src for src, kept in zip(srcs, whole) if kept], shingling)
    first = [k for k, kept in enumerate(whole) if not kept]
    some = iter(some_text_sets([srcs[k] for k in first], [near[k] for k in first], [longer[k] for k in first], shingling))
    sets = [text_sets(src, shingling) if kept else next(some) for src, kept in zip(srcs, whole)]
    for k in first:
        srcs[k].remember(_ALIGNED, True)
    return [segment for segment, _ in sets], [sentence for _, sentence in sets]


_ALIGNED = "aligned before"  # a source fingerprint's mark: compared once already (its whole sets are made next time)


def near_verified(candidate: Candidate, segment_count: int, reach: int) -> np.ndarray:
    """Which of a source's segments lie within `reach` segments of one that verified: the ones aligning compares.
    A passage's segment pairs that no band key joined (a heavily edited sentence) lie beside pairs that were;
    comparing the rest of the source finds matches of nothing the submission was found to share."""
    near = np.zeros(segment_count, dtype=bool)
    for j in candidate.matched_sources:  # slices marked: 0.41 -> 0.12 ms per submission against two np.add.at
        near[max(0, j - reach) : max(0, j + reach + 1)] = True
    return near


def _segment_pairs_apart(found: dict, segment_count: int, clauses: np.ndarray, src: Fingerprint, sentence_pairs: dict):
    """(segment pairs, sentence pairs): the pairs of a source's segments with the submission's segments, and with
    its longer sentences (`segment_count` on) where the source segment is a whole sentence, added to `sentence_pairs`."""
    segment_pairs: dict = {}
    sentence_of, alone = _sentence_list(src), (clauses == 1).tolist()
    for (i, k), dice in found.items():
        if i < segment_count:
            segment_pairs[(i, k)] = dice
        elif alone[sentence_of[k]]:
            sentence_pairs[(i - segment_count, sentence_of[k])] = dice
    return segment_pairs, sentence_pairs


def _clause_counts(fp: Fingerprint) -> np.ndarray:
    """How many clauses (segments) each sentence has; made once."""
    return fp.remembered("clause_counts", lambda: np.bincount(fp.sentences, minlength=int(fp.sentences.max(initial=-1)) + 1))


def _merge_sentence_scores(clause: dict, sentence: dict, sub: Fingerprint, src: Fingerprint) -> dict:
    """Clause scores, raised to their sentences' score where whole sentences match better than the clauses."""
    scores = dict(clause)
    for (s, t), d in sentence.items():
        sub_clauses, src_clauses = _clauses_of(sub, s), _clauses_of(src, t)
        if len(sub_clauses) == 1 and len(src_clauses) == 1:
            continue  # one clause each: the clause score is the sentence score
        for i in sub_clauses:
            for j in src_clauses:
                scores[(i, j)] = max(scores.get((i, j), 0.0), d)
    return scores


def _clauses_of(fp: Fingerprint, sentence: int) -> range:
    """The segments of a sentence: consecutive, as sentence numbers rise through a text (found by bisection, so that
    a source met for the first time needs no table of every sentence's segments)."""
    sentence_of = _sentence_list(fp)
    return range(bisect.bisect_left(sentence_of, sentence), bisect.bisect_right(sentence_of, sentence))


# ---------------------------------------------------------------- chaining


def align_source(candidate: Candidate, sub: Fingerprint, src: Fingerprint, settings: Settings,
                 similar: tuple | None = None) -> tuple[list, bool]:
    """(alignments, capped): the whole source aligned, or — for a source of more than `max_source_segments`
    segments — only windows of it around the segments that verified, so that one giant document in the corpus
    costs a normal scan no more than a normal document does. `similar`: see segment_similarities."""
    if src.segment_count <= settings.max_source_segments:
        return align_pair(sub, src, candidate.doc_id, settings, similar), False
    alignments = []
    for lo, hi in _windows(sorted(candidate.matched_sources), src.segment_count, settings):
        shift = int(src.bounds[lo][0])
        alignments += [_shifted(a, shift) for a in align_pair(sub, src.window(lo, hi), candidate.doc_id, settings)]
    return alignments, True


def _shifted(alignment: Alignment, shift: int) -> Alignment:
    """An alignment of a window of a source, placed in the whole source."""
    def moved(span: tuple) -> tuple:
        return span[0] + shift, span[1] + shift
    return dataclasses.replace(alignment, src_span=moved(alignment.src_span),
                               short_pieces=tuple((sub_span, moved(src_span)) for sub_span, src_span in alignment.short_pieces))


def _windows(segments: list, count: int, settings: Settings) -> list[tuple[int, int]]:
    """Segment ranges around the given (sorted) segments, ± `source_window_segments`, overlapping ones merged;
    the ranges with the most of those segments first, up to `max_source_segments` segments in all."""
    ranges: list = []  # [lo, hi, segments inside]
    for j in segments:
        lo, hi = max(0, j - settings.source_window_segments), min(count, j + settings.source_window_segments + 1)
        if ranges and lo <= ranges[-1][1]:
            ranges[-1][1:] = [hi, ranges[-1][2] + 1]
        else:
            ranges.append([lo, hi, 1])
    kept, used = [], 0
    for lo, hi, _ in sorted(ranges, key=lambda r: (-r[2], r[0])):
        if used + hi - lo <= settings.max_source_segments:
            kept.append((lo, hi))
            used += hi - lo
    return sorted(kept)


def align_pair(sub: Fingerprint, src: Fingerprint, doc_id: int, settings: Settings,
               similar: tuple | None = None) -> list[Alignment]:
    """Every passage of the submission that reuses the source document."""
    rows, cols, scores = segment_similarities(sub, src, settings, similar)
    if not len(rows):
        return []
    chains = [_without_formula_edges(chain, sub, src, settings) for chain in _chain(rows, cols, scores, sub, src, settings)]
    pairs = dict(zip(zip(rows.tolist(), cols.tolist()), scores.tolist()))
    refined = [_refine(chain, _partners(chain, pairs, src), sub, src, doc_id, settings) for chain in chains]
    return _join_neighbours(refined, sub, src, settings)


def _partners(chain: list, pairs: dict, src: Fingerprint) -> list[tuple]:
    """(submission segment, source segment) pairs of a chain, with the clauses of a source sentence that
    matched a chain segment as a whole sentence (same score) beside the one clause the chain chose."""
    sentence_of = _sentence_list(src)
    return [(i, k) for i, j, d in chain for k in _clauses_of(src, sentence_of[j]) if k == j or pairs.get((i, k)) == d]


def _join_neighbours(alignments: list[Alignment], sub: Fingerprint, src: Fingerprint, settings: Settings) -> list[Alignment]:
    """Join consecutive passages from nearby source text when what lies between them in the submission is
    either short (`merge_gap`) or rewritten source text (`bridge_gap`, most of it in runs the source also has),
    so that one copied passage is reported once even where a sentence of it was edited past recognition."""
    joined: list[Alignment] = []
    weak = [a for a in alignments if a.evidence < settings.min_evidence]  # too weak to join, and no obstacle
    for alignment in sorted((a for a in alignments if a.evidence >= settings.min_evidence), key=lambda a: a.sub_span):
        if joined and _bridgeable(joined[-1], alignment, sub, src, settings):
            joined[-1] = _joined(joined[-1], alignment)
        else:
            joined.append(alignment)
    return joined + weak


def _bridgeable(a: Alignment, b: Alignment, sub: Fingerprint, src: Fingerprint, settings: Settings) -> bool:
    gap = b.sub_span[0] - a.sub_span[1]
    source_gap = max(a.src_span[0], b.src_span[0]) - min(a.src_span[1], b.src_span[1])  # negative: they overlap
    if gap < 0 or gap > settings.bridge_gap or source_gap > settings.source_window:
        return False
    if source_gap - gap > settings.source_skip:  # the source has a stretch between them that was not reused
        return False
    if gap <= settings.merge_gap:
        return True
    between = sub.content[a.sub_span[1] : b.sub_span[0]]
    if 0 <= b.src_span[0] - a.src_span[1] <= settings.bridge_gap:  # in order: the stretch rewrites the source's own gap
        source_gap = src.content[a.src_span[1] : b.src_span[0]]
        if _share(_shared_count(between, source_gap, run=1), between) >= settings.bridge_min_shared:
            return True
    lo, hi = min(a.src_span[0], b.src_span[0]), max(a.src_span[1], b.src_span[1])
    source = src.content[max(0, lo - gap) : hi + gap]
    return _share(_shared_count(between, source), between) >= settings.bridge_min_shared


def _joined(a: Alignment, b: Alignment) -> Alignment:
    """One alignment covering two of the same source."""
    length_a, length_b = a.sub_span[1] - a.sub_span[0], b.sub_span[1] - b.sub_span[0]
    return dataclasses.replace(
        a,
        sub_span=(a.sub_span[0], b.sub_span[1]),
        src_span=(min(a.src_span[0], b.src_span[0]), max(a.src_span[1], b.src_span[1])),
        similarity=(a.similarity * length_a + b.similarity * length_b) / max(1, length_a + length_b),
        evidence=a.evidence + b.evidence,
        matched_chars=a.matched_chars + b.matched_chars,
        sub_segments=a.sub_segments + b.sub_segments,
        short_pieces=a.short_pieces + b.short_pieces,
    )


def _chain(rows, cols, scores, sub: Fingerprint, src: Fingerprint, settings: Settings) -> list[list]:
    """Group segment matches into passages: near each other in the submission, within a window in the source."""
    by_sub: dict[int, list] = {}
    for i, j, d in zip(rows.tolist(), cols.tolist(), scores.tolist()):
        by_sub.setdefault(i, []).append((j, d))
    bounds = _starts_and_ends(src)
    starts, ends = bounds
    chains, current, reach = [], [], (0, 0)  # reach: the source stretch the current chain covers
    for i in sorted(by_sub):
        options = by_sub[i]
        if current and _sub_gap(sub, current[-1][0], i) <= settings.merge_gap:
            used = {c[1] for c in current}
            near = [o for o in options
                    if o[0] not in used and _distance(reach, starts[o[0]], ends[o[0]]) <= settings.source_window]
            if near:
                j, d = max(near, key=lambda o: o[1])
                current.append((i, j, d))
                reach = (min(reach[0], starts[j]), max(reach[1], ends[j]))
                continue
        if current:
            chains.append(current)
        j, d = max(options, key=lambda o: o[1])
        current, reach = [(i, j, d)], (starts[j], ends[j])
    if current:
        chains.append(current)
    return [piece for chain in chains for piece in _stray_edges_apart(chain, sub, bounds, settings)]


def _stray_edges_apart(chain: list, sub: Fingerprint, bounds: tuple, settings: Settings) -> list[list]:
    """The chain, with a first or last match that the source has far from the rest (across more unmatched source
    text than the submission has there, `source_skip`) made a passage of its own: reuse ends where it ends."""
    before, after = [], []
    while len(chain) >= 2 and _strays(chain[0], chain[1:], _sub_gap(sub, chain[0][0], chain[1][0]), bounds, settings):
        before.append([chain[0]])
        chain = chain[1:]
    while len(chain) >= 2 and _strays(chain[-1], chain[:-1], _sub_gap(sub, chain[-2][0], chain[-1][0]), bounds, settings):
        after.insert(0, [chain[-1]])
        chain = chain[:-1]
    return before + [chain] + after


def _without_formula_edges(chain: list, sub: Fingerprint, src: Fingerprint, settings: Settings) -> list:
    """The chain without first or last matches made of official formulae alone: the submission's own heading
    "理论学习不深入" meets the source's "理论学习方面" on the formula's words, and the copy starts after it. A chain of
    such matches only is left as it is (classify tells formulae)."""
    while len(chain) >= 2 and _formula_match(chain[0], sub, src, settings.formulae_file):
        chain = chain[1:]
    while len(chain) >= 2 and _formula_match(chain[-1], sub, src, settings.formulae_file):
        chain = chain[:-1]
    return chain


def _formula_match(match: tuple, sub: Fingerprint, src: Fingerprint, formulae_file) -> bool:
    """Whether two different segments share nothing but curated formulae: with the formulae cut out of both, neither the
    segments nor the sentences they lie in (a pair may have matched as sentences) share a character bigram. Segments
    alike word for word are a copy, formulae or not."""
    i, j, _ = match
    segments = (_segment_text(sub, i), _segment_text(src, j))
    if segments[0] == segments[1]:
        return False
    sentences = (sub.sentence_texts()[_sentence_list(sub)[i]], _sentence_text(src, _sentence_list(src)[j]))
    cut = [tuple(without_formulae(text, formulae_file) for text in pair) for pair in (segments, sentences)]
    return cut[0] != segments and not any(_bigrams(a) & _bigrams(b) for a, b in cut)


def _strays(edge: tuple, rest: list, sub_gap: int, bounds: tuple, settings: Settings) -> bool:
    starts, ends = bounds
    reach = (min(starts[j] for _, j, _ in rest), max(ends[j] for _, j, _ in rest))
    return _distance(reach, starts[edge[1]], ends[edge[1]]) - max(0, sub_gap) > settings.source_skip


def _sub_gap(fp: Fingerprint, last: int, nxt: int) -> int:
    starts, ends = _starts_and_ends(fp)
    return starts[nxt] - ends[last]


def _distance(reach: tuple, start: int, end: int) -> int:
    """Characters between a source stretch and a segment's [start, end) (0 when they overlap)."""
    return max(0, reach[0] - end, start - reach[1])


# ---------------------------------------------------------------- refinement


def _refine(chain: list, partners: list, sub: Fingerprint, src: Fingerprint, doc_id: int, settings: Settings) -> Alignment:
    """Trim a chain's outer segments to the characters that really match, and measure it."""
    sub_start, sub_end, src_start, src_end = _trimmed(chain, partners, sub, src)
    starts, ends = _starts_and_ends(sub)
    lengths = [ends[i] - starts[i] for i, _, _ in chain]
    weighted = _summed([length * d for length, (_, _, d) in zip(lengths, chain)])
    # segment Dice survives reordering; the character alignment rewards matches that cross segment boundaries
    sub_text, src_text = sub.content[sub_start:sub_end], src.content[src_start:src_end]
    char_similarity, formula_free, numbers, matched = _text_measures(sub_text, src_text, settings.formulae_file)
    evidence = min(max(weighted, char_similarity * (sub_end - sub_start)), formula_free)
    return Alignment(
        doc_id=doc_id,
        sub_span=(sub_start, sub_end),
        src_span=(src_start, src_end),
        similarity=max(_mean(weighted, sum(lengths)), char_similarity),
        # short matches whose figures differ are stock bulletins; a long passage with updated figures is still reuse
        evidence=evidence * (numbers if len(sub_text) < LONG_PASSAGE else 1.0),
        matched_chars=matched,
        sub_segments=tuple(i for i, _, _ in chain),
        short_pieces=(((sub_start, sub_end), (src_start, src_end)),) if sub_end - sub_start < settings.sentence_check_chars else (),
    )


def _mean(weighted: float, length: int) -> float:
    """A length-weighted sum over its length; NaN for no length, as numpy's division gave (a segment without
    content has no shingle to match, so a chain of such is not expected)."""
    return weighted / length if length else math.nan


def _summed(values: list) -> float:
    """The sum of floats as numpy's sum of an array of them makes it, to the last bit (the passages' figures were made
    so): one by one under 8 (so numpy adds so few too), numpy's own above. Two arrays and their sums per chain cost
    more than the Python, for the chains of a few segments that most are (with _segment_text, _refine's calls in a
    batch at 10^3 reports: 3.28 -> 2.32 ms per submission)."""
    if len(values) < 8:
        total = 0.0
        for value in values:
            total += value
        return total
    return float(np.array(values, dtype=float).sum())


def _trimmed(chain: list, partners: list, sub: Fingerprint, src: Fingerprint) -> tuple[int, int, int, int]:
    """(sub start, sub end, source start, source end) of a chain, its edge segments trimmed to the characters that
    really match and extended where the match runs on past a segment boundary.

    A character matches when it lies in a run of shingles the other side also has, wherever they
    stand there: clause and sentence reordering inside the passage does not cut it short.
    """
    first, last = chain[0][:2], chain[-1][:2]
    (sub_starts, sub_ends), (src_starts, src_ends) = _starts_and_ends(sub), _starts_and_ends(src)
    lowest = min(partners, key=lambda c: src_starts[c[1]])
    highest = max(partners, key=lambda c: src_ends[c[1]])
    # each edge segment is trimmed against the whole matched region on the other side, not only its
    # own partner: a segment matched through its sentence may pair with any clause of the other sentence
    sub_region = sub.content[sub_starts[first[0]] : sub_ends[last[0]]]
    src_region = src.content[src_starts[lowest[1]] : src_ends[highest[1]]]
    sub_start = sub_starts[first[0]] + _edges(sub.segment_content(first[0]), src_region)[0]
    sub_end = sub_ends[last[0]] - _edges(sub.segment_content(last[0]), src_region)[1]
    src_start = src_starts[lowest[1]] + _edges(_segment_text(src, lowest[1]), sub_region)[0]
    src_end = src_ends[highest[1]] - _edges(_segment_text(src, highest[1]), sub_region)[1]
    if highest[0] == last[0]:  # in-order ending: the match may run on past the segment boundary
        grow_sub, grow_src = _extension(sub.content[sub_end : sub_end + 80], src.content[src_end : src_end + 80])
        sub_end, src_end = sub_end + grow_sub, src_end + grow_src
    if lowest[0] == first[0]:
        grow_sub, grow_src = _extension(sub.content[max(0, sub_start - 80) : sub_start][::-1],
                                        src.content[max(0, src_start - 80) : src_start][::-1])
        sub_start, src_start = sub_start - grow_sub, src_start - grow_src
    return sub_start, max(sub_start, sub_end), src_start, max(src_start, src_end)


@functools.lru_cache(maxsize=8192)
def _text_measures(sub_text: str, src_text: str, formulae_file) -> tuple[float, float, float, int]:
    """(character similarity, evidence outside formulae, agreement of the figures, matched characters) of a
    passage's two texts — remembered: boilerplate gives the same pair of texts in many sources."""
    return (Indel.normalized_similarity(sub_text, src_text), _formula_free_evidence(sub_text, src_text, formulae_file),
            _number_agreement(sub_text, src_text), _shared_count(sub_text, src_text))


def with_sentence_checks(alignment: Alignment, sub: Fingerprint, src: Fingerprint, settings: Settings) -> Alignment:
    """The alignment with its whole-sentence similarity and longest word-for-word run, which classify asks of short
    passages only: the best of its pieces'. Made only for the passages classify asks about (a scan refines hundreds).

    A passage as long as `sentence_check_chars` keeps the neutral defaults (a piece that long made every passage it
    joined that long too)."""
    if alignment.sub_span[1] - alignment.sub_span[0] >= settings.sentence_check_chars or not alignment.short_pieces:
        return alignment
    checks = [_short_passage_checks(sub, src, sub_span, src_span) for sub_span, src_span in alignment.short_pieces]
    return dataclasses.replace(alignment, sentence_similarity=max(c[0] for c in checks),
                               verbatim_run=max(c[1] for c in checks))


def _short_passage_checks(sub: Fingerprint, src: Fingerprint, sub_span: tuple, src_span: tuple) -> tuple[float, int]:
    """(bigram Dice of the whole sentences a piece lies in, its longest run both sides share word for word)."""
    sub_text, src_text = sub.content[slice(*sub_span)], src.content[slice(*src_span)]
    return (_bigram_dice(_sentences_of(sub, *sub_span), _sentences_of(src, *src_span)),
            _longest_common_run(sub_text, src_text))


@functools.lru_cache(maxsize=4096)
def _longest_common_run(a: str, b: str) -> int:
    """Length of the longest substring `a` and `b` share: the longest k for which they share a k-gram (binary search)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        k = (low + high + 1) // 2
        grams = {b[i : i + k] for i in range(len(b) - k + 1)}
        if any(a[i : i + k] in grams for i in range(len(a) - k + 1)):
            low = k
        else:
            high = k - 1
    return low


def _sentences_of(fp: Fingerprint, start: int, end: int) -> str:
    """The content of the whole sentences that content characters [start, end) touch (they are consecutive), cut from
    the content: the lists of a source's sentence and segment texts cost more to make than the few sentences classify
    reads of them (0.12 -> 0.01 ms per submission at 10^3 reports)."""
    starts, ends = _starts_and_ends(fp)
    first = bisect.bisect_right(ends, start)
    last = bisect.bisect_left(starts, max(end, start + 1)) - 1
    if first > last:
        return ""
    sentence_of = _sentence_list(fp)
    opening, closing = _clauses_of(fp, sentence_of[first]), _clauses_of(fp, sentence_of[last])
    return fp.content[starts[opening[0]] : ends[closing[-1]]]


def _bigram_dice(a: str, b: str) -> float:
    grams_a, grams_b = _bigrams(a), _bigrams(b)  # remembered: a submission's sentence meets many sources
    if not grams_a or not grams_b:
        return 0.0
    return 2 * len(grams_a & grams_b) / (len(grams_a) + len(grams_b))


def _formula_free_evidence(a: str, b: str, formulae_file) -> float:
    """Characters of `a` outside official formulae, times their bigram Dice with `b` outside formulae.

    Two different sentences built around the same formula (习近平新时代中国特色社会主义思想) share little else.
    """
    a, b = without_formulae(a, formulae_file), without_formulae(b, formulae_file)
    return len(a) * _bigram_dice(a, b)


def _number_agreement(a: str, b: str) -> float:
    """Share of the numbers (years excepted: they are folded) that both sides state alike; 1.0 without numbers.

    Two bulletins that differ in their figures ("截至11月末…10.02亿户" / "截至10月末…11.84亿户") are not a copy.
    """
    found_a, found_b = _NUMBER.findall(a), _NUMBER.findall(b)
    if found_a == found_b:  # the same figures in the same order, or none (most passages): not counted (0.69 -> 0.57 ms)
        return 1.0
    numbers_a, numbers_b = Counter(found_a), Counter(found_b)
    union = sum((numbers_a | numbers_b).values())
    return sum((numbers_a & numbers_b).values()) / union if union else 1.0


def _shared_count(a: str, b: str, run: int = 2) -> int:
    """How many characters of `a` lie inside a run of `run` consecutive bigrams that `b` also contains (anywhere).

    A stretch of L >= `run` such bigrams covers its L + 1 characters, and two stretches share none; so the bigrams'
    hits are made one byte each (1: in b) and split at the misses, without a Python step per character: 1.14 -> 1.00
    ms per submission scanned at 10^3 reports (same counts as marking the characters one by one; making each bigram
    and looking it up is most of what is left)."""
    grams = _bigrams(b)
    hits = bytes(map(grams.__contains__, map(operator.add, a, a[1:])))
    return sum(len(stretch) + 1 for stretch in hits.split(b"\0") if len(stretch) >= run)


def _starts_and_ends(fp: Fingerprint) -> tuple[list, list]:
    """Each segment's start, and each one's end, in the content: two lists of Python ints, read one by one in the
    loops here (numpy scalars cost more than the work); made once. Flat lists, not one per segment: a scan meets
    hundreds of sources, and tuples made by the hundred set the garbage collector off."""
    return fp.remembered("segment_starts_ends", lambda: (fp.bounds[:, 0].tolist(), fp.bounds[:, 1].tolist()))


def _segment_text(fp: Fingerprint, index: int) -> str:
    """A segment's content, cut from the content: a source's list of every segment's text (Fingerprint.segment_texts)
    cost more to make than the few a scan reads of it (a batch at 10^3 reports made 330 such lists, 1.24 ms per
    submission; now 55: the submissions' and those of the sources classify asks about, 0.20 ms)."""
    starts, ends = _starts_and_ends(fp)
    return fp.content[starts[index] : ends[index]]


def _sentence_text(fp: Fingerprint, sentence: int) -> str:
    """A sentence's content (its clauses', which lie side by side in the content), cut from the content (see
    _segment_text)."""
    clauses, (starts, ends) = _clauses_of(fp, sentence), _starts_and_ends(fp)
    return fp.content[starts[clauses[0]] : ends[clauses[-1]]] if clauses else ""


def _sentence_list(fp: Fingerprint) -> list:
    """Each segment's sentence index as a Python int; made once."""
    return fp.remembered("sentence_list", lambda: fp.sentences.tolist())


def _share(count: int, text: str) -> float:
    """The share of a text's characters that `count` of them make (0.0 for no text)."""
    return count / len(text) if text else 0.0


@functools.lru_cache(maxsize=4096)
def _bigrams(text: str) -> frozenset:
    """The character bigrams of a text (remembered: a source region is matched against several pieces); each
    character joined to the next by map, not sliced out in a generator (0.6 of the time)."""
    return frozenset(map(operator.add, text, text[1:]))


def _edges(a: str, b: str) -> tuple[int, int]:
    """Unmatched characters at the start and at the end of `a` (none trimmed if nothing matches).

    One shared bigram keeps an edge: a heavily edited sentence keeps few three-character runs, and cutting
    its first words made whole copied sentences too short to report. A bigram of `a` is looked for in `b` as a
    substring (the same as among b's bigrams): `a` is a segment whose edges match at once, mostly, and `b` a region
    met once, whose set of bigrams cost more to make than the few searches."""
    for first in range(len(a) - 1):  # plain loops, not generators: 0.97 -> 0.47 ms per submission at 10^3 reports
        if a[first : first + 2] in b:
            break
    else:
        return 0, 0
    for last in range(len(a) - 2, first - 1, -1):
        if a[last : last + 2] in b:
            break
    return first, len(a) - 2 - last


@functools.lru_cache(maxsize=8192)
def _extension(a: str, b: str, max_gap: int = 2, first_block: int = 4, min_block: int = 2) -> tuple[int, int]:
    """How far two texts that continue a match keep matching densely: (chars of a, chars of b).

    The first block must be longer than a chance match of a common word ("方面", "工作") at the boundary.
    """
    if not _may_extend(a, b, max_gap, first_block):
        return 0, 0
    reach_a = reach_b = 0
    for op in Indel.opcodes(a, b):
        if op.tag != "equal":
            continue
        gap_ok = op.src_start - reach_a <= max_gap and op.dest_start - reach_b <= max_gap
        if not gap_ok or op.src_end - op.src_start < (first_block if reach_a == 0 else min_block):
            break
        reach_a, reach_b = op.src_end, op.dest_end
    return reach_a, reach_b


def _may_extend(a: str, b: str, max_gap: int, first_block: int) -> bool:
    """Whether _extension's first block can be there: a run of `first_block` characters that both texts have within
    `max_gap` of their start. Without one its first equal block fails and it extends by nothing, so the alignment is
    not worth making: so it is for 72% of the texts a scan extends (0.85 -> 0.60 ms per submission at 10^3 reports)."""
    openings = (a[start : start + first_block] for start in range(max_gap + 1))
    return any(len(block) == first_block and b.find(block, 0, max_gap + first_block) >= 0 for block in openings)


# ---------------------------------------------------------------- one source per stretch


def carrier_alignments(candidate: Candidate, sub: Fingerprint, settings: Settings) -> list[Alignment]:
    """Stand-ins for a candidate that was verified but not aligned in full: its matched submission segments,
    chained across gaps of up to `merge_gap`, each run an alignment that can only count as a carrier of a
    passage (it has no source span). Evidence leaves curated formulae out, as a full alignment's does."""
    runs: list = []
    starts, ends = _starts_and_ends(sub)
    for i in sorted(candidate.matched):
        if runs and starts[i] - ends[runs[-1][-1]] <= settings.merge_gap:
            runs[-1].append(i)
        else:
            runs.append([i])
    formula_free = _formula_free_lengths(sub, settings.formulae_file)
    return [_stand_in(candidate, run, starts, ends, formula_free) for run in runs]


def _stand_in(candidate: Candidate, run: list, starts: list, ends: list, formula_free: list) -> Alignment:
    """A run's stand-in: its length-weighted Dice and its evidence summed in one pass, term by term in the run's order
    as sums of lists gave them (a scan makes ~500 stand-ins: carrier_alignments 1.80 -> 1.09 ms per submission)."""
    matched = candidate.matched
    weighted = evidence = 0
    length = 0
    for i in run:
        dice, size = matched[i], ends[i] - starts[i]
        weighted += size * dice
        evidence += formula_free[i] * dice
        length += size
    return Alignment(doc_id=candidate.doc_id, sub_span=(starts[run[0]], ends[run[-1]]), src_span=(0, 0),
                     similarity=weighted / max(1, length), evidence=evidence, matched_chars=length, sub_segments=tuple(run))


def _formula_free_lengths(fp: Fingerprint, formulae_file) -> list[int]:
    """Each segment's length without curated formulae; made once (a segment stands in for many candidates)."""
    return fp.remembered(("formula_free_lengths", formulae_file),
                         lambda: [len(without_formulae(text, formulae_file)) for text in fp.segment_texts()])


def with_carriers(kept: list[tuple[Alignment, list]], stand_ins: list[Alignment]) -> list[tuple[Alignment, list]]:
    """Add each stand-in to the others of the kept passage it overlaps most (the first such), when that covers
    half of it. The overlaps of a block of stand-ins with every kept passage are one array."""
    if not kept:
        return kept
    starts, ends = (np.array([k.sub_span[n] for k, _ in kept], dtype=np.int64) for n in (0, 1))
    docs = np.array([k.doc_id for k, _ in kept], dtype=np.int64)
    block = max(1, _OVERLAPS_AT_ONCE // len(kept))
    for lo in range(0, len(stand_ins), block):
        part = stand_ins[lo : lo + block]
        start, end, doc = (np.array(column, dtype=np.int64)[:, None]
                           for column in zip(*[(*a.sub_span, a.doc_id) for a in part]))
        overlap = np.maximum(0, np.minimum(ends, end) - np.maximum(starts, start)) * (docs != doc)
        best = overlap.argmax(axis=1)
        covers = overlap[np.arange(len(part)), best] >= 0.5 * np.maximum(1, end - start)[:, 0]
        for stand_in, owner in zip(part, np.where(covers, best, -1).tolist()):
            if owner >= 0:
                kept[owner][1].append(stand_in)
    return kept


def one_source_per_stretch(alignments: list[Alignment], max_overlap: float = 0.3) -> list[tuple[Alignment, list]]:
    """Keep the strongest alignment for each stretch of the submission; weaker ones over it become its other sources.

    Each candidate is compared only with the kept alignments that can overlap it (found by start in a sorted
    list), so the work grows with the number of alignments, not with its square.
    """
    kept: list[tuple[Alignment, list]] = []
    starts: list[tuple[int, int]] = []  # (start, position in kept) of the kept alignments, sorted
    longest = 0
    for candidate in sorted(alignments, key=lambda a: (-a.evidence, a.doc_id, a.sub_span)):
        start, end = candidate.sub_span
        length = max(1, end - start)
        near = starts[bisect.bisect_right(starts, (start - longest, -1)) : bisect.bisect_left(starts, (end, -1))]
        overlaps = [(_overlap(candidate.sub_span, kept[n][0].sub_span), *kept[n]) for _, n in sorted(near, key=lambda s: s[1])]
        overlaps = [o for o in overlaps if o[0] > 0]
        if sum(o[0] for o in overlaps) <= max_overlap * length:
            bisect.insort(starts, (start, len(kept)))
            kept.append((candidate, []))
            longest = max(longest, end - start)
            continue
        _, owner, others = max(overlaps, key=lambda o: o[0])
        if _overlap(candidate.sub_span, owner.sub_span) >= 0.5 * length and candidate.doc_id != owner.doc_id:
            others.append(candidate)
    return sorted(kept, key=lambda k: k[0].sub_span)


def _overlap(a: tuple, b: tuple) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))
