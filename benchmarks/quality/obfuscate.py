"""The obfuscations applied to planted passages: none, light, synonym, reorder and heavy (all of them).

Every function takes the passage text and a seeded `random.Random` and returns the rewritten text;
the ground truth always points at the whole rewritten passage and the whole original one.
"""

from __future__ import annotations

import functools
import random
import re

from benchmarks.quality.synonyms import load_table

FULL_TO_HALF = {"，": ",", "。": ".", "；": ";", "：": ":", "！": "!", "？": "?", "（": "(", "）": ")", "“": '"', "”": '"'}
ORDINALS = "一二三四五六七八九十"
POINT_WORDS = {"一是": "首先", "二是": "其次", "三是": "再次", "四是": "此外", "五是": "另外", "六是": "最后"}
PLACEHOLDERS = [("市x局", "市XX局"), ("市X局", "市××局"), ("XX", "××"), ("××", "XX"), ("*局", "XX局"), ("x县", "××县")]
YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?=年)")
SENTENCE_END = re.compile(r"(?<=[。！？!?；;])(?!\n)|(?<=\n)")
CLAUSE_MARK = "，,；;"


def light(text: str, rng: random.Random) -> str:
    """Numbering, years, placeholders, punctuation width, spaces and line breaks."""
    text = _renumber(text)
    text = YEAR.sub(lambda m: str(int(m.group(1)) + 1), text)
    for old, new in PLACEHOLDERS:
        text = text.replace(old, new)
    text = _respace(text, rng)
    if rng.random() < 0.6:
        text = "".join(FULL_TO_HALF.get(ch, ch) if rng.random() < 0.8 else ch for ch in text)
    return text


def _renumber(text: str) -> str:
    for old, new in POINT_WORDS.items():
        text = text.replace(old, new)
    for number, ordinal in enumerate(ORDINALS, start=1):
        text = text.replace(f"（{ordinal}）", f"{number}.").replace(f"({ordinal})", f"{number}.")
    return text


def _respace(text: str, rng: random.Random) -> str:
    """A space after some punctuation, a line break after some sentence ends."""
    out = []
    for ch in text:
        out.append(ch)
        if ch in "。！？" and rng.random() < 0.2:
            out.append("\n")
        elif ch in "，；：" and rng.random() < 0.15:
            out.append(" ")
    return "".join(out)


@functools.lru_cache(maxsize=1)
def _table() -> dict:
    return load_table()


def synonym(text: str, rng: random.Random, rate: float = 0.6) -> str:
    """Replace words found in the synonym table, each with probability `rate`."""
    import jieba

    table = _table()
    words = jieba.lcut(text, HMM=False)
    return "".join(rng.choice(table[w]) if w in table and rng.random() < rate else w for w in words)


def sentences(text: str) -> list[str]:
    """Sentences with their end punctuation (and line break) attached."""
    return [s for s in SENTENCE_END.split(text) if s]


def _split_end(sentence: str) -> tuple[str, str]:
    body = sentence.rstrip("。！？!?；;\n ")
    return body, sentence[len(body):]


def shuffle_clauses(sentence: str, rng: random.Random, delete: float) -> str:
    """Reorder the clauses of one sentence; drop one of three or more with probability `delete`."""
    body, end = _split_end(sentence)
    clauses = [c for c in re.split(f"[{CLAUSE_MARK}]", body) if c.strip()]
    if len(clauses) < 2:
        return sentence
    if len(clauses) >= 3 and rng.random() < delete:
        clauses.pop(rng.randrange(len(clauses)))
    original = list(clauses)
    while clauses == original:
        rng.shuffle(clauses)
    return "，".join(clauses) + end


def reorder(text: str, rng: random.Random, clause_rate: float = 0.6, delete: float = 0.15) -> str:
    """Reorder clauses inside sentences and swap neighbouring sentences, with some deletions."""
    parts = sentences(text)
    parts = [shuffle_clauses(s, rng, delete) if rng.random() < clause_rate else s for s in parts]
    if len(parts) >= 4:
        parts = [s for s in parts if rng.random() >= delete / 3]
    for i in range(len(parts) - 1):
        if rng.random() < 0.3:
            parts[i], parts[i + 1] = parts[i + 1], parts[i]
    return _ensure_breaks("".join(parts))


def _ensure_breaks(text: str) -> str:
    return re.sub(r"\n{2,}", "\n", text).strip("\n")


def heavy(text: str, rng: random.Random) -> str:
    """Reordering with deletions, then synonyms, then the light changes."""
    return light(synonym(reorder(text, rng), rng), rng)


def sentence_heavy(text: str, rng: random.Random) -> str:
    """The heavy mix for a single sentence: its clauses always reordered when it has several."""
    return light(synonym(reorder(text, rng, clause_rate=1.0), rng), rng)


OBFUSCATIONS = {
    "none": lambda text, rng: text,
    "light": light,
    "synonym": synonym,
    "reorder": reorder,
    "heavy": heavy,
    "sentence_heavy": sentence_heavy,
}
