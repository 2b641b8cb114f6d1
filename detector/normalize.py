"""Normalise text for matching only (width, case, traditional forms, whitespace, template junk, years, placeholders), keeping a map back to the original."""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from pathlib import Path

import numpy as np

from detector.errors import NestedWatermarks
from detector.settings import MAX_NORMALIZE_ROUNDS

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
UNNAMED_TEXT = "<text>"  # the name a text given without a file goes by in an error
NESTED_WATERMARKS = (f"template-site watermarks (稿子铺, ##paid##, 来源:网络 …) are nested inside one another more than "
                     f"{MAX_NORMALIZE_ROUNDS} deep, as no real report has them (a crafted text, whose normalising would "
                     "take minutes); remove the watermarks, or ask for a clean copy of the report")
_JUNK = re.compile("|".join(TEMPLATE_TRACE_PATTERNS))
_JUNK_ANCHOR = re.compile("稿子铺|##|来源:?(?:网络|互联网)|免费(?:下载|获取)")  # in every match of _JUNK; in few texts
# Each pattern below begins with a character class, so that `re` skips in C to the few places a match can start
# (a pattern that begins with a look-behind is tried at every character).
# Years: 1940–2099 in ASCII digits not inside a longer number, or four Chinese numerals before 年.
_DIGIT_YEAR = re.compile(r"[12](?<![0-9].)(?:(?<=1)9[4-9]|(?<=2)0[0-9])[0-9](?![0-9])")
_NUMERAL_YEAR_END = re.compile(r"年(?<=[〇零○一二三四五六七八九]{4}年)")  # the year: the four characters before
# Placeholders (市x局, ××同志, ○○○): after its first character, each branch checks by look-behind which one it was.
_PLACEHOLDER = re.compile(
    r"[x×*○](?:(?<=[\u3400-\u9fff][x×*])[x×*]{0,2}|(?<=[x×*])[x×*]{0,2}(?=[\u3400-\u9fff])"
    r"|(?<=○)○+|(?<=\*)\*+|(?<=×)×+)"
)
_PLACEHOLDER_CHARACTERS = "x×*○"
# Numbering at the start of a line or sentence: (一) 一、 1. 1、 一是 首先 其次 再次 最后 第一,
_NUMBERING = (
    r"\([一二三四五六七八九十0-9]{1,3}\)|[一二三四五六七八九十]{1,3}、|[0-9]{1,2}[.、](?![0-9])"
    r"|[一二三四五六七八九十]{1,2}是[,:]?|首先[,:]?|其次[,:]?|再次[,:]?|最后[,:]?|第[一二三四五六七八九十]{1,2}[,、:]"
)
_NUMBERING_AFTER_BREAK = re.compile(f"[\n。!?;]({_NUMBERING})")
_NUMBERING_RUN_AFTER_BREAK = re.compile(f"[\n。!?;]((?:{_NUMBERING})+)")  # 一是首先: what passes remove one by one


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
    """Fold `text` for matching; every character of the result maps back to the original text.

    The result is the fixed point of rounds of four passes (junk, years, placeholders, numbering), so that
    normalising twice changes nothing. Once a round removes no junk, the rounds after it can change only
    numbering: years and placeholders become tokens that no pattern reads, a second pass of either finds
    nothing new, and removing numbering puts a sentence break before what followed it, where no junk, year or
    placeholder can newly begin or span. Those rounds remove, after each break, one numbering after another
    until none follows: each run of numbering after a break at once. (tests/test_normalize_reference.py
    holds this to whole rounds.)

    Watermarks nested inside one another take a round per level: a text that needs more than
    MAX_NORMALIZE_ROUNDS rounds is crafted, and raises NestedWatermarks after them (see refuse_nested_watermarks).
    """
    folded = _fold_characters(text)
    for _ in range(MAX_NORMALIZE_ROUNDS):
        junk = _junk_spans(folded.text)
        folded = _substitute(folded, junk, "")
        folded = _substitute(folded, _year_spans(folded.text), YEAR_TOKEN)
        folded = _substitute(folded, _placeholder_spans(folded.text), PLACEHOLDER_TOKEN)
        if not junk:
            return _substitute(folded, _numbering_spans(folded.text, _NUMBERING_RUN_AFTER_BREAK), "")
        folded = _substitute(folded, _numbering_spans(folded.text, _NUMBERING_AFTER_BREAK), "")
    raise NestedWatermarks(UNNAMED_TEXT, NESTED_WATERMARKS)


