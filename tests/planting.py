"""Build submissions with planted reuse whose exact spans are known (test helper, also used to make the demo file)."""

from __future__ import annotations

from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "corpus" / "sample"
BASE = SAMPLE / "004_53bd226f14dc173a.txt"
SOURCE = SAMPLE / "003_42e09aa36b9c46a6.txt"

VERBATIM = "一是抓落实不够坚决。作为党员领导干部，我始终牢记党的性质宗旨、初心使命，但往往思想大于行动。在开展安全生产、大气污染防治等工作中，安排布置多、具体执行落实少，抓工作的责任链条焊的不紧，很多时候看似严丝合缝，其实暴露出很多问题和短板。"
REPUNCTUATED = "没有把政治理论成体系进行学习，没有用真正有效、管用的方法读原文、悟原理、求本源，简单认为看看资料、学学文件、听听讲座、做做笔记就可以了，导致对党在不同历史时期形成的理论理解的不深入、不透彻，进而不能很好的指导工作实践。"
YEAR_BUMPED = "一是与群众联系不够紧密。2023年度，我每周至少3天在基层一线，但是平心而论，主要还是以检查督导工作为主，下乡调研次数比较少，与群众聊家常次数也少，没有深入了解群众困难和诉求。"


def repunctuate(text: str) -> str:
    """Full-width punctuation to half-width, with a line break and spaces put in mid-sentence."""
    swapped = text.replace("，", ", ").replace("。", ".").replace("、", ",")
    middle = len(swapped) // 2
    return swapped[:middle] + "\n" + swapped[middle:]


def planted_submission() -> tuple[str, list[tuple[int, int, int, int]]]:
    """Seed 004 with three passages of seed 003 inserted; returns (text, [(sub_start, sub_end, src_start, src_end)])."""
    base_paragraphs = BASE.read_text(encoding="utf-8").split("\n")
    source = SOURCE.read_text(encoding="utf-8")
    inserts = {3: (VERBATIM, VERBATIM), 9: (REPUNCTUATED, repunctuate(REPUNCTUATED)),
               15: (YEAR_BUMPED, YEAR_BUMPED.replace("2023", "2024"))}
    pieces, truth, cursor = [], [], 0
    for index, paragraph in enumerate(base_paragraphs):
        if index in inserts:
            original, planted = inserts[index]
            src_start = source.index(original)
            pieces.append(planted + "\n")
            truth.append((cursor, cursor + len(planted), src_start, src_start + len(original)))
            cursor += len(planted) + 1
        pieces.append(paragraph + "\n")
        cursor += len(paragraph) + 1
    return "".join(pieces), truth


if __name__ == "__main__":
    text, _ = planted_submission()
    Path("corpus/demo/submission.txt").write_text(text, encoding="utf-8")
