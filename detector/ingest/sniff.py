"""Telling a file's real type from its first bytes, so a misnamed file gets a clear message instead of a parser crash."""

from __future__ import annotations

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: .doc, .xls, encrypted .docx
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip

KIND_NAMES = {
    "pdf": "a PDF file",
    "zip": "a zip archive (.docx, .xlsx, .pptx, .wps or other)",
    "encrypted-office": "a password-protected Office document",
    "ole": "an old-style Office file (.doc, .xls, .ppt, or a password-protected Office file)",
    "rtf": "an RTF file",
    "html": "a web page (HTML)",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "gzip": "a gzip archive",
    "rar": "a RAR archive",
    "7z": "a 7-Zip archive",
}
SUFFIX_FOR_KIND = {"pdf": ".pdf", "zip": ".docx", "ole": ".doc", "rtf": ".rtf", "html": ".html"}

_PREFIXES = (
    (b"%PDF-", "pdf"),
    (OLE_MAGIC, "ole"),
    (b"{\\rtf", "rtf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
) + tuple((magic, "zip") for magic in ZIP_MAGICS)


_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # the stream an encrypted .docx/.xlsx keeps its zip in


def sniff_kind(data: bytes) -> str | None:
    """The kind of file the bytes look like ('pdf', 'zip', 'ole', 'encrypted-office', 'html', ...), or None for anything else."""
    if data.startswith(OLE_MAGIC) and _ENCRYPTED_PACKAGE in data:
        return "encrypted-office"
    for prefix, kind in _PREFIXES:
        if data.startswith(prefix):
            return kind
    if b"%PDF-" in data[:1024]:  # readers accept junk before the header, so do we
        return "pdf"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"mime-version:")):
        return "html"
    return None
