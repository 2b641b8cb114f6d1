"""Deterministic generator of planted reuse in the PAN text-alignment style.

The source corpus is the seed reports, the government reports and a few hundred news items.  Each
suspicious document is filler — news paragraphs that share no 20-character run with the source
corpus and no sentence close to one of its sentences (bigram Jaccard ≥ 0.35) — with passages from source documents inserted under one obfuscation per document.  The
ground truth records exact character offsets in the suspicious text and in the source text.
`formula_only` documents carry nothing but official formulae and headings, which are not reuse.

    python -m benchmarks.quality.generate --size 200 --out benchmarks/work/planted
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import re
from pathlib import Path

from benchmarks.quality import sources
from benchmarks.quality.kgrams import GramIndex
from benchmarks.quality.measures import Alignment
from benchmarks.quality.obfuscate import OBFUSCATIONS

SEED = 20240603
NEWS_SOURCES = 300
FILLER_GRAM = 20  # filler may share no run this long with the source corpus
UNIQUE_GRAM = 16  # a planted passage's 16-grams must (nearly) all be its source's alone
MAX_SHARED = 0.05
FILLER_JACCARD = 0.35  # nor may any filler sentence reach this bigram Jaccard with a source sentence
MIX = {  # share of suspicious documents per obfuscation
    "none": 0.15, "light": 0.15, "synonym": 0.15, "reorder": 0.15, "heavy": 0.15,
    "sentence_heavy": 0.13, "formula_only": 0.12,
}
LENGTHS = {"sentence": (30, 80), "short": (80, 300), "medium": (300, 1000), "long": (1000, 3000)}
LENGTH_MIX = {"sentence": 0.2, "short": 0.3, "medium": 0.3, "long": 0.2}
SOURCE_KIND_MIX = {"seed": 0.3, "gov": 0.4, "news": 0.3}
SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*")
FORMULAE = (
    "一、存在的问题", "一、存在问题和不足", "二、原因剖析", "二、产生问题的原因分析", "三、整改措施",
    "（一）理论学习方面", "（二）政治素质方面", "（三）能力本领方面", "（四）担当作为方面",
    "（五）工作作风方面", "（六）廉洁自律方面", "“四个意识”", "“四个自信”", "“两个维护”", "“两个确立”",
    "增强“四个意识”、坚定“四个自信”、做到“两个维护”", "习近平新时代中国特色社会主义思想",
    "以习近平新时代中国特色社会主义思想为指导", "以人民为中心的发展思想", "坚持以人民为中心的发展思想",
    "党的二十大精神", "深入学习贯彻党的二十大精神", "坚持和加强党的全面领导", "全面从严治党",
    "中央八项规定精神", "“一岗双责”", "反对“四风”", "不忘初心、牢记使命", "中国特色社会主义",
    "以习近平同志为核心的党中央", "党的十八大以来", "高质量发展", "中国式现代化",
)
PHRASE_FRAMES = ("要{}。", "始终坚持{}。", "我们要深刻认识{}。", "{}。")


@dataclasses.dataclass
class Case:
    """One planted passage: where it sits in the suspicious text and where it came from."""

    susp_start: int
    susp_end: int
    src_label: str
    src_start: int
    src_end: int
    length_class: str


@dataclasses.dataclass
class SuspiciousDoc:
    name: str
    text: str
    obfuscation: str
    cases: list

    def alignments(self) -> list[Alignment]:
        return [Alignment(self.name, c.susp_start, c.susp_end, c.src_label, c.src_start, c.src_end) for c in self.cases]


@dataclasses.dataclass
class Benchmark:
    sources: list  # SourceDoc
    documents: list  # SuspiciousDoc
    formulae: tuple  # formulae used (each found in the source corpus)
    pools: "Pools | None" = None  # what it was drawn from (the attribution cases draw their filler on from there)


class Pools:
    """The source corpus, its k-gram indexes and the filler paragraphs, drawn from one seed."""

    def __init__(self, rng: random.Random, news_sources: int = NEWS_SOURCES):
        news = sources.news_items()
        rng.shuffle(news)
        picked = [sources.SourceDoc(f"news/{n['id']}.txt", n["text"], "news") for n in news[:news_sources]]
        self.sources = sources.seed_docs() + sources.gov_docs() + picked
        self.by_kind = {k: [i for i, d in enumerate(self.sources) if d.kind == k] for k in SOURCE_KIND_MIX}
        self.unique = GramIndex([d.text for d in self.sources], UNIQUE_GRAM)
        self.present = GramIndex([d.text for d in self.sources], FILLER_GRAM)
        self.similar = SentenceLSH([d.text for d in self.sources])
        self._spare_news = news[news_sources:]
        self._next_news = 0
        self.sentences = {}

    def filler(self, chars: int) -> list[str]:
        """Paragraphs of news not in the corpus, about `chars` characters in all."""
        paragraphs, total = [], 0
        while total < chars:
            item = self._spare_news[self._next_news % len(self._spare_news)]
            self._next_news += 1
            for paragraph in item["text"].split("\n"):
                paragraph = paragraph.strip()
                if len(paragraph) >= 20 and not self.present.any_present(paragraph) and not self.similar.any_similar(paragraph):
                    paragraphs.append(paragraph)
                    total += len(paragraph)
        return paragraphs

    def sentence_spans(self, index: int) -> list[tuple[int, int]]:
        if index not in self.sentences:
            text = self.sources[index].text
            self.sentences[index] = [_trimmed(text, m.start(), m.end()) for m in SENTENCE.finditer(text)]
        return self.sentences[index]


class SentenceLSH:
    """Sentences of the source corpus in a MinHash LSH over character bigrams: filler must not
    closely resemble any of them either (news items reuse stock sentences with other numbers)."""

    def __init__(self, texts: list[str]):
        from datasketch import MinHashLSH

        self.lsh = MinHashLSH(threshold=FILLER_JACCARD, num_perm=64)
        for n, sentence in enumerate(s for t in texts for s in _sentences(t)):
            self.lsh.insert(n, _minhash(sentence))

    def any_similar(self, paragraph: str) -> bool:
        return any(self.lsh.query(_minhash(s)) for s in _sentences(paragraph))


def _sentences(text: str) -> list[str]:
    return [m.group().strip() for m in SENTENCE.finditer(text) if len(m.group().strip()) >= 12]


def _minhash(sentence: str):
    from datasketch import MinHash

    grams = {sentence[i : i + 2].encode("utf-8") for i in range(len(sentence) - 1)}
    signature = MinHash(num_perm=64, seed=1)
    signature.update_batch(list(grams))
    return signature


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _weighted(rng: random.Random, mix: dict) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def _span_candidate(rng: random.Random, spans: list, length_class: str) -> tuple[int, int] | None:
    """Consecutive sentences of a document whose span length falls in the class's range."""
    low, high = LENGTHS[length_class]
    first = rng.randrange(len(spans))
    if length_class == "sentence":
        start, end = spans[first]
        return (start, end) if low <= end - start <= high else None
    for last in range(first, len(spans)):
        length = spans[last][1] - spans[first][0]
        if length >= low:
            return (spans[first][0], spans[last][1]) if length <= high else None
    return None


