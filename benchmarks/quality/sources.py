"""Real text for the benchmark: the seed reports and the two corpora in /work/shared (read, never copied)."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
from pathlib import Path
from typing import Iterator, Optional

SHARED = Path(os.environ.get("CHACHONG_SHARED", "/work/shared"))
SEEDS = SHARED / "seeds"
GOV_REPORTS = SHARED / "corpora" / "cn-gov-reports.jsonl.gz"
NEWS = SHARED / "corpora" / "xwlb-news.jsonl.gz"
NEWS_PREFIX = "央视网消息（新闻联播）："


@dataclasses.dataclass
class SourceDoc:
    """One document of the source corpus: `label` is the path it is indexed under."""

    label: str
    text: str
    kind: str  # seed | gov | news
    year: Optional[int] = None


def read_jsonl(path: Path) -> Iterator[dict]:
    """Records of a gzip JSON-lines file; nothing when it is absent."""
    if not path.exists():
        return
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def seed_docs() -> list[SourceDoc]:
    return [
        SourceDoc(f"seed/{p.stem}.txt", p.read_text(encoding="utf-8"), "seed")
        for p in sorted(SEEDS.glob("*.txt"))
    ]


def gov_records() -> list[dict]:
    """The 88 records of cn-gov-reports, in file order."""
    return list(read_jsonl(GOV_REPORTS))


def gov_docs() -> list[SourceDoc]:
    return [SourceDoc(f"gov/{r['id']}.txt", r["text"], "gov", r.get("year")) for r in gov_records()]


def news_items() -> list[dict]:
    """All news records with the broadcast prefix taken off (it opens every item)."""
    items = []
    for record in read_jsonl(NEWS):
        text = record["text"]
        if text.startswith(NEWS_PREFIX):
            text = text[len(NEWS_PREFIX):]
        items.append({"id": record["id"], "text": text})
    return items


def available() -> bool:
    """Are the seeds and both corpora present?"""
    return SEEDS.is_dir() and GOV_REPORTS.exists() and NEWS.exists()
