"""Parts of the aligner checked against plain reference loops: stand-ins joining the kept passages they overlap."""

from __future__ import annotations

import random

import pytest

from detector import align
from detector.align import Alignment


def _alignment(rng: random.Random, doc_id: int) -> Alignment:
    start = rng.randrange(0, 400)
    return Alignment(doc_id=doc_id, sub_span=(start, start + rng.choice([0, 1, 5, 20, 60])), src_span=(0, 0),
                     similarity=1.0, evidence=1.0, matched_chars=0, sub_segments=())


def _reference(kept: list, stand_ins: list) -> list:
    """Each stand-in to the first kept passage of another document that it overlaps most, if that is half of it."""
    for stand_in in stand_ins:
        start, end = stand_in.sub_span
        overlaps = [max(0, min(k.sub_span[1], end) - max(k.sub_span[0], start)) * (k.doc_id != stand_in.doc_id)
                    for k, _ in kept]
        best = overlaps.index(max(overlaps))
        if overlaps[best] >= 0.5 * max(1, end - start):
            kept[best][1].append(stand_in)
    return kept


@pytest.mark.parametrize("block", [1, 7, 1_000_000])
def test_stand_ins_join_the_passages_a_plain_loop_gives(monkeypatch, block):
    monkeypatch.setattr(align, "_OVERLAPS_AT_ONCE", block)
    rng = random.Random(block)
    for _ in range(30):
        kept = [_alignment(rng, rng.randrange(4)) for _ in range(rng.randrange(1, 12))]
        stand_ins = [_alignment(rng, rng.randrange(4)) for _ in range(rng.randrange(0, 40))]
        found = align.with_carriers([(k, []) for k in kept], stand_ins)
        expected = _reference([(k, []) for k in kept], stand_ins)
        assert [[id(s) for s in others] for _, others in found] == [[id(s) for s in others] for _, others in expected]
    assert align.with_carriers([], stand_ins) == []
