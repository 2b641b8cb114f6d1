"""Document metadata: guessing year, meeting, team/personal, unit and author from the text and file name, and who owns a report."""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from pathlib import Path

from detector.model import DocumentMeta
from detector.normalize import simplified

FIELDS = ("author", "unit", "year", "meeting", "team")
HEAD_CHARS = 300  # the title and opening paragraph: where a report says which meeting of which year it is for

_MEETING = re.compile(r"(民主生活会|组织生活会)")
_OTHER_MEETING = re.compile(r"(?:专题)?(?:研讨会|座谈会|述职述廉|述责述廉)")
# a year tied to the meeting or written as a report year: 2023年度, 2022年民主生活会, 2023年第二批主题教育
_MEETING_YEAR = re.compile(r"((?:19|20)\d\d)\s*年(?:度|第.批|[^。，,\n]{0,12}?(?:民主生活会|组织生活会))")
_ANY_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_TEAM_SUBJECT = re.compile(r"^\s*([^\s，。、：:“”\d]{0,20}?)(领导班子|党组|党委|党工委|党总支|党支部|支部委员会|班子)")
# a title naming one member's post in a leading body (党组书记、局长张三…, 党委委员, 班子成员) or saying 个人: a personal report
_MEMBERS_POST = re.compile(r"个人|(?:领导班子|党组|党委|党工委|党总支|党支部|班子)(?:副?书记|成员|委员(?!会))")
_REPORT_TITLE = re.compile("对照检查|检视剖析|剖析材料|发言提纲|检查材料")
_TEAM_WORDS = re.compile(r"班子成员|领导班子|党组|党委|我们|局班子")
_PERSONAL_WORDS = re.compile(r"本人|我")
_NAME_NOTE = re.compile(r"\([^()]*\)")  # a post or unit in brackets after a name: 张三（副局长）, folded to ASCII brackets
_NAME_DOTS = re.compile(r"[.\u00b7\u2022\u2027\u2219\u22c5\u30fb\uff0e\uff65]")  # the dots written in 买买提·艾力
# a title such as 张三同志2023年度…对照检查材料; not a salutation (各位同志：, 王局长同志，), which many reports open with
_AUTHOR = re.compile(r"^\s*([\u4e00-\u9fff]{2,4}?)同志(?![们：:，,、！!])")
# a title subject that names only a level and kind of organ (县委常委, 区政府, 市委): every county has one, so it is no unit
_LEVEL_ONLY = re.compile(r"(?:[省市县区州盟旗镇乡村]|街道|自治[区州县旗]|[党工]?委|常委|常委会|人民政府|政府|人大|政协|纪委|监委"
                         r"|机关|党组|党委|党工委|[局厅处科部办院所])+")
_NOT_NAMES = {"各位", "全体", "领导", "在座", "与会", "广大", "党员", "亲爱", "尊敬"}


def infer(text: str, path: str = "") -> DocumentMeta:
    """Every field the text and file name tell, all marked as inferred; the others stay unknown."""
    head = _head(text, path)
    guesses = {"year": _year(head), "meeting": _meeting(head), "team": _team(head, text)}
    guesses.update(_owner(head, guesses["team"]))
    known = {k: v for k, v in guesses.items() if v is not None}
    return DocumentMeta(**known, inferred=tuple(k for k in FIELDS if k in known))


def complete(meta: DocumentMeta | None, text: str, path: str = "") -> DocumentMeta:
    """`meta` with its unknown fields filled by inference (marked as inferred); given values are kept."""
    meta = meta or DocumentMeta()
    guessed = infer(text, path)
    filled = {k: getattr(guessed, k) for k in FIELDS if getattr(meta, k) is None and getattr(guessed, k) is not None}
    inferred = tuple(k for k in FIELDS if k in filled or (k in meta.inferred and getattr(meta, k) is not None))
    return dataclasses.replace(meta, **filled, inferred=inferred)


def edited(meta: DocumentMeta, changes: dict) -> DocumentMeta:
    """`meta` with the given fields set by a person: they are no longer marked as inferred."""
    changes = {k: v for k, v in changes.items() if k in FIELDS}
    if "meeting" in changes:
        changes["meeting"] = meeting_name(changes["meeting"])
    inferred = tuple(k for k in meta.inferred if k not in changes)
    return dataclasses.replace(meta, **changes, inferred=inferred)


