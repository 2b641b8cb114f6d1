"""Render speed results: console table, markdown for benchmarks/RESULTS.md (Speed section only), JSON, targets."""

from __future__ import annotations

import dataclasses
import math
import re

from benchmarks.speed import dbstats
from benchmarks.speed.corpora import REPO

RESULTS = REPO / "benchmarks" / "RESULTS.md"
SPEED_HEADING = "## Speed"
QUALITY_HEADING = "## Detection quality"
BRUTE = "brute-force 13-gram"
GIB = 2**30
MB = 1e6


def _num(value, digits: int = 0, scale: float = 1.0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value / scale:,.{digits}f}"


def speedup(row, rows: list):
    """Brute force's p50 divided by this engine's p50 on the same corpus."""
    brute = next((r for r in rows if r.engine == BRUTE), None)
    mine = row.latency.get("p50_ms")
    if brute is None or not mine or not brute.latency.get("p50_ms"):
        return None
    return brute.latency["p50_ms"] / mine


def main_rows(results: list) -> list:
    """One list of cells per (corpus, engine)."""
    lines = []
    for result in results:
        for row in result["rows"]:
            lines.append(_cells(result, row))
    return lines


def _cells(result: dict, row) -> list:
    rec, agree = row.recall, row.agreement
    return [
        f"{row.kind} {row.size:,}", row.engine, _num(row.docs), _num(row.chars, 1, MB), _num(row.build_s, 1),
        _num(row.docs / row.build_s if row.build_s else None), _num(row.chars / row.build_s if row.build_s else None, 0, 1e3),
        _num(row.index_bytes, 1, MB), _num(row.index_bytes / row.chars if row.chars and row.index_bytes else None, 2),
        _num(row.peak_bytes, 0, MB), _num(row.latency.get("p50_ms"), 1), _num(row.latency.get("p95_ms"), 1),
        _num(speedup(row, result["rows"]), 1), _num(rec.get("char_recall"), 3), _num(rec.get("found"), 3),
        _num(rec.get("sourced"), 3), _num(agree.get("missed_vs_reference")), row.note,
    ]


MAIN_HEADER = ["corpus", "engine", "docs", "M chars", "build s", "docs/s", "k chars/s", "index MB", "bytes/char", "peak MB",
               "scan p50 ms", "scan p95 ms", "× brute (p50)", "verbatim char recall", "copies found",
               "true source named", "missed vs brute", "note"]


def chachong_rows(results: list) -> list:
    lines = []
    for result in results:
        row, extra = result["rows"][0], result["chachong"]
        lines.append([
            f"{row.kind} {row.size:,}", _num(row.latency.get("p50_ms"), 1), _num(row.latency.get("p95_ms"), 1),
            _num(extra["nocache"]["p50_ms"], 1), _num(extra["nocache"]["p95_ms"], 1), _num(extra["fresh"]["p50_ms"], 0),
            _num(extra["fresh_peak_bytes"], 0, MB), _num(extra["batch_docs_per_s"], 2),
            _num(extra.get("parallel_ms_per_doc"), 1), "; ".join(extra["fresh_errors"])[:120],
        ])
    return lines


CHACHONG_HEADER = ["corpus", "warm p50 ms", "warm p95 ms", "no-cache p50 ms", "no-cache p95 ms", "fresh process p50 ms",
                   "fresh peak MB", "batch docs/s", "batch on all cores ms/doc (own process)", "errors"]


def ratio_rows(results: list) -> list:
    """chachong against each baseline on the same corpus: >1 means chachong is faster / smaller."""
    lines = []
    for result in results:
        cc = result["rows"][0]
        for other in result["rows"][1:]:
            lines.append([f"{cc.kind} {cc.size:,}", other.engine,
                          _ratio(cc.latency.get("p50_ms"), other.latency.get("p50_ms")),
                          _ratio(cc.latency.get("p95_ms"), other.latency.get("p95_ms")),
                          _ratio(cc.build_s, other.build_s), _ratio(cc.index_bytes, other.index_bytes)])
    return lines


RATIO_HEADER = ["corpus", "baseline", "baseline p50 ÷ chachong p50", "baseline p95 ÷ chachong p95",
                "chachong build chars/s ÷ baseline's", "baseline index bytes ÷ chachong DB bytes"]


