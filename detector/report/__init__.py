"""Renderers: one per output format, each taking the typed Reports and returning text."""

from detector.report.folder import write_reports
from detector.report.json_report import render_json, report_dict
from detector.report.summary import render_summary
from detector.report.text_report import render_text

RENDERERS = {"text": render_text, "json": render_json}

__all__ = ["RENDERERS", "render_json", "render_summary", "render_text", "report_dict", "write_reports"]
