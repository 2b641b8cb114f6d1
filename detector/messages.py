"""Messages in the users' language: Chinese when the locale is Chinese (LANG/LC_ALL zh_*) or with --lang zh, English otherwise."""

from __future__ import annotations

import os

LANGUAGES = ("zh", "en")

# key → (English, Chinese); str.format fields in braces
CATALOGUE = {
    "error": ("error: {message}", "错误：{message}"),
    "warning": ("warning: {message}", "警告：{message}"),
    "unreadable": ("could not be read: {reason}", "无法读取：{reason}"),
    "no_passages": ("no reused passages found", "未发现复用段落"),
    "formulae_hidden": ("({n} short official formulae not listed; --show-formulae lists them)",
                        "（另有 {n} 处规范提法未列出；加 --show-formulae 列出）"),
    "sources": ("sources", "来源"),
    "more": ("… {n} more", "… 另有 {n} 篇"),
    "by_section": ("by section", "分节复制比"),
    "not_counted": ("not counted", "不计入"),
    "chars": ("{n} chars", "{n} 字"),
    "template_traces": ("contains {n} trace(s) of a template site ({listed})", "含模板网站痕迹 {n} 处（{listed}）"),
    "submission": ("submission", "本文"),
    "source": ("source", "来源"),
    "similarity": ("sim", "相似度"),
    "years": ("{years}", "{years}"),
    "in_documents": ("in {docs} documents, {units} units, {years} years{since}", "见于 {docs} 篇、{units} 个单位、{years} 个年度{since}"),
    "since": (", since {year}", "，最早 {year} 年"),
    "found_in": ("found in {n} documents", "见于 {n} 篇"),
    "cites": ("cites {who}", "引自 {who}"),
}

_current = {"language": None}


def language_from_environment(environ=None) -> str:
    """zh when LC_ALL, LC_MESSAGES or LANG (the first one set, as the C library reads them) names a Chinese locale."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(language: str | None) -> str:
    """Use `language` (zh/en) from now on; None: from the environment. Returns the language in use."""
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
    _current["language"] = language or language_from_environment()
    return _current["language"]


def language() -> str:
    return _current["language"] or language_from_environment()


def say(key: str, **fields) -> str:
    """The message `key` in the current language, its fields filled in."""
    english, chinese = CATALOGUE[key]
    return (chinese if language() == "zh" else english).format(**fields)
