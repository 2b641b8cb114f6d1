"""File paths as the file system has them: stored byte for byte, shown escaped (never a crash, never a forged line)."""

from __future__ import annotations

import os
import re
from pathlib import Path

# Control characters in a name (a newline could start a forged `error:` line in a log) are shown escaped.
_CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(32), 127]}
_CONTROL_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
# in text also the C1 controls (U+009B is a cursor command to some terminals, as ESC [ is)
_TEXT_ESCAPES = {**_CONTROL_ESCAPES, **{code: f"\\x{code:02x}" for code in range(0x80, 0xA0)}}


def shown(path) -> str:
    """A path as printable UTF-8 on one line: bytes that are not UTF-8 as \\xNN, control characters escaped."""
    text = os.fsdecode(path) if isinstance(path, bytes) else str(path)
    if _is_clean(text):
        return text
    raw = os.fsencode(text) if _has_surrogates(text) else text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "backslashreplace").translate(_CONTROL_ESCAPES)


def shown_text(text) -> str:
    """Text of a document or its metadata as printed on a terminal: control characters (C0, DEL, C1) escaped, so that
    hostile text can neither move the cursor, erase or recolour lines, set the window title, nor start a line."""
    return str(text).translate(_TEXT_ESCAPES)


def shown_target(target) -> str:
    """A --db target as printed: a redis:// URL without its password (logs and terminals are read by others), a path
    as shown() prints it."""
    return re.sub(r"^(rediss?://)[^@/]*:[^@/]*@", r"\1***@", shown(target))


def _is_clean(text: str) -> bool:
    return not any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) < 0xE000 for c in text)


def _has_surrogates(text: str) -> bool:
    return any(0xDC80 <= ord(c) <= 0xDCFF for c in text)


def to_sql(path: str):
    """The value stored for a path: the text, or its raw bytes (a BLOB) when the name is not valid UTF-8."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path)


def from_sql(value) -> str:
    """The path a stored value names (inverse of to_sql)."""
    return os.fsdecode(value) if isinstance(value, bytes) else value


def resolved(path) -> Path:
    """The absolute path with symbolic links followed; a link that loops resolves to its own absolute path."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):  # Python < 3.13 raises RuntimeError on a symlink loop
        return Path(os.path.abspath(path))


def canonical_path(path) -> str:
    """The one form a document's path is stored in: absolute, its folder resolved (the file name as it is)."""
    path = Path(path)
    return str(resolved(path.parent) / path.name)