def pick_passage(rng: random.Random, pools: Pools, length_class: str, taken: set) -> tuple[int, int, int]:
    """(source index, start, end) of a passage unique to its source and not used in this document."""
    for _ in range(2000):
        index = rng.choice(pools.by_kind[_weighted(rng, SOURCE_KIND_MIX)])
        spans = pools.sentence_spans(index)
        span = _span_candidate(rng, spans, length_class) if spans else None
        if span is None or any(_overlap(span, t) for i, t in taken if i == index):
            continue
        text = pools.sources[index].text[span[0]:span[1]]
        if pools.unique.shared_fraction(text, index) <= MAX_SHARED:
            return index, span[0], span[1]
    raise RuntimeError(f"no unique {length_class} passage found")


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def boundaries(paragraphs: list[str]) -> list[tuple[int, bool]]:
    """(offset, starts a paragraph) of every sentence start in the joined filler."""
    points, offset = [], 0
    for paragraph in paragraphs:
        points.append((offset, True))
        points += [(offset + m.start(), False) for m in SENTENCE.finditer(paragraph) if m.start() > 0]
        offset += len(paragraph) + 1
    points.append((offset, True))
    return points


def assemble(paragraphs: list[str], inserts: list[str], rng: random.Random, headings: int = 0) -> tuple[str, list]:
    """Filler with the inserts at distinct sentence boundaries (the first `headings` of them at
    paragraph starts); the span of each insert in the result, in the order of `inserts`."""
    filler = "\n".join(paragraphs) + "\n"
    every = boundaries(paragraphs)
    heading_points = rng.sample([p for p in every if p[1]], headings)
    rest = [p for p in every if p not in heading_points]
    chosen = heading_points + rng.sample(rest, len(inserts) - headings)
    pieces, spans, cursor, length = [], [None] * len(inserts), 0, 0
    for i in sorted(range(len(inserts)), key=lambda i: chosen[i]):
        offset, own_paragraph = chosen[i]
        pieces.append(filler[cursor:offset])
        length += offset - cursor
        spans[i] = (length, length + len(inserts[i]))
        piece = inserts[i] + ("\n" if own_paragraph else "")
        pieces.append(piece)
        length += len(piece)
        cursor = offset
    pieces.append(filler[cursor:])
    return "".join(pieces).rstrip("\n"), spans


