"""Normalise text for matching only (width, case, traditional forms, whitespace, template junk, years, placeholders), keeping a map back to the original."""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from pathlib import Path

import numpy as np

YEAR_TOKEN = "\ue000"  # private-use characters: folding leaves them alone and real reports do not use them
PLACEHOLDER_TOKEN = "\ue001"
TOKENS = YEAR_TOKEN + PLACEHOLDER_TOKEN
_DELETE = 0  # code point 0 in the fold table means: drop this character
_EXPAND = 0xFFFFFFFF  # the character folds to several characters: handled one by one

# Template-site junk: watermarks and paywall markers, removed for matching (reported as traces elsewhere).
TEMPLATE_TRACE_PATTERNS = (
    r"稿子铺整理",
    r"稿子铺",
    r"##paid(?:begin|end)##",
    r"##[a-z]{2,20}##",
    r"(?:本文|此文|文章)?来源[:]?(?:网络|互联网)",
    r"免费(?:下载|获取)更多范文",
)
_JUNK = re.compile("|".join(TEMPLATE_TRACE_PATTERNS))
_YEAR = re.compile(r"(?<![0-9])(?:19[4-9][0-9]|20[0-9]{2})(?![0-9])|[〇零○一二三四五六七八九]{4}(?=年)")
_PLACEHOLDER = re.compile(
    r"(?<=[\u3400-\u9fff])[x×*]{1,3}|[x×*]{1,3}(?=[\u3400-\u9fff])|○{2,}|\*{2,}|×{2,}"
)
# Numbering at the start of a line or sentence: (一) 一、 1. 1、 一是 首先 其次 再次 最后 第一,
_NUMBERING = re.compile(
    r"(?:(?<=[\n。!?;])|^)(?:\([一二三四五六七八九十0-9]{1,3}\)|[一二三四五六七八九十]{1,3}、|[0-9]{1,2}[.、](?![0-9])"
    r"|[一二三四五六七八九十]{1,2}是[,:]?|首先[,:]?|其次[,:]?|再次[,:]?|最后[,:]?|第[一二三四五六七八九十]{1,2}[,、:])"
)


@dataclasses.dataclass
class NormalizedText:
    """Folded text plus, for each of its characters, the [start, end) of the original characters it came from."""

    text: str
    starts: np.ndarray
    ends: np.ndarray

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original-text span of normalised characters [start, end)."""
        if end <= start:
            pos = int(self.starts[start]) if start < len(self.starts) else int(self.ends[-1]) if len(self.ends) else 0
            return pos, pos
        return int(self.starts[start]), int(self.ends[end - 1])


def normalize(text: str) -> NormalizedText:
    """Fold `text` for matching; every character of the result maps back to the original text."""
    folded = _fold_characters(text)
    while True:  # to a fixed point, so that normalising twice changes nothing
        before = folded.text
        folded = _substitute(folded, _JUNK, "")
        folded = _substitute(folded, _YEAR, YEAR_TOKEN)
        folded = _substitute(folded, _PLACEHOLDER, PLACEHOLDER_TOKEN)
        folded = _substitute(folded, _NUMBERING, "")
        if folded.text == before:
            return folded


def template_traces(text: str) -> list[tuple[int, int, str]]:
    """Watermarks and paywall markers of template sites found in the original text, as (start, end, text)."""
    folded = _fold_characters(text)
    return [(*folded.original_span(m.start(), m.end()), m.group()) for m in _JUNK.finditer(folded.text)]


def _fold_characters(text: str) -> NormalizedText:
    """Per-character folding (NFKC, lower case, traditional→simplified, whitespace), vectorised over the text."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    mapped = _looked_up(_FOLDS, codes, _table_entry)
    if not (mapped == _EXPAND).any():
        keep = mapped != _DELETE
        positions = np.nonzero(keep)[0].astype(np.int64)
        folded = mapped[keep].astype("<u4").tobytes().decode("utf-32-le")
        return NormalizedText(folded, positions, positions + 1)
    return _fold_slowly(text, mapped)


