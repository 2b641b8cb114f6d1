"""The sections of a report — 问题 / 原因 / 措施 — recognised from its headings, with fallbacks when it has none."""

from __future__ import annotations

import dataclasses
import re

LABELS = {"opening": "开头", "problems": "问题", "causes": "原因", "measures": "措施", "other": "其他", "unsectioned": "全文"}
# checked in this order: "产生问题的原因分析" is about causes, "上年度整改措施落实情况" is neither
_KINDS = (
    ("other", re.compile(r"落实情况|整改情况|完成情况|情况说明|回头看")),
    ("causes", re.compile(r"原因|根源|剖析|根子|究其")),
    ("measures", re.compile(r"措施|整改|努力方向|方向|打算|改进|下一步|下步")),
    ("problems", re.compile(r"问题|不足|差距|查摆|对照|表现")),
)
_NUMBERED = re.compile(r"^[ \t\u3000]*(?:[一二三四五六七八九十]{1,2}[、.．]|第[一二三四五六七八九十]部分[：:、]?)\s*(?P<title>[^\n]{1,40})", re.M)
_SHORT_LINE = re.compile(r"^[ \t\u3000]*(?P<title>[^\n。]{2,30})[ \t\u3000]*$", re.M)
_CUE = re.compile(r"^[ \t\u3000]*(?P<title>[^\n]{0,20}?(?:原因|根源|究其|整改措施|努力方向|下一步|今后))", re.M)


@dataclasses.dataclass
class Section:
    """A stretch [start, end) of the original text and what part of a report it is."""

    name: str
    start: int
    end: int
    heading: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.name]


def find_sections(text: str) -> list[Section]:
    """Sections in text order, covering the whole text; one `unsectioned` section when nothing is recognised."""
    for pattern, before in ((_NUMBERED, "opening"), (_SHORT_LINE, "opening"), (_CUE, "problems")):
        headings = _headings(text, pattern)
        if any(name != "problems" for _, name, _ in headings) or len(headings) >= 2:
            return _split(text, headings, before)
    return [Section("unsectioned", 0, len(text))]


def _headings(text: str, pattern: re.Pattern) -> list[tuple[int, str, str]]:
    """(position, section name, heading) of each line the pattern takes for a section heading."""
    found = []
    for match in pattern.finditer(text):
        name = _kind(match.group("title"))
        if name is not None:
            found.append((match.start(), name, match.group("title").strip()))
    return found


def _kind(title: str):
    for name, pattern in _KINDS:
        if pattern.search(title):
            return name
    return None


def _split(text: str, headings: list, before: str) -> list[Section]:
    """Sections from one heading to the next; the text before the first heading is named `before`.

    Without headings, a report's problems run until the first cue of causes or measures (究其原因, 下一步).
    """
    sections = [Section(before, 0, headings[0][0])] if headings[0][0] > 0 else []
    bounds = [h[0] for h in headings[1:]] + [len(text)]
    for (start, name, title), end in zip(headings, bounds):
        sections.append(Section(name, start, end, title))
    return [s for s in sections if s.end > s.start]
