"""Which document a passage names: the one it was copied from, not an older one holding some of its sentences."""

from __future__ import annotations

import re

from detector import api
from detector.model import COUNTED_KINDS, DocumentMeta
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


def test_a_passage_two_archived_reports_hold_names_the_earlier_one(tmp_path):
    """李四 copied three paragraphs of 张三's 2022 report into his 2023 one; 赵六's 2024 copy of them matches both
    about as well (李四's a little better: the paragraphs stand together there). The report written first is named."""
    paragraphs = [p for p in SOURCE.read_text(encoding="utf-8").splitlines() if len(re.sub(r"\s", "", p)) >= 60][:3]
    others = [p for p in sorted(SAMPLE.glob("*.txt")) if p not in (SOURCE, BASE)]
    own = [p for p in others[2].read_text(encoding="utf-8").splitlines() if len(p) >= 60][:6]
    archive = [("a/李四2023.txt", others[0].read_text(encoding="utf-8") + "\n" + "\n".join(paragraphs),
                DocumentMeta(author="李四", unit="乙局", year=2023)),
               ("a/张三2022.txt", SOURCE.read_text(encoding="utf-8"), DocumentMeta(author="张三", unit="甲局", year=2022))]
    with api.open_corpus(tmp_path / "c.db", create=True) as corpus:
        api.add_texts(corpus, archive)  # 李四's gets the lower id
        report = api.scan_text(corpus, "\n".join(own + paragraphs), "赵六.txt", DocumentMeta(author="赵六", unit="丁局", year=2024))
    [passage] = [p for p in report.passages if p.kind in COUNTED_KINDS]
    assert passage.source.path == "a/张三2022.txt", (passage.kind, passage.source.path)
    assert [s.path for s in passage.other_sources] == ["a/李四2023.txt"]
    assert report.submission.text[slice(*passage.submission_span)] == passage.submission_text
