"""The exception hierarchy: every failure a user can cause is a DetectorError with a message that says what to do."""

import errno
import os

from detector.paths import shown


class DetectorError(Exception):
    """Base class: a problem with the user's input, files or database, explained in the message."""


class Stopped(BaseException):
    """The process was asked to stop (SIGTERM: `systemctl stop`, `kill`) while it worked; it unwinds like Ctrl-C, so
    an open write transaction rolls back."""


class InputError(DetectorError):
    """A file could not be read as a report (missing, empty, undecodable, unsupported, corrupt)."""

    def __init__(self, path, reason):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{shown(self.path)}: {reason}")


class UnsupportedFormat(InputError):
    """The file's format is not one chachong reads."""


class UndecodableFile(InputError):
    """The bytes of a text file do not decode in any encoding chachong knows."""


class EmptyDocument(InputError):
    """The file holds no text to compare."""


class FileTooLarge(InputError):
    """The file is larger than the configured limit."""


class DocumentTooLong(FileTooLarge):
    """The text (characters, paragraphs or unpacked XML) is beyond the limits in Settings: no report is that long."""


class NestedWatermarks(InputError):
    """Template-site watermarks nested inside one another deeper than any real report nests them: a crafted text,
    refused before its normalising takes minutes (settings.MAX_NORMALIZE_ROUNDS)."""


class SettingsError(DetectorError):
    """A setting has a value that cannot work."""


class SettingsMismatch(DetectorError):
    """The database was built with other settings than the ones asked for."""


class DatabaseError(DetectorError):
    """The corpus database is missing, locked, corrupt or of another program."""


class ManifestError(DetectorError):
    """The manifest CSV is malformed."""


class WorkerLost(DetectorError):
    """A worker process reading or fingerprinting documents ended before it answered (out of memory, or killed)."""


class WrongFileType(UnsupportedFormat):
    """The file's content is of another type than its name says (a PDF named .docx, a .docx named .txt)."""


class CorruptFile(InputError):
    """The file is damaged or truncated and its format cannot be parsed."""


class EncryptedFile(InputError):
    """The file is password-protected and cannot be read without the password."""


class NeedsOCR(InputError):
    """The file holds pictures of text (a scan) and no text layer."""


class ConverterMissing(InputError):
    """Reading this format needs an external program that is not installed."""


class ZipBomb(FileTooLarge):
    """The archive inside a file would unpack to far more than any real document."""


class IndexLocked(DatabaseError):
    """Another process is writing the index (a rebuild, add or remove); this one stops without changing anything."""


class StorageError(DatabaseError):
    """The disk or the database refused a read or a write (full, read-only, I/O error, permission, busy)."""


class StoreUnavailable(DatabaseError):
    """The corpus store stopped answering in the middle of a command (a Redis server or cluster down past the failover
    wait). Unlike a file that cannot be read, it stops whatever still needs the store: a batch scan ends there and
    keeps the reports it finished (detector/batch.py)."""


NOTHING_CHANGED = "nothing was changed"


def storage_error(err: Exception, path=None) -> StorageError:
    """A one-line StorageError for a SQLite or OS error: what happened to which file, and what to do."""
    where = getattr(err, "filename", None) or path
    return StorageError(f"{shown(where or 'the database')}: {_what_happened(err, where, database=where == path)}")


def _what_happened(err: Exception, where, database: bool = True) -> str:
    """What the disk or the database refused, and what to do; `database`: `where` is the --db file (not a backup's
    or a report's)."""
    text, code = str(err).lower(), getattr(err, "errno", None)
    name = getattr(err, "sqlite_errorname", "") or ""
    if code == errno.ENOSPC or "full" in text or name == "SQLITE_FULL" or _disk_full(where):
        return f"the disk is full; {NOTHING_CHANGED} — free some space (or use a file on another disk) and run again"
    if code == errno.EFBIG or (_io_error(err) and _file_size_limited()):
        return (f"the file size limit of this process was reached (ulimit -f {_file_size_limit()}); {NOTHING_CHANGED} — "
                "raise it (ulimit -f unlimited) and run again")
    if code == errno.EROFS or "readonly" in text or "read-only" in text or ("unable to open" in text and _not_writable(where)):
        return f"is read-only (the file or its disk); {NOTHING_CHANGED} — make it writable or work on a copy"
    if code in (errno.EACCES, errno.EPERM) or "permission" in text:
        return f"permission denied; {NOTHING_CHANGED} — give this user access to the file and its folder"
    if code == errno.EIO or "i/o error" in text:
        return f"disk I/O error; {NOTHING_CHANGED} — check the disk (dmesg, df), then run `chachong check --db DB`"
    if "locked" in text or "busy" in text:
        return f"another process kept the database busy too long; {NOTHING_CHANGED} — try again when it has finished"
    if "malformed" in text or "not a database" in text:
        return "the database is damaged; restore it from a backup (`chachong backup`) or rebuild it (`chachong rebuild --full`)"
    if code == errno.ENOENT and where and not os.path.isdir(os.path.dirname(os.path.abspath(where))):
        return missing_folder(os.path.dirname(os.path.abspath(where)), "the --db path" if database else "the path")
    if "unable to open" in text:
        return "cannot be opened; check that its folder exists and this user may read and write there"
    return f"{getattr(err, 'strerror', None) or err}; {NOTHING_CHANGED} — check the disk and the file, then run again"


def missing_folder(folder, what: str = "the path") -> str:
    """Why a file could not be made in `folder`, which does not exist (a typo), and what to do."""
    return f"its folder {shown(folder)} does not exist; {NOTHING_CHANGED} — check {what}, or create the folder first"


def _io_error(err: Exception) -> bool:
    return (getattr(err, "sqlite_errorname", "") or "").startswith("SQLITE_IOERR") or getattr(err, "errno", None) == errno.EIO


def _disk_full(where) -> bool:
    """No free block left where the file lies (SQLite reports a full disk as an I/O error at times, and as
    "readonly" when the database had to be opened read-only for it)."""
    import os

    try:
        folder = os.path.dirname(os.path.abspath(where)) if where else "."
        info = os.statvfs(folder)
        # a read-only disk has no free blocks either, and a file system of no blocks at all (/proc, /sys) is not a disk
        return info.f_bavail == 0 and info.f_blocks > 0 and not info.f_flag & os.ST_RDONLY
    except (OSError, TypeError, ValueError):
        return False


def _not_writable(where) -> bool:
    """Is the file (or, when it does not exist, its folder) read-only for this process or on a read-only disk?"""
    import os

    try:
        target = where if os.path.exists(where) else os.path.dirname(os.path.abspath(where))
        return not os.access(target, os.W_OK) or bool(os.statvfs(target).f_flag & os.ST_RDONLY)
    except (OSError, TypeError, ValueError):
        return False


def _file_size_limit() -> str:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return "unlimited" if soft == resource.RLIM_INFINITY else f"{soft} bytes"


def _file_size_limited() -> bool:
    return _file_size_limit() != "unlimited"
