"""Text for the pages: library messages in Chinese with the English beside, report pages with the site's navigation."""

from __future__ import annotations

import re

from markupsafe import Markup

from detector.messages import localized


def bilingual(message: str) -> str:
    """A library message in Chinese first with the English beside, where the catalogue knows its phrases."""
    chinese = localized(message)
    return message if chinese == message else f"{chinese} — {message}"


def with_nav(html: str, nav: str) -> Markup:
    """A report page (a whole document from detector/report) with the site's navigation put after <body>."""
    return Markup(re.sub(r"<body>", lambda _: "<body>\n" + nav, html, count=1))
