"""The stable JSON contract (schema chachong/1), UTF-8 with Chinese kept readable."""

from __future__ import annotations

import json

from detector.model import Passage, Report, SectionMeasure, SourceShare

SCHEMA = "chachong/1"


def render_json(reports: list[Report], **_) -> str:
    """The whole envelope as pretty-printed JSON."""
    envelope = {"schema": SCHEMA, "reports": [report_dict(r) for r in reports]}
    return json.dumps(envelope, ensure_ascii=False, indent=2)


def report_dict(report: Report) -> dict:
    """One submission: its metadata, passages, measures, ranked sources, sections and template-site traces."""
    doc = report.submission
    data = {
        "submission": {"path": doc.path, "chars": doc.chars, **doc.meta.as_dict()},
        "passages": [passage_dict(p) for p in report.passages],
        "metrics": report.metrics,
        "sources": [source_dict(s) for s in report.sources],
        "sections": [section_dict(s) for s in report.sections],
        "template_traces": [{"span": list(t.span), "text": t.text} for t in report.template_traces],
    }
    if report.error:
        data["error"] = report.error
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
