"""Decoding text files: explicit encoding, then BOM, then UTF-8, then GB18030/GBK, then detection, then a helpful failure."""

from __future__ import annotations

import codecs

from detector.errors import UndecodableFile

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HINT = "pass --encoding (e.g. --encoding gbk) if you know the file's encoding"


def decode_text(data: bytes, path, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes of a text file; returns (text, encoding used) or raises UndecodableFile naming the file."""
    if encoding:
        return _decode_forced(data, path, encoding), encoding
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _decode_or_fail(data, path, name), name
    if b"\x00" in data:
        raise UndecodableFile(path, f"contains NUL bytes: this is a binary file, not text; {_HINT}")
    for name in ("utf-8", "gb18030"):
        try:
            return _checked(data.decode(name), path), name
        except UnicodeDecodeError:
            continue
    return _detect(data, path)


def _decode_forced(data: bytes, path, encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UndecodableFile(path, f"unknown encoding '{encoding}'; use a name such as utf-8, gbk, gb18030, utf-16") from None
    text = _decode_or_fail(data, path, encoding)
    return text[1:] if text.startswith("\ufeff") else text


def _decode_or_fail(data: bytes, path, encoding: str) -> str:
    try:
        return _checked(data.decode(encoding), path)
    except UnicodeDecodeError as err:
        raise UndecodableFile(path, f"is not valid {encoding} (byte {err.start}); {_HINT}") from None


def _detect(data: bytes, path) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise UndecodableFile(path, f"could not be decoded as UTF-8, UTF-16 or GB18030; {_HINT}")
    return _checked(str(best), path), best.encoding


def _checked(text: str, path) -> str:
    """Refuse decoded text that is mostly control characters: binary junk that happened to decode."""
    if text:
        controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\r\n\t\f\v")
        if controls > max(8, len(text[:20000]) // 100):
            raise UndecodableFile(path, f"looks like a binary file (control characters), not text; {_HINT}")
    return text
