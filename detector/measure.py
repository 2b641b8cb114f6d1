"""The measures a discipline office reads: copy ratios over the characters of a submission, per kind, per source, per section.

Every ratio is over the non-whitespace characters of the original text (of the whole submission, or of one
section). Reused characters are those inside passages of the counted kinds (copied, template, self_reuse),
less any that sit inside a citation of a leader or document: quoted words are not copying.
"""

from __future__ import annotations

import re

import numpy as np

from detector.model import COUNTED_KINDS, Passage, SectionMeasure, SourceShare

OTHERS_KINDS = ("copied", "template")  # everything counted except the author's own earlier text
SECTION_KEYS = ("counted_chars", "reused_chars", "copy_ratio", "copy_ratio_excluding_self", "self_reuse_ratio",
                "template_ratio", "other_authors_ratio", "largest_source_ratio")
SECTION_RATIOS = ("problems", "causes", "measures")  # get a flat <name>_copy_ratio in the metrics


_WHITESPACE = re.compile(r"\s")  # in a str pattern: exactly the characters str.isspace() calls whitespace


class _Basis:
    """Which characters count (non-whitespace, inside the scope) and which of them may count as reused (not quoted)."""

    def __init__(self, text: str, citations=(), scope=None):
        self.counted = np.ones(len(text), dtype=bool)
        self.counted[[m.start() for m in _WHITESPACE.finditer(text)]] = False
        if scope is not None:
            self.counted &= _mask(len(text), scope)
        self.reusable = self.counted & ~_mask(len(text), [(c.start, c.end) for c in citations])
        self.total = int(self.counted.sum())

    def reused(self, passages: list) -> int:
        return int((_mask(len(self.counted), [p.submission_span for p in passages]) & self.reusable).sum())

    def covered(self, passages: list) -> int:
        return int((_mask(len(self.counted), [p.submission_span for p in passages]) & self.counted).sum())

    def ratio(self, chars: int) -> float:
        return round(chars / (self.total or 1), 4)


def measure(text: str, passages: list[Passage], citations=(), sections=(), traces=()) -> dict:
    """Copy ratio and friends for a whole submission (the JSON `metrics`)."""
    basis = _Basis(text, citations)
    metrics = _ratios(basis, passages)
    metrics.update({
        "formula_chars": basis.covered(_of_kind(passages, ("formula",))),
        "quotation_chars": basis.covered(_of_kind(passages, ("quotation",))),
        "sources": len(_by_source(passages)),
        "template_traces": len(traces),
    })
    by_name = {m.name: m for m in section_measures(text, passages, sections, citations)}
    for name in SECTION_RATIOS:
        metrics[f"{name}_copy_ratio"] = by_name[name].metrics["copy_ratio"] if name in by_name else None
    return metrics


def _ratios(basis: _Basis, passages: list) -> dict:
    """The ratios by kind over one basis."""
    reused = basis.reused(_of_kind(passages, COUNTED_KINDS))
    by_kind = {kind: basis.reused(_of_kind(passages, (kind,))) for kind in COUNTED_KINDS}
    largest = max((basis.reused(group) for group in _by_source(passages).values()), default=0)
    return {
        "copy_ratio": basis.ratio(reused),
        "reused_chars": reused,
        "counted_chars": basis.total,
        "largest_source_ratio": basis.ratio(largest),
        "copy_ratio_excluding_self": basis.ratio(basis.reused(_of_kind(passages, OTHERS_KINDS))),
        "self_reuse_ratio": basis.ratio(by_kind["self_reuse"]),
        "self_reuse_chars": by_kind["self_reuse"],
        "template_ratio": basis.ratio(by_kind["template"]),
        "template_chars": by_kind["template"],
        "other_authors_ratio": basis.ratio(by_kind["copied"]),
        "copied_chars": by_kind["copied"],
    }


def section_measures(text: str, passages: list[Passage], sections, citations=()) -> list[SectionMeasure]:
    """The ratios over each named part of the report (sections of one name are taken together)."""
    spans: dict[str, list] = {}
    for section in sections:
        spans.setdefault(section.name, []).append((section.start, section.end))
    measures = []
    for name, ranges in spans.items():
        ratios = _ratios(_Basis(text, citations, scope=ranges), passages)
        label = next(s.label for s in sections if s.name == name)
        measures.append(SectionMeasure(name, label, ranges, {k: ratios[k] for k in SECTION_KEYS}))
    return measures


def rank_sources(text: str, passages: list[Passage], citations=()) -> list[SourceShare]:
    """Each source of counted passages with the share of the submission it supplied, largest first."""
    basis = _Basis(text, citations)
    shares = [_share(basis, group) for group in _by_source(passages).values()]
    return sorted((s for s in shares if s.chars), key=lambda s: (-s.chars, s.source.path))


def _share(basis: _Basis, group: list) -> SourceShare:
    chars = basis.reused(group)
    kind = max(COUNTED_KINDS, key=lambda k: (basis.reused(_of_kind(group, (k,))), k == group[0].kind))
    years = next((p.years for p in group if p.kind == "self_reuse" and p.years), None)
    return SourceShare(group[0].source, kind, chars, basis.ratio(chars), len(group), years)


def _by_source(passages: list) -> dict:
    """Counted passages grouped by source document."""
    groups: dict = {}
    for p in _of_kind(passages, COUNTED_KINDS):
        groups.setdefault(p.source.doc_id if p.source.doc_id is not None else p.source.path, []).append(p)
    return groups


def _of_kind(passages: list, kinds) -> list:
    return [p for p in passages if p.kind in kinds]


def _mask(length: int, spans) -> np.ndarray:
    """True inside the union of [start, end) spans."""
    mask = np.zeros(length, dtype=bool)
    for start, end in spans:
        mask[start:end] = True
    return mask
