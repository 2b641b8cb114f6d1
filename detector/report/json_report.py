"""The stable JSON contract (schema chachong/1), UTF-8 with Chinese kept readable."""

from __future__ import annotations

import json

from detector.paths import shown
from detector.model import Document, DocumentMeta, Passage, Report, SectionMeasure, SourceRef, SourceShare, TemplateTrace

SCHEMA = "chachong/1"


def render_json(reports: list[Report], **_) -> str:
    """The whole envelope as pretty-printed JSON."""
    envelope = {"schema": SCHEMA, "reports": [report_dict(r) for r in reports]}
    return json.dumps(envelope, ensure_ascii=False, indent=2)


def report_dict(report: Report) -> dict:
    """One submission: its metadata, passages, measures, ranked sources, sections and template-site traces."""
    doc = report.submission
    data = {
        "submission": {"path": shown(doc.path), "chars": doc.chars, **doc.meta.as_dict()},
        "passages": [passage_dict(p) for p in report.passages],
        "metrics": report.metrics,
        "sources": [source_dict(s) for s in report.sources],
        "sections": [section_dict(s) for s in report.sections],
        "template_traces": [{"span": list(t.span), "text": t.text} for t in report.template_traces],
    }
    if report.capped_sources:  # sources over max_source_segments: aligned only around their matching segments
        data["capped_sources"] = list(report.capped_sources)
    if report.error:
        data["error"] = report.error
    if report.not_scanned:
        data["not_scanned"] = True
    return data


def passage_dict(passage: Passage) -> dict:
    return {
        "kind": passage.kind,
        "source": passage.source.as_dict(),
        "submission_span": list(passage.submission_span),
        "source_span": list(passage.source_span),
        "similarity": passage.similarity,
        "matched_chars": passage.matched_chars,
        "document_count": passage.document_count,
        "other_sources": [s.as_dict() for s in passage.other_sources],
        "submission_text": passage.submission_text,
        "source_text": passage.source_text,
        "unit_count": passage.unit_count,
        "year_count": passage.year_count,
        "earliest_year": passage.earliest_year,
        "years": passage.years,
        "cited": passage.cited,
    }


def source_dict(share: SourceShare) -> dict:
    return {**share.source.as_dict(), "kind": share.kind, "share": share.share, "chars": share.chars,
            "passages": share.passages, "years": share.years}


def section_dict(section: SectionMeasure) -> dict:
    return {"name": section.name, "label": section.label, "spans": [list(s) for s in section.spans], **section.metrics}


# ---------------------------------------------------------------- reading the contract back (scan history)


def report_from_dict(data: dict, text: str = "", sha256: str = "", encoding: str = "", fmt: str = "txt") -> Report:
    """The typed Report a `report_dict` was made from (the submission's text and file details come from beside it)."""
    sub = data["submission"]
    meta = DocumentMeta(author=sub.get("author"), unit=sub.get("unit"), year=sub.get("year"), meeting=sub.get("meeting"),
                        team=sub.get("team"), inferred=tuple(sub.get("inferred") or ()))
    doc = Document(path=sub["path"], text=text, sha256=sha256, encoding=encoding, format=fmt, meta=meta)
    return Report(submission=doc, passages=[passage_from_dict(p) for p in data.get("passages", [])],
                  metrics=data.get("metrics") or {}, error=data.get("error"),
                  not_scanned=bool(data.get("not_scanned")),
                  sources=[_share_from_dict(s) for s in data.get("sources", [])],
                  sections=[_section_from_dict(s) for s in data.get("sections", [])],
                  template_traces=[TemplateTrace(tuple(t["span"]), t["text"]) for t in data.get("template_traces", [])],
                  capped_sources=list(data.get("capped_sources", [])))


def source_from_dict(data: dict) -> SourceRef:
    return SourceRef(path=data["path"], author=data.get("author"), unit=data.get("unit"), year=data.get("year"),
                     meeting=data.get("meeting"), team=data.get("team"))


def passage_from_dict(data: dict) -> Passage:
    fields = {k: data[k] for k in _PASSAGE_PLAIN if k in data}
    return Passage(source=source_from_dict(data["source"]), submission_span=tuple(data["submission_span"]),
                   source_span=tuple(data["source_span"]), other_sources=[source_from_dict(s) for s in data.get("other_sources", [])],
                   **fields)


_PASSAGE_PLAIN = ("kind", "similarity", "matched_chars", "document_count", "submission_text", "source_text", "unit_count",
                  "year_count", "earliest_year", "years", "cited")


def _share_from_dict(data: dict) -> SourceShare:
    return SourceShare(source=source_from_dict(data), kind=data["kind"], chars=data["chars"], share=data["share"],
                       passages=data["passages"], years=data.get("years"))


def _section_from_dict(data: dict) -> SectionMeasure:
    metrics = {k: v for k, v in data.items() if k not in ("name", "label", "spans")}
    return SectionMeasure(data["name"], data["label"], [tuple(s) for s in data["spans"]], metrics)
