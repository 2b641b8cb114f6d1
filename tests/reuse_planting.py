"""Build corpora for the kinds of reuse from the sample seeds: a passage planted in several reports, a report reused a year later."""

from __future__ import annotations

from planting import SAMPLE

from detector.model import DocumentMeta

SEEDS = sorted(SAMPLE.glob("*.txt"))
# a passage none of the seeds has: what a circulating template (or a colleague) supplies
PASSAGE = ("在推动重点项目建设上还存在等靠要思想，遇到土地、资金等要素制约时主动协调不够，满足于层层转办、按时上报，"
           "没有拿出攻坚克难的硬招实招，导致部分项目进度滞后于计划节点。")
QUOTES = ("习近平总书记强调，理想信念就是共产党人精神上的“钙”，没有理想信念，理想信念不坚定，精神上就会“缺钙”，就会得“软骨病”。",
          "习近平总书记强调，打铁还需自身硬，党风廉政建设和反腐败斗争是我们必须抓好的重大政治任务。")
CAUSES_HEADING = "二、产生问题的原因分析"


def seed_text(index: int) -> str:
    return SEEDS[index].read_text(encoding="utf-8")


def plant(text: str, passage: str, paragraph: int = 3) -> str:
    """`text` with `passage` inserted as a paragraph of its own before paragraph number `paragraph`."""
    lines = text.split("\n")
    return "\n".join(lines[:paragraph] + [passage] + lines[paragraph:])


def meta(author=None, unit=None, year=None, team=False, meeting="民主生活会") -> DocumentMeta:
    return DocumentMeta(author=author, unit=unit, year=year, meeting=meeting, team=team)


def last_year_and_this_year() -> tuple[str, str, str]:
    """(2022 report, 2024 submission, the reused half): the submission is the 2022 report's opening and problems
    with years and meeting names changed, followed by the causes and measures of another report (seed 004)."""
    old = seed_text(3).replace("2023", "2022")
    half = old[: old.index(CAUSES_HEADING)]
    reused = half.replace("2022", "2024").replace("民主生活会", "组织生活会")
    fresh = seed_text(4)
    return old, reused + fresh[fresh.index(CAUSES_HEADING):], reused