def _fold_slowly(text: str, mapped: np.ndarray) -> NormalizedText:
    """The rare path for texts with characters that fold to several characters (①, ㈠, ½ …)."""
    pieces, starts = [], []
    for index, code in enumerate(mapped.tolist()):
        if code == _DELETE:
            continue
        piece = _fold_one(text[index]) if code == _EXPAND else chr(code)
        pieces.append(piece)
        starts.extend([index] * len(piece))
    positions = np.array(starts, dtype=np.int64)
    return NormalizedText("".join(pieces), positions, positions + 1)


def _substitute(norm: NormalizedText, pattern: re.Pattern, new: str) -> NormalizedText:
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
            ends[a] = norm.ends[b - 1]  # the token stands for the whole match
            keep[a + 1 : b] = False
        else:
            keep[a:b] = False
        cursor = b
    parts.append(norm.text[cursor:])
    return NormalizedText("".join(parts), norm.starts[keep], ends[keep])


def _fold_one(char: str) -> str:
    """Fold a single character to characters that fold to themselves (so folding is idempotent)."""
    folded = _fold_once(char)
    while True:
        again = "".join(_fold_once(c) for c in folded)
        if again == folded:
            return folded
        folded = again


def _fold_once(char: str) -> str:
    """Traditional→simplified, NFKC, lower case; whitespace to nothing or a newline."""
    if char in "\n\r\u2028\u2029\x0b\x0c\x85":
        return "\n"
    if char.isspace() or unicodedata.category(char) in ("Cf", "Cc"):
        return ""
    char = _traditional_to_simplified().get(char, char)
    folded = "".join(c for c in unicodedata.normalize("NFKC", char).lower() if not c.isspace())
    if len(folded) > 1 and not any(c.isalnum() for c in folded):
        return char  # punctuation such as … (NFKC: ...) stays one character: it carries no content
    return folded


_UNKNOWN = 0xFFFFFFFE  # not worked out yet: tables are filled character by character as texts bring them
_FOLDS = np.full(0x110000, _UNKNOWN, dtype=np.uint32)  # fold result per code point (see _table_entry)
_CONTENT = np.full(0x110000, _UNKNOWN, dtype=np.uint32)  # 1: carries content, 0: punctuation or a break


def _looked_up(table: np.ndarray, codes: np.ndarray, entry) -> np.ndarray:
    """table[codes], first working out `entry(char)` for the code points no earlier text brought.

    Filling the tables lazily costs a few milliseconds for a new text's characters, where building
    them for every code point cost ~0.3 s at the start of every process.
    """
    found = table[codes]
    for code in sorted(set(codes[found == _UNKNOWN].tolist())):  # not np.unique: it imports numpy.ma (~7 ms)
        table[code] = entry(chr(code))
    return table[codes] if (found == _UNKNOWN).any() else found


def _table_entry(char: str) -> int:
    """What the fold table holds for a character: its folded code point, _DELETE or _EXPAND."""
    folded = _fold_one(char)
    return _DELETE if folded == "" else ord(folded) if len(folded) == 1 else _EXPAND


@functools.lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict:
    """Single-character traditional→simplified map from OpenCC's dictionary (first choice of each entry)."""
    try:
        import opencc

        path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
        lines = path.read_text(encoding="utf-8").splitlines()
    except (ImportError, OSError):
        return {}
    mapping = {}
    for line in lines:
        source, _, targets = line.partition("\t")
        target = targets.split(" ")[0] if targets else ""
        if len(source) == 1 and len(target) == 1 and source != target:
            mapping[source] = target
    return mapping


def content_mask(text: str) -> np.ndarray:
    """True for the characters that carry content (letters, digits, CJK, tokens), False for punctuation and breaks."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return _looked_up(_CONTENT, codes, _carries_content).astype(bool)


def _carries_content(char: str) -> int:
    return int(char.isalnum() or char in TOKENS)
