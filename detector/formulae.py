"""The curated official formulae (corpus/formulae.txt): one regex over normalised content, shared by aligner and classifier."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from detector.normalize import content_mask, normalize

FORMULAE_FILE = Path(__file__).resolve().parent.parent / "corpus" / "formulae.txt"


@functools.lru_cache(maxsize=4)
def curated_formulae(path=None):
    """One regex alternation of the curated formulae, longest first, in normalised content form (None if none)."""
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


def without_formulae(content: str, path=None) -> str:
    """The content with every curated formula cut out."""
    pattern = curated_formulae(path)
    return pattern.sub("", content) if pattern is not None else content


def _content_form(text: str) -> str:
    norm = normalize(text.strip())
    mask = content_mask(norm.text)
    return "".join(c for c, keep in zip(norm.text, mask) if keep)
