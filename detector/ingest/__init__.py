"""Reading files into Documents: picks a reader by file type and checks what comes out."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

from detector.errors import DocumentTooLong, EmptyDocument, EncryptedFile, FileTooLarge, InputError, UnsupportedFormat, WrongFileType
from detector.ingest.sniff import KIND_NAMES, SUFFIX_FOR_KIND, sniff_kind
from detector.ingest.text import decode_text
from detector.model import Document, DocumentMeta
from detector.paths import shown
from detector.settings import DEFAULT, Settings

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}


def _read_docx(path, data, ocr, settings=DEFAULT):
    from detector.ingest.docx import read_docx  # readers are imported when a file of their kind comes

    return read_docx(path, data, max_xml_bytes=settings.max_xml_bytes, max_paragraphs=settings.max_paragraphs)


def _read_pdf(path, data, ocr, settings=DEFAULT):
    from detector.ingest.pdf import read_pdf

    return read_pdf(path, data, ocr=ocr)


def _read_doc(path, data, ocr, settings=DEFAULT):
    from detector.ingest.doc import read_doc

    return read_doc(path, data)


# suffix -> (the kind sniff_kind must see in its bytes, reader(path, data, ocr, settings) -> text)
BINARY_READERS = {".docx": ("zip", _read_docx), ".pdf": ("pdf", _read_pdf), ".doc": ("ole", _read_doc)}
SUPPORTED_SUFFIXES = sorted((TEXT_SUFFIXES - {""}) | set(BINARY_READERS))
_NO_TEXT = "the file holds no text (empty or whitespace only); nothing to compare"
NOT_READ_NAMED = 5  # files of a type not read that a warning names (the others are counted)
# files that sit beside reports without being one (manifests, chachong's own outputs, databases, logs): not read, not warned of
COMPANION_SUFFIXES = {".csv", ".json", ".html", ".htm", ".db", ".db-wal", ".db-shm", ".db-journal", ".lock", ".sqlite", ".log"}


def read_document(
    path, encoding=None, settings: Settings = DEFAULT, meta: DocumentMeta | None = None, *, ocr: bool = False
) -> Document:
    """Read one file into a Document, or raise an InputError that names the file and says what to do.

    encoding applies to text files only; ocr=True reads scanned PDFs with tesseract (see ingest/ocr.py).
    """
    path = Path(path)
    data = _read_bytes(path, settings.max_file_bytes)
    text, used_encoding, fmt = _extract(path, data, encoding, ocr=ocr or settings.ocr, settings=settings)
    if not text.strip():
        raise EmptyDocument(path, _NO_TEXT)
    _refuse_long(path, len(text), settings.max_document_chars)
    _refuse_nested_watermarks(path, text)
    return Document(
        path=str(path),
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=used_encoding,
        format=fmt,
        meta=meta or DocumentMeta(),
    )


def _refuse_nested_watermarks(path: Path, text: str) -> None:
    """A crafted text of watermarks nested inside one another is refused here, as unreadable, before any command spends
    minutes normalising it (and whatever reads files lists it and goes on with the others)."""
    from detector.normalize import refuse_nested_watermarks  # numpy: imported when a file is read, not for `--help`

    refuse_nested_watermarks(text, path)


def _read_bytes(path: Path, limit: int) -> bytes:
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            raise InputError(path, "is not a regular file (a pipe or device); give the report file itself")
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            _refuse_large(path, size, limit)
            data = handle.read(limit + 1)  # the file may grow after the size check
        _refuse_large(path, len(data), limit)
        return data
    except FileNotFoundError:
        raise InputError(path, "no such file (moved or deleted after it was listed?); check the path") from None
    except PermissionError:
        raise InputError(path, "permission denied; make the file readable for this user") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file; give the folder itself to scan what is inside") from None
    except OSError as err:
        raise InputError(path, f"could not be read ({err.strerror or err}); check the disk or copy the file elsewhere") from None


def _refuse_long(path: Path, chars: int, limit: int, at_least: bool = False) -> None:
    if chars > limit:
        raise DocumentTooLong(path, f"the text has {'at least ' if at_least else ''}{chars:,} characters, over the limit "
                                    f"of {limit:,} (a report has a few "
                                    "thousand); split it into its reports, or raise Settings.max_document_chars")


def _refuse_large(path: Path, size: int, limit: int) -> None:
    if size > limit:
        raise FileTooLarge(
            path, f"file is {_human_size(size)}, over the {_human_size(limit)} limit; raise it with --max-file-mb"
        )


def _human_size(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 2**10:.1f} KiB"


def _extract(path: Path, data: bytes, encoding, ocr: bool = False, settings: Settings = DEFAULT):
    """(text, encoding, format) of a file, read by the reader its suffix names once its bytes agree."""
    suffix = path.suffix.lower()
    if not data.strip():
        raise EmptyDocument(path, _NO_TEXT)
    kind = sniff_kind(data)
    if kind == "encrypted-office" and suffix in SUPPORTED_SUFFIXES:
        raise EncryptedFile(path, "is a password-protected Office document; remove the password in Word/WPS and save it again")
    if suffix in TEXT_SUFFIXES:
        _refuse_misnamed(path, kind, None, "plain text")
        _refuse_long(path, len(data) // 4, settings.max_document_chars, at_least=True)  # no encoding takes over 4 bytes a character
        text, used = decode_text(data, path, encoding)
        return text, used, "txt"
    if suffix in BINARY_READERS:
        expected, reader = BINARY_READERS[suffix]
        _refuse_misnamed(path, kind, expected, f"a {suffix} file")
        return _clean_text(reader(path, data, ocr=ocr, settings=settings)), "", suffix[1:]
    raise UnsupportedFormat(
        path, f"unsupported file type '{shown(suffix)}'; chachong reads {', '.join(SUPPORTED_SUFFIXES)} (convert the file to one of them)"
    )


def _refuse_misnamed(path: Path, kind, expected, what: str) -> None:
    """A file whose bytes say another format than its suffix gets told so, with the suffix it should have."""
    if kind == expected or (expected is None and kind in (None, "html")) or (expected == "pdf" and kind is None):
        return  # unknown bytes under .pdf go to the PDF reader, which names the damage
    if expected is not None and kind is None:
        raise WrongFileType(path, f"does not hold {what} inside (damaged, or another kind of file renamed); {_what_to_do(None)}")
    raise WrongFileType(path, f"is {KIND_NAMES.get(kind, kind)}, not {what}; {_what_to_do(kind)}")


def _what_to_do(kind) -> str:
    if kind in SUFFIX_FOR_KIND and SUFFIX_FOR_KIND[kind] in SUPPORTED_SUFFIXES:
        return f"rename it to {SUFFIX_FOR_KIND[kind]} if it is a report, or leave it out"
    return "open it in Word/WPS and save it as .docx (or .pdf, or UTF-8 .txt), or leave it out"


def _clean_text(text: str) -> str:
    """Line ends unified and NULs and form feeds dropped, so every format's text looks the same downstream."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\x00", "").replace("\f", "\n")


