"""OCR of scanned PDFs, offline: pages rendered by poppler's pdftoppm, read by tesseract with the chi_sim language data."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from detector.errors import ConverterMissing, CorruptFile
from detector.ingest.pdf import PAGE_NUMBER, SPACE_BETWEEN_CJK, join_wrapped

OCR_LANGUAGES = "chi_sim+eng"
OCR_DPI = 300
PAGE_TIMEOUT = 180  # seconds of tesseract per page
_INSTALL = "apt-get install tesseract-ocr tesseract-ocr-chi-sim poppler-utils"


def ocr_pdf(path, data: bytes) -> str:
    """The text of a scanned PDF, one paragraph per line, page numbers at page edges dropped."""
    _require_tools(path)
    with tempfile.TemporaryDirectory(prefix="chachong-ocr-") as folder:
        source = Path(folder) / "scan.pdf"
        source.write_bytes(data)
        images = _render_pages(path, source)
        pages = [_recognise(path, image) for image in images]
    paragraphs = [p for page in pages for p in _page_paragraphs(page)]
    return "\n".join(paragraphs)


def _require_tools(path) -> None:
    missing = [tool for tool in ("pdftoppm", "tesseract") if shutil.which(tool) is None]
    if not missing and "chi_sim" not in _tesseract_languages():
        missing.append("tesseract's chi_sim data")
    if missing:
        raise ConverterMissing(path, f"OCR needs {', '.join(missing)}, not installed; {_INSTALL}")


def _tesseract_languages() -> set:
    result = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    return set((result.stdout + result.stderr).split())


def _render_pages(path, source: Path) -> list:
    result = subprocess.run(["pdftoppm", "-r", str(OCR_DPI), "-gray", "-png", str(source), str(source.parent / "page")],
                            capture_output=True, timeout=PAGE_TIMEOUT * 4)
    images = sorted(source.parent.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    if result.returncode != 0 or not images:
        message = " ".join(result.stderr.decode("utf-8", errors="replace").split())[:120]
        raise CorruptFile(path, f"the scanned PDF's pages could not be rendered for OCR ({message or 'no pages'}); print it to a new PDF")
    return images


def _recognise(path, image: Path) -> str:
    try:
        result = subprocess.run(["tesseract", str(image), "stdout", "-l", OCR_LANGUAGES], capture_output=True,
                                timeout=PAGE_TIMEOUT, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    except subprocess.TimeoutExpired:
        raise CorruptFile(path, f"OCR of a page took longer than {PAGE_TIMEOUT} s; split the PDF or OCR it with another tool") from None
    if result.returncode != 0:
        message = " ".join(result.stderr.decode("utf-8", errors="replace").split())[:120]
        raise CorruptFile(path, f"OCR failed ({message}); OCR it with another tool")
    return result.stdout.decode("utf-8", errors="replace")


def _page_paragraphs(page: str) -> list:
    """tesseract separates blocks with blank lines: each block is one paragraph whose lines are rejoined."""
    blocks = [[SPACE_BETWEEN_CJK.sub("", line.strip()) for line in block.splitlines() if line.strip()]
              for block in re.split(r"\n\s*\n", page)]
    blocks = [block for block in blocks if block]
    while blocks and len(blocks[-1]) == 1 and PAGE_NUMBER.match(blocks[-1][0]):
        blocks.pop()
    while blocks and len(blocks[0]) == 1 and PAGE_NUMBER.match(blocks[0][0]):
        blocks.pop(0)
    paragraphs = []
    for block in blocks:
        text = block[0]
        for line in block[1:]:
            text = join_wrapped(text, line)
        paragraphs.append(text)
    return paragraphs
