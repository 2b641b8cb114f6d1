"""Verbatim recall of an engine's hits against the copies planted in the submissions.

A planted copy counts as *found* when hits cover at least half of its characters (from any source: in
composed corpora the same sentences recur in other documents, and naming another carrier is right), and
as *sourced* when a hit covering it names the document it was really copied from.
"""

from __future__ import annotations

import dataclasses

import numpy as np

FOUND_SHARE = 0.5


@dataclasses.dataclass(frozen=True)
class PlantResult:
    """How well one planted copy was found."""

    chars: int
    covered: int
    sourced: bool

    @property
    def found(self) -> bool:
        return self.covered >= FOUND_SHARE * self.chars


def judge(plant, hits: list) -> PlantResult:
    """Characters of one planted copy covered by hits, and whether its true source was named."""
    covered = np.zeros(plant.end - plant.start, dtype=bool)
    sourced = False
    for hit in hits:
        start, end = max(hit.start, plant.start), min(hit.end, plant.end)
        if start < end:
            covered[start - plant.start:end - plant.start] = True
            sourced = sourced or hit.source == plant.source_label
    return PlantResult(len(covered), int(covered.sum()), sourced)


def judge_all(submissions: list, hits_per_submission: list) -> list:
    """One list of PlantResult per submission, in order."""
    return [[judge(plant, hits) for plant in sub.plants] for sub, hits in zip(submissions, hits_per_submission)]


def summary(results: list) -> dict:
    """Character recall, share of copies found and share whose source was named."""
    flat = [r for per_submission in results for r in per_submission]
    if not flat:
        return {"char_recall": None, "found": None, "sourced": None, "plants": 0}
    return {
        "char_recall": sum(r.covered for r in flat) / sum(r.chars for r in flat),
        "found": sum(r.found for r in flat) / len(flat),
        "sourced": sum(r.sourced for r in flat) / len(flat),
        "plants": len(flat),
    }


def agreement(results: list, reference: list) -> dict:
    """Planted copies the reference (brute force) found that this engine missed, and the other way round."""
    flat = [r for per_submission in results for r in per_submission]
    ref = [r for per_submission in reference for r in per_submission]
    return {
        "missed_vs_reference": sum(b.found and not a.found for a, b in zip(flat, ref)),
        "extra_vs_reference": sum(a.found and not b.found for a, b in zip(flat, ref)),
        "reference_found": sum(b.found for b in ref),
    }
