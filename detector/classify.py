"""Name the kind of each aligned passage: quotation, formula, template, self_reuse or copied (DOMAIN.md, "Kinds of reuse").

The order of the questions is the order of the checks:
1. quotation — most of the passage cites a leader or document (习近平总书记强调，……): reported, not counted;
2. formula — short, and carried by many authors/units (not one author's yearly series) or a curated official formula;
3. nothing — too weak to report (evidence and similarity thresholds);
4. template — carried by documents of at least `template_min_owners` other authors/units (in a batch, the other
   submissions count only where no earlier document, the submitter's own included, carries the passage: colleagues
   who copied one archived report have copied it, and this year's template that only they carry is still a template;
   nor do documents of a year after the submitter's own earliest report carrying it: they can have it from him);
5. self_reuse — one of the carrying documents is the submitter's own (same author; same unit for team reports);
6. copied — a specific other author's document.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

from detector.align import Alignment
from detector.fingerprint import Fingerprint
from detector.formulae import curated_formulae
from detector.metadata import owner, same_owner
from detector.model import DocumentMeta, SourceRef
from detector.quotes import covered
from detector.settings import Settings

@dataclasses.dataclass
class Context:
    """What classifying a submission's passages needs besides the alignments."""

    submission: DocumentMeta = dataclasses.field(default_factory=DocumentMeta)
    source: Callable[[int], SourceRef] = lambda doc_id: SourceRef(path=str(doc_id), doc_id=doc_id)
    citations: list = dataclasses.field(default_factory=list)  # quotes.Citation in the submission's original text
    segment_df: dict = dataclasses.field(default_factory=dict)  # content hash → corpus documents
    peer: Callable[[int], bool] = lambda doc_id: False  # whether a document is another submission of the same batch
    sentence_checks: Callable[[Alignment], Alignment] = lambda alignment: alignment  # fills a short passage's
    # whole-sentence similarity and word-for-word run (align.with_sentence_checks), asked only where needed


@dataclasses.dataclass
class Verdict:
    """The kind of a passage and the alignment that names its source (the author's own one for self_reuse)."""

    kind: str
    alignment: Alignment
    carriers: list  # SourceRef of every document carrying the passage, the named source first
    years: Optional[str] = None  # self_reuse: "2022 → 2024"
    cited: Optional[str] = None  # quotation: whom it cites


def judge(alignment: Alignment, others: list, sub: Fingerprint, context: Context, settings: Settings) -> Optional[Verdict]:
    """The verdict on one passage, or None if it is too weak to report."""
    carriers = _carriers(alignment, others, context, settings)
    citation = _citation(alignment, sub, context, settings)
    if citation is not None:
        return Verdict("quotation", alignment, carriers, cited=citation.speaker)
    formula_share = _formula_share(sub.content[slice(*alignment.sub_span)], settings)
    if _is_formula(alignment, others, sub, context, formula_share, settings):
        return Verdict("formula", alignment, carriers)
    # the aligner already leaves curated formulae out of a passage's evidence
    if (alignment.evidence < settings.min_evidence
            or alignment.similarity < settings.min_mean_similarity
            or alignment.sub_span[1] - alignment.sub_span[0] < settings.min_passage_chars
            or _stock_phrase(context.sentence_checks(alignment), settings)):
        return None
    return _reuse(alignment, others, carriers, context, settings)


def _stock_phrase(alignment: Alignment, settings: Settings) -> bool:
    """A short match inside sentences that otherwise differ, without a long word-for-word run: a shared phrase."""
    short = alignment.sub_span[1] - alignment.sub_span[0] < settings.sentence_check_chars
    return (short and alignment.sentence_similarity < settings.min_sentence_similarity
            and alignment.verbatim_run < settings.verbatim_run_chars)


def _carriers(alignment: Alignment, others: list, context: Context, settings: Settings) -> list[SourceRef]:
    """The documents that carry the passage: its source, and the others whose own match covers enough of it."""
    length = max(1, alignment.sub_span[1] - alignment.sub_span[0])
    covering = {o.doc_id for o in others if _overlap(o.sub_span, alignment.sub_span) >= settings.carrier_min_overlap * length
                and o.evidence >= settings.min_evidence}
    return [context.source(doc_id) for doc_id in [alignment.doc_id] + sorted(covering - {alignment.doc_id})]


def _overlap(a: tuple, b: tuple) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _citation(alignment: Alignment, sub: Fingerprint, context: Context, settings: Settings):
    """The citation the passage mostly lies in, when it is one and really matches."""
    if not context.citations or alignment.matched_chars < settings.quotation_min_chars:
        return None
    span = sub.original_span(*alignment.sub_span)
    inside, citation = covered(span, context.citations)
    share = inside / max(1, span[1] - span[0])
    if share >= settings.quotation_min_share and alignment.similarity >= settings.min_mean_similarity:
        return citation
    return None


