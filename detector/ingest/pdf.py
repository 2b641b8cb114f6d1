"""Reading .pdf text layers: lines in reading order rejoined into paragraphs, running headers, footers and page numbers dropped."""

from __future__ import annotations

import dataclasses
import io
import re
from collections import Counter

from detector.errors import CorruptFile, EncryptedFile, NeedsOCR

EDGE_LINES = 2  # lines at the top and at the bottom of a page that may be a running header or footer
REPEAT_SHARE = 0.5  # an edge line repeated on at least this share of pages (and on 2 or more) is a running header
MIN_CHARS_PER_PAGE = 5  # fewer extracted characters per page than this means there is no real text layer

_CJK = "\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef"
# Spaces a PDF shows between Chinese characters, or between them and Latin letters or digits, come from
# justification and font changes, not from the writer.
SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])[ \u00a0]+(?=[{_CJK}0-9A-Za-z])|(?<=[0-9A-Za-z])[ \u00a0]+(?=[{_CJK}])")
PAGE_NUMBER = re.compile(
    r"^(?:[-—–_~\s]*\d+[-—–_~\s]*"  # 3, - 3 -, —3—
    r"|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?"  # 第3页, 第3页 共10页
    r"|\d+\s*/\s*\d+"  # 3/10
    r"|(?:page|p\.)\s*\d+(?:\s*of\s*\d+)?)$",  # Page 3 of 10
    re.IGNORECASE,
)
_OCR_HINT = "run OCR on it first (e.g. ocrmypdf -l chi_sim), or read it with OCR on (ocr=True; needs apt packages tesseract-ocr, tesseract-ocr-chi-sim, poppler-utils)"


@dataclasses.dataclass
class Line:
    """One text line of a page with its box (PDF points, y grows upwards)."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)


def read_pdf(path, data: bytes, ocr: bool = False) -> str:
    """The text of a PDF's text layer, one paragraph per line; a scan is OCRed when ocr is set, else NeedsOCR."""
    pages = _page_lines(path, data)
    if sum(len(line.text) for page in pages for line in page) < MIN_CHARS_PER_PAGE * max(len(pages), 1):
        if ocr:
            from detector.ingest.ocr import ocr_pdf

            return ocr_pdf(path, data)
        raise NeedsOCR(path, f"no text layer: scanned PDF, OCR needed; {_OCR_HINT}")
    repeats = _repeated_edge_keys(pages)
    body = [line for page in pages for line in _drop_running_lines(page, repeats)]
    text = "\n".join(_paragraphs(body))
    if text.count("(cid:") * 8 > max(len(text), 1):
        raise NeedsOCR(path, f"the PDF's fonts carry no Unicode mapping, so its text layer cannot be read; {_OCR_HINT}")
    return text


def _page_lines(path, data: bytes) -> list:
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    document = _open_pdf(path, data)
    device = PDFPageAggregator(PDFResourceManager(), laparams=None)  # raw characters: lines are built here
    interpreter = PDFPageInterpreter(device.rsrcmgr, device)
    pages = []
    try:
        for number, page in enumerate(PDFPage.create_pages(document)):
            interpreter.process_page(page)
            pages.append(list(_layout_lines(device.get_result(), number)))
    except Exception as err:  # pdfminer raises many types (PSEOF, PDFSyntaxError, KeyError, ...) on damaged files
        raise CorruptFile(path, f"the PDF is damaged ({_one_line(err)}); print it to a new PDF or ask for a new copy") from None
    return pages


def _open_pdf(path, data: bytes):
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser

    try:
        return PDFDocument(PDFParser(io.BytesIO(data)), password="")
    except PDFPasswordIncorrect:
        raise EncryptedFile(path, "the PDF is password-protected; remove the password (or print it to a new PDF) and try again") from None
    except PDFEncryptionError as err:
        raise EncryptedFile(path, f"the PDF is encrypted in a way chachong cannot open ({_one_line(err)}); print it to a new PDF without a password") from None
    except Exception as err:
        raise CorruptFile(path, f"is not a readable PDF ({_one_line(err)}); print it to a new PDF or ask for a new copy") from None


def _layout_lines(layout, page_number: int) -> list:
    """The page's text lines, built from its characters by baseline: fonts switch mid-line (quotes, digits) and
    writers emit each font's runs apart, so the order of the content stream cannot be trusted to group them."""
    lines = []
    for chars in _rows(sorted(_upright_chars(layout), key=lambda c: -c.y1)):
        chars.sort(key=lambda c: c.x0)
        text = _clean(_row_text(chars))
        if text:
            lines.append(Line(page_number, chars[0].x0, min(c.y0 for c in chars), chars[-1].x1, max(c.y1 for c in chars), text))
    return lines


