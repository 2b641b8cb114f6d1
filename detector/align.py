"""From LSH candidates to verified passages: which documents to align, which segments match, how matches chain into passages, where passages really begin and end."""

from __future__ import annotations

import dataclasses

import numpy as np
from rapidfuzz.distance import Indel
from scipy import sparse

from detector.fingerprint import Fingerprint
from detector.settings import Settings


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


# ---------------------------------------------------------------- candidates


def candidate_documents(sub: Fingerprint, store, settings: Settings, exclude=()) -> list[int]:
    """Source documents sharing band keys with the submission, best first.

    A document scores, for each submission segment, the most bands that segment shares with one of
    its segments: a near copy shares several bands, a chance collision one.
    """
    if not len(sub.keys):
        return []
    postings = store.postings(np.unique(sub.keys).tolist(), settings.hot_key_postings)
    pairs = [(i, seg) for i, row in enumerate(sub.keys.tolist()) for key in row for seg in postings.get(key, ())]
    if not pairs:
        return []
    unique_pairs, bands = np.unique(np.array(pairs, dtype=np.int64), axis=0, return_counts=True)
    sub_segments, segments = unique_pairs.T
    doc_ids, _ = store.segment_owner(segments)
    best = {}
    for doc_id, i, n in zip(doc_ids.tolist(), sub_segments.tolist(), bands.tolist()):
        if doc_id not in exclude and n > best.get((doc_id, i), 0):
            best[(doc_id, i)] = n
    scores: dict[int, int] = {}
    for (doc_id, _), n in best.items():
        scores[doc_id] = scores.get(doc_id, 0) + n
    ranked = sorted(scores, key=lambda d: (-scores[d], d))
    return ranked[: settings.max_candidate_documents]


# ---------------------------------------------------------------- verification


def segment_similarities(sub: Fingerprint, src: Fingerprint, settings: Settings):
    """Shingle-set Dice of every submission segment with every source segment: (rows, cols, scores) above the bar."""
    sub_rows, sub_hashes = sub.shingle_sets(settings.shingling)
    src_rows, src_hashes = src.shingle_sets(settings.shingling)
    vocabulary, columns = np.unique(np.concatenate([sub_hashes, src_hashes]), return_inverse=True)
    a = _incidence(sub_rows, columns[: len(sub_hashes)], len(sub.segments), len(vocabulary))
    b = _incidence(src_rows, columns[len(sub_hashes) :], len(src.segments), len(vocabulary))
    inter = (a @ b.T).tocoo()
    size_a = np.bincount(sub_rows, minlength=len(sub.segments))
    size_b = np.bincount(src_rows, minlength=len(src.segments))
    dice = 2.0 * inter.data / (size_a[inter.row] + size_b[inter.col])
    keep = dice >= settings.verify_dice
    return inter.row[keep], inter.col[keep], dice[keep]


def _incidence(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int):
    """Binary segment × shingle matrix (each segment's shingles are already a set)."""
    data = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix((data, (rows, columns)), shape=(n_rows, n_columns))


# ---------------------------------------------------------------- chaining


def align_pair(sub: Fingerprint, src: Fingerprint, doc_id: int, settings: Settings) -> list[Alignment]:
    """Every passage of the submission that reuses the source document."""
    rows, cols, scores = segment_similarities(sub, src, settings)
    if not len(rows):
        return []
    chains = _chain(rows, cols, scores, sub, src, settings)
    return [a for a in (_refine(chain, sub, src, doc_id) for chain in chains) if a is not None]


def _chain(rows, cols, scores, sub: Fingerprint, src: Fingerprint, settings: Settings) -> list[list]:
    """Group segment matches into passages: near each other in the submission, within a window in the source."""
    by_sub: dict[int, list] = {}
    for i, j, d in zip(rows.tolist(), cols.tolist(), scores.tolist()):
        by_sub.setdefault(i, []).append((j, d))
    chains, current = [], []
    for i in sorted(by_sub):
        options = by_sub[i]
        if current and _sub_gap(sub, current[-1][0], i) <= settings.merge_gap:
            used = {c[1] for c in current}
            near = [o for o in options if o[0] not in used and _src_distance(src, current, o[0]) <= settings.source_window]
            if near:
                j, d = max(near, key=lambda o: o[1])
                current.append((i, j, d))
                continue
        if current:
            chains.append(current)
        j, d = max(options, key=lambda o: o[1])
        current = [(i, j, d)]
    if current:
        chains.append(current)
    return chains


def _sub_gap(fp: Fingerprint, last: int, nxt: int) -> int:
    return int(fp.bounds[nxt][0] - fp.bounds[last][1])


def _src_distance(src: Fingerprint, chain: list, j: int) -> int:
    lo = min(src.bounds[c[1]][0] for c in chain)
    hi = max(src.bounds[c[1]][1] for c in chain)
    start, end = src.bounds[j]
    return int(max(0, lo - end, start - hi))


# ---------------------------------------------------------------- refinement