class GivenMeta:
    """What people said about documents (rows of store.given_meta_rows), looked up by content and path, by content,
    then by path.

    A file moved keeps what was said about its content, a file edited in place what was said about its path; what
    was said about this very file (its content at its path) comes first: two cadres may hand in the same bytes, and
    what a manifest says of 李四.txt is not said of 张三.txt.
    """

    def __init__(self, rows):
        self.by_file: dict = {}
        self.by_content: dict = {}
        self.by_path: dict = {}
        for sha, path, field, value, _ in rows:  # oldest first: a later statement overrides
            self.by_file.setdefault((sha, path), {})[field] = value
            self.by_content.setdefault(sha, {})[field] = value
            self.by_path.setdefault(path, {})[field] = value

    def fields(self, sha256: str, path: str) -> dict:
        return {**self.by_path.get(path, {}), **self.by_content.get(sha256, {}), **self.by_file.get((sha256, path), {})}

    def apply(self, meta: DocumentMeta, sha256: str, path: str) -> DocumentMeta:
        """`meta` with what people said about this content or path set (and no longer marked inferred)."""
        return edited(meta, self.fields(sha256, path))


def known(meta: DocumentMeta) -> dict:
    """The fields of `meta` that are known and were not guessed."""
    return {k: getattr(meta, k) for k in FIELDS if getattr(meta, k) is not None and k not in meta.inferred}


def meeting_name(value):
    """民主生活会, 组织生活会 or other (None stays unknown)."""
    if value is None or not str(value).strip():
        return None
    found = _MEETING.search(str(value))
    return found.group(1) if found else "other"


def owner(meta):
    """Whose report it is: the unit for a team (班子) report, else the author; None when unknown.

    Names are compared as `name_key` folds them, so 张　三 from a padded name list is 张三, and 張三 is 张三."""
    if meta.team and name_key(meta.unit):
        return ("unit", name_key(meta.unit))
    if name_key(meta.author):
        return ("author", name_key(meta.author))
    return None


@functools.lru_cache(maxsize=4096)  # a scan compares the owners of hundreds of stored reports: ~1.4 -> 0.1 µs each
def name_key(name) -> str:
    """A name as compared: full/half width folded, spaces (also the full-width padding 张　三) dropped, the variants
    of the middle dot of a transliterated name (买买提·艾力) made one, traditional characters simplified (a Big5
    report's 張曉明 is 张晓明, as its text is compared), a note in brackets dropped (张三（副局长）); '' for None or
    blank (or a note alone)."""
    folded = "".join(unicodedata.normalize("NFKC", name or "").split())
    return simplified(_NAME_DOTS.sub("·", _NAME_NOTE.sub("", folded)))


def same_text_warning(author: str, stored_path: str, stored_author: str) -> str:
    """Why a file with the same text as a stored one of another author is not stored again (a warning line)."""
    return (f"{author}'s report is the same text as {stored_path} ({stored_author}), which is stored: "
            "not stored again; two authors handed in one text, compare them")


def same_owner(a, b) -> bool:
    """Both reports belong to the same author (or, for team reports, the same unit)."""
    mine = owner(a)
    return mine is not None and mine == owner(b)


# ---------------------------------------------------------------- guesses


def _head(text: str, path: str) -> str:
    stem = Path(path).stem if path else ""
    return stem + "\n" + text[:HEAD_CHARS]


def _year(head: str):
    found = _MEETING_YEAR.search(head) or _ANY_YEAR.search(head)
    return int(found.group(1)) if found else None


def _meeting(head: str):
    found = _MEETING.search(head)
    if found:
        return found.group(1)
    return "other" if _OTHER_MEETING.search(head) else None


def _team(head: str, text: str):
    """A title naming a member's post (党组书记张三…) makes a personal report, one naming a 班子/党组 a team report;
    otherwise the way the report speaks decides."""
    titles = [line for line in head.splitlines()[:3] if _REPORT_TITLE.search(line)]
    if any(_MEMBERS_POST.search(line) for line in titles):
        return False
    if any(_TEAM_SUBJECT.search(line) for line in titles):
        return True
    team, personal = len(_TEAM_WORDS.findall(text)), len(_PERSONAL_WORDS.findall(text))
    if team >= 3 and team >= 2 * personal:
        return True
    if personal >= 3 and personal >= 2 * team:
        return False
    return None


def _owner(head: str, team) -> dict:
    """Unit (and the team as author) from a title like 市某局领导班子…; an author from …同志."""
    lines = head.splitlines()[:3]
    if team:
        for line in lines:
            found = _TEAM_SUBJECT.search(line)
            if found and len(found.group(1)) >= 2 and not _LEVEL_ONLY.fullmatch(found.group(1)):
                return {"unit": found.group(1), "author": found.group(1) + found.group(2)}
        return {}
    for line in lines:
        found = _AUTHOR.search(line)
        if found and found.group(1) not in _NOT_NAMES:
            return {"author": found.group(1)}
    return {}
