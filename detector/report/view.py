"""The presentation model of a batch scan, built once from the typed reports: what every renderer shows, read from the reports' own measures."""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Optional

from detector.messages import localized
from detector.paths import shown
from detector.model import COUNTED_KINDS, Passage, Report, SourceRef, SourceShare
from detector.labels import CHARS_OF_KIND, DEFAULT_RANKING, KINDS, RANKING_MEASURES


@dataclasses.dataclass
class ScanInfo:
    """A scan as the history records it (id None: not recorded)."""

    id: Optional[int]
    started_at: str  # ISO 8601, UTC
    seconds: float
    paths: list
    files: int
    failed: int
    corpus_documents: Optional[int] = 0  # None: the corpus could not be read (the store stopped answering first)
    clusters: int = 0
    not_scanned: int = 0  # submissions read but not scanned: the store stopped answering (`stopped` says how)
    stopped: Optional[str] = None
    rechecks: Optional[int] = None
    max_copy_ratio: Optional[float] = None
    settings: dict = dataclasses.field(default_factory=dict)
    options: dict = dataclasses.field(default_factory=dict)
    db: str = ""

    def as_dict(self) -> dict:
        """The listing of `chachong scans --format json`."""
        keys = ("id", "started_at", "seconds", "paths", "files", "failed", "max_copy_ratio", "corpus_documents", "clusters",
                "rechecks")
        return {k: getattr(self, k) for k in keys}

    @property
    def local_time(self) -> str:
        """When the scan started, in the local time zone (YYYY-MM-DD HH:MM:SS)."""
        return local_time(self.started_at)

    @property
    def stopped_both(self) -> Optional[str]:
        """Why the scan stopped before every submission was scanned, Chinese first where its phrases are known."""
        return None if self.stopped is None else _both(self.stopped)


@dataclasses.dataclass
class SourceLink:
    """A source document as a renderer links to it: a corpus file, or another submission of the batch (peer)."""

    ref: SourceRef
    peer: Optional[int] = None  # batch position of the submission it is
    submission_year: Optional[int] = None  # the year of the submission it is a source of
    label: Optional[str] = None  # the name shown, where the file name alone is another file's too (build_view)

    @property
    def path(self) -> str:
        return shown(self.ref.path)

    @property
    def name(self) -> str:
        return self.label or os.path.basename(self.path) or self.path

    @property
    def peer_page(self) -> Optional[str]:
        return page_name(self.peer) if self.peer is not None else None

    @property
    def who(self) -> str:
        return who(self.ref)

    @property
    def same_year(self) -> bool:
        """A stored report of the submission's year or later: which of the two came first is open, as for a peer."""
        year = self.ref.year
        return self.peer is None and None not in (year, self.submission_year) and year >= self.submission_year


@dataclasses.dataclass
class PassageView:
    """A passage numbered as shown (n from 1), with its source link."""

    n: int
    passage: Passage
    src: SourceLink
    shared_traces: list = dataclasses.field(default_factory=list)  # template-site marks both texts carry inside it

    def __getattr__(self, name):
        if name in ("passage", "n", "src", "shared_traces"):
            raise AttributeError(name)
        return getattr(self.passage, name)  # kind, similarity, source_span, submission_text …

    @property
    def start(self) -> int:
        return self.passage.submission_span[0]

    @property
    def end(self) -> int:
        return self.passage.submission_span[1]

    @property
    def peer(self) -> Optional[int]:
        return self.src.peer


@dataclasses.dataclass
class SourceView:
    """One ranked source of a submission: the report's own SourceShare, with its link and the passages it supplied."""

    share: SourceShare
    link: SourceLink
    passages: list  # numbers (n) of the passages from it

    @property
    def kind(self) -> str:
        return self.share.kind

    @property
    def chars(self) -> int:
        return self.share.chars

    @property
    def ratio(self) -> float:
        return self.share.share

    @property
    def years(self):
        return self.share.years

    def __getattr__(self, name):
        if name in ("share", "link", "passages"):
            raise AttributeError(name)
        return getattr(self.link, name)  # path, name, peer, peer_page, who


