"""Spreadsheet files of a batch scan: results.csv (one row per submission) and passages.csv (one row per passage), UTF-8 with BOM for Excel.

Headers carry the names users know (总文字复制比 …); ratios are percentages as CNKI shows them, one measure per
column. The machine names are those of the JSON contract (results.json).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from detector.paths import shown
from detector.labels import MEASURE, kind_name, measure_name
from detector.files import atomic_text, private_folder
from detector.report.view import ScanView

# the measures of results.csv, each its own column, in the order users know them
RESULT_MEASURES = ("copy_ratio", "copy_ratio_excluding_self", "other_authors_ratio", "self_reuse_ratio", "template_ratio",
                   "largest_source_ratio", "reused_chars", "copied_chars", "self_reuse_chars", "template_chars",
                   "formula_chars", "quotation_chars", "problems_copy_ratio", "causes_copy_ratio", "measures_copy_ratio")
RESULT_COLUMNS = ("排名", "文件", "路径", "字数", *(measure_name(k) for k in RESULT_MEASURES), "主要来源", "群组",
                  "作者", "单位", "年度", "页面", "错误", "扫描时间")
# 本人旧稿年度: the years of a self_reuse passage ("2022 → 2024"); beside 来源年度 a bare 年度 read as the submission's year
PASSAGE_COLUMNS = ("排名", "文件", "作者", "段落", "类型", "类型代码", "本文起", "本文止", "来源", "来源在本批", "来源作者", "来源单位",
                   "来源年度", "来源起", "来源止", "相似度", "见于篇数", "本人旧稿年度", "本文文字", "来源文字")

# a cell starting with one of these is a formula to a spreadsheet; submission text is untrusted
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_csv(view: ScanView, out_dir) -> list[Path]:
    """Write results.csv and passages.csv into `out_dir`; returns the files written."""
    out = private_folder(out_dir)
    results = _write(out / "results.csv", RESULT_COLUMNS, result_rows(view))
    passages = _write(out / "passages.csv", PASSAGE_COLUMNS, passage_rows(view))
    return [results, passages]


def render_results_csv(view: ScanView) -> str:
    """results.csv as text (no BOM), for standard output."""
    buffer = io.StringIO()
    _table(buffer, RESULT_COLUMNS, result_rows(view))
    return buffer.getvalue()


def _write(path: Path, columns: tuple, rows) -> Path:
    with atomic_text(path, encoding="utf-8-sig", newline="") as handle:
        _table(handle, columns, rows)
    return path


def _table(handle, columns: tuple, rows) -> None:
    writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def percent(ratio) -> str | None:
    """0.1234 → 12.3% (as CNKI shows a ratio); None stays empty."""
    return None if ratio is None else f"{ratio * 100:.1f}%"


def result_rows(view: ScanView):
    """One dict per submission, in rank order."""
    for sub in view.ranked:
        meta, failed = sub.meta, sub.error is not None
        measures = {} if failed else {measure_name(k): _measure(k, sub.metrics.get(k)) for k in RESULT_MEASURES}
        yield {"排名": sub.rank, "文件": sub.name, "路径": sub.path, "字数": None if failed else sub.counted_chars, **measures,
               "主要来源": "; ".join(_top_source(s) for s in sub.sources[:3]),
               "群组": "; ".join(str(c) for c in sub.clusters), "作者": meta.author, "单位": meta.unit, "年度": meta.year,
               "页面": None if failed else sub.page, "错误": sub.unreadable,
               "扫描时间": view.scan.local_time}


def _top_source(src) -> str:
    """'张三2023.docx（张三，某局，2023）复制 40.0%': the file, who wrote it (a spreadsheet has no page to look it up on), kind, share."""
    who = f"（{src.who}）" if src.who else ""
    return f"{src.name}{' (本批)' if src.peer is not None else ''}{who} {kind_name(src.kind)} {percent(src.ratio)}"


def _measure(key: str, value):
    return percent(value) if MEASURE[key].ratio else value


def passage_rows(view: ScanView):
    """One dict per passage, submissions in rank order."""
    for sub in view.ranked:
        for p in sub.passages:
            src = p.source
            yield {"排名": sub.rank, "文件": sub.name, "作者": sub.meta.author, "段落": p.n, "类型": kind_name(p.kind), "类型代码": p.kind,
                   "本文起": p.start, "本文止": p.end, "来源": shown(src.path), "来源在本批": "是" if p.peer is not None else "否",
                   "来源作者": src.author, "来源单位": src.unit, "来源年度": src.year, "来源起": p.source_span[0],
                   "来源止": p.source_span[1], "相似度": p.similarity, "见于篇数": p.document_count, "本人旧稿年度": p.years,
                   "本文文字": p.submission_text, "来源文字": p.source_text}