def planted_document(name: str, obfuscation: str, rng: random.Random, pools: Pools) -> SuspiciousDoc:
    """Filler with 1–4 passages (2–4 single sentences for `sentence_heavy`) under one obfuscation."""
    single = obfuscation == "sentence_heavy"
    count = rng.randint(2, 4) if single else rng.randint(1, 4)
    taken, picked = set(), []
    for _ in range(count):
        length_class = "sentence" if single else _weighted(rng, LENGTH_MIX)
        index, start, end = pick_passage(rng, pools, length_class, taken)
        taken.add((index, (start, end)))
        picked.append((index, start, end, length_class))
    rng.shuffle(picked)
    texts = [OBFUSCATIONS[obfuscation](pools.sources[i].text[s:e], rng) for i, s, e, _ in picked]
    text, spans = assemble(pools.filler(rng.randint(1500, 4000)), texts, rng)
    cases = [Case(a, b, pools.sources[i].label, s, e, c) for (a, b), (i, s, e, c) in zip(spans, picked)]
    return SuspiciousDoc(name, text, obfuscation, cases)


def formula_document(name: str, rng: random.Random, pools: Pools, formulae: tuple) -> SuspiciousDoc:
    """Filler with official formulae and headings only: there is nothing to find."""
    chosen = rng.sample(formulae, min(len(formulae), rng.randint(5, 9)))
    headings = [f for f in chosen if f[0] in "一二三（"]
    phrases = [rng.choice(PHRASE_FRAMES).format(f) for f in chosen if f not in headings]
    text, _ = assemble(pools.filler(rng.randint(1500, 4000)), headings + phrases, rng, len(headings))
    return SuspiciousDoc(name, text, "formula_only", [])


def formulae_in(corpus: list) -> tuple:
    """The formulae that occur in at least one source document (a naive matcher could flag them)."""
    flat = [re.sub(r"\s+", "", d.text) for d in corpus]
    return tuple(f for f in FORMULAE if any(f in text for text in flat))


def document_plan(size: int) -> list[str]:
    """Obfuscation of each suspicious document: MIX shares by largest remainder, interleaved."""
    exact = {k: size * w for k, w in MIX.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: counts[k] - exact[k])[: size - sum(counts.values())]:
        counts[k] += 1
    plan = [k for k in MIX for _ in range(counts[k])]
    random.Random(SEED).shuffle(plan)
    return plan


def generate(size: int = 200, seed: int = SEED, news_sources: int = NEWS_SOURCES) -> Benchmark:
    """The whole planted benchmark, the same for the same arguments."""
    pools = Pools(random.Random(seed), news_sources)
    formulae = formulae_in(pools.sources)
    documents = []
    for number, obfuscation in enumerate(document_plan(size)):
        rng = random.Random(f"{seed}/{number}")
        name = f"susp/{number:04d}-{obfuscation}.txt"
        if obfuscation == "formula_only":
            documents.append(formula_document(name, rng, pools, formulae))
        else:
            documents.append(planted_document(name, obfuscation, rng, pools))
    return Benchmark(pools.sources, documents, formulae, pools)


def write(benchmark: Benchmark, out: Path) -> None:
    """Suspicious texts under out/, and truth.jsonl with one line per document."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "truth.jsonl", "w", encoding="utf-8") as truth:
        for doc in benchmark.documents:
            (out / doc.name).parent.mkdir(parents=True, exist_ok=True)
            (out / doc.name).write_text(doc.text, encoding="utf-8")
            record = {"name": doc.name, "obfuscation": doc.obfuscation, "cases": [dataclasses.asdict(c) for c in doc.cases]}
            truth.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200, help="number of suspicious documents")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/work/planted"))
    args = parser.parse_args(argv)
    if not sources.available():
        print(f"skipped: seeds or corpora not found under {sources.SHARED}")
        return 0
    benchmark = generate(args.size, args.seed)
    write(benchmark, args.out)
    cases = sum(len(d.cases) for d in benchmark.documents)
    print(f"{len(benchmark.documents)} suspicious documents, {cases} cases, {len(benchmark.sources)} sources -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