@dataclasses.dataclass
class SubmissionView:
    """One submission of the batch: its report, passages, ranked sources, characters per kind, rank and clusters."""

    position: int
    report: Report
    passages: list  # PassageView
    sources: list  # SourceView, as the report ranks them
    rank: int = 0
    clusters: list = dataclasses.field(default_factory=list)
    label: Optional[str] = None  # the name shown, where the file name alone is another file's too (build_view)

    @property
    def path(self) -> str:
        return shown(self.report.submission.path)

    @property
    def name(self) -> str:
        return self.label or os.path.basename(self.path) or self.path

    @property
    def page(self) -> str:
        return page_name(self.position)

    @property
    def text(self) -> str:
        return self.report.submission.text

    @property
    def chars(self) -> int:
        return self.report.submission.chars

    @property
    def counted_chars(self) -> int:
        """Characters the ratios count (no whitespace, as Word's and CNKI's 字数): 重复字数 ÷ this = 总文字复制比."""
        return self.report.metrics.get("counted_chars", self.chars)

    @property
    def meta(self):
        return self.report.submission.meta

    @property
    def error(self) -> Optional[str]:
        return self.report.error

    @property
    def not_scanned(self) -> bool:
        return self.report.not_scanned

    @property
    def unreadable(self) -> Optional[str]:
        """Why the file could not be read (or was not scanned), in Chinese first where its phrases are known, then in English."""
        if self.report.error is None:
            return None
        if self.report.not_scanned:
            return _both(self.report.error)
        chinese = localized(self.report.error)
        english = f"could not be read: {self.report.error}"
        return f"无法读取：{chinese} — {english}" if chinese != self.report.error else f"无法读取 {english}"

    @property
    def metrics(self) -> dict:
        return self.report.metrics

    @property
    def writing_order_open(self) -> bool:
        """Whether a counted source is another submission of the batch or of the same year or later (its pages then say
        who copied whom is open)."""
        return any(src.peer is not None or src.same_year for src in self.sources)

    @property
    def kinds(self) -> dict:
        """Characters of each kind found (from the measures; kinds with none left out)."""
        found = {k.kind: self.metrics.get(CHARS_OF_KIND[k.kind], 0) for k in KINDS}
        return {kind: chars for kind, chars in found.items() if chars}


@dataclasses.dataclass
class ClusterView:
    """Submissions sharing reused text, with the texts they share (as batch.find_clusters gives them)."""

    id: int
    members: list  # batch positions
    member_subs: list  # SubmissionView, best ranked first
    shared: list  # dicts: text, chars, members, member_subs, spans, sources, kinds


@dataclasses.dataclass
class ScanView:
    """Everything the text summary, HTML, CSV and JSON renderers of a batch show."""

    scan: ScanInfo
    submissions: list  # SubmissionView in input order
    ranked: list  # SubmissionView by the ranking measure
    clusters: list  # ClusterView
    rank_by: str = DEFAULT_RANKING

    @property
    def writing_order_open(self) -> bool:
        return any(sub.writing_order_open for sub in self.submissions)

    @property
    def warnings(self) -> list:
        """(path, why) of what the scan left out (files of a type not read, broken links, files the manifest does not
        list), Chinese first where its phrases are known."""
        return [(path, _both(reason)) for path, reason in self.scan.options.get("warnings", [])]


def _both(message: str) -> str:
    """A library message in Chinese, then in English (as it is when none of its phrases is known)."""
    chinese = localized(message)
    return f"{chinese} — {message}" if chinese != message else message


def compare_view(report: Report) -> ScanView:
    """The renderers' view of a two-file comparison (one submission, no batch, not recorded): `compare --out` and the
    web page's compare."""
    from detector.batch import BatchScan

    result = BatchScan(reports=[report], clusters=[], peers=[[None] * len(report.passages)], started_at="", seconds=0.0)
    info = ScanInfo(id=None, started_at="", seconds=0.0, paths=[report.submission.path], files=1, failed=0, corpus_documents=1,
                    options={"compare": True})  # the pages say 两篇对照, not a batch scan with its number
    return build_view(result, info)


def build_view(result, scan: ScanInfo, rank_by: str = DEFAULT_RANKING) -> ScanView:
    """The view of a batch scan (detector.batch.BatchScan: reports, peers, clusters), ranked by `rank_by`."""
    if rank_by not in RANKING_MEASURES:
        raise ValueError(f"rank_by {rank_by!r}: use one of {', '.join(RANKING_MEASURES)}")
    submissions = [_submission(pos, r, peers) for pos, (r, peers) in enumerate(zip(result.reports, result.peers))]
    names = _label(submissions, result.clusters)
    ranked = sorted(submissions, key=lambda s: rank_key(s, rank_by))
    for rank, sub in enumerate(ranked, start=1):
        sub.rank = rank
    for cluster in result.clusters:
        for pos in cluster["members"]:
            submissions[pos].clusters.append(cluster["id"])
    clusters = [_cluster(c, submissions, names) for c in result.clusters]
    return ScanView(scan=scan, submissions=submissions, ranked=ranked, clusters=clusters, rank_by=rank_by)


