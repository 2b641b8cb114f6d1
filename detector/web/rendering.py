"""Text for the pages: library messages in Chinese with the English beside, report pages with the site's navigation."""

from __future__ import annotations

import re

from markupsafe import Markup

from detector.ingest.text import ENCODING_HINT
from detector.messages import localized

# what a page's user does instead of passing --encoding (the web page has no such option)
UPLOAD_AGAIN_HINT = "save it as UTF-8 text (Notepad or WPS: Save As, encoding UTF-8) or as .docx and upload it again"


def bilingual(message: str) -> str:
    """A library message in Chinese first with the English beside, where the catalogue knows its phrases."""
    chinese = localized(message)
    return message if chinese == message else f"{chinese} — {message}"


def for_the_web(message: str) -> str:
    """A library message with its command-line advice (pass --encoding) told as the page's user can follow it."""
    return message.replace(ENCODING_HINT, UPLOAD_AGAIN_HINT)


def with_nav(html: str, nav: str) -> Markup:
    """A report page (a whole document from detector/report) with the site's navigation put after <body>."""
    return Markup(re.sub(r"<body>", lambda _: "<body>\n" + nav, html, count=1))