def _is_formula(alignment: Alignment, others: list, sub: Fingerprint, context: Context, formula_share: float,
                settings: Settings) -> bool:
    """Short, and either mostly a curated official formula or written by many: `formula_min_owners` authors/units."""
    if alignment.sub_span[1] - alignment.sub_span[0] > settings.formula_max_chars:
        return False
    if formula_share >= 0.6:
        return True
    doc_ids = list(dict.fromkeys([alignment.doc_id] + [o.doc_id for o in others]))
    documents = max([len(doc_ids)] + [context.segment_df.get(sub.hashes[i], 0) for i in alignment.sub_segments])
    if documents < settings.formula_min_owners:
        return False
    # corpus documents with the sentence that were not aligned are of unknown owners: each counts as one
    unseen = documents - len(doc_ids)
    return _owners_reach(doc_ids, settings.formula_min_owners - unseen, context)


def _owners_reach(doc_ids: list, wanted: int, context: Context) -> bool:
    """Whether the documents belong to at least `wanted` authors/units (a document of unknown owner is its own)."""
    owners = set()
    for doc_id in doc_ids:
        if len(owners) >= wanted:
            break
        owners.add(owner(context.source(doc_id)) or ("document", doc_id))
    return len(owners) >= wanted


def _reuse(alignment: Alignment, others: list, carriers: list, context: Context, settings: Settings) -> Verdict:
    """template, self_reuse or copied, from who carries the passage."""
    own = [c for c in carriers if same_owner(context.submission, c)]
    own_ids = {c.doc_id for c in own}
    if len(_other_owners(carriers, own_ids, context)) >= settings.template_min_owners:
        return _named(Verdict("template", alignment, carriers), _first_written(alignment, others, context, settings))
    if own:
        named = _strongest(alignment, others, own_ids)
        verdict = _named(Verdict("self_reuse", alignment, carriers), named)
        verdict.years = years_label(verdict.carriers[0].year, context.submission.year)
        return verdict
    return _named(Verdict("copied", alignment, carriers), _first_written(alignment, others, context, settings))


def _named(verdict: Verdict, named: Alignment) -> Verdict:
    """The verdict naming the source of `named` (its alignment, and its document first among the carriers)."""
    first = next(c for c in verdict.carriers if c.doc_id == named.doc_id)
    return dataclasses.replace(verdict, alignment=named, carriers=[first] + [c for c in verdict.carriers if c is not first])


def _first_written(alignment: Alignment, others: list, context: Context, settings: Settings) -> Alignment:
    """The source to name for a copied or template passage: of the documents aligned over the same stretch about as well
    as the strongest (`named_source_match` of its span both ways and of its evidence), a stored one before a batch-mate,
    then the one of the earliest year (unknown years last): a later report holding the text may have it from an earlier
    one, never the other way round. On equal terms the strongest stays named."""
    rivals = [o for o in others if _as_good(o, alignment, settings.named_source_match)]
    def written(a: Alignment) -> tuple:
        year = context.source(a.doc_id).year
        return context.peer(a.doc_id), year is None, year or 0, a is not alignment
    return min([alignment] + rivals, key=written)


def _as_good(other: Alignment, best: Alignment, share: float) -> bool:
    """Whether `other` is a full alignment (it has a source span) over `best`'s stretch, nearly as long and as strong."""
    lengths = [a.sub_span[1] - a.sub_span[0] for a in (other, best)]
    overlap = _overlap(other.sub_span, best.sub_span)
    return (other.src_span[1] > other.src_span[0] and overlap >= share * max(lengths)
            and other.evidence >= share * best.evidence)


def _other_owners(carriers: list, own_ids: set, context: Context) -> set:
    """The other authors/units carrying a passage: those of earlier documents, or — where no earlier document carries
    it, the submitter's own included — those of the batch's other submissions (a document of unknown owner is its own).
    Colleagues who copied the submitter's archived report do not make his reuse of it a template: neither batch-mates
    nor documents of a year after his own earliest carrying report (of the same year or an unknown one, who wrote
    first is open: they count)."""
    earlier = any(not context.peer(c.doc_id) for c in carriers)
    own_since = min((c.year for c in carriers if c.doc_id in own_ids and c.year is not None), default=None)
    counted = [c for c in carriers if c.doc_id not in own_ids and not (earlier and context.peer(c.doc_id))
               and not _written_after(c, own_since)]
    return {owner(c) or ("document", c.doc_id) for c in counted}


def _written_after(carrier, year) -> bool:
    """Whether a carrying document is of a year after `year` (False when either is unknown)."""
    return None not in (year, carrier.year) and carrier.year > year


def _strongest(alignment: Alignment, others: list, doc_ids: set) -> Alignment:
    """The strongest alignment with one of `doc_ids`."""
    return max((a for a in [alignment] + others if a.doc_id in doc_ids), key=lambda a: (a.evidence, -a.doc_id))


def years_label(source_year, submission_year) -> str:
    """"2022 → 2024", with ? for an unknown year."""
    return f"{source_year or '?'} → {submission_year or '?'}"


def _formula_share(content: str, settings: Settings) -> float:
    """Share of the passage's content characters covered by curated formulae."""
    pattern = curated_formulae(settings.formulae_file)
    if pattern is None or not content:
        return 0.0
    return sum(m.end() - m.start() for m in pattern.finditer(content)) / len(content)