def _upright_chars(item):
    """Visible characters, skipping rotated ones (diagonal watermarks, vertical margin notes)."""
    from pdfminer.layout import LTChar

    for child in item:
        if isinstance(child, LTChar):
            if _horizontal(child.matrix) and child.get_text().strip():
                yield child
        elif hasattr(child, "__iter__"):
            yield from _upright_chars(child)


def _horizontal(matrix) -> bool:
    """Upright, unrotated text: the glyph matrix has (almost) no shear or rotation part."""
    a, b, c, d = matrix[:4]
    return a > 0 and d > 0 and abs(b) + abs(c) < 0.1 * min(a, d)


def _rows(chars: list):
    """Group characters (sorted top to bottom) whose boxes overlap vertically by half the smaller height."""
    row, top, bottom = [], None, None
    for char in chars:
        if row and min(top, char.y1) - max(bottom, char.y0) < 0.5 * min(top - bottom, char.height):
            yield row
            row = []
        if not row:
            top, bottom = char.y1, char.y0
        row.append(char)
        top, bottom = max(top, char.y1), min(bottom, char.y0)
    if row:
        yield row


def _row_text(chars: list) -> str:
    parts, previous = [], None
    for char in chars:
        size = max(char.size, 1.0)
        if previous is not None:
            gap = char.x0 - previous.x1
            if char.get_text() == previous.get_text() and abs(char.x0 - previous.x0) < 0.3 * size:
                continue  # fake bold: the same glyph drawn twice, slightly offset
            parts.append("\t" if gap > 3 * size else " " if gap > 0.2 * size else "")
        parts.append(char.get_text())
        previous = char
    return "".join(parts)


def _clean(text: str) -> str:
    return SPACE_BETWEEN_CJK.sub("", text.strip())


def _edge_lines(page: list) -> list:
    by_height = sorted(page, key=lambda line: -line.y1)
    return by_height[:EDGE_LINES] + by_height[-EDGE_LINES:]


def _edge_key(line: Line) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line.text))


def _drop_running_lines(page: list, repeats: set) -> list:
    """The page's lines less page numbers and headers/footers repeated across pages, when they sit at the page's edge."""
    edges = {id(line) for line in _edge_lines(page)}
    return [
        line
        for line in page
        if id(line) not in edges or not (PAGE_NUMBER.match(line.text) or _edge_key(line) in repeats)
    ]


def _repeated_edge_keys(pages: list) -> set:
    counts = Counter(key for page in pages for key in {_edge_key(line) for line in _edge_lines(page)})
    needed = max(2, REPEAT_SHARE * len(pages))
    return {key for key, count in counts.items() if count >= needed}


def _paragraphs(lines: list):
    """Rejoin wrapped lines: a new paragraph starts after a short line, at an indented line, or after a gap."""
    if not lines:
        return
    left, right, height = _margins(lines)
    current = lines[0].text
    for previous, line in zip(lines, lines[1:]):
        if _starts_paragraph(previous, line, left, right, height):
            yield current
            current = line.text
        else:
            current = join_wrapped(current, line.text)
    yield current


def _margins(lines: list) -> tuple:
    lefts = sorted(line.x0 for line in lines)
    rights = sorted(line.x1 for line in lines)
    heights = sorted(line.height for line in lines)
    return lefts[len(lefts) // 20], rights[len(rights) * 9 // 10], heights[len(heights) // 2]


def _starts_paragraph(previous: Line, line: Line, left: float, right: float, height: float) -> bool:
    indented = line.x0 > left + 1.2 * height
    previous_short = previous.x1 < right - 2 * height
    gap = previous.page == line.page and previous.y0 - line.y1 > 1.2 * height
    return indented or previous_short or gap or line.page == previous.page and line.y1 > previous.y1 + height


def join_wrapped(text: str, continuation: str) -> str:
    """Join a wrapped line to its paragraph: nothing between CJK, a space between Latin words, a line-end hyphen undone."""
    if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and continuation[:1].islower():
        return text[:-1] + continuation
    if text[-1:].isascii() and text[-1:].isalnum() and continuation[:1].isascii() and continuation[:1].isalnum():
        return text + " " + continuation
    return text + continuation


def _one_line(err: Exception) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text[:120]
