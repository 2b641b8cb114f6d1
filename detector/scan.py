"""Scan one submission against a corpus in named, timed stages: fingerprint → candidates → verify → align → classify → measure."""

from __future__ import annotations

import dataclasses
import time

from detector import align, metadata, quotes, verify
from detector.classify import Context, judge
from detector.collector import collector_paused
from detector.corpus import Corpus
from detector.fingerprint import Fingerprint, distinct, fingerprint
from detector.formulae import curated_formulae
from detector.metadata import name_key, owner
from detector.paths import canonical_path, shown
from detector.measure import measure, rank_sources, section_measures
from detector.model import Document, DocumentMeta, Passage, Report, TemplateTrace
from detector.normalize import template_traces
from detector.sections import find_sections
from detector.settings import Settings

STAGES = ("fingerprint", "candidates", "verify", "align", "classify", "measure")


@dataclasses.dataclass
class Timings:
    """Seconds spent per stage, summed over the submissions of a run, and how many candidates each stage kept."""

    seconds: dict = dataclasses.field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    counts: dict = dataclasses.field(default_factory=lambda: {"submissions": 0, "candidates": 0, "verified": 0, "aligned": 0})

    def merge(self, seconds: dict, counts: dict) -> None:
        """Add another run's seconds and counts (a batch scanned in several processes)."""
        for stage, spent in seconds.items():
            self.seconds[stage] += spent
        self.count(**counts)

    def count(self, **found) -> None:
        for key, n in found.items():
            self.counts[key] += n

    def run(self, stage: str, work, *args):
        started = time.perf_counter()
        try:
            return work(*args)
        finally:
            self.seconds[stage] += time.perf_counter() - started

    def lines(self) -> list[str]:
        n = max(1, self.counts["submissions"])
        total = sum(self.seconds.values())
        rows = [f"{stage:<12}{seconds * 1000 / n:9.1f} ms{seconds / total if total else 0:8.0%}"
                for stage, seconds in self.seconds.items()]
        counts = self.counts
        return rows + [f"{'total':<12}{total * 1000 / n:9.1f} ms per submission ({counts['submissions']} scanned; "
                       f"per submission {counts['candidates'] / n:.0f} candidates, {counts['verified'] / n:.0f} verified, "
                       f"{counts['aligned'] / n:.0f} aligned)"]


def warm_up(settings: Settings) -> None:
    """Make what a process's first scan would make for every later one (the curated formulae's pattern, the fold table
    normalising builds on): before forking scanning processes, so that they share it instead of each making it."""
    curated_formulae(settings.formulae_file)


def scan_document(corpus: Corpus, doc: Document, exclude_ids=(), timings: Timings | None = None,
                  fingerprinted: Fingerprint | None = None) -> Report:
    """Every passage of `doc` found in the corpus, classified, with the measures (`fingerprinted`: its fingerprint,
    when the caller made it already)."""
    timings = timings or Timings()
    with collector_paused(), corpus.reading():  # one committed state of the index, even while a rebuild commits
        return _scan(corpus, doc, set(exclude_ids), timings, fingerprinted)


def _scan(corpus: Corpus, doc: Document, exclude: set, timings: Timings, fingerprinted: Fingerprint | None) -> Report:
    settings = corpus.settings
    sub = fingerprinted or timings.run("fingerprint", fingerprint, doc.text, settings)
    same, stored = _stored_twin(corpus, doc)
    if same is not None:
        exclude.add(same)  # a corpus document is not its own source
    doc.meta = _submission_meta(doc, stored)
    found = timings.run("candidates", _candidates, corpus, sub, exclude)
    chosen = timings.run("verify", _verified, corpus, sub, doc, found)
    full, stand_ins, capped = timings.run("align", _aligned, corpus, sub, chosen)
    timings.count(submissions=1, candidates=len(found), verified=len(chosen[0]) + len(chosen[1]), aligned=len(chosen[0]))
    citations = quotes.find_citations(doc.text, settings.quotation_max_chars)
    passages = timings.run("classify", _passages, corpus, doc, sub, full, stand_ins, citations, same)
    report = timings.run("measure", _report, doc, passages, citations)
    report.capped_sources = capped
    return report


def _candidates(corpus: Corpus, sub: Fingerprint, exclude: set) -> list:
    """Documents sharing band keys with the submission, best first, at most `max_verified_candidates`."""
    if not len(sub.keys):
        return []
    settings = corpus.settings
    postings = corpus.store.postings(distinct(sub.keys.ravel()).tolist(), settings.hot_key_postings)
    return align.candidates(sub, postings, corpus.store.segment_total(), exclude, settings.max_verified_candidates)


