"""The terminal report: a summary per submission, its passages with sources, and the reused characters highlighted."""

from __future__ import annotations

import click

from detector.model import COUNTED_KINDS, Report

KIND_LABELS = {"copied": "复制 copied", "template": "模板 template", "self_reuse": "本人旧稿 self_reuse",
               "formula": "规范提法 formula", "quotation": "引用 quotation"}
KIND_COLOURS = {"copied": "red", "template": "magenta", "self_reuse": "yellow", "formula": "cyan", "quotation": "green"}


def render_text(reports: list[Report], colour: bool = False, show_formulae: bool = False, **_) -> str:
    """All reports as readable text; `colour` adds ANSI highlights for a terminal."""
    return "\n".join(_render_one(r, colour, show_formulae) for r in reports)


def _render_one(report: Report, colour: bool, show_formulae: bool) -> str:
    doc = report.submission
    if report.error:
        return f"✗ {doc.path}: could not be read: {report.error}\n"
    m = report.metrics
    lines = [
        f"■ {doc.path}  ({doc.chars} 字)",
        f"  总文字复制比 copy ratio: {m['copy_ratio']:.1%}   重复字数 reused: {m['reused_chars']}   "
        f"单篇最大文字复制比 largest source: {m['largest_source_ratio']:.1%}   规范提法 formulae: {m['formula_chars']} 字",
    ]
    shown = [p for p in report.passages if show_formulae or p.kind in COUNTED_KINDS or p.kind == "quotation"]
    hidden = len(report.passages) - len(shown)
    for n, p in enumerate(shown, start=1):
        lines.append(_passage_lines(n, p, colour))
    if not shown:
        lines.append("  no reused passages found")
    if hidden:
        lines.append(f"  ({hidden} short official formulae not listed; --show-formulae lists them)")
    return "\n".join(lines) + "\n"


def _passage_lines(n: int, p, colour: bool) -> str:
    (a, b), (c, d) = p.submission_span, p.source_span
    label = KIND_LABELS.get(p.kind, p.kind)
    who = ", ".join(str(x) for x in (p.source.author, p.source.unit, p.source.year) if x)
    head = f"  [{n}] {label}  sim {p.similarity:.2f}  chars {a}–{b} ← {p.source.path} {c}–{d}" + (f" ({who})" if who else "")
    if p.document_count > 1:
        head += f"  · found in {p.document_count} documents"
    sub_text = _style(_one_line(p.submission_text), p.kind, colour)
    return f"{head}\n      本文: {sub_text}\n      来源: {_one_line(p.source_text)}"


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _style(text: str, kind: str, colour: bool) -> str:
    return click.style(text, fg=KIND_COLOURS.get(kind), bold=True) if colour else f"【{text}】"
