"""Reading .docx: body paragraphs and tables in document order with list numbering kept; headers, footers, notes and text boxes left out."""

from __future__ import annotations

import io
import zipfile

from docx.oxml.ns import qn

from detector.errors import CorruptFile, DocumentTooLong, EncryptedFile, WrongFileType, ZipBomb
from detector.ingest.numbering import Numbering

# Limits checked on the zip directory before anything is unpacked. A real report unpacks to a few MiB;
# its XML compresses 5-40 times; images are stored almost as they are.
MAX_ZIP_MEMBERS = 5000
MAX_UNPACKED_BYTES = 512 * 2**20
MAX_COMPRESSION_RATIO = 200  # checked on members that unpack to more than RATIO_CHECK_FROM bytes
RATIO_CHECK_FROM = 2**20

_RESAVE = "open it in Word or WPS and save it again as .docx"
_MC_ALTERNATE = "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent"
# Deleted revisions, field codes, drawings/text boxes and note references are not text a reader sees in the body.
_SKIPPED = {qn(t) for t in ("w:del", "w:moveFrom", "w:delText", "w:instrText", "w:pPr", "w:rPr", "w:drawing", "w:pict", "w:object", "w:txbxContent")}
_SKIPPED.add(_MC_ALTERNATE)
_BLOCK_CONTAINERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}
_OTHER_ZIPS = (
    ("xl/", "an Excel workbook (.xlsx)", "copy the text into a Word document"),
    ("ppt/", "a PowerPoint presentation (.pptx)", "copy the text into a Word document"),
    ("mimetype", "an OpenDocument file (.odt/.ods)", "open it in LibreOffice or WPS and save it as .docx"),
)


def read_docx(path, data: bytes, max_xml_bytes: int = 32 * 2**20, max_paragraphs: int = 50_000) -> str:
    """The visible body text of a .docx: one line per paragraph (and per table cell paragraph), numbering labels included.

    Bounded work: a document.xml that unpacks to more than `max_xml_bytes` is refused before it is parsed (the
    parsed tree takes ~20 times its size), and reading stops at `max_paragraphs` paragraphs.
    """
    archive = _open_zip(path, data)
    _refuse_bombs(path, archive)
    _require_word_package(path, archive)
    _refuse_large_xml(path, archive, max_xml_bytes)
    document = _open_with_python_docx(path, data)
    numbering = Numbering(_part_element(document, "numbering_part"), _part_element(document, "_styles_part"))
    return "\n".join(_at_most(path, _block_lines(document.element.body, numbering), max_paragraphs))


def _refuse_large_xml(path, archive: zipfile.ZipFile, limit: int) -> None:
    for member in archive.infolist():
        if member.filename.startswith("word/") and member.filename.endswith(".xml") and member.file_size > limit:
            raise DocumentTooLong(path, f"part {member.filename} of the .docx unpacks to {member.file_size / 2**20:.0f} MiB "
                                        f"of XML, over the {limit / 2**20:.0f} MiB limit (a report has well under 1 MiB); "
                                        "split the document, or raise Settings.max_xml_bytes")


def _at_most(path, lines, limit: int):
    for count, line in enumerate(lines, start=1):
        if count > limit:
            raise DocumentTooLong(path, f"the .docx has more than {limit:,} paragraphs (a report has a few hundred); "
                                        "split the document, or raise Settings.max_paragraphs")
        yield line


def _open_zip(path, data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        archive.infolist()
    except Exception:  # zipfile raises BadZipFile, ValueError, struct.error ... on damaged input
        raise CorruptFile(path, f"is not a readable .docx: the zip container is damaged or truncated; {_RESAVE}, or ask for a new copy") from None
    return archive


def _refuse_bombs(path, archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise ZipBomb(path, f"the .docx zip holds {len(members)} parts (a real report has a few dozen): looks like a zip bomb; refused, {_RESAVE} if it is genuine")
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ZipBomb(path, f"the .docx would unpack to {unpacked / 2**20:.0f} MiB (limit {MAX_UNPACKED_BYTES / 2**20:.0f} MiB): looks like a zip bomb; refused, {_RESAVE} if it is genuine")
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECK_FROM and ratio > MAX_COMPRESSION_RATIO:
            raise ZipBomb(path, f"part {member.filename!r} of the .docx is compressed {ratio:.0f}:1 (limit {MAX_COMPRESSION_RATIO}:1): looks like a zip bomb; refused, {_RESAVE} if it is genuine")
    if any(m.flag_bits & 0x1 for m in members):
        raise EncryptedFile(path, "the .docx zip is password-protected; remove the password and save it again as .docx")


def _require_word_package(path, archive: zipfile.ZipFile) -> None:
    names = set(archive.namelist())
    if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
        return
    for prefix, what, fix in _OTHER_ZIPS:
        if any(n.startswith(prefix) for n in names):
            raise WrongFileType(path, f"is {what}, not a Word .docx document; {fix}")
    raise WrongFileType(path, "is a zip archive but not a Word .docx document; unpack it and give chachong the reports inside")


def _open_with_python_docx(path, data: bytes):
    import docx

    try:
        return docx.Document(io.BytesIO(data))
    except ValueError as err:
        if "not a Word file" in str(err):
            raise WrongFileType(path, f"is an Office file but not a Word document (.docx); {_RESAVE}") from None
        raise CorruptFile(path, f"the .docx is damaged ({_one_line(err)}); {_RESAVE}") from None
    except Exception as err:  # python-docx/lxml/zipfile raise many types on damaged parts
        raise CorruptFile(path, f"the .docx is damaged ({_one_line(err)}); {_RESAVE}") from None


def _part_element(document, part_name: str):
    try:
        return getattr(document.part, part_name).element
    except Exception:  # a missing or unparsable numbering/styles part only costs the labels
        return None


def _block_lines(container, numbering: Numbering):
    """Paragraph texts of a body, cell or content control, tables flattened cell by cell where they stand."""
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            yield numbering.label(child) + paragraph_text(child)
        elif child.tag == qn("w:tbl"):
            yield from _table_lines(child, numbering)
        elif child.tag in _BLOCK_CONTAINERS:
            yield from _block_lines(child, numbering)


def _table_lines(table, numbering: Numbering):
    for row in table.iterchildren(qn("w:tr")):
        for cell in row.iterchildren(qn("w:tc")):
            yield from (line for line in _block_lines(cell, numbering) if line.strip())


def paragraph_text(paragraph) -> str:
    """The text of one w:p as Word shows it: runs, tabs and line breaks, inserted revisions in, deleted ones out."""
    parts = []
    _collect_text(paragraph, parts)
    return "".join(parts)


def _collect_text(element, parts: list) -> None:
    for child in element.iterchildren():
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIPPED:
            continue  # comments and processing instructions have non-string tags
        if tag == qn("w:t"):
            parts.append(child.text or "")
        elif tag == qn("w:tab"):
            parts.append("\t")
        elif tag in (qn("w:br"), qn("w:cr")):
            parts.append("\n")
        elif tag == qn("w:noBreakHyphen"):
            parts.append("-")
        else:
            _collect_text(child, parts)


def _one_line(err: Exception) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text[:120]
