"""The printable offline HTML report of a batch scan: index.html (ranking, clusters) and one page per submission with the side-by-side view."""

from __future__ import annotations

import functools
from pathlib import Path

from markupsafe import Markup, escape

from detector.labels import (KINDS, MEASURES, ORDER_NOTE_EN, ORDER_NOTE_ZH, RANKING_MEASURES, RATIO_OF_KIND, kind_label, kind_name,
                             measure_name)
from detector.files import private_folder, write_text_atomically
from detector.report.view import ScanView, SubmissionView, who
from detector.settings import WEB_SOURCE_MARK_MIN_RUN

# nesting order of overlapping highlights, outermost first: the most serious kind sits innermost and shows its colour
_NESTING = ("formula", "quotation", "template", "self_reuse", "copied")
# the ratio columns of the ranking table (the ranking measure is one of them)
RANKING_COLUMNS = ("copy_ratio", "copy_ratio_excluding_self", "other_authors_ratio", "self_reuse_ratio")


@functools.lru_cache(maxsize=1)
def environment() -> "jinja2.Environment":
    """The packaged templates, autoescaped: submission text is untrusted and must show as text."""
    import jinja2  # here, not at the top: commands that write no HTML (compare, --help) skip its ~15 ms import

    env = jinja2.Environment(loader=jinja2.PackageLoader("detector.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=_pct, who=who, kind_label=kind_label, kind_name=kind_name, measure_name=measure_name, text=_text,
                       source_marks=source_marks)
    env.globals.update(KIND_LABELS=KINDS, MEASURE_LABELS=MEASURES, RATIO_OF_KIND=RATIO_OF_KIND,
                       ORDER_NOTE_ZH=ORDER_NOTE_ZH, ORDER_NOTE_EN=ORDER_NOTE_EN,
                       RANKING_COLUMNS=tuple(dict.fromkeys((*RANKING_COLUMNS, *RANKING_MEASURES))))
    return env


def write_html(view: ScanView, out_dir) -> list[Path]:
    """Write index.html and one page per submission into `out_dir`; returns the files written."""
    out = private_folder(out_dir)
    written = [_write(out / "index.html", render_index(view))]
    for sub in view.submissions:
        written.append(_write(out / sub.page, render_submission(view, sub)))
    return written


def render_index(view: ScanView) -> str:
    return environment().get_template("index.html").render(view=view, scan=view.scan)


def render_submission(view: ScanView, sub: SubmissionView) -> str:
    return environment().get_template("submission.html").render(view=view, scan=view.scan, sub=sub,
                                                                 pieces=highlight_pieces(sub.text, sub.passages))


def _write(path: Path, html: str) -> Path:
    return write_text_atomically(path, html)


def highlight_pieces(text: str, passages: list) -> list[dict]:
    """The text cut at every passage edge: each piece with the passages covering it, outermost first.

    Every passage becomes one highlight element per piece it covers, so overlapping passages nest and each
    element's text is exactly text[start:end] of its piece.
    """
    edges = sorted({0, len(text)} | {p.start for p in passages} | {p.end for p in passages})
    pieces = []
    for start, end in zip(edges, edges[1:]):
        covering = [p for p in passages if p.start <= start and end <= p.end]
        covering.sort(key=lambda p: (_NESTING.index(p.kind) if p.kind in _NESTING else -1, p.start, p.n))
        pieces.append({"start": start, "end": end, "text": text[start:end], "marks": covering})
    return [p for p in pieces if p["text"]]


def source_marks(source_text: str, submission_text: str, min_run: int = WEB_SOURCE_MARK_MIN_RUN) -> list[dict]:
    """The source passage cut into pieces, each marked `matched` when its characters also stand in the submission
    passage, in order (an Indel alignment, runs of at least `min_run` characters), as CNKI's 全文对照 marks them."""
    from rapidfuzz.distance import Indel

    runs = [(op.dest_start, op.dest_end) for op in Indel.opcodes(submission_text, source_text)
            if op.tag == "equal" and op.dest_end - op.dest_start >= min_run]
    pieces, at = [], 0
    for start, end in runs:
        if start > at:
            pieces.append({"start": at, "end": start, "text": source_text[at:start], "matched": False})
        pieces.append({"start": start, "end": end, "text": source_text[start:end], "matched": True})
        at = end
    if at < len(source_text):
        pieces.append({"start": at, "end": len(source_text), "text": source_text[at:], "matched": False})
    return pieces


def _text(value: str) -> Markup:
    """Escaped text whose carriage returns survive HTML parsing (a raw CR would become LF and shift every offset)."""
    return Markup(str(escape(value)).replace("\r", "&#13;"))


def _pct(value) -> str:
    return "–" if value is None else f"{value:.1%}"
