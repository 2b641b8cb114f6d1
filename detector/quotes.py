"""Citations in a report: the words of a leader or a document it quotes (习近平总书记强调，“……”), found in the original text."""

from __future__ import annotations

import dataclasses
import re

# who or what is cited: leaders, the classics, the congress and plenum reports (often written without 《》), and
# documents named in 《》
_CONGRESS = r"(?:十[一二三四五六七八九]|二十)"
_SPEAKER = (r"(?:习近平)?总书记|习近平(?:同志)?|毛泽东(?:同志)?|邓小平(?:同志)?|周恩来(?:同志)?|毛主席|马克思|恩格斯|列宁|"
            rf"党章|古人|先贤|(?:党的)?{_CONGRESS}大报告|(?:党的)?{_CONGRESS}届[一二三四五六七八九]中全会(?:决定|公报)|"
            r"《[^》\n]{1,30}》")
# a few characters may stand between the speaker and the verb: 在……大会上, 多次, 曾经
_BETWEEN = r"[^，。；！？!?;“”\"\n]{0,25}?"
# verbs that introduce the cited words; 讲话/说明/要求的 and the like are excluded by the look-ahead
_VERB = r"(?:强调|指出|说|讲|要求|告诫|提出|指示|寄语|明确|写道|号召|规定)(?:过|的)?(?![话明求座])"
_CITATION = re.compile(rf"(?P<speaker>{_SPEAKER}){_BETWEEN}{_VERB}(?P<mark>[，,：:]?\s*)(?P<open>[“\"「]?)")
_CLOSE = {"“": "”", '"': '"', "「": "」"}
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")


@dataclasses.dataclass
class Citation:
    """A stretch of the original text that cites someone: the attribution and the cited words."""

    start: int
    end: int
    speaker: str


def find_citations(text: str, max_chars: int = 300) -> list[Citation]:
    """Every attributed citation, quoted (up to the closing mark) or not (up to the end of the cited sentence)."""
    found, cursor = [], 0
    for match in _CITATION.finditer(text):
        if match.start() < cursor:
            continue
        end = _citation_end(text, match, max_chars)
        if end is None:
            continue
        found.append(Citation(match.start(), end, _speaker(match.group("speaker"))))
        cursor = end
    return found


def _citation_end(text: str, match: re.Match, max_chars: int):
    """Where the cited words end, or None when the verb does not introduce any."""
    start = match.end()
    if match.group("open"):
        close = text.find(_CLOSE[match.group("open")], start, start + max_chars)
        return None if close < 0 else close + 1
    if not match.group("mark").strip() and match.group(0)[-2:] not in ("强调", "指出"):
        return None  # "总书记讲的道理" and the like: no citation follows
    stop = _SENTENCE_END.search(text, start, start + max_chars)
    end = stop.end() if stop else min(len(text), start + max_chars)
    return end if end - start >= 4 else None


def _speaker(name: str) -> str:
    return "习近平总书记" if name in ("总书记", "习近平", "习近平同志") else name


def covered(span: tuple, citations: list[Citation]) -> tuple[int, Citation | None]:
    """Characters of `span` inside citations, and the citation covering most of it."""
    best, best_overlap, total = None, 0, 0
    for citation in citations:
        overlap = max(0, min(span[1], citation.end) - max(span[0], citation.start))
        total += overlap
        if overlap > best_overlap:
            best, best_overlap = citation, overlap
    return total, best
