"""One writer per index: an OS file lock on DB + ".lock" that dies with its process, so it is never stale."""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os

from detector.errors import IndexLocked, storage_error
from detector.files import open_private


def lock_path(db_path) -> str:
    return f"{db_path}.lock"


@contextlib.contextmanager
def writer_lock(db_path, command: str):
    """Hold the index's writer lock for the block, or raise IndexLocked at once when another process holds it.

    flock locks belong to the open file and vanish when the process ends (even by SIGKILL), so a crash
    never leaves a lock behind; the lock file itself stays and only carries who holds it, for the message.
    """
    if str(db_path) == ":memory:":
        yield
        return
    try:
        fd = open_private(lock_path(db_path), os.O_RDWR)
    except OSError as err:
        raise storage_error(err, lock_path(db_path)) from None
    try:
        _acquire(fd, db_path)
        _write_holder(fd, command)
        yield
    finally:
        os.close(fd)


def _acquire(fd: int, db_path) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise IndexLocked(f"{db_path}: {_holder(fd)} is writing this index; this run stops without changing "
                          "anything (try again when it has finished)") from None


def _write_holder(fd: int, command: str) -> None:
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command, "started": started}).encode(), 0)


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"another `chachong {info['command']}` (pid {info['pid']}, started {info['started']})"
    except (ValueError, KeyError, OSError):
        return "another chachong process"