def _label(submissions: list, clusters: list) -> dict:
    """Name every submission and source by what tells its file apart from the others of the view (path → name)."""
    links = [p.src for sub in submissions for p in sub.passages] + [s.link for sub in submissions for s in sub.sources]
    sources = [src["path"] for c in clusters for shared in c["shared"] for src in shared["sources"]]
    names = distinct_names([sub.path for sub in submissions] + [link.path for link in links] + sources)
    for item in submissions + links:
        item.label = names[item.path]
    return names


def distinct_names(paths: list) -> dict:
    """Each path's shortest tail that no other of the paths ends with: its file name, or where another file has that
    name too (张三/对照检查材料.docx, 李四/对照检查材料.docx: a folder per person), its folders up to the one that differs."""
    by_name: dict = {}
    for path in dict.fromkeys(paths):
        by_name.setdefault(os.path.basename(path) or path, []).append(path.split(os.sep))
    names = {}
    for group in by_name.values():
        for parts in group:
            k = next(k for k in range(1, len(parts) + 1) if sum(other[-k:] == parts[-k:] for other in group) == 1
                     or k == len(parts))
            names[os.sep.join(parts)] = os.sep.join(parts[-k:]) or os.sep.join(parts)
    return names


def rank_key(sub: SubmissionView, rank_by: str) -> tuple:
    """Unreadable files last; then the ranking measure, then 总文字复制比, then reused characters, highest first."""
    m = sub.metrics
    return (sub.error is not None, -m.get(rank_by, 0), -m.get("copy_ratio", 0), -m.get("reused_chars", 0), sub.path)


def _submission(position: int, report: Report, peers: list) -> SubmissionView:
    year = report.submission.meta.year
    passages = [PassageView(n, p, SourceLink(p.source, peer, year), _shared_traces(p, report.template_traces))
                for n, (p, peer) in enumerate(zip(report.passages, peers), start=1)]
    return SubmissionView(position=position, report=report, passages=passages,
                          sources=[_source(share, passages, year) for share in report.sources])


def _shared_traces(passage: Passage, traces: list) -> list:
    """The template-site marks (稿子铺整理 …) inside the passage that its source's text carries too: both texts may come
    from the template site rather than one from the other."""
    start, end = passage.submission_span
    return sorted({t.text for t in traces if start <= t.span[0] and t.span[1] <= end and t.text in passage.source_text})


def _source(share: SourceShare, passages: list, year: Optional[int]) -> SourceView:
    """A ranked source with the counted passages taken from it (and through them, the batch submission it is)."""
    own = [p for p in passages if p.kind in COUNTED_KINDS and _same_source(p.source, share.source)]
    peer = next((p.peer for p in own if p.peer is not None), None)
    return SourceView(share=share, link=SourceLink(share.source, peer, year), passages=[p.n for p in own])


def _same_source(a: SourceRef, b: SourceRef) -> bool:
    if a.doc_id is not None and b.doc_id is not None:
        return a.doc_id == b.doc_id
    return a.as_dict() == b.as_dict()


def _cluster(cluster: dict, submissions: list, names: dict) -> ClusterView:
    members = sorted((submissions[m] for m in cluster["members"]), key=lambda s: s.rank)
    shared = [{**s, "member_subs": [submissions[m] for m in s["members"]], "member_chars": _member_chars(s, submissions),
               "sources": [{**src, "name": names[src["path"]]} for src in s["sources"]]}
              for s in cluster["shared"]]
    return ClusterView(id=cluster["id"], members=list(cluster["members"]), member_subs=members, shared=shared)


def _member_chars(shared: dict, submissions: list) -> list:
    """(submission, characters of it in the shared text) per member: a short template inside a long copy is joined to
    the copy's text, and the longest wording alone would say every member shares all of it."""
    spans = shared.get("spans", {})
    return [(submissions[m], sum(end - start for start, end in spans.get(str(m), []))) for m in shared["members"]]


def page_name(position: int) -> str:
    """The file name of a submission's page (by input position: stable across re-renders)."""
    return f"s{position + 1:03d}.html"


def who(ref) -> str:
    """author，unit，year of a SourceRef, DocumentMeta or dict (what is known of it)."""
    get = ref.get if isinstance(ref, dict) else (lambda k: getattr(ref, k, None))
    return "，".join(str(get(k)) for k in ("author", "unit", "year") if get(k))


def local_time(iso: str) -> str:
    """An ISO 8601 time (UTC as recorded) in the local time zone, to the second."""
    try:
        moment = datetime.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()
