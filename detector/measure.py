"""The measures a discipline office reads: copy ratios over the characters of a submission."""

from __future__ import annotations

import numpy as np

from detector.model import COUNTED_KINDS, Passage


def measure(text: str, passages: list[Passage]) -> dict:
    """Copy ratio and friends; ratios are over non-whitespace characters of the original text."""
    counted = np.array([not ch.isspace() for ch in text], dtype=bool)
    total = int(counted.sum()) or 1
    reused = _covered(counted, [p for p in passages if p.kind in COUNTED_KINDS])
    by_source: dict[str, list] = {}
    for p in passages:
        if p.kind in COUNTED_KINDS:
            by_source.setdefault(p.source.path, []).append(p)
    largest = max((_covered(counted, ps) for ps in by_source.values()), default=0)
    return {
        "copy_ratio": round(reused / total, 4),
        "reused_chars": reused,
        "counted_chars": total,
        "formula_chars": _covered(counted, [p for p in passages if p.kind == "formula"]),
        "largest_source_ratio": round(largest / total, 4),
        "sources": len(by_source),
    }


def _covered(counted: np.ndarray, passages: list) -> int:
    """Non-whitespace characters inside the union of the passages' submission spans."""
    mask = np.zeros(len(counted), dtype=bool)
    for p in passages:
        mask[p.submission_span[0] : p.submission_span[1]] = True
    return int((mask & counted).sum())
