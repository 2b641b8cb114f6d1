"""Build a batch of 30 submissions from the seed paragraphs with known reuse (templates, colleagues, corpus copies, clean ones) and scan it once."""

from __future__ import annotations

import functools
import types
from pathlib import Path

from click.testing import CliRunner

from detector import api, history
from detector.cli import cli
from planting import SAMPLE

CORPUS_SEED = SAMPLE / "000_5a8c092b610fea23.txt"  # the archive: the only document in the corpus
FRESH_SEEDS = [SAMPLE / f for f in ("001_68ce4c9d992fb67a.txt", "002_36651b71203e1f41.txt",
                                    "003_42e09aa36b9c46a6.txt", "004_53bd226f14dc173a.txt")]
HOSTILE = '我的意见：<script>document.title="PWNED"</script> 与 "引号" & 符号 <b>不加粗</b> &amp; 结束。'

# expected groups, by role name
TEMPLATE = [f"t{i}" for i in range(1, 7)]
RING = ["r1", "r2", "r3"]
PAIR = ["p1", "p2"]
CORPUS_PAIR = ["c1", "c2"]
CORPUS_ALONE = ["c3", "c4"]
CLEAN = [f"k{i:02d}" for i in range(1, 16)]
ROLES = TEMPLATE + RING + PAIR + CORPUS_PAIR + CORPUS_ALONE + CLEAN


def paragraphs(path: Path, min_chars: int = 60) -> list[str]:
    return [p.strip() for p in path.read_text(encoding="utf-8").split("\n") if len(p.strip()) >= min_chars]


def fresh_pool() -> tuple[list[str], list[str]]:
    """(template paragraphs, filler paragraphs): text not in the corpus, each filler paragraph used once."""
    pool = [p for seed in FRESH_SEEDS for p in paragraphs(seed)]
    # seed 001 shares a sentence with the corpus seed; seeds 001 and 003 share the 主题教育 goal formula
    pool = [p for p in pool if "山水林田湖草" not in p and "受洗礼" not in p]
    template = [p for p in paragraphs(FRESH_SEEDS[3], 100)][:3]
    return template, [p for p in pool if p not in template]


def planned_texts() -> dict[str, str]:
    """Role name → submission text."""
    template, pool = fresh_pool()
    corpus = paragraphs(CORPUS_SEED, 300)
    own = {role: pool[i :: len(ROLES)] for i, role in enumerate(ROLES)}  # round robin: every role its own paragraphs
    bodies = {role: list(own[role]) for role in ROLES}
    for role in TEMPLATE:
        bodies[role][1:1] = template
    bodies["r2"].insert(0, own["r1"][0])
    bodies["r3"].append(own["r1"][-1])
    bodies["p2"] = own["p1"] + own["p2"][:1]
    bodies["c1"].insert(1, corpus[1])
    bodies["c2"].append(corpus[1])
    bodies["c3"].insert(0, corpus[3])
    bodies["c4"].insert(1, corpus[5][: corpus[5].index("。", 150) + 1])
    bodies["k01"].append(HOSTILE)
    return {role: _document(body) for role, body in bodies.items()}


def _document(body: list[str]) -> str:
    # no section headings: glued to a formula-heavy sentence they currently come out as a 30-document "template"
    return "\n".join(body) + "\n"


def file_name(role: str, index: int) -> str:
    return f"{index:02d}_{role}.txt"


@functools.lru_cache(maxsize=None)
def scanned_batch(root: Path):
    """Write the batch (plus one corrupt file), index the corpus, scan with `chachong scan --out`; everything a test needs."""
    folder, db, out = root / "submissions", root / "corpus.db", root / "report"
    folder.mkdir(parents=True)
    texts = planned_texts()
    names = {role: file_name(role, n) for n, role in enumerate(sorted(texts, key=_shuffled), start=1)}
    for role, text in texts.items():
        (folder / names[role]).write_text(text, encoding="utf-8")
    (folder / "99_broken.docx").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 40)
    with api.open_corpus(db, create=True) as corpus:
        api.add_paths(corpus, [CORPUS_SEED])
    run = CliRunner().invoke(cli, ["scan", str(folder), "--db", str(db), "--out", str(out), "--format", "json"])
    with api.open_corpus(db) as corpus:
        scan_id = history.list_scans(corpus.store)[0].id
        view = history.view(corpus.store, scan_id)
    by_role = {role: next(s for s in view.submissions if s.name == names[role]) for role in texts}
    return types.SimpleNamespace(folder=folder, db=db, out=out, run=run, view=view, texts=texts, names=names,
                                 by_role=by_role, scan_id=scan_id)


def _shuffled(role: str) -> int:
    """A fixed order that mixes the roles (so the input order says nothing about the groups)."""
    return (ROLES.index(role) * 17) % len(ROLES)
