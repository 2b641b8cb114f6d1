"""Files chachong writes: owner-only whatever the umask (they hold every report's text), and written atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def create_private_file(path) -> bool:
    """Create an empty owner-only file at `path` unless something is there; returns whether it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return True


def open_private(path, flags: int) -> int:
    """os.open with O_CREAT: a file created by it is owner-only (an existing file keeps its mode)."""
    fd = os.open(path, flags | os.O_CREAT, PRIVATE_FILE)
    if os.fstat(fd).st_size == 0 and os.fstat(fd).st_uid == os.geteuid():
        os.fchmod(fd, PRIVATE_FILE)
    return fd


def private_folder(path) -> Path:
    """The folder at `path`, created owner-only (with its missing parents) when it does not exist yet."""
    folder = Path(path)
    missing = [p for p in [folder, *folder.parents] if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, PRIVATE_FOLDER)
    return folder


@contextlib.contextmanager
def atomic_text(path, encoding: str = "utf-8", newline=None):
    """A text handle whose content replaces `path` only when the block ends without error (temporary file, then rename):
    a full disk leaves the old file or none, never half of one."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        # a file name that is not UTF-8 and slipped past paths.shown costs an escape, not the report
        with os.fdopen(fd, "w", encoding=encoding, errors="backslashreplace", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_text_atomically(path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically and owner-only; returns the path."""
    with atomic_text(path, encoding) as handle:
        handle.write(text)
    return Path(path)
