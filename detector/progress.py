"""Progress for long work (adding, scanning, rebuilding): a bar on stderr, or reports to a callable (the web page's indicator)."""

from __future__ import annotations

import sys


def progress_bar(items: list, progress, label: str):
    """Wrap `items` in a progress bar on stderr when asked (True: show; False/None: no bar; a callable: told
    `progress(label, done, total)` before each item and at the end, as the web page's progress indicator is)."""
    if not progress:
        return items
    if callable(progress):
        return _reporting(items, progress, label)
    from tqdm import tqdm

    return tqdm(items, desc=label, unit="file", file=sys.stderr, leave=False)


def _reporting(items: list, report, label: str):
    for done, item in enumerate(items):
        report(label, done, len(items))
        yield item
    report(label, len(items), len(items))
