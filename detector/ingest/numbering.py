"""Word's automatic list numbering turned back into the labels a reader sees (一、 (二) 1. ①), so they stay in the text."""

from __future__ import annotations

import re

from docx.oxml.ns import qn

_DIGITS = "〇一二三四五六七八九"
_UNITS = ((1000, "千"), (100, "百"), (10, "十"))
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_HEAVENLY_STEMS = "甲乙丙丁戊己庚辛壬癸"
_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
_PLACEHOLDER = re.compile(r"%([1-9])")


def chinese_counting(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 105 → 一百零五: the way Word's chineseCounting formats count (decimal past 9999)."""
    if not 0 < n < 10000:
        return str(n)
    parts, pending_zero = [], False
    for unit, name in _UNITS:
        digit, n = divmod(n, unit)
        if digit:
            parts.append(("零" if pending_zero else "") + _DIGITS[digit] + name)
            pending_zero = False
        elif parts:
            pending_zero = True
    if n:
        parts.append(("零" if pending_zero and parts else "") + _DIGITS[n])
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


def _roman(n: int) -> str:
    out = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def _letters(n: int) -> str:
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _from_table(table: str, n: int) -> str:
    return table[n - 1] if 0 < n <= len(table) else str(n)


_FORMATS = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: str(n).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}),
    "decimalHalfWidth": str,
    "chineseCounting": chinese_counting,
    "chineseCountingThousand": chinese_counting,
    "chineseLegalSimplified": chinese_counting,
    "ideographDigital": lambda n: "".join(_DIGITS[int(d)] for d in str(n)),
    "ideographTraditional": lambda n: _from_table(_HEAVENLY_STEMS, n),
    "decimalEnclosedCircle": lambda n: _from_table(_CIRCLED, n),
    "decimalEnclosedCircleChinese": lambda n: _from_table(_CIRCLED, n),
    "upperRoman": _roman,
    "lowerRoman": lambda n: _roman(n).lower(),
    "upperLetter": _letters,
    "lowerLetter": lambda n: _letters(n).lower(),
    "none": lambda n: "",
}


def _val(element, tag: str, default=None):
    child = element.find(qn(tag)) if element is not None else None
    return child.get(qn("w:val"), default) if child is not None else default


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class Numbering:
    """Counts list paragraphs in document order and hands out each one's label (an empty label for bullets)."""

    def __init__(self, numbering_element, styles_element):
        self._abstract = {a.get(qn("w:abstractNumId")): a for a in _children(numbering_element, "w:abstractNum")}
        self._nums = {n.get(qn("w:numId")): n for n in _children(numbering_element, "w:num")}
        self._styles = {s.get(qn("w:styleId")): s for s in _children(styles_element, "w:style")}
        self._counters: dict = {}  # abstractNumId -> {level: count}
        self._restarted: set = set()  # numIds whose startOverride has been applied

    def label(self, paragraph) -> str:
        """The label Word shows before this paragraph ('' when it is not a numbered list paragraph)."""
        num_id, level = self._num_pr(paragraph)
        num = self._nums.get(num_id)
        abstract = self._abstract.get(_val(num, "w:abstractNumId"))
        if num is None or abstract is None:
            return ""
        levels = {_int(lvl.get(qn("w:ilvl")), 0): lvl for lvl in abstract.findall(qn("w:lvl"))}
        if level not in levels:
            return ""
        counts = self._count(num_id, num, abstract, levels, level)
        return self._render(levels, level, counts)

    def _num_pr(self, paragraph) -> tuple:
        num_pr = paragraph.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        style_id = _val(paragraph.find(qn("w:pPr")), "w:pStyle")
        num_id, level = _val(num_pr, "w:numId"), _int(_val(num_pr, "w:ilvl"), None)
        if num_id is None:
            num_id, style_level = self._style_num_pr(style_id)
            level = level if level is not None else style_level
        return num_id, level or 0

    def _style_num_pr(self, style_id, depth: int = 0) -> tuple:
        style = self._styles.get(style_id)
        if style is None or depth > 10:
            return None, 0
        num_pr = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        if num_pr is not None and _val(num_pr, "w:numId") is not None:
            return _val(num_pr, "w:numId"), _int(_val(num_pr, "w:ilvl"), 0)
        return self._style_num_pr(_val(style, "w:basedOn"), depth + 1)

    def _count(self, num_id, num, abstract, levels, level) -> dict:
        key = abstract.get(qn("w:abstractNumId"))
        counts = self._counters.setdefault(key, {})
        if num_id not in self._restarted:
            self._restarted.add(num_id)
            self._apply_overrides(num, counts, levels)
        start = _int(_val(levels[level], "w:start"), 1)
        counts[level] = counts.get(level, start - 1) + 1
        for deeper in [k for k in counts if k > level]:
            del counts[deeper]  # a higher level restarts everything below it
        return counts

    @staticmethod
    def _apply_overrides(num, counts, levels) -> None:
        for override in num.findall(qn("w:lvlOverride")):
            start = _val(override, "w:startOverride")
            if start is not None:
                level = _int(override.get(qn("w:ilvl")), 0)
                counts[level] = _int(start, 1) - 1
                for deeper in [k for k in counts if k > level]:
                    del counts[deeper]

    @staticmethod
    def _render(levels, level, counts) -> str:
        lvl = levels[level]
        fmt = _val(lvl, "w:numFmt", "decimal")
        if fmt == "bullet":
            return ""
        legal = lvl.find(qn("w:isLgl")) is not None

        def number(match):
            ref = int(match.group(1)) - 1
            ref_fmt = "decimal" if legal else _val(levels.get(ref), "w:numFmt", "decimal")
            count = counts.get(ref, _int(_val(levels.get(ref), "w:start"), 1))
            return _FORMATS.get(ref_fmt, str)(count)

        text = _PLACEHOLDER.sub(number, _val(lvl, "w:lvlText", "") or "")
        return text + _separator(text, _val(lvl, "w:suff", "tab"))


def _separator(label: str, suffix: str) -> str:
    """Word puts a tab (or a space) after a label; keep a space only after a Latin one, as a typist would."""
    if not label or suffix == "nothing":
        return ""
    return " " if label[-1].isascii() else ""


def _children(element, tag: str) -> list:
    return element.findall(qn(tag)) if element is not None else []