def _verified(corpus: Corpus, sub: Fingerprint, doc: Document, found: list) -> tuple[list, list]:
    """The candidates whose colliding segments really match: (those to align in full, the other carriers).

    For each submission segment, the `segment_leaders` candidates that match it best are aligned in full (at most
    `max_candidate_documents` of them), and so is every document of the submission's own author, never cut (a
    self_reuse passage names its source and shows its text). The others only show
    that the text is shared (a template, a formula): they stand in as carriers made of their verified segments.
    """
    settings = corpus.settings
    sources = corpus.verify_sources(c.doc_id for c in found)  # (metadata, fingerprint of the segment contents)
    verify.verify(found, sub, sources, settings)
    verified = sorted((c for c in found if c.matched), key=lambda c: (-c.evidence, -c.score, c.doc_id))
    peer = _peer_test(corpus)
    leaders = set()
    for segment, ranked in _by_segment(verified).items():
        leaders.update(c.doc_id for c in _leaders(segment, ranked, settings.segment_leaders, peer))
    own = _own_documents(doc.meta, verified, sources)
    leading = [c for c in verified if c.doc_id in leaders and c.doc_id not in own][: settings.max_candidate_documents]
    chosen = own | {c.doc_id for c in leading}  # the author's own beyond the cap: a self_reuse passage shows its source
    full = [c for c in verified if c.doc_id in chosen]
    return full, [c for c in verified if c.doc_id not in chosen]


def _own_documents(meta, verified: list, sources: dict) -> set:
    """Ids of the verified candidates that are the submission's own author's (or unit's) reports, as same_owner
    says: the submission's owner worked out once, not once per candidate (~1.4 µs each, ~265 a scan), and none
    looked at when it has no known owner."""
    mine = owner(meta)
    if mine is None:
        return set()
    return {c.doc_id for c in verified if owner(sources[c.doc_id][0]) == mine}


def _leaders(segment: int, ranked: list, count: int, peer) -> list:
    """The candidates aligned in full for one submission segment: the best `count`, and where another submission of
    the batch is among them, also the best earlier document matching the segment as well. Colleagues who copied one
    archived report each match more of one another than of it (what else they share), so they would lead and the
    report they copied would only carry the passage, never be named."""
    leading = _undominated(ranked[:count])
    first_peer = next((c for c in leading if peer(c.doc_id)), None)
    earlier = next((c for c in ranked if not peer(c.doc_id)), None)
    if first_peer is None or earlier is None or earlier.doc_id in {c.doc_id for c in leading}:
        return leading
    return leading + [earlier] if earlier.matched[segment] >= first_peer.matched[segment] else leading


def _undominated(ranked: list) -> list:
    """The ranked candidates (best Dice first, then most evidence) that no better-ranked one dominates: matches every
    submission segment it matches at least as well, with at least as much evidence (its passages could only carry)."""
    kept = []
    for c in ranked:
        if not any(_dominates(k, c) for k in kept):
            kept.append(c)
    return kept


def _dominates(a, b) -> bool:
    return a.evidence >= b.evidence and all(a.matched.get(i, 0.0) >= dice for i, dice in b.matched.items())


def _peer_test(corpus: Corpus):
    """Whether a document id is another submission of the batch being scanned (never, outside a batch)."""
    return getattr(corpus.store, "is_peer", Context.peer)


def _by_segment(verified: list) -> dict:
    """Submission segment → the candidates that match it, best first (Dice, then the candidate's evidence)."""
    found: dict = {}
    for candidate in verified:
        for i, dice in candidate.matched.items():
            found.setdefault(i, []).append((dice, candidate))
    return {i: [c for _, c in sorted(pairs, key=lambda p: (-p[0], -p[1].evidence, p[1].doc_id))]
            for i, pairs in found.items()}


def _aligned(corpus: Corpus, sub: Fingerprint, chosen: tuple) -> tuple[list, list, list]:
    """Full alignments of the chosen candidates, stand-in alignments of the other carriers, and the paths of the
    sources too long to align whole (aligned around their matching segments only)."""
    full, carriers = chosen
    alignments, capped = [], []
    sources = corpus.sources(c.doc_id for c in full)  # a giant one is aligned in windows, with sets of their own
    whole = {doc_id: src for doc_id, (_, src) in sources.items() if src.segment_count <= corpus.settings.max_source_segments}
    reach = corpus.settings.verified_neighbourhood
    by_id = {candidate.doc_id: candidate for candidate in full}
    near = [align.near_verified(by_id[doc_id], src.segment_count, reach) for doc_id, src in whole.items()]
    similar = dict(zip(whole, align.source_similarities(sub, list(whole.values()), corpus.settings, near)))
    for candidate in full:
        source, src = sources[candidate.doc_id]
        found, was_capped = align.align_source(candidate, sub, src, corpus.settings, similar.get(candidate.doc_id))
        alignments.extend(found)
        capped += [source.path] if was_capped else []
    stand_ins = [a for c in carriers for a in align.carrier_alignments(c, sub, corpus.settings)]
    return alignments, stand_ins, capped


def stored_self(corpus: Corpus, doc: Document):
    """The id of the stored document the submission is (the same content), or None.

    The same content at another path, given another author or year than people gave the stored document (neither
    side inferred), is not that document scanned again but a copy of it handed in (a colleague's report, or the
    author's own of another year): that document is then its source."""
    return _stored_twin(corpus, doc)[0]