def refuse_nested_watermarks(text: str, path) -> None:
    """Raise NestedWatermarks naming `path` when normalising `text` would take more than MAX_NORMALIZE_ROUNDS rounds.

    A text with no watermark (nearly every report) takes one round: folding it and one search tell so, a tenth of
    normalising it. Only a text with a watermark is normalised here to count its rounds.
    """
    if _JUNK_ANCHOR.search(_fold_characters(text).text) is None:
        return
    try:
        normalize(text)
    except NestedWatermarks as err:
        raise NestedWatermarks(path, err.reason) from None


def _junk_spans(text: str) -> list[tuple[int, int]]:
    if _JUNK_ANCHOR.search(text) is None:
        return []
    return [match.span() for match in _JUNK.finditer(text)]


def _year_spans(text: str) -> list[tuple[int, int]]:
    """Years in digits and in numerals: their characters differ, so the two kinds never overlap."""
    digits = [match.span() for match in _DIGIT_YEAR.finditer(text)]
    numerals = [(match.start() - 4, match.start()) for match in _NUMERAL_YEAR_END.finditer(text)]
    return sorted(digits + numerals) if numerals else digits


def _placeholder_spans(text: str) -> list[tuple[int, int]]:
    if not any(character in text for character in _PLACEHOLDER_CHARACTERS):
        return []
    return [match.span() for match in _PLACEHOLDER.finditer(text)]


def _numbering_spans(text: str, pattern: re.Pattern) -> list[tuple[int, int]]:
    """Numbering after a sentence break or at the very start (the break put in front stands for the start)."""
    return [(match.start(1) - 1, match.end() - 1) for match in pattern.finditer("\n" + text)]


def template_traces(text: str) -> list[tuple[int, int, str]]:
    """Watermarks and paywall markers of template sites found in the original text, as (start, end, text)."""
    folded = _fold_characters(text)
    if _JUNK_ANCHOR.search(folded.text) is None:
        return []
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
    return _fold_expanding(text, mapped)


def _fold_expanding(text: str, mapped: np.ndarray) -> NormalizedText:
    """Texts with characters that fold to several characters (①, ㈠, ℃, Ⅱ …): each takes as many places as it gives."""
    expanding = np.nonzero(mapped == _EXPAND)[0].tolist()
    pieces = [_fold_one(text[index]) for index in expanding]
    widths = (mapped != _DELETE).astype(np.int64)
    widths[expanding] = [len(piece) for piece in pieces]
    positions = np.repeat(np.arange(len(mapped), dtype=np.int64), widths)
    codes = np.repeat(mapped, widths)
    firsts = np.cumsum(widths) - widths  # where each character's folded form begins
    for index, piece in zip(expanding, pieces):
        codes[firsts[index] : firsts[index] + len(piece)] = [ord(c) for c in piece]
    return NormalizedText(codes.astype("<u4").tobytes().decode("utf-32-le"), positions, positions + 1)


def _substitute(norm: NormalizedText, spans: list[tuple[int, int]], new: str) -> NormalizedText:
    """Replace each span by `new` (one character, or nothing), carrying the offset map along."""
    if not spans:
        return norm
    keep = np.ones(len(norm.text), dtype=bool)
    ends = norm.ends.copy()
    parts, cursor = [], 0
    for a, b in spans:
        parts.append(norm.text[cursor:a])
        if new:
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
    if _plain_ideograph(char):
        return ord(char)
    folded = _fold_one(char)
    return _DELETE if folded == "" else ord(folded) if len(folded) == 1 else _EXPAND


_IDEOGRAPH_BLOCKS = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))  # CJK Unified Ideographs and Extension A


def _plain_ideograph(char: str) -> bool:
    """A CJK unified ideograph that is not a traditional form folds to itself — no case, no NFKC decomposition, not
    a space or a format character — so its table entry needs none of _fold_one's work (~25 µs a character, most of a
    fresh process's first text). tests/test_normalize.py checks this against _fold_one for the two whole blocks."""
    code = ord(char)
    return any(low <= code <= high for low, high in _IDEOGRAPH_BLOCKS) and char not in _traditional_to_simplified()


def simplified(text: str) -> str:
    """`text` with its traditional characters written simplified, as matching folds them (names compared so)."""
    return text.translate(_simplified_table())


@functools.lru_cache(maxsize=1)
def _simplified_table() -> dict:
    return str.maketrans(_traditional_to_simplified())


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
