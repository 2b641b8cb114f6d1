"""The terminal report: a summary per submission with the measures users know, its sources, sections and passages, reused characters highlighted."""

from __future__ import annotations

from collections import Counter

import click

from detector.messages import language, said, say
from detector.model import COUNTED_KINDS, Report
from detector.paths import shown as shown_path
from detector.paths import shown_text
from detector.labels import KIND, MEASURE, kind_name

# the measures, in the order a CNKI-style report shows them, three to a line
RATIO_LINES = (("copy_ratio", "copy_ratio_excluding_self", "largest_source_ratio"),
               ("other_authors_ratio", "self_reuse_ratio", "template_ratio"))


def render_text(reports: list[Report], colour: bool = False, show_formulae: bool = False, **_) -> str:
    """All reports as readable text; `colour` adds ANSI highlights for a terminal."""
    return "\n".join(_render_one(r, colour, show_formulae) for r in reports)


def failure(report: Report) -> str:
    """Why a report has no passages: its file could not be read, or it was not scanned (the store stopped answering)."""
    return said(report.error) if report.not_scanned else say("unreadable", reason=report.error)


def _render_one(report: Report, colour: bool, show_formulae: bool) -> str:
    doc = report.submission
    if report.error:
        return f"✗ {shown_path(doc.path)}: {failure(report)}\n"
    counted = report.metrics.get("counted_chars", doc.chars)  # what the ratios count: 重复字数 ÷ 字数 = 总文字复制比
    lines = [f"■ {shown_path(doc.path)}  ({counted} 字){_meta_line(doc.meta)}", *_measure_lines(report.metrics)]
    lines += _section_lines(report) + _trace_lines(report) + _source_lines(report)
    shown = [p for p in report.passages if show_formulae or p.kind in COUNTED_KINDS or p.kind == "quotation"]
    hidden = len(report.passages) - len(shown)
    for n, p in enumerate(shown, start=1):
        lines.append(_passage_lines(n, p, colour))
    if not shown:
        lines.append("  " + say("no_passages"))
    if hidden:
        lines.append("  " + say("formulae_hidden", n=hidden))
    return "\n".join(lines) + "\n"


def _meta_line(meta) -> str:
    """  · author · unit · year · meeting · 班子/个人, with the guessed values marked (推断)."""
    team = None if meta.team is None else ("班子" if meta.team else "个人")
    values = [("author", meta.author), ("unit", meta.unit), ("year", meta.year), ("meeting", meta.meeting), ("team", team)]
    shown = [f"{shown_text(v)}{'(推断)' if k in meta.inferred else ''}" for k, v in values if v is not None]
    return "  · " + " · ".join(shown) if shown else ""


def _measure_lines(m: dict) -> list[str]:
    lines = ["  " + "   ".join(f"{_name(key)}: {m.get(key, 0):.1%}" for key in row) for row in RATIO_LINES]
    counts = [f"{_name(key)}: {m.get(key, 0)} 字" for key in ("reused_chars", "formula_chars", "quotation_chars")]
    lines.append("  " + "   ".join(counts) + (f" （规范提法、引用{say('not_counted')}）" if language() == "zh" else ""))
    return lines


def _kind(kind: str) -> str:
    """复制 in Chinese; 复制 copied (the name users know, then the machine name) otherwise."""
    return say("kind", zh=kind_name(kind), kind=kind)


def _name(key: str) -> str:
    """The name users know, with an English gloss outside a Chinese locale."""
    label = MEASURE[key]
    return label.zh if language() == "zh" else f"{label.zh} {label.en}"


def _section_lines(report: Report) -> list[str]:
    parts = [f"{s.label} {s.metrics['copy_ratio']:.1%}" for s in report.sections if s.name in ("problems", "causes", "measures", "unsectioned")]
    return [f"  {say('by_section')}: " + " · ".join(parts)] if parts else []


def _trace_lines(report: Report) -> list[str]:
    if not report.template_traces:
        return []
    counts = Counter(t.text for t in report.template_traces)
    listed = ("、" if language() == "zh" else ", ").join(f"{text} ×{n}" for text, n in counts.most_common())
    n = len(report.template_traces)
    label = "" if language() == "zh" else "模板网站痕迹: "  # the Chinese line says 含模板网站痕迹 itself
    return [f"  ⚠ {label}{say('template_traces', n=n, listed=listed)}"]


def _source_lines(report: Report, limit: int = 10) -> list[str]:
    if not report.sources:
        return []
    lines = [f"  {say('sources')}:"]
    for n, s in enumerate(report.sources[:limit], start=1):
        who = _who(s.source)
        years = f"  {s.years}" if s.years else ""
        lines.append(f"    {n}. {s.share:.1%}  {_kind(s.kind)}  {shown_path(s.source.path)}{who}{years}")
    if len(report.sources) > limit:
        lines.append("    " + say("more", n=len(report.sources) - limit))
    return lines


def _who(source) -> str:
    who = ", ".join(shown_text(x) for x in (source.author, source.unit, source.year) if x)
    return f" ({who})" if who else ""


def _passage_lines(n: int, p, colour: bool) -> str:
    (a, b), (c, d) = p.submission_span, p.source_span
    label = _kind(p.kind)
    head = f"  [{n}] {label}  {say('similarity')} {p.similarity:.2f}  {say('span', start=a, end=b)} ← {shown_path(p.source.path)} {c}–{d}{_who(p.source)}{_kind_note(p)}"
    sub_text = _style(_one_line(p.submission_text), p.kind, colour)
    return f"{head}\n      本文: {sub_text}\n      来源: {_one_line(p.source_text)}"


def _kind_note(p) -> str:
    """What makes the kind: the years of a self-reuse, the spread of a template, whom a quotation cites."""
    if p.kind == "self_reuse" and p.years:
        return f"  · {p.years}"
    if p.kind == "template":
        since = say("since", year=p.earliest_year) if p.earliest_year else ""
        return "  · " + say("in_documents", docs=p.document_count, units=p.unit_count, years=p.year_count, since=since)
    if p.kind == "quotation" and p.cited:
        return "  · " + say("cites", who=shown_text(p.cited))
    return "  · " + say("found_in", n=p.document_count) if p.document_count > 1 else ""


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return shown_text(flat if len(flat) <= limit else flat[: limit - 1] + "…")


def _style(text: str, kind: str, colour: bool) -> str:
    return click.style(text, fg=KIND[kind].ansi if kind in KIND else None, bold=True) if colour else f"【{text}】"
