"""Attribution: a copy of several sentences from one document, each of whose sentences also stands in two older documents.

The document the copy came from is the one to name; an older document that holds one of its sentences among
other text is not. Each case copies a medium or long passage of consecutive sentences of a source document
(300–3,000 characters, as in the planted benchmark; 4–29 sentences with the default seed) into filler, verbatim
or lightly obfuscated. Every sentence of the copy is also put, alone, into two decoy documents of filler that are
indexed before the source corpus (they get the lower ids: a detector that breaks ties by id names them).

Scored with the PAN measures against the true source, over the reported passages that cover a copy (the filler
is news, whose stock sentences recur in other news, the decoys' filler among them), and by the share of cases
whose true source (or a decoy) a reported passage covering them names.
"""

from __future__ import annotations

import dataclasses
import random

from benchmarks.quality.generate import SENTENCE, Case, Pools, SuspiciousDoc, assemble, pick_passage
from benchmarks.quality.measures import Alignment, Scores, score
from benchmarks.quality.obfuscate import OBFUSCATIONS

CASES = 40
DECOYS_PER_SENTENCE = 2
MIN_SENTENCE_CHARS = 12  # shorter pieces (a heading, a clause) are left out of the decoys


@dataclasses.dataclass
class AttributionBenchmark:
    decoys: list  # (label, text): indexed before the source corpus
    documents: list  # SuspiciousDoc, one case each


def generate(pools: Pools, seed: int, cases: int = CASES) -> AttributionBenchmark:
    """The cases and their decoys, the same for the same pools and seed."""
    decoys, documents = [], []
    for number in range(cases):
        rng = random.Random(f"{seed}/attribution/{number}")
        index, start, end = pick_passage(rng, pools, rng.choice(("medium", "long")), set())
        source = pools.sources[index]
        passage = source.text[start:end]
        for k, sentence in enumerate(_sentences(passage)):
            for n in range(DECOYS_PER_SENTENCE):
                text, _ = assemble(pools.filler(rng.randint(400, 900)), [sentence], rng)
                decoys.append((f"decoy/{number:03d}-{k:02d}-{n}.txt", text))
        obfuscation = "none" if number % 2 == 0 else "light"
        text, spans = assemble(pools.filler(rng.randint(1500, 3000)), [OBFUSCATIONS[obfuscation](passage, rng)], rng)
        case = Case(spans[0][0], spans[0][1], source.label, start, end, "attribution")
        documents.append(SuspiciousDoc(f"attribution/{number:03d}-{obfuscation}.txt", text, obfuscation, [case]))
    return AttributionBenchmark(decoys, documents)


def _sentences(passage: str) -> list[str]:
    return [m.group().strip() for m in SENTENCE.finditer(passage) if len(m.group().strip()) >= MIN_SENTENCE_CHARS]


def evaluate(system, benchmark: AttributionBenchmark, sources: list) -> dict:
    """PAN scores of the system on the cases, and the share of cases whose true source it names; closes the system."""
    try:
        system.add_many([(label, text, None) for label, text in benchmark.decoys])
        system.add_many([(doc.label, doc.text, doc.year) for doc in sources])
        found = {doc.name: system.scan(doc.text, doc.name) for doc in benchmark.documents}
    finally:
        system.close()
    cases = [a for doc in benchmark.documents for a in doc.alignments()]
    # only the passages covering a copy: the filler (news) repeats stock sentences of other news, decoys' filler too
    detections = [a for doc in benchmark.documents for case in doc.cases
                  for a in _alignments(doc.name, _covering(case, found[doc.name]))]
    return {"scores": score(cases, detections), "named": _named_share(benchmark.documents, found),
            "decoy_named": _decoy_share(benchmark.documents, found)}


def _alignments(name: str, hits: list) -> list:
    return [Alignment(name, h.susp_start, h.susp_end, h.src_label, h.src_start, h.src_end) for h in hits]


def _covering(case: Case, hits: list) -> list:
    return [h for h in hits if h.susp_start < case.susp_end and h.susp_end > case.susp_start]


def _named_share(documents: list, found: dict) -> float:
    """Cases where a reported passage covering the copy names the document it came from."""
    return _share(documents, found, lambda hit, case: hit.src_label == case.src_label)


def _decoy_share(documents: list, found: dict) -> float:
    """Cases where a reported passage covering the copy names a decoy (an older document holding one sentence)."""
    return _share(documents, found, lambda hit, case: hit.src_label.startswith("decoy/"))


def _share(documents: list, found: dict, names) -> float:
    """The share of cases a reported passage covering them `names` (hit, case → bool)."""
    named = [any(names(hit, case) for hit in _covering(case, found[doc.name])) for doc in documents for case in doc.cases]
    return sum(named) / max(len(named), 1)


def table(results: dict) -> list[str]:
    """One row per system."""
    rows = ["| system | cases | plagdet | P | R | gran | true source named | a decoy named |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, found in results.items():
        s: Scores = found["scores"]
        rows.append(f"| {name} | {s.cases} | {s.plagdet:.3f} | {s.precision:.3f} | {s.recall:.3f} | {s.granularity:.3f} "
                    f"| {found['named']:.3f} | {found['decoy_named']:.3f} |")
    return rows
