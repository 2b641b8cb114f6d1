"""Random and mangled bytes under every supported suffix: read_document returns a Document or raises InputError, nothing else."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detector.errors import InputError
from detector.ingest import doc as doc_reader
from detector.ingest import read_document
from detector.ingest.sniff import OLE_MAGIC
from detector.model import Document
from ingest_samples import sample_paragraphs, write_docx, write_pdf

EXAMPLES = int(os.environ.get("CHACHONG_FUZZ_EXAMPLES", "60"))  # raise for a long hunt; CI keeps it short
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MAGICS = {".txt": b"", ".docx": b"PK\x03\x04", ".pdf": b"%PDF-1.4\n", ".doc": OLE_MAGIC}


@pytest.fixture(autouse=True)
def antiword_only(monkeypatch):
    """LibreOffice takes seconds per file: the fuzz runs feed .doc bytes to antiword alone."""
    monkeypatch.setattr(doc_reader._LibreOffice, "available", staticmethod(lambda: False))


def read_or_refuse(suffix: str, data: bytes):
    """read_document on the bytes saved under the suffix; an InputError is the clean way to fail."""
    with tempfile.TemporaryDirectory(prefix="chachong-fuzz-") as folder:
        path = Path(folder) / f"样本 fuzz{suffix}"
        path.write_bytes(data)
        try:
            return read_document(path)
        except InputError as err:
            assert "\n" not in str(err) and str(err).startswith(f"{path}: ")
            return err


@functools.lru_cache(maxsize=None)
def valid_sample(suffix: str) -> bytes:
    """A small well-formed file of the format, to be mangled."""
    paragraphs = sample_paragraphs("003")[:4]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"s{suffix}"
        if suffix == ".docx":
            write_docx(path, paragraphs, header="页眉")
        elif suffix == ".pdf":
            write_pdf(path, paragraphs)
        else:
            path.write_bytes("\n".join(paragraphs).encode("gbk"))
        return path.read_bytes()


@pytest.mark.parametrize("suffix", sorted(MAGICS))
@FUZZ
@given(data=st.binary(max_size=4096), with_magic=st.booleans())
def test_random_bytes(suffix, data, with_magic):
    outcome = read_or_refuse(suffix, (MAGICS[suffix] if with_magic else b"") + data)
    assert isinstance(outcome, (Document, InputError))


@st.composite
def mangled(draw, original: bytes):
    """The original with a few byte runs overwritten, a cut, or a slice dropped: how files get damaged."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(data) - 1))
        data[start:start + draw(st.integers(1, 16))] = draw(st.binary(min_size=1, max_size=16))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@pytest.mark.parametrize("suffix", [".docx", ".pdf", ".txt"])
@FUZZ
@given(data=st.data())
def test_damaged_files(suffix, data):
    original = valid_sample(suffix)
    outcome = read_or_refuse(suffix, data.draw(mangled(original)))
    assert isinstance(outcome, (Document, InputError))


def test_valid_samples_read():
    for suffix in (".docx", ".pdf", ".txt"):
        assert isinstance(read_or_refuse(suffix, valid_sample(suffix)), Document), suffix


@pytest.mark.skipif(not os.path.exists("/usr/bin/antiword"), reason="antiword is not installed")
@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=512, max_size=8192))
def test_random_doc_through_antiword(data):
    assert isinstance(read_or_refuse(".doc", OLE_MAGIC + data), (Document, InputError))
