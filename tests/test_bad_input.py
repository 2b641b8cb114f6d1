"""Every kind of bad submission gets one InputError whose message is one line: '<path>: <cause>; <what to do>'."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

import detector.ingest as ingest
from detector.errors import (
    CorruptFile,
    EmptyDocument,
    EncryptedFile,
    FileTooLarge,
    InputError,
    NeedsOCR,
    UndecodableFile,
    UnsupportedFormat,
    WrongFileType,
    ZipBomb,
)
from detector.ingest import docx as docx_reader
from detector.ingest import iter_input_files, read_document
from detector.ingest.sniff import OLE_MAGIC
from detector.settings import Settings
from ingest_samples import SAMPLE_DIR, sample_paragraphs, write_docx, write_encrypted_pdf, write_pdf, write_scanned_pdf


def refused(path, error_type=InputError, **kwargs) -> str:
    """The message read_document gives for a bad file, checked for its one-line '<path>: <cause>; <fix>' shape."""
    with pytest.raises(error_type) as caught:
        read_document(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert "; " in message[len(str(path)) + 2:], f"no advice in: {message}"
    assert caught.value.path == str(path)
    return message[len(str(path)) + 2:]


@pytest.fixture
def good_docx(tmp_path):
    return write_docx(tmp_path / "good.docx", sample_paragraphs("001")[:6])


@pytest.fixture
def good_pdf(tmp_path):
    return write_pdf(tmp_path / "good.pdf", sample_paragraphs("001")[:6])


# --- no text -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".txt", ".docx", ".pdf", ".doc"])
def test_empty_file(tmp_path, suffix):
    (tmp_path / f"空{suffix}").write_bytes(b"")
    assert refused(tmp_path / f"空{suffix}", EmptyDocument) == "the file holds no text (empty or whitespace only); nothing to compare"


def test_empty_text_file_says_nothing_to_compare(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    assert refused(tmp_path / "empty.txt", EmptyDocument) == "the file holds no text (empty or whitespace only); nothing to compare"


def test_whitespace_only_text(tmp_path):
    (tmp_path / "blank.txt").write_text(" \n\t\u3000\r\n", encoding="utf-8")
    assert "whitespace only" in refused(tmp_path / "blank.txt", EmptyDocument)


def test_whitespace_only_docx(tmp_path):
    write_docx(tmp_path / "blank.docx", ["", "   ", "\u3000"])
    assert "whitespace only" in refused(tmp_path / "blank.docx", EmptyDocument)


# --- junk and misnamed files ---------------------------------------------------------------------------


def test_binary_junk_named_txt(tmp_path):
    (tmp_path / "junk.txt").write_bytes(bytes(range(256)) * 8)
    assert "binary file" in refused(tmp_path / "junk.txt", UndecodableFile)


def test_pdf_named_docx(tmp_path, good_pdf):
    os.rename(good_pdf, tmp_path / "report.docx")
    assert refused(tmp_path / "report.docx", WrongFileType) == (
        "is a PDF file, not a .docx file; rename it to .pdf if it is a report, or leave it out"
    )


def test_docx_named_txt(tmp_path, good_docx):
    os.rename(good_docx, tmp_path / "report.txt")
    assert refused(tmp_path / "report.txt", WrongFileType).startswith("is a zip archive (.docx, .xlsx, .pptx, .wps or other), not plain text; rename it to .docx")


def test_docx_named_pdf(tmp_path, good_docx):
    os.rename(good_docx, tmp_path / "report.pdf")
    assert refused(tmp_path / "report.pdf", WrongFileType).startswith("is a zip archive")


def test_pdf_named_txt(tmp_path, good_pdf):
    os.rename(good_pdf, tmp_path / "report.txt")
    assert refused(tmp_path / "report.txt", WrongFileType).startswith("is a PDF file, not plain text; rename it to .pdf")


def test_text_named_docx(tmp_path):
    (tmp_path / "report.docx").write_text("按照要求，本人认真查摆问题。", encoding="utf-8")
    assert refused(tmp_path / "report.docx", WrongFileType) == (
        "does not hold a .docx file inside (damaged, or another kind of file renamed); "
        "open it in Word/WPS and save it as .docx (or .pdf, or UTF-8 .txt), or leave it out"
    )


def test_web_page_saved_as_doc(tmp_path):
    (tmp_path / "范文.doc").write_text("<html><body><p>对照检查材料</p></body></html>", encoding="utf-8")
    assert refused(tmp_path / "范文.doc", WrongFileType).startswith("is a web page (HTML), not a .doc file")


def test_image_named_txt(tmp_path):
    (tmp_path / "scan.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert refused(tmp_path / "scan.txt", WrongFileType).startswith("is a PNG image, not plain text")


def test_unsupported_suffix(tmp_path):
    (tmp_path / "table.xls").write_bytes(OLE_MAGIC + bytes(100))
    assert refused(tmp_path / "table.xls", UnsupportedFormat).startswith("unsupported file type '.xls'")


def test_a_suffix_with_a_line_break_is_shown_on_one_line(tmp_path):
    """Found by tests/test_fuzz_filesystem.py: a file named "0." and a line break, in a folder, gave "unsupported file
    type '.'", the line break itself inside the quotes: a two-line error."""
    from detector.ingest import find_input_files

    (tmp_path / "0.\n").write_bytes(b"")
    (tmp_path / "a.x\ty").write_bytes(OLE_MAGIC + bytes(100))
    with pytest.raises(UnsupportedFormat) as caught:
        read_document(tmp_path / "a.x\ty")
    assert "\t" not in str(caught.value) and "unsupported file type '.x\\ty'" in str(caught.value)
    reasons = [reason for _, reason in find_input_files([tmp_path]).skipped]
    assert reasons and all("\n" not in reason and "\t" not in reason for reason in reasons), reasons
    assert any("'.\\n'" in reason for reason in reasons), reasons


