"""What the batch renderers show, computed once from a scan as recorded: the ranking, each submission's sources and kinds, the clusters."""

from __future__ import annotations

import os

from detector.model import COUNTED_KINDS, KINDS

KIND_NAMES = {"copied": "复制", "template": "模板", "self_reuse": "本人旧稿", "formula": "规范提法", "quotation": "引用"}
METRIC_NAMES = {
    "copy_ratio": "总文字复制比",
    "reused_chars": "重复字数",
    "largest_source_ratio": "单篇最大文字复制比",
    "formula_chars": "规范提法字数",
    "counted_chars": "总字数（不含空白）",
    "sources": "来源篇数",
    "copy_ratio_excluding_self": "去除本人复制比",
    "self_reuse_ratio": "本人旧稿复制比",
    "self_reuse_chars": "本人旧稿字数",
    "template_ratio": "模板复制比",
    "template_chars": "模板字数",
    "other_authors_ratio": "他人复制比",
    "copied_chars": "他人复制字数",
    "quotation_chars": "引用字数",
    "template_traces": "模板痕迹",
    "problems_copy_ratio": "问题部分复制比",
    "causes_copy_ratio": "原因部分复制比",
    "measures_copy_ratio": "措施部分复制比",
}


def build_view(scan: dict, rows: list[dict], clusters: list[dict]) -> dict:
    """{"scan", "submissions" (input order), "ranked" (submissions by copy ratio), "clusters"} for the renderers."""
    submissions = [_submission(row, rows) for row in rows]
    ranked = sorted(submissions, key=_rank_key)
    for rank, sub in enumerate(ranked, start=1):
        sub["rank"] = rank
    for cluster in clusters:
        for pos in cluster["members"]:
            submissions[pos]["clusters"].append(cluster["id"])
    return {"scan": scan, "submissions": submissions, "ranked": ranked,
            "clusters": [_cluster(c, submissions) for c in clusters]}


def _rank_key(sub: dict) -> tuple:
    m = sub["metrics"]
    return (sub["error"] is not None, -m.get("copy_ratio", 0), -m.get("reused_chars", 0), sub["path"])


def _submission(row: dict, rows: list[dict]) -> dict:
    report = row["report"]
    passages = [_passage(n, p, peer, rows) for n, (p, peer) in enumerate(zip(report["passages"], row["peers"]), start=1)]
    return {"position": row["position"], "page": page_name(row["position"]), "path": row["path"],
            "name": os.path.basename(row["path"]) or row["path"], "text": row["text"] or "", "error": row["error"],
            "submission": report["submission"], "metrics": report.get("metrics") or {}, "passages": passages,
            "sources": _sources(passages, row["text"] or "", report.get("metrics") or {}), "kinds": _kind_chars(passages, row["text"] or ""),
            "clusters": [], "report": report}


def page_name(position: int) -> str:
    """The file name of a submission's page (by input position: stable across re-renders)."""
    return f"s{position + 1:03d}.html"


def _passage(n: int, passage: dict, peer, rows: list[dict]) -> dict:
    start, end = passage["submission_span"]
    src = {**passage["source"], "name": os.path.basename(passage["source"]["path"]) or passage["source"]["path"],
           "peer": peer, "peer_page": page_name(peer) if peer is not None else None}
    return {**passage, "n": n, "start": start, "end": end, "peer": peer, "src": src}


def _sources(passages: list[dict], text: str, metrics: dict) -> list[dict]:
    """Sources of counted passages, most reused characters first (characters as measure.py counts them: no whitespace)."""
    total = metrics.get("counted_chars") or sum(not ch.isspace() for ch in text) or 1
    grouped: dict = {}
    for p in passages:
        if p["kind"] in COUNTED_KINDS:
            grouped.setdefault((p["source"]["path"], p["peer"]), []).append(p)
    sources = []
    for (path, peer), group in grouped.items():
        chars = _covered(text, [(p["start"], p["end"]) for p in group])
        sources.append({**group[0]["src"], "chars": chars, "ratio": round(chars / total, 4), "passages": [p["n"] for p in group],
                        "kinds": sorted({p["kind"] for p in group}, key=KINDS.index)})
    return sorted(sources, key=lambda s: (-s["chars"], s["path"]))


def _kind_chars(passages: list[dict], text: str) -> dict:
    """Characters of the submission inside passages of each kind (kinds with none left out)."""
    found = {}
    for kind in KINDS:
        spans = [(p["start"], p["end"]) for p in passages if p["kind"] == kind]
        if spans:
            found[kind] = _covered(text, spans)
    return found


def _covered(text: str, spans: list) -> int:
    """Non-whitespace characters of `text` inside the union of the spans."""
    covered = bytearray(len(text))
    for start, end in spans:
        covered[start:end] = b"\x01" * (min(end, len(text)) - start)
    return sum(1 for ch, c in zip(text, covered) if c and not ch.isspace())


def _cluster(cluster: dict, submissions: list[dict]) -> dict:
    members = sorted((submissions[m] for m in cluster["members"]), key=lambda s: s["rank"])
    shared = [{**s, "member_subs": [submissions[m] for m in s["members"]]} for s in cluster["shared"]]
    return {**cluster, "member_subs": members, "shared": shared}


def kind_label(kind: str) -> str:
    return f"{KIND_NAMES.get(kind, kind)} {kind}"
