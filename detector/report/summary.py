"""The ranked terminal summary of a batch scan: submissions by the ranking measure with their top sources and kinds, then the clusters."""

from __future__ import annotations

import unicodedata

import click

from detector.labels import KIND, kind_name, measure_name
from detector.messages import say
from detector.paths import shown_text
from detector.report.text_report import failure
from detector.report.view import ScanView, SubmissionView


def render_summary(view: ScanView, colour: bool = False) -> str:
    """The ranking table and the clusters as text."""
    scan = view.scan
    counts = {"files": len(view.submissions), "failed": scan.failed}
    head = say("summary_head_new", **counts) if scan.id is None else say("summary_head", id=scan.id, **counts)
    head += say("summary_not_scanned", n=scan.not_scanned) if scan.not_scanned else ""
    head += say("summary_corpus_unread") if scan.corpus_documents is None else ""
    lines = [head, "", say("summary_ranking", zh=measure_name(view.rank_by), measure=view.rank_by)]
    lines += [_ranked_line(sub, view.rank_by, colour) for sub in view.ranked]
    lines += ["", say("summary_clusters", n=len(view.clusters))]
    for cluster in view.clusters:
        lines += _cluster_lines(cluster)
    return "\n".join(lines) + "\n"


def _ranked_line(sub: SubmissionView, rank_by: str, colour: bool) -> str:
    name = _fit(sub.name, 28)
    if sub.error is not None:
        return f"{sub.rank:>4}  {'':>6}  {name}  {failure(sub.report)}"
    ratio = sub.metrics.get(rank_by, 0)
    shown = f"{ratio:6.1%}"
    if colour and ratio >= 0.1:
        shown = click.style(shown, fg="red" if ratio >= 0.3 else "yellow", bold=True)
    own = sub.metrics.get("self_reuse_ratio", 0)
    own_shown = _styled(f"{kind_name('self_reuse')} {own:.0%}", "self_reuse", colour) if own and rank_by != "self_reuse_ratio" else ""
    sources = ", ".join(f"{s.name}{'[本批]' if s.peer is not None else ''} {s.ratio:.0%}" for s in sub.sources[:3])
    kinds = " ".join(_styled(f"{kind_name(k)}{n}", k, colour) for k, n in sub.kinds.items() if k != "formula")
    clusters = " ".join(f"#{c}" for c in sub.clusters)
    return (f"{sub.rank:>4}  {shown}  {name}  {sources or '—'}" + (f"  ({own_shown})" if own_shown else "")
            + (f"  | {kinds}" if kinds else "") + (f"  群组 {clusters}" if clusters else ""))


def _styled(text: str, kind: str, colour: bool) -> str:
    return click.style(text, fg=KIND[kind].ansi) if colour and kind in KIND else text


def _cluster_lines(cluster) -> list[str]:
    members = "、".join(s.name for s in cluster.member_subs)
    lines = [f"  #{cluster.id} ({len(cluster.members)} 份): {members}"]
    for shared in cluster.shared[:3]:
        where = ", ".join(s["name"] for s in shared["sources"]) or say("summary_within_batch")
        text = shown_text(" ".join(shared["text"].split()))
        each = ", ".join(f"{sub.name} {chars} 字" for sub, chars in shared["member_chars"])
        lines.append(f"      「{text[:60]}{'…' if len(text) > 60 else ''}」 {shared['chars']} 字, {len(shared['members'])} 份 ({each}), "
                     f"来源 {where}")
    if len(cluster.shared) > 3:
        lines.append("      " + say("summary_more_shared", n=len(cluster.shared) - 3))
    return lines


def _fit(text: str, width: int) -> str:
    """Cut or pad to a display width, counting wide (Chinese) characters as two columns."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width - 1 and len(text) > len(out) + 1:
            return out + "…" + " " * (width - used - 1)
        out, used = out + ch, used + w
    return out + " " * (width - used)
