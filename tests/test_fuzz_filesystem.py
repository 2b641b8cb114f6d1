"""Random manifests and random folder trees (odd names, non-UTF-8 bytes, permissions, links that loop or dangle):
every run ends in a result or one-line errors, never a traceback; the index stays consistent.

Beside tests/test_fuzz_ingest.py (random file contents). CHACHONG_FUZZ_EXAMPLES raises the number of examples.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector import api
from detector.errors import ManifestError
from detector.ingest.manifest import read_manifest
from detector.paths import shown
from detector.settings import MAX_YEAR, MIN_YEAR
from planting import SAMPLE

EXAMPLES = int(os.environ.get("CHACHONG_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TREES = settings(max_examples=max(8, EXAMPLES // 4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEED_TEXTS = [p.read_bytes() for p in sorted(SAMPLE.glob("*.txt"))]

# ---------------------------------------------------------------- manifests

_cells = st.one_of(st.text(max_size=12), st.sampled_from(["张三", "某局", "", " ", "\"", ",", "\n"]))
_years = st.one_of(st.integers(-10**25, 10**25).map(str), st.sampled_from(["²⁰²³", "２０２３", "2023", "1948", "2101", "", "二〇二三", "20 23"]))
_paths = st.one_of(st.sampled_from(["a.txt", "sub/b.txt", "../x.txt", "/etc/hostname", "./a.txt", "sub/../a.txt", "", "~/c.txt"]),
                   st.text(min_size=1, max_size=20))
_headers = st.sampled_from(["path,author,unit,year", "path,author,unit,year,meeting,team", "author,unit,year", "",
                            "Path,Author", "path", "\ufeffpath,author,unit,year", " path , author , unit , year "])


@st.composite
def manifests(draw):
    rows = draw(st.lists(st.tuples(_paths, _cells, _cells, _years, _cells, st.sampled_from(["", "yes", "no", "1", "maybe"])), max_size=8))
    return draw(_headers), rows


def _csv_line(cells) -> str:
    return ",".join('"' + str(c).replace('"', '""') + '"' for c in cells)


@FUZZ
@given(manifest=manifests())
def test_a_random_manifest_reads_cleanly_or_is_refused_in_one_line(manifest):
    header, rows = manifest
    with tempfile.TemporaryDirectory(prefix="chachong-fuzz-") as folder:
        path = Path(folder) / "manifest.csv"
        path.write_text("\n".join([header, *(_csv_line(r) for r in rows)]) + "\n", encoding="utf-8")
        try:
            found = read_manifest(path)
        except ManifestError as err:
            assert "\n" not in str(err) and str(err).startswith(f"{path}: ")
            return
        root = Path(folder).resolve()
        for file, meta in found.items():
            assert root == file or root in file.parents
            assert meta.year is None or MIN_YEAR <= meta.year <= MAX_YEAR


# ---------------------------------------------------------------- folder trees

_name_bytes = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=10)
    .map(lambda t: t.encode("utf-8")),
    st.binary(min_size=1, max_size=8).map(lambda b: b.replace(b"/", b"_").replace(b"\x00", b"_")),
    st.sampled_from([b"\xb2\xe2\xca\xd4", b"a\nerror: forged", b".hidden", b"~$owner", b" ", b"-rf"]),
)
_suffixes = st.sampled_from([b".txt", b".docx", b".md", b"", b".pdf"])
_contents = st.one_of(st.sampled_from(SEED_TEXTS), st.binary(max_size=300), st.just(b""))


@st.composite
def trees(draw):
    """(kind, name bytes, content or link target) entries, nested one level below some folders."""
    entries = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["file", "file", "file", "folder", "loop", "dangling", "dirlink", "locked"]))
        folder = draw(st.sampled_from([b"", b"sub", b"\xc4\xe3"]))
        entries.append((kind, folder, draw(_name_bytes) + draw(_suffixes), draw(_contents)))
    return entries


def _build(root: bytes, entries) -> None:
    for kind, folder, name, content in entries:
        where = os.path.join(root, folder)
        os.makedirs(where, exist_ok=True)
        path = os.path.join(where, name)
        if os.path.lexists(path):
            continue
        if kind in ("file", "locked"):
            with open(path, "wb") as handle:
                handle.write(content)
            if kind == "locked":
                os.chmod(path, 0)  # unreadable (except for root, who reads anything)
        elif kind == "folder":
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, b"inner.txt"), "wb") as handle:
                handle.write(content or SEED_TEXTS[0])
        elif kind == "loop":
            os.symlink(name, path)
        elif kind == "dangling":
            os.symlink(b"nowhere" + name, path)
        else:
            os.symlink(root, path)  # a folder link back to the top: never followed


def _unlock(root: bytes) -> None:
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(top, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700)


def _one_line(pairs) -> None:
    for path, reason in pairs:
        text = f"{shown(path)}: {reason}"
        assert "\n" not in text
        text.encode("utf-8")  # printable as UTF-8


@TREES
@given(entries=trees())
def test_a_random_folder_tree_is_added_rebuilt_and_scanned_without_a_traceback(entries):
    work = tempfile.mkdtemp(prefix="chachong-fuzz-")
    try:
        root = os.path.join(os.fsencode(work), b"archive")
        os.makedirs(root)
        _build(root, entries)
        archive = os.fsdecode(root)
        with api.open_corpus(os.path.join(work, "add.db"), create=True) as corpus:
            added = api.add_paths(corpus, [archive])
            _one_line(added.failed + added.skipped)
            assert corpus.store.problems() == []
        first = api.rebuild(os.path.join(work, "rebuilt.db"), archive)
        _one_line(first.failed + first.skipped)
        again = api.rebuild(os.path.join(work, "rebuilt.db"), archive)
        assert not (again.added or again.removed or again.changed)
        with api.open_corpus(os.path.join(work, "rebuilt.db")) as corpus:
            assert corpus.store.problems() == []
            assert corpus.store.document_count() == first.documents
            result = api.scan_batch(corpus, [archive])
        assert all(r.error is None or "\n" not in r.error for r in result.reports)
    finally:
        _unlock(os.fsencode(work))
        shutil.rmtree(work)
