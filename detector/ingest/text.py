"""Decoding text files: explicit encoding, then BOM, then UTF-8, then GB18030/GBK (or Big5, when GBK reads as nonsense), then detection, then a helpful failure."""

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
# UTF-16 without a byte-order mark is recognised when its text is this plausible (real reports: ~1.0);
# bytes of UTF-8 or GBK read as UTF-16 give Hangul, surrogates and rare ideographs instead.
UTF16_MIN_PLAUSIBLE = 0.97
UTF16_MIN_CJK = 0.3  # ... and, without NUL bytes (all-Chinese text), at least this share of Chinese characters
ENCODING_HINT = "pass --encoding (e.g. --encoding gbk) if you know the file's encoding"  # the web page says another
# Big5 bytes (traditional Chinese, Taiwan/Hong Kong) also decode as GB18030, into nonsense: rare characters, kana.
# Real simplified text read as GB18030 has nearly all its ideographs in GB2312 (the five sample reports: all);
# Big5 read as GB18030 has about two thirds. Below this share, Big5 is tried. Private-use characters count against
# the share: Big5's frequent characters often land in GBK's user-defined areas (陳 明 read so: 朝 U+E80B).
GB2312_MIN_SHARE = 0.9
BIG5_MIN_COMMON = 0.9  # ... and taken when it decodes and this share of its ideographs are Big5's common ones


def decode_text(data: bytes, path, encoding: str | None = None, guess: bool = True) -> tuple[str, str]:
    """Decode bytes of a text file; returns (text, encoding used) or raises UndecodableFile naming the file.

    Without `guess`, bytes that are not UTF-8, UTF-16, GB18030 or Big5 are refused rather than handed to charset
    detection: a guess on a few short cells (a manifest's names) is too often a wrong code page read as names."""
    if encoding:
        return _decode_forced(data, path, encoding), encoding
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _decode_or_fail(data, path, name), name
    if b"\x00" in data:
        return _utf16_or_fail(data, path)
    try:
        return _checked(data.decode("utf-8"), path), "utf-8"
    except UnicodeDecodeError:
        pass
    found = _utf16_without_bom(data, min_cjk=UTF16_MIN_CJK)
    if found:
        return found
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        if not guess:
            raise _undecodable(path) from None
        return _detect(data, path)
    return _big5_instead(data, text, path) or (_checked(text, path), "gb18030")


def _big5_instead(data: bytes, gb_text: str, path):
    """(text, "big5") when bytes that decoded as GB18030 into nonsense decode as Big5 into common characters."""
    if _share(gb_text, _in_gb2312, _ideograph_kana_or_private) >= GB2312_MIN_SHARE:
        return None
    try:
        text = data.decode("big5")
    except UnicodeDecodeError:
        return None
    return (_checked(text, path), "big5") if _share(text, _common_big5, _ideograph) >= BIG5_MIN_COMMON else None


def _share(text: str, good, counted) -> float:
    """The share of the `counted` characters of the text's start that are `good` (1.0 when there are none)."""
    chars = [ch for ch in text[:20000] if counted(ch)]
    return sum(1 for ch in chars if good(ch)) / len(chars) if chars else 1.0


def _ideograph(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _ideograph_kana_or_private(ch: str) -> bool:
    return _ideograph(ch) or "\u3040" <= ch <= "\u30ff" or "\ue000" <= ch <= "\uf8ff"


def _in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def _common_big5(ch: str) -> bool:
    """Among Big5's 5,401 frequent characters (lead bytes 0xA4–0xC6), not its 7,652 less frequent ones."""
    try:
        return 0xA4 <= ch.encode("big5")[0] <= 0xC6
    except UnicodeEncodeError:
        return False


def _utf16_or_fail(data: bytes, path) -> tuple[str, str]:
    """Text with NUL bytes: UTF-16 saved without a byte-order mark, or a binary file."""
    found = _utf16_without_bom(data, min_cjk=0.0)
    if found:
        return found
    raise UndecodableFile(path, f"contains NUL bytes: this is a binary file, not text; {ENCODING_HINT}")


def _utf16_without_bom(data: bytes, min_cjk: float):
    """(text, encoding) when the bytes read as UTF-16 (LE or BE) into plausible text: almost all of it Chinese,
    CJK punctuation, printable ASCII or line breaks, and at least `min_cjk` of it Chinese characters."""
    if len(data) % 2:
        return None
    for name in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            continue
        plausible, cjk = _plausible_shares(text)
        if plausible >= UTF16_MIN_PLAUSIBLE and cjk >= min_cjk:
            return text, name
    return None


def _plausible_shares(text: str) -> tuple[float, float]:
    sample = text[:20000]
    cjk = sum(1 for ch in sample if "\u4e00" <= ch <= "\u9fff")
    other = sum(1 for ch in sample if " " <= ch <= "~" or ch in "\r\n\t" or "\u3000" <= ch <= "\u303f"
                or "\uff00" <= ch <= "\uffef" or ch in "“”‘’…—·")
    return (cjk + other) / max(len(sample), 1), cjk / max(len(sample), 1)


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
        raise UndecodableFile(path, f"is not valid {encoding} (byte {err.start}); {ENCODING_HINT}") from None


def _detect(data: bytes, path) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise _undecodable(path)
    return _checked(str(best), path), best.encoding


def _undecodable(path) -> UndecodableFile:
    return UndecodableFile(path, f"could not be decoded as UTF-8, UTF-16 or GB18030; {ENCODING_HINT}")


def _checked(text: str, path) -> str:
    """Refuse decoded text that is mostly control characters: binary junk that happened to decode."""
    if text:
        controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\r\n\t\f\v")
        if controls > max(8, len(text[:20000]) // 100):
            raise UndecodableFile(path, f"looks like a binary file (control characters), not text; {ENCODING_HINT}")
    return text