def _zip_with(path, members: dict):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.mark.parametrize(
    "members, expected",
    [
        ({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}, "is an Excel workbook (.xlsx), not a Word .docx document"),
        ({"[Content_Types].xml": "<Types/>", "ppt/presentation.xml": "<p/>"}, "is a PowerPoint presentation (.pptx), not a Word .docx document"),
        ({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<c/>"}, "is an OpenDocument file (.odt/.ods), not a Word .docx document"),
        ({"报告.txt": "对照检查材料"}, "is a zip archive but not a Word .docx document"),
    ],
)
def test_other_zips_named_docx(tmp_path, members, expected):
    assert refused(_zip_with(tmp_path / "r.docx", members), WrongFileType).startswith(expected)


# --- damaged files -------------------------------------------------------------------------------------


def test_truncated_docx(tmp_path, good_docx):
    data = good_docx.read_bytes()
    (tmp_path / "cut.docx").write_bytes(data[: len(data) // 2])
    assert refused(tmp_path / "cut.docx", CorruptFile).startswith("is not a readable .docx: the zip container is damaged or truncated")


def test_docx_with_damaged_member(tmp_path, good_docx):
    data = bytearray(good_docx.read_bytes())
    offset = data.index(b"word/document.xml") + 40  # inside the compressed body of the main part
    data[offset:offset + 64] = bytes(64)
    (tmp_path / "bad.docx").write_bytes(bytes(data))
    assert refused(tmp_path / "bad.docx", CorruptFile).startswith("the .docx is damaged")


def test_docx_without_main_part(tmp_path, good_docx):
    with zipfile.ZipFile(good_docx) as source, zipfile.ZipFile(tmp_path / "hollow.docx", "w") as target:
        for member in source.infolist():
            if member.filename != "word/document.xml":
                target.writestr(member, source.read(member))
    assert refused(tmp_path / "hollow.docx", CorruptFile).startswith("the .docx is damaged")


def test_truncated_pdf(tmp_path, good_pdf):
    data = good_pdf.read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[: len(data) // 3])
    assert refused(tmp_path / "cut.pdf", CorruptFile).startswith(("the PDF is damaged", "is not a readable PDF"))


def test_junk_named_pdf(tmp_path):
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    assert refused(tmp_path / "junk.pdf", CorruptFile)


# --- protected, scanned ----------------------------------------------------------------------------------


def test_encrypted_pdf(tmp_path, good_pdf):
    write_encrypted_pdf(tmp_path / "locked.pdf", good_pdf)
    assert refused(tmp_path / "locked.pdf", EncryptedFile) == (
        "the PDF is password-protected; remove the password (or print it to a new PDF) and try again"
    )


def test_pdf_with_owner_password_only_is_read(tmp_path, good_pdf):
    pypdf = pytest.importorskip("pypdf", reason="pypdf (test-only dependency) encrypts the sample PDF")
    writer = pypdf.PdfWriter(clone_from=str(good_pdf))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    writer.write(tmp_path / "restricted.pdf")
    assert read_document(tmp_path / "restricted.pdf").text.startswith(sample_paragraphs("001")[0])


def test_encrypted_office_document(tmp_path):
    # What Word writes for a password-protected .docx: a compound file holding an 'EncryptedPackage' stream.
    fake = OLE_MAGIC + bytes(1000) + "EncryptedPackage".encode("utf-16-le") + bytes(100)
    (tmp_path / "locked.docx").write_bytes(fake)
    assert refused(tmp_path / "locked.docx", EncryptedFile).startswith("is a password-protected Office document")


def test_scanned_pdf_needs_ocr(tmp_path):
    write_scanned_pdf(tmp_path / "scan.pdf")
    assert refused(tmp_path / "scan.pdf", NeedsOCR).startswith("no text layer: scanned PDF, OCR needed; ")


# --- size and zip bombs --------------------------------------------------------------------------------


def test_file_over_the_size_limit(tmp_path):
    (tmp_path / "big.txt").write_text("对照检查" * 1000, encoding="utf-8")
    reason = refused(tmp_path / "big.txt", FileTooLarge, settings=Settings(max_file_bytes=4096))
    assert reason == "file is 11.7 KiB, over the 4.0 KiB limit; raise it with --max-file-mb"


def test_size_limit_raised_reads_the_file(tmp_path):
    (tmp_path / "big.txt").write_text("对照检查" * 1000, encoding="utf-8")
    assert read_document(tmp_path / "big.txt", settings=Settings(max_file_bytes=20000)).chars == 4000


def _bomb(path, size: int = 20 * 2**20):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * size)
    path.write_bytes(buffer.getvalue())
    return path


def test_zip_bomb_disguised_as_docx(tmp_path):
    reason = refused(_bomb(tmp_path / "bomb.docx"), ZipBomb)
    assert reason.startswith("part 'word/document.xml' of the .docx is compressed ")
    assert "looks like a zip bomb; refused" in reason


def test_zip_bomb_by_total_unpacked_size(tmp_path, monkeypatch):
    monkeypatch.setattr(docx_reader, "MAX_UNPACKED_BYTES", 2**20)
    reason = refused(_bomb(tmp_path / "bomb.docx", 2 * 2**20), ZipBomb)
    assert reason.startswith("the .docx would unpack to 2 MiB (limit 1 MiB): looks like a zip bomb")


def test_zip_bomb_by_member_count(tmp_path, monkeypatch):
    monkeypatch.setattr(docx_reader, "MAX_ZIP_MEMBERS", 10)
    members = {f"word/media/{n}.xml": "x" for n in range(20)} | {"[Content_Types].xml": "<Types/>"}
    assert refused(_zip_with(tmp_path / "many.docx", members), ZipBomb).startswith("the .docx zip holds 21 parts")


# --- files that move or are locked ---------------------------------------------------------------------


def test_file_vanishes_between_listing_and_reading(tmp_path):
    (tmp_path / "gone.txt").write_text("对照检查材料", encoding="utf-8")
    listed = list(iter_input_files([tmp_path]))
    os.remove(tmp_path / "gone.txt")
    assert refused(listed[0]) == "no such file (moved or deleted after it was listed?); check the path"


def test_folder_given_as_a_file(tmp_path):
    (tmp_path / "报告.txt").mkdir()
    assert refused(tmp_path / "报告.txt").startswith("is a folder, not a file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipe(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    assert refused(tmp_path / "pipe.txt") == "is not a regular file (a pipe or device); give the report file itself"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file(tmp_path):
    (tmp_path / "locked.txt").write_text("对照检查材料", encoding="utf-8")
    os.chmod(tmp_path / "locked.txt", 0)
    assert refused(tmp_path / "locked.txt") == "permission denied; make the file readable for this user"


def test_unreadable_file_simulated(tmp_path, monkeypatch):
    (tmp_path / "locked.txt").write_text("对照检查材料", encoding="utf-8")

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ingest, "open", deny, raising=False)
    assert refused(tmp_path / "locked.txt") == "permission denied; make the file readable for this user"


def test_names_with_chinese_characters_and_spaces(tmp_path):
    folder = tmp_path / "二〇二三年 民主生活会"
    folder.mkdir()
    (folder / "张 三 对照检查材料.txt").write_bytes(b"")
    write_docx(folder / "李 四 （修改稿）.docx", ["按照要求，本人认真查摆问题。"])

    listed = list(iter_input_files([folder]))

    assert [p.name for p in listed] == ["张 三 对照检查材料.txt", "李 四 （修改稿）.docx"]
    assert refused(listed[0], EmptyDocument).startswith("the file holds no text")
    assert read_document(listed[1]).text == "按照要求，本人认真查摆问题。"


# --- a batch with every bad file: each refused with its reason, nothing stored -------------------------


def test_bad_files_leave_the_corpus_unchanged(tmp_path, good_pdf, good_docx):
    from detector import api

    bad = tmp_path / "批次 2024"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "blank.txt").write_text(" \n\u3000", encoding="utf-8")
    (bad / "junk.txt").write_bytes(bytes(range(256)) * 4)
    os.rename(good_pdf, bad / "pdf named.docx")
    (bad / "cut.docx").write_bytes(good_docx.read_bytes()[:3000])
    write_encrypted_pdf(bad / "locked.pdf", write_pdf(tmp_path / "plain.pdf", ["按照要求，本人认真查摆问题。"]))
    write_scanned_pdf(bad / "scan.pdf")
    _bomb(bad / "bomb.docx")
    (bad / "big.txt").write_text("对照检查" * 30000, encoding="utf-8")
    settings = Settings(max_file_bytes=100_000)

    with api.open_corpus(tmp_path / "corpus.db", settings=settings, create=True) as corpus:
        api.add_paths(corpus, [next(SAMPLE_DIR.glob("000_*.txt"))])
        before = {k: v for k, v in api.stats(corpus).items() if k != "database_bytes"}
        summary = api.add_paths(corpus, [bad])
        after = {k: v for k, v in api.stats(corpus).items() if k != "database_bytes"}

    assert after == before and summary.added == []
    assert sorted(Path(path).name for path, _ in summary.failed) == sorted(p.name for p in bad.iterdir())
    assert all(reason and "\n" not in reason and "; " in reason for _, reason in summary.failed)
