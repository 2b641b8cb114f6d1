"""The systems the quality benchmark scores, behind one small interface: add(label, text), scan(text), close().

`Chachong` drives the detector through its public API (detector.api); `ExactMatcher` lives in
baselines.py.  Only passages of the kinds that count as reuse are reported as detections.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.quality.baselines import ExactMatcher, Hit

REUSE_KINDS = ("copied", "template", "self_reuse")


class Chachong:
    """The detector on a fresh corpus database in a temporary folder."""

    name = "chachong"

    def __init__(self, settings=None, workdir: str | None = None):
        from detector import api
        from detector.settings import Settings

        self._api = api
        self.settings = settings or Settings()
        self._tmp = tempfile.TemporaryDirectory(prefix="quality-", dir=workdir)
        self.corpus = api.open_corpus(str(Path(self._tmp.name) / "corpus.db"), settings=self.settings, create=True)
        self.formula_passages = 0  # passages of kinds that do not count, seen while scanning

    def add_many(self, items: list[tuple]) -> None:
        """Index (label, text, year) items in one go."""
        from detector.model import DocumentMeta

        self._api.add_texts(self.corpus, [(label, text, DocumentMeta(year=year)) for label, text, year in items])

    def add(self, label: str, text: str, year: int | None = None) -> None:
        self.add_many([(label, text, year)])

    def scan(self, text: str, name: str = "<text>") -> list[Hit]:
        report = self._api.scan_text(self.corpus, text, path=name)
        return [_hit(p) for p in report.passages if p.kind in REUSE_KINDS]

    def passages(self, text: str, name: str = "<text>") -> list:
        """Every passage of the detector's report, of any kind (for diagnosis)."""
        return self._api.scan_text(self.corpus, text, path=name).passages

    def close(self) -> None:
        self.corpus.close()
        self._tmp.cleanup()


def _hit(passage) -> Hit:
    (a, b), (c, d) = passage.submission_span, passage.source_span
    return Hit(a, b, passage.source.path, c, d, passage.kind)


class Exact(ExactMatcher):
    """The exact 20-character matcher with the same add_many interface."""

    def add_many(self, items: list[tuple]) -> None:
        for label, text, _ in items:
            self.add(label, text)

    def scan(self, text: str, name: str = "<text>") -> list[Hit]:  # noqa: ARG002 - same signature as Chachong
        return super().scan(text)


SYSTEMS = {"chachong": Chachong, "exact-20": Exact}
