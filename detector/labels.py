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
    meaning_zh: str  # what it means for the person deciding on the evidence (the report's legend)
    meaning_en: str


@dataclasses.dataclass(frozen=True)
class MeasureLabel:
    """A measure of a report: its key in the JSON `metrics`, the name users know, an English gloss."""

    key: str
    zh: str
    en: str
    ratio: bool = True  # a share of the counted characters (shown as a percentage), else a count


KINDS = (
    KindLabel("copied", "复制", "copied from another author", "#f9b3b3", "#d92d20", "red", True,
              "与另一位作者的某一篇材料相同或相近，来源即该篇。",
              "matches one specific document of another author: the source named."),
    KindLabel("template", "模板", "template", "#e2b8f3", "#9b3fc1", "magenta", True,
              "多位作者、多个单位或年度的材料中都有的段落，多为流传的范文；所列来源只是载有它的其中一篇，不能据此认定抄自该篇。",
              "found in documents of several authors, units or years (a circulating template); the source named is one "
              "of them, not necessarily the one copied."),
    KindLabel("self_reuse", "本人旧稿", "own earlier report", "#bfe3ff", "#1570c9", "blue", True,
              "与本人（班子材料为本单位）往年的材料相同：照搬旧稿，另列统计，不算抄袭他人。",
              "the author's (a team report: the unit's) own earlier report; counted apart, not copying from others."),
    KindLabel("formula", "规范提法", "official formula", "#e4e7ea", "#7b8794", "cyan", False,
              "人人都须使用的规范表述和标题（如“四个意识”），不计入复制比，不是抄袭。",
              "an official formula or heading everyone must write; not counted, not copying."),
    KindLabel("quotation", "引用", "quotation", "#c4efcf", "#2f9e55", "green", False,
              "注明出处的引文（如 习近平总书记强调，“……”），不计入复制比，不是抄袭。",
              "a quotation of a leader or a document, cited; not counted, not copying."),
)
KIND = {k.kind: k for k in KINDS}
# beside a source that is another submission of the same batch (本批) or a source of the submission's year or
# later (同年): which of the two was written first is not something a comparison can tell, and the wrong guess accuses
# the person who was copied
ORDER_NOTE_ZH = ("标“本批”的来源是本批次的另一份材料，标“同年”的来源与本文同一年度或更晚。这样的两份材料雷同时，双方都会显示为"
                 "从对方“复制”：比对无法判断谁抄了谁，请核实各自的成稿时间后再下结论。")
ORDER_NOTE_EN = ("本批 marks another submission of this batch, 同年 a source of the submission's year or later. When two "
                 "such reports match, each shows the other as its source: the comparison cannot tell who copied whom; check when "
                 "each was written before deciding.")

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