def _stored_twin(corpus: Corpus, doc: Document) -> tuple:
    """(id, Document) of the stored document the submission is (see stored_self), or (None, None): read once."""
    stored_id = corpus.store.document_id_by_sha(doc.sha256)
    if stored_id is None:
        return None, None
    stored = corpus.store.document(stored_id)
    if not doc.path or canonical_path(doc.path) == canonical_path(stored.path):
        return stored_id, stored
    given, said = metadata.known(doc.meta), metadata.known(stored.meta)
    other_author = given.get("author") and said.get("author") and name_key(given["author"]) != name_key(said["author"])
    other_year = given.get("year") and said.get("year") and given["year"] != said["year"]
    return (None, None) if other_author or other_year else (stored_id, stored)


def _submission_meta(doc: Document, stored: Document | None) -> DocumentMeta:
    """The submission's metadata: as given, then as stored for the same content (`stored`), then inferred."""
    meta = doc.meta
    if stored is not None:
        given = {k: getattr(meta, k) for k in metadata.FIELDS if getattr(meta, k) is not None}
        guessed = tuple(k for k in metadata.FIELDS if k in (meta.inferred if k in given else stored.meta.inferred))
        meta = dataclasses.replace(stored.meta, **given, inferred=guessed)  # a value given is no guess for being stored
    return metadata.complete(meta, doc.text, doc.path)


def _report(doc: Document, passages: list, citations: list) -> Report:
    """The measures, sources, sections and template-site traces of a scanned submission."""
    sections = find_sections(doc.text)
    traces = [TemplateTrace((start, end), text) for start, end, text in template_traces(doc.text)]
    return Report(submission=doc, passages=passages,
                  metrics=measure(doc.text, passages, citations, sections, traces),
                  sources=rank_sources(doc.text, passages, citations),
                  sections=section_measures(doc.text, passages, sections, citations),
                  template_traces=traces)


def _passages(corpus: Corpus, doc: Document, sub: Fingerprint, full: list, stand_ins: list, citations=(),
              stored_id=None) -> list[Passage]:
    context = Context(submission=doc.meta, source=corpus.store.source_ref, citations=list(citations),
                      segment_df=_others_holding(corpus, sub, stored_id),
                      peer=_peer_test(corpus), sentence_checks=lambda alignment: align.with_sentence_checks(
                          alignment, sub, corpus.source_fingerprint(alignment.doc_id)[1], corpus.settings))
    passages = []
    for alignment, others in align.with_carriers(align.one_source_per_stretch(full), stand_ins):
        verdict = judge(alignment, others, sub, context, corpus.settings)
        if verdict is not None:
            passages.append(_passage(corpus, doc, sub, verdict))
    return passages


def _others_holding(corpus: Corpus, sub: Fingerprint, stored_id) -> dict:
    """Content hash → the corpus documents holding it, the stored document the submission is (`stored_id`: scanned
    again) left out as it is left out of the sources: it holds every segment, and counted it made a sentence two
    other authors wrote look written by three, a formula."""
    counts = corpus.store.segment_document_frequency(sub.hashes)
    if stored_id is None:
        return counts
    return {h: n - 1 for h, n in counts.items() if n > 1}


def _passage(corpus: Corpus, doc: Document, sub: Fingerprint, verdict) -> Passage:
    alignment, carriers = verdict.alignment, verdict.carriers
    source_doc, src = corpus.source_fingerprint(alignment.doc_id)
    sub_span = _closed(doc.text, sub.original_span(*alignment.sub_span))
    src_span = _closed(source_doc.text, src.original_span(*alignment.src_span))
    years = {c.year for c in carriers if c.year is not None}
    return Passage(
        kind=verdict.kind,
        source=carriers[0],
        submission_span=sub_span,
        source_span=src_span,
        similarity=round(alignment.similarity, 4),
        matched_chars=alignment.matched_chars,
        document_count=len(carriers),
        other_sources=carriers[1:],
        submission_text=doc.text[sub_span[0] : sub_span[1]],
        source_text=source_doc.text[src_span[0] : src_span[1]],
        unit_count=len({name_key(c.unit) for c in carriers} - {""}),
        year_count=len(years),
        earliest_year=min(years, default=None),
        years=verdict.years,
        cited=verdict.cited,
    )


_CLOSING = "。！？；!?;.…”’」』）)"


def _closed(text: str, span: tuple) -> tuple:
    """The span with the punctuation that closes its last sentence (matching stops at the last content character)."""
    start, end = span
    while end < len(text) and end - span[1] < 2 and text[end] in _CLOSING:
        end += 1
    return start, end


def failed_report(path, reason: str, meta: DocumentMeta | None = None) -> Report:
    """The report of a file that could not be read: no text, no passages, `error` saying why (and who it is from, if given)."""
    doc = Document(path=str(path), text="", sha256="", encoding="", meta=meta or DocumentMeta())
    return Report(submission=doc, passages=[], metrics={}, error=reason)


def not_scanned_report(doc: Document, store_location: str) -> Report:
    """The report of a submission read but not scanned: the corpus store stopped answering before its turn."""
    reason = (f"not scanned: the corpus {shown(store_location)} stopped answering before its turn; "
              "scan this file again when it is back")
    report = failed_report(doc.path, reason, meta=doc.meta)
    report.not_scanned = True
    return report
