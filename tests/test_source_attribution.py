"""Which document a passage names: the one it was copied from, not an older one holding some of its sentences."""

from __future__ import annotations

import re

from detector import api
from detector.model import COUNTED_KINDS
from planting import BASE, SAMPLE, SOURCE


def _sentences(text: str) -> list[str]:
    return [s for s in re.findall(r"[^。！？\n]+[。！？]", text) if len(s) >= 25]


def test_a_copy_names_its_source_when_older_documents_each_hold_one_of_its_sentences(tmp_path):
    copied = _sentences(SOURCE.read_text(encoding="utf-8"))[10:16]  # a paragraph's worth, ~6 sentences
    others = [p for p in sorted(SAMPLE.glob("*.txt")) if p not in (SOURCE, BASE)]
    filler = [s for path in others for s in _sentences(path.read_text(encoding="utf-8"))]
    older = []  # each sentence of the copy in two earlier documents, among other text (they get the lower ids)
    for k, sentence in enumerate(copied):
        for n in range(2):
            start = (2 * k + n) * 7 % (len(filler) - 6)
            text = "".join(filler[start : start + 3]) + sentence + "".join(filler[start + 3 : start + 6])
            older.append((f"older-{k}-{n}.txt", text, None))
    source_text = "".join(filler[-8:-4]) + "".join(copied) + "".join(filler[-4:])
    own = _sentences(BASE.read_text(encoding="utf-8"))
    submission = "".join(own[:6]) + "".join(copied) + "".join(own[6:12])
    start = submission.index(copied[0])
    end = start + len("".join(copied))
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_texts(corpus, older + [("source.txt", source_text, None)])
        report = api.scan_text(corpus, submission, path="submission.txt")
    covering = [p for p in report.passages if p.submission_span[0] < end and p.submission_span[1] > start]
    named = [(p.kind, p.source.path) for p in covering]
    assert covering and all(p.source.path == "source.txt" for p in covering), named
    assert all(p.kind in COUNTED_KINDS for p in covering), named
    covered = sum(min(p.submission_span[1], end) - max(p.submission_span[0], start) for p in covering)
    assert covered >= 0.95 * (end - start)
