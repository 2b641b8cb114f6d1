"""Name the kind of each aligned passage: copied, or formula (short and found in many documents, or a curated official formula)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from detector.align import Alignment
from detector.fingerprint import Fingerprint
from detector.normalize import content_mask, normalize
from detector.settings import Settings

FORMULAE_FILE = Path(__file__).resolve().parent.parent / "corpus" / "formulae.txt"


def classify(alignment: Alignment, others: list, sub: Fingerprint, segment_df: dict, settings: Settings):
    """The kind of one passage, or None if it is too weak to report."""
    length = alignment.sub_span[1] - alignment.sub_span[0]
    carriers = 1 + len({o.doc_id for o in others})
    frequency = max([carriers] + [segment_df.get(sub.hashes[i], 0) for i in alignment.sub_segments])
    formula_share = _formula_share(sub.content[slice(*alignment.sub_span)], settings)
    if length <= settings.formula_max_chars and (frequency >= settings.formula_min_docs or formula_share >= 0.6):
        return "formula"
    # formulae inside a passage are not evidence of copying: discount them
    evidence = alignment.evidence * (1.0 - formula_share)
    if evidence >= settings.min_evidence and alignment.similarity >= settings.min_mean_similarity:
        return "copied"
    return None


def _formula_share(content: str, settings: Settings) -> float:
    """Share of the passage's content characters covered by curated formulae."""
    pattern = curated_formulae(settings.formulae_file)
    if pattern is None or not content:
        return 0.0
    return sum(m.end() - m.start() for m in pattern.finditer(content)) / len(content)


@functools.lru_cache(maxsize=4)
def curated_formulae(path=None):
    """One regex alternation of the curated formulae, longest first, in normalised content form."""
    path = Path(path) if path else FORMULAE_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    forms = {_content_form(line) for line in lines if line.strip() and not line.lstrip().startswith("#")}
    forms.discard("")
    if not forms:
        return None
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))


def _content_form(text: str) -> str:
    norm = normalize(text.strip())
    mask = content_mask(norm.text)
    return "".join(c for c, keep in zip(norm.text, mask) if keep)
