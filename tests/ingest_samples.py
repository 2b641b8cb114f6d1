"""Builders of sample submissions for the ingest tests: .docx with real list numbering, text-layer and scanned .pdf, .doc."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

import pytest

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "corpus" / "sample"


def sample_paragraphs(name_prefix: str = "001") -> list:
    """The non-blank paragraphs of one report of corpus/sample."""
    path = next(SAMPLE_DIR.glob(f"{name_prefix}_*.txt"))
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_docx(path: Path, paragraphs, header: str | None = None, footer: str | None = None) -> Path:
    """A .docx with the given paragraphs; optional header/footer text on every page."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    document.save(path)
    return path


# Level 0 一、, level 1 （一）, level 2 1., level 3 a bullet: how these reports number their points.
_ABSTRACT_NUM = """<w:abstractNum {ns} w:abstractNumId="{aid}">
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/><w:suff w:val="nothing"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/></w:lvl>
  <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%3."/></w:lvl>
  <w:lvl w:ilvl="3"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="\uf06c"/></w:lvl>
</w:abstractNum>"""


def add_numbering(document, abstract_id: int = 10, num_id: int = 7, start_override: dict | None = None) -> int:
    """Define the Chinese report list in the document's numbering part; returns the numId to put on paragraphs."""
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(_ABSTRACT_NUM.format(ns=nsdecls("w"), aid=abstract_id)))
    overrides = "".join(
        f'<w:lvlOverride w:ilvl="{level}"><w:startOverride w:val="{start}"/></w:lvlOverride>'
        for level, start in (start_override or {}).items()
    )
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>{overrides}</w:num>'))
    return num_id


def add_list_paragraph(document, text: str, num_id: int, level: int):
    """A paragraph carrying automatic numbering (numPr) at the given level."""
    paragraph = document.add_paragraph(text)
    p_pr = paragraph._p.get_or_add_pPr()
    p_pr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>'))
    return paragraph


def append_runs_xml(paragraph, runs_xml: str) -> None:
    """Append raw run-level XML (revisions, fields) to a paragraph."""
    wrapper = parse_xml(f"<w:wrap {nsdecls('w')}>{runs_xml}</w:wrap>")
    for child in list(wrapper):
        paragraph._p.append(child)


def reportlab_or_skip():
    """reportlab with its built-in Chinese CID font registered, or a skip naming the package."""
    pytest.importorskip("reportlab", reason="reportlab (test-only dependency) builds the sample PDFs")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))


def write_pdf(path: Path, paragraphs, header: str | None = None, page_numbers: str | None = "- {page} -",
              font_size: int = 12) -> Path:
    """A text-layer A4 PDF in a Chinese font: first-line indented paragraphs, a running header, page numbers."""
    reportlab_or_skip()
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    style = ParagraphStyle("cn", fontName="STSong-Light", fontSize=font_size, leading=font_size * 1.7,
                           firstLineIndent=font_size * 2, wordWrap="CJK")

    def decorate(canvas, template):
        canvas.setFont("STSong-Light", 9)
        if header:
            canvas.drawCentredString(A4[0] / 2, A4[1] - 40, header)
        if page_numbers:
            canvas.drawCentredString(A4[0] / 2, 30, page_numbers.format(page=template.page))

    template = SimpleDocTemplate(str(path), pagesize=A4)
    template.build([Paragraph(escape(text), style) for text in paragraphs], onFirstPage=decorate, onLaterPages=decorate)
    return path


def write_scanned_pdf(path: Path, pages: int = 2) -> Path:
    """A PDF whose pages hold only drawings (what a scanner's pages look like to a text extractor)."""
    reportlab_or_skip()
    from reportlab.pdfgen import canvas as pdf_canvas

    canvas = pdf_canvas.Canvas(str(path))
    for _ in range(pages):
        for row in range(30):
            canvas.rect(72, 700 - row * 20, 400, 8, fill=1)  # grey bars where the scanned lines would be
        canvas.showPage()
    canvas.save()
    return path


def write_encrypted_pdf(path: Path, plain_pdf: Path, password: str = "secret") -> Path:
    """The given PDF with a user password (pypdf, a test-only dependency)."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf (test-only dependency) encrypts the sample PDF")
    writer = pypdf.PdfWriter(clone_from=str(plain_pdf))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-128")
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def soffice_or_skip() -> str:
    """The LibreOffice program, or a skip saying what to install."""
    program = shutil.which("soffice") or shutil.which("libreoffice")
    if program is None:
        pytest.skip("LibreOffice (apt-get install libreoffice-writer-nogui) is needed to make a .doc sample")
    return program


def write_doc(path: Path, paragraphs, workdir: Path) -> Path:
    """A Word 97-2003 .doc converted by LibreOffice from a .docx of the paragraphs."""
    program = soffice_or_skip()
    workdir.mkdir(parents=True, exist_ok=True)
    source = write_docx(workdir / (path.stem + ".docx"), paragraphs)
    profile = (workdir / "lo-profile").as_uri()
    subprocess.run([program, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "doc",
                    "--outdir", str(workdir), str(source)], check=True, capture_output=True, timeout=180)
    converted = workdir / (path.stem + ".doc")
    if converted != path:
        shutil.move(str(converted), str(path))
    return path


def write_image_only_pdf(path: Path, text_pdf: Path, dpi: int = 200) -> Path:
    """A 'scan' of a text PDF: its pages rendered to pictures by pdftoppm and put in a new PDF without text."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftoppm) is needed to make a scanned PDF sample")
    reportlab_or_skip()
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas as pdf_canvas

    prefix = path.parent / (path.stem + "-page")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-jpeg", str(text_pdf), str(prefix)], check=True, timeout=120)
    canvas = pdf_canvas.Canvas(str(path), pagesize=A4)
    for image in sorted(path.parent.glob(prefix.name + "-*.jpg")):
        canvas.drawImage(str(image), 0, 0, width=A4[0], height=A4[1])
        canvas.showPage()
    canvas.save()
    return path