def growth_rows(results: list) -> list:
    """Exponent k in latency ∝ size^k between consecutive sizes of one kind (1 = linear), per engine."""
    lines = []
    by_key = {}
    for result in results:
        for row in result["rows"]:
            by_key.setdefault((row.kind, row.engine), []).append(row)
    for (kind, engine), rows in by_key.items():
        for small, large in zip(rows, rows[1:]):
            lines.append([kind, engine, f"{small.size:,} → {large.size:,}", _exponent(small, large, "p50_ms"),
                          _ratio(small.build_s and small.chars / small.build_s, large.build_s and large.chars / large.build_s),
                          _ratio(small.index_bytes / small.chars if small.chars else None,
                                 large.index_bytes / large.chars if large.chars else None)])
    return lines


GROWTH_HEADER = ["kind", "engine", "sizes", "p50 latency exponent", "chars/s ratio", "bytes/char ratio"]


def _exponent(small, large, key: str) -> str:
    a, b = small.latency.get(key), large.latency.get(key)
    if not a or not b or small.size == large.size:
        return "—"
    return f"{math.log(b / a) / math.log(large.size / small.size):.2f}"


def _ratio(a, b) -> str:
    return f"{b / a:.2f}" if a and b else "—"


def targets(results: list) -> list:
    """The speed targets against the measured figures (largest reports corpus; copydetect at 10^3; brute force and
    growth at 10^4)."""
    reports = [r for r in results if r["rows"][0].kind == "reports"] or results
    if not reports:
        return []
    big = max(reports, key=lambda r: r["size"])
    cc = big["rows"][0]
    lines = [
        _target("indexing ≥ 500k chars/s", cc.chars / cc.build_s if cc.build_s else None, 500e3, ">=", f"{cc.kind} {cc.size:,}", 1e3, "k"),
        _target("scan p50 ≤ 100 ms (target at 10^5)", cc.latency.get("p50_ms"), 100, "<=", f"{cc.kind} {cc.size:,}"),
        _target("scan p95 ≤ 300 ms (target at 10^5)", cc.latency.get("p95_ms"), 300, "<=", f"{cc.kind} {cc.size:,}"),
        _target("peak memory ≤ 2 GiB", cc.peak_bytes / GIB, 2, "<=", f"{cc.kind} {cc.size:,}", 1, " GiB", 2),
        _target("database ≤ 10 bytes/char", cc.index_bytes / cc.chars, 10, "<=", f"{cc.kind} {cc.size:,}", 1, "", 2),
    ]
    lines.extend(_speedup_targets(results))
    return lines


def _speedup_targets(results: list) -> list:
    lines = []
    for result in results:
        cc = result["rows"][0]
        copydetect = next((r for r in result["rows"] if r.engine == "copydetect"), None)
        if result["size"] == 1_000 and cc.kind == "reports" and copydetect and cc.latency.get("p50_ms"):
            share = cc.latency["p50_ms"] / copydetect.latency["p50_ms"]
            lines.append(_target("scan p50 ≤ ½ copydetect's at 10^3 reports", share, 0.5, "<=", _SEQUENTIAL.format("reports 1,000"),
                                 1, "×", 2))
            parallel = result["chachong"].get("parallel_ms_per_doc")
            if parallel:
                lines.append(_target(f"batch on {result['chachong']['parallel_workers']} cores, per submission ≤ ½ "
                                     "copydetect's p50", parallel / copydetect.latency["p50_ms"], 0.5, "<=",
                                     _SEQUENTIAL.format("reports 1,000"), 1, "×", 2))
    growth = {(r["rows"][0].kind, r["size"]): r["rows"][0].latency.get("p50_ms") for r in results}
    for kind in ("reports", "items"):
        small, large = growth.get((kind, 1_000)), growth.get((kind, 10_000))
        if small and large:
            lines.append(_target("p50 growth 10^3 → 10^4 ≤ 1.6×", large / small, 1.6, "<=", _SEQUENTIAL.format(kind), 1, "×", 2))
    for result in results:
        if result["size"] != 10_000:
            continue
        cc = result["rows"][0]
        ratio = speedup(cc, result["rows"])
        missed = cc.agreement.get("missed_vs_reference")
        lines.append(_target("≥ 10× brute force at 10^4", ratio, 10, ">=", f"{cc.kind} 10,000", 1, "×", 1))
        lines.append(["no verbatim copy brute force finds is missed", f"{cc.kind} 10,000", _num(missed),
                      "not measured" if missed is None else "met" if missed == 0 else "missed"])
    return lines


# a ratio of two passes run one after the other also holds the machine's drift between them
_SEQUENTIAL = "{} (one pass after the other; `python -m benchmarks.speed.interleaved` alternates them)"


