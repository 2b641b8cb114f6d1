"""The straightforward normaliser (four regular expressions, whole rounds to a fixed point) that normalize.normalize must equal."""

from __future__ import annotations

import re

import numpy as np

from detector.normalize import (
    _DELETE,
    _EXPAND,
    _FOLDS,
    PLACEHOLDER_TOKEN,
    TEMPLATE_TRACE_PATTERNS,
    YEAR_TOKEN,
    NormalizedText,
    _fold_one,
    _looked_up,
    _table_entry,
)

JUNK = re.compile("|".join(TEMPLATE_TRACE_PATTERNS))
YEAR = re.compile(r"(?<![0-9])(?:19[4-9][0-9]|20[0-9]{2})(?![0-9])|[〇零○一二三四五六七八九]{4}(?=年)")
PLACEHOLDER = re.compile(r"(?<=[\u3400-\u9fff])[x×*]{1,3}|[x×*]{1,3}(?=[\u3400-\u9fff])|○{2,}|\*{2,}|×{2,}")
NUMBERING = re.compile(
    r"(?:(?<=[\n。!?;])|^)(?:\([一二三四五六七八九十0-9]{1,3}\)|[一二三四五六七八九十]{1,3}、|[0-9]{1,2}[.、](?![0-9])"
    r"|[一二三四五六七八九十]{1,2}是[,:]?|首先[,:]?|其次[,:]?|再次[,:]?|最后[,:]?|第[一二三四五六七八九十]{1,2}[,、:])"
)


def reference_normalize(text: str) -> NormalizedText:
    """Fold, then run all four patterns in turn until a whole round changes nothing."""
    folded = fold_characters(text)
    while True:
        before = folded.text
        folded = substitute(folded, JUNK, "")
        folded = substitute(folded, YEAR, YEAR_TOKEN)
        folded = substitute(folded, PLACEHOLDER, PLACEHOLDER_TOKEN)
        folded = substitute(folded, NUMBERING, "")
        if folded.text == before:
            return folded


def reference_junk_rounds(text: str) -> int:
    """How many rounds of reference_normalize remove junk (watermarks nested k deep: k)."""
    folded, rounds = fold_characters(text), 0
    while True:
        before = folded.text
        folded = substitute(folded, JUNK, "")
        rounds += folded.text != before
        folded = substitute(substitute(substitute(folded, YEAR, YEAR_TOKEN), PLACEHOLDER, PLACEHOLDER_TOKEN), NUMBERING, "")
        if folded.text == before:
            return rounds


def fold_characters(text: str) -> NormalizedText:
    """Per-character folding; texts with a character that folds to several go through a loop over every character."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    mapped = _looked_up(_FOLDS, codes, _table_entry)
    if not (mapped == _EXPAND).any():
        keep = mapped != _DELETE
        positions = np.nonzero(keep)[0].astype(np.int64)
        return NormalizedText(mapped[keep].astype("<u4").tobytes().decode("utf-32-le"), positions, positions + 1)
    pieces, starts = [], []
    for index, code in enumerate(mapped.tolist()):
        if code == _DELETE:
            continue
        piece = _fold_one(text[index]) if code == _EXPAND else chr(code)
        pieces.append(piece)
        starts.extend([index] * len(piece))
    positions = np.array(starts, dtype=np.int64)
    return NormalizedText("".join(pieces), positions, positions + 1)


def substitute(norm: NormalizedText, pattern: re.Pattern, new: str) -> NormalizedText:
    """Replace each match by `new` (one character, or nothing), carrying the offset map along."""
    matches = list(pattern.finditer(norm.text))
    if not matches:
        return norm
    keep = np.ones(len(norm.text), dtype=bool)
    ends = norm.ends.copy()
    parts, cursor = [], 0
    for match in matches:
        a, b = match.span()
        parts.append(norm.text[cursor:a])
        if new and b > a:
            parts.append(new)
            ends[a] = norm.ends[b - 1]
            keep[a + 1 : b] = False
        else:
            keep[a:b] = False
        cursor = b
    parts.append(norm.text[cursor:])
    return NormalizedText("".join(parts), norm.starts[keep], ends[keep])
