"""Reading old Word .doc files through an installed converter: antiword first, LibreOffice headless when antiword fails or is absent."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from detector.errors import ConverterMissing, CorruptFile, EncryptedFile

ANTIWORD_TIMEOUT = 60  # seconds
LIBREOFFICE_TIMEOUT = 180  # seconds; its first start builds a profile
_INSTALL = "install antiword (apt-get install antiword) or LibreOffice, or save the file as .docx in Word/WPS"
_RESAVE = "open it in Word or WPS and save it as .docx"


class _ConversionFailed(Exception):
    """A converter ran and could not read the file; the message is its own, cut to one line."""


def read_doc(path, data: bytes) -> str:
    """The text of a Word 97-2003 .doc, via antiword or LibreOffice; a clear error when neither is installed."""
    converters = [c for c in (_Antiword, _LibreOffice) if c.available()]
    if not converters:
        raise ConverterMissing(path, f"reading old Word .doc files needs a converter and none is installed; {_INSTALL}")
    failures = []
    with tempfile.TemporaryDirectory(prefix="chachong-doc-") as folder:
        source = Path(folder) / "input.doc"  # a plain name: the original may hold spaces or vanish meanwhile
        source.write_bytes(data)
        for converter in converters:
            try:
                return converter.convert(source)
            except _ConversionFailed as failure:
                failures.append(str(failure))
    _raise_for(path, failures)


def _raise_for(path, failures: list) -> None:
    detail = "; ".join(failures)
    if "encrypt" in detail.lower() or "password" in detail.lower():
        raise EncryptedFile(path, "the .doc is password-protected; remove the password in Word/WPS and save it as .docx")
    raise CorruptFile(path, f"the .doc could not be converted ({detail[:160]}); {_RESAVE}")


class _Antiword:
    """antiword: small, fast, reads Word 97-2003 (not Word 6/95, not encrypted files)."""

    @staticmethod
    def available() -> bool:
        return shutil.which("antiword") is not None

    @staticmethod
    def convert(source: Path) -> str:
        command = ["antiword", "-m", "UTF-8.txt", "-w", "0", str(source)]
        text = _run(command, ANTIWORD_TIMEOUT, "antiword").stdout.decode("utf-8", errors="replace")
        if not text.strip():  # antiword prints nothing for some short files that LibreOffice reads
            raise _ConversionFailed("antiword found no text")
        return text


class _LibreOffice:
    """LibreOffice headless: slow to start, reads nearly every .doc."""

    @staticmethod
    def program() -> str | None:
        return shutil.which("soffice") or shutil.which("libreoffice")

    @classmethod
    def available(cls) -> bool:
        return cls.program() is not None

    @classmethod
    def convert(cls, source: Path) -> str:
        out = source.parent / "out"
        # A private profile, so that concurrent conversions and a user's open LibreOffice do not block each other.
        profile = (source.parent / "profile").as_uri()
        command = [cls.program(), f"-env:UserInstallation={profile}", "--headless", "--norestore",
                   "--convert-to", "txt:Text (encoded):UTF8", "--outdir", str(out), str(source)]
        _run(command, LIBREOFFICE_TIMEOUT, "LibreOffice")
        converted = out / (source.stem + ".txt")
        if not converted.is_file():
            raise _ConversionFailed("LibreOffice produced no text")
        return converted.read_bytes().decode("utf-8-sig", errors="replace")


def _run(command: list, timeout: int, name: str) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(command, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise _ConversionFailed(f"{name} took longer than {timeout} s") from None
    except OSError as err:
        raise _ConversionFailed(f"{name} could not start: {err.strerror or err}") from None
    if result.returncode != 0:
        message = " ".join(result.stderr.decode("utf-8", errors="replace").split())[:120]
        raise _ConversionFailed(f"{name}: {message or f'exit status {result.returncode}'}")
    return result
