"""The one table of names and colours: each kind of reuse and each measure as its users know it (Chinese first)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class KindLabel:
    """How a kind of passage is named and coloured in every output."""

    kind: str
    zh: str
    en: str
    highlight: str  # background of its highlight and chip (HTML)
    strong: str  # its bar, border and underline (HTML)
    ansi: str  # its colour on a terminal (click.style fg)
    counted: bool  # counts toward 总文字复制比


@dataclasses.dataclass(frozen=True)
class MeasureLabel:
    """A measure of a report: its key in the JSON `metrics`, the name users know, an English gloss."""

    key: str
    zh: str
    en: str
    ratio: bool = True  # a share of the counted characters (shown as a percentage), else a count


KINDS = (
    KindLabel("copied", "复制", "copied from another author", "#f9b3b3", "#d92d20", "red", True),
    KindLabel("template", "模板", "template", "#e2b8f3", "#9b3fc1", "magenta", True),
    KindLabel("self_reuse", "本人旧稿", "own earlier report", "#bfe3ff", "#1570c9", "blue", True),
    KindLabel("formula", "规范提法", "official formula", "#e4e7ea", "#7b8794", "cyan", False),
    KindLabel("quotation", "引用", "quotation", "#c4efcf", "#2f9e55", "green", False),
)
KIND = {k.kind: k for k in KINDS}

# in the order a CNKI-style report shows them; the first seven are the ones users know by name
MEASURES = (
    MeasureLabel("copy_ratio", "总文字复制比", "total copy ratio"),
    MeasureLabel("copy_ratio_excluding_self", "去除本人复制比", "excluding own earlier text"),
    MeasureLabel("other_authors_ratio", "他人复制比", "copied from other authors"),
    MeasureLabel("self_reuse_ratio", "本人旧稿复制比", "own earlier reports"),
    MeasureLabel("template_ratio", "模板复制比", "from templates"),
    MeasureLabel("largest_source_ratio", "单篇最大文字复制比", "largest single source"),
    MeasureLabel("reused_chars", "重复字数", "reused characters", ratio=False),
    MeasureLabel("counted_chars", "总字数", "characters (no whitespace)", ratio=False),
    MeasureLabel("copied_chars", "他人复制字数", "characters copied from others", ratio=False),
    MeasureLabel("template_chars", "模板字数", "characters from templates", ratio=False),
    MeasureLabel("self_reuse_chars", "本人旧稿字数", "characters from own earlier reports", ratio=False),
    MeasureLabel("formula_chars", "规范提法字数", "official formulae (not counted)", ratio=False),
    MeasureLabel("quotation_chars", "引用字数", "quotations (not counted)", ratio=False),
    MeasureLabel("sources", "来源篇数", "sources", ratio=False),
    MeasureLabel("template_traces", "模板网站痕迹", "template-site traces", ratio=False),
    MeasureLabel("problems_copy_ratio", "问题部分复制比", "problems section"),
    MeasureLabel("causes_copy_ratio", "原因部分复制比", "causes section"),
    MeasureLabel("measures_copy_ratio", "措施部分复制比", "measures section"),
)
MEASURE = {m.key: m for m in MEASURES}

# the measures a batch can be ranked by and `--fail-above` can test (--rank-by / --fail-measure)
RANKING_MEASURES = ("copy_ratio_excluding_self", "copy_ratio", "other_authors_ratio", "self_reuse_ratio")
# the default: copying other people's text (colleagues' reports and templates) is what a discipline office
# acts on first; the author's own earlier text is a finding of its own, shown in its own column and colour
DEFAULT_RANKING = "copy_ratio_excluding_self"
# the parts of 总文字复制比, one bar each, in the order they are stacked
RATIO_OF_KIND = (("copied", "other_authors_ratio"), ("template", "template_ratio"), ("self_reuse", "self_reuse_ratio"))
CHARS_OF_KIND = {"copied": "copied_chars", "template": "template_chars", "self_reuse": "self_reuse_chars",
                 "formula": "formula_chars", "quotation": "quotation_chars"}


def kind_name(kind: str) -> str:
    """复制, 模板 …; an unknown kind as it is."""
    return KIND[kind].zh if kind in KIND else kind


def kind_label(kind: str) -> str:
    """复制 copied: the Chinese name and the machine name."""
    return f"{kind_name(kind)} {kind}"


def measure_name(key: str) -> str:
    return MEASURE[key].zh if key in MEASURE else key