@dataclasses.dataclass
class InputFiles:
    """The files found under the paths given, and what could not be walked."""

    files: list = dataclasses.field(default_factory=list)
    failed: list = dataclasses.field(default_factory=list)  # (folder, reason): could not be listed
    skipped: list = dataclasses.field(default_factory=list)  # (path, reason): broken links; files of types not read

    def failed_folders(self) -> list[str]:
        return [folder for folder, _ in self.failed]


def find_input_files(paths, suffixes=None) -> InputFiles:
    """Expand files and folders (walked recursively, sorted) into the files to read; hidden files are skipped.

    So are Word's '~$name.docx' owner files, which sit beside every document open in Word, and symbolic
    links that loop or point nowhere (listed in `skipped`). A folder's files of a type chachong does not read
    (.wps, .rtf, images, no extension …) are listed in `skipped` too, one entry per type and folder given: a
    submission saved as .wps must not go unchecked without a word (manifests, outputs and databases beside the
    reports are not: COMPANION_SUFFIXES). A folder that cannot be listed is in `failed`.
    """
    suffixes = suffixes or set(SUPPORTED_SUFFIXES)
    found = InputFiles()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            _walk(path, suffixes, found)
        else:
            found.files.append(path)
    return found


def _walk(top: Path, suffixes: set, found: InputFiles) -> None:
    def unreadable(err: OSError) -> None:
        found.failed.append((str(err.filename or top), f"folder could not be read ({err.strerror or err}); "
                             "make it readable for this user (its documents are kept in the index meanwhile)"))

    not_read: dict = {}  # suffix → files of that type, which are not read
    for root, dirs, files in os.walk(top, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            suffix = Path(name).suffix.lower()
            if name.startswith((".", "~$")) or suffix in COMPANION_SUFFIXES:
                continue
            if suffix in suffixes:
                _add_file(Path(root) / name, found)
            elif suffix not in SUPPORTED_SUFFIXES:  # a type the caller left out on purpose is not worth a warning
                not_read.setdefault(suffix, []).append(Path(root) / name)
    found.skipped += [(str(top), _not_read(suffix, paths)) for suffix, paths in sorted(not_read.items())]


def _not_read(suffix: str, paths: list) -> str:
    """Why a folder's files of one type were left out, naming the first few of them."""
    names = ", ".join(shown(path.name) for path in paths[:NOT_READ_NAMED])
    more = f" and {len(paths) - NOT_READ_NAMED} more" if len(paths) > NOT_READ_NAMED else ""
    head = f"{len(paths)} file{'s' if len(paths) > 1 else ''} not read ({names}{more}): "
    if not suffix:  # read as text when named on its own, but in a folder a file is known by its extension
        return head + f"no file extension; a folder's files are read by theirs ({', '.join(SUPPORTED_SUFFIXES)}): add one"
    return head + (f"unsupported file type '{shown(suffix)}'; chachong reads {', '.join(SUPPORTED_SUFFIXES)} "
                   "(convert the file to one of them)")


def _add_file(path: Path, found: InputFiles) -> None:
    if path.is_symlink() and not path.exists():
        found.skipped.append((str(path), "a symbolic link that loops or points nowhere; skipped"))
    else:
        found.files.append(path)


def iter_input_files(paths, suffixes=None):
    """The files of find_input_files (folders that cannot be listed and broken links left out)."""
    yield from find_input_files(paths, suffixes).files