def _target(name, value, bound, sense, where, scale=1.0, unit="", digits=0) -> list:
    if value is None:
        return [name, where, "—", "not measured"]
    ok = value >= bound if sense == ">=" else value <= bound
    return [name, where, f"{value / scale:,.{digits}f}{unit}", "met" if ok else "missed"]


TARGET_HEADER = ["target", "measured on", "value", "status"]


def table(header: list, lines: list) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out.extend("| " + " | ".join(str(c) for c in line) + " |" for line in lines)
    return "\n".join(out)


def console(results: list) -> str:
    return "\n\n".join([table(MAIN_HEADER, main_rows(results)), table(RATIO_HEADER, ratio_rows(results)),
                        table(CHACHONG_HEADER, chachong_rows(results)),
                        table(GROWTH_HEADER, growth_rows(results)), table(TARGET_HEADER, targets(results))])


def markdown(facts: dict, results: list, command: str, budgets: dict) -> str:
    """The Speed section of RESULTS.md."""
    sizes = ", ".join(f"{r['kind']} {r['size']:,}" for r in results)
    biggest = max(results, key=lambda r: r["rows"][0].chars)
    parts = [
        SPEED_HEADING, "",
        f"Machine: {facts['cpu']}, {facts['cores']} cores, {facts['ram_gib']} GiB RAM, Python {facts['python']}; "
        f"date {facts['date']}; code {facts['code']}; load average at start {facts['load_average_at_start']}, at end {facts.get('load_average_at_end', '?')} (other engineers' work "
        f"shares these cores); allocator: {facts.get('allocator', 'default')}. Corpora: " + sizes + f". Command: `{command}`.", "",
        "Latencies are per ~5,000-character submission (medians/95th percentiles over the submissions, warm "
        "process); `× brute` is the brute-force matcher's p50 divided by the engine's; recall is on the verbatim "
        "copies planted in the submissions (3 per submission: one sentence, a paragraph, several paragraphs); `copies "
        "found`: at least half of a copy covered; `true source named`: a passage covering it names the document it "
        "was copied from (the composed corpora repeat sentences, so another carrier can be right too).", "",
        "Baselines keep their index in memory and scan it linearly, so each runs only up to a corpus size: "
        + ", ".join(f"{name} ≤ {chars / 1e6:.0f} M characters" for name, chars in budgets.items())
        + "; the literal `in` matcher is timed on a prefix and extrapolated. `index MB` is the SQLite file for "
        "chachong, the 13-gram hash arrays for brute force and the RSS growth while building for the others; "
        "`peak MB` is the process's peak RSS during the stage (the harness itself holds ~100–200 MB).", "",
        table(MAIN_HEADER, main_rows(results)), "", "### Ratios: chachong against each baseline", "",
        table(RATIO_HEADER, ratio_rows(results)), "", "### chachong scan modes", "",
        "warm: process and page cache warm, sources' fingerprints cached from earlier scans as in a batch; "
        "no-cache: the fingerprint cache emptied before each scan; fresh process: `python -m detector scan FILE "
        "--db DB` timed as a subprocess (start-up included); batch: `api.scan_paths` over the submissions' folder; "
        "batch on all cores: `api.scan_batch(workers=cores)`, the `chachong scan FOLDER` path (against the corpus and "
        "each other), wall time per submission.", "",
        table(CHACHONG_HEADER, chachong_rows(results)), "", "### Growth with corpus size", "",
        table(GROWTH_HEADER, growth_rows(results)), "", "### Targets", "",
        table(TARGET_HEADER, targets(results)), "",
        f"### Where the database bytes go ({biggest['kind']} {biggest['size']:,})", "",
        dbstats.markdown(biggest["chachong"]["tables"]), "",
    ]
    return "\n".join(parts)


def as_json(facts: dict, results: list) -> dict:
    return {"machine": facts, "results": [
        {"kind": r["kind"], "size": r["size"], "rows": [dataclasses.asdict(row) for row in r["rows"]],
         "chachong": r["chachong"]} for r in results]}


def write_results_section(section: str) -> None:
    """Replace (or add) the Speed section of benchmarks/RESULTS.md, leaving every other section alone."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else f"# Benchmark results\n\n{QUALITY_HEADING}\n\n(not yet measured)\n\n"
    pattern = re.compile(rf"^{re.escape(SPEED_HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    body = section.rstrip() + "\n\n"
    text = pattern.sub(lambda _: body, text) if pattern.search(text) else text.rstrip() + "\n\n" + body
    RESULTS.write_text(text, encoding="utf-8")