def _refine(chain: list, sub: Fingerprint, src: Fingerprint, doc_id: int) -> Alignment:
    """Trim a chain's outer segments to the characters that really match, and measure it.

    Only the first and last segments are trimmed (each aligned with its own match), so clause and
    sentence reordering inside the passage does not cut it short.
    """
    blocks = {(i, j): _equal_blocks(_content(sub, i), _content(src, j)) for i, j, _ in chain}
    first, last = chain[0][:2], chain[-1][:2]
    sub_start = int(sub.bounds[first[0]][0]) + _head(blocks[first], 0)
    sub_end = int(sub.bounds[last[0]][1]) - _tail(blocks[last], 0, len(_content(sub, last[0])))
    lowest = min(chain, key=lambda c: src.bounds[c[1]][0])[:2]
    highest = max(chain, key=lambda c: src.bounds[c[1]][1])[:2]
    src_start = int(src.bounds[lowest[1]][0]) + _head(blocks[lowest], 1)
    src_end = int(src.bounds[highest[1]][1]) - _tail(blocks[highest], 1, len(_content(src, highest[1])))
    if highest == last:  # in-order ending: the match may run on past the segment boundary
        grow_sub, grow_src = _extension(sub.content[sub_end : sub_end + 80], src.content[src_end : src_end + 80])
        sub_end, src_end = sub_end + grow_sub, src_end + grow_src
    if lowest == first:
        grow_sub, grow_src = _extension(sub.content[max(0, sub_start - 80) : sub_start][::-1],
                                        src.content[max(0, src_start - 80) : src_start][::-1])
        sub_start, src_start = sub_start - grow_sub, src_start - grow_src
    sub_end, src_end = max(sub_start, sub_end), max(src_start, src_end)
    lengths = np.array([sub.bounds[i][1] - sub.bounds[i][0] for i, _, _ in chain], dtype=float)
    scores = np.array([d for _, _, d in chain])
    # segment Dice survives reordering; the character alignment rewards matches that cross segment boundaries
    char_similarity = Indel.normalized_similarity(sub.content[sub_start:sub_end], src.content[src_start:src_end])
    return Alignment(
        doc_id=doc_id,
        sub_span=(sub_start, sub_end),
        src_span=(src_start, src_end),
        similarity=max(float((lengths * scores).sum() / lengths.sum()), char_similarity),
        evidence=max(float((lengths * scores).sum()), char_similarity * (sub_end - sub_start)),
        matched_chars=sum(n for bl in blocks.values() for _, _, n in bl),
        sub_segments=tuple(i for i, _, _ in chain),
    )


def _extension(a: str, b: str, max_gap: int = 2, first_block: int = 4, min_block: int = 2) -> tuple[int, int]:
    """How far two texts that continue a match keep matching densely: (chars of a, chars of b).

    The first block must be longer than a chance match of a common word ("方面", "工作") at the boundary.
    """
    if not a or not b:
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


def _content(fp: Fingerprint, index: int) -> str:
    start, end = fp.bounds[index]
    return fp.content[start:end]


def _head(blocks: list, side: int) -> int:
    """Unmatched characters before the first equal block, on side 0 (submission) or 1 (source)."""
    return blocks[0][side] if blocks else 0


def _tail(blocks: list, side: int, length: int) -> int:
    """Unmatched characters after the last equal block."""
    return length - (blocks[-1][side] + blocks[-1][2]) if blocks else 0


def _equal_blocks(a: str, b: str, min_edge: int = 3) -> list[tuple[int, int, int]]:
    """Matching blocks (a_start, b_start, length) of a character alignment, without tiny blocks at the edges."""
    blocks = [(op.src_start, op.dest_start, op.src_end - op.src_start) for op in Indel.opcodes(a, b) if op.tag == "equal"]
    while blocks and blocks[0][2] < min_edge:
        blocks.pop(0)
    while blocks and blocks[-1][2] < min_edge:
        blocks.pop()
    return blocks


# ---------------------------------------------------------------- one source per stretch


def one_source_per_stretch(alignments: list[Alignment], max_overlap: float = 0.3) -> list[tuple[Alignment, list]]:
    """Keep the strongest alignment for each stretch of the submission; weaker ones over it become its other sources."""
    kept: list[tuple[Alignment, list]] = []
    for candidate in sorted(alignments, key=lambda a: (-a.evidence, a.doc_id, a.sub_span)):
        length = max(1, candidate.sub_span[1] - candidate.sub_span[0])
        overlaps = [(_overlap(candidate.sub_span, k.sub_span), k, others) for k, others in kept]
        overlaps = [o for o in overlaps if o[0] > 0]
        if sum(o[0] for o in overlaps) <= max_overlap * length:
            kept.append((candidate, []))
            continue
        _, owner, others = max(overlaps, key=lambda o: o[0])
        if _overlap(candidate.sub_span, owner.sub_span) >= 0.5 * length and candidate.doc_id != owner.doc_id:
            others.append(candidate)
    return sorted(kept, key=lambda k: k[0].sub_span)


def _overlap(a: tuple, b: tuple) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))
