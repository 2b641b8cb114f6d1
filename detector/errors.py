"""The exception hierarchy: every failure a user can cause is a DetectorError with a message that says what to do."""

from detector.paths import shown


class DetectorError(Exception):
    """Base class: a problem with the user's input, files or database, explained in the message."""


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


class SettingsError(DetectorError):
    """A setting has a value that cannot work."""


class SettingsMismatch(DetectorError):
    """The database was built with other settings than the ones asked for."""


class DatabaseError(DetectorError):
    """The corpus database is missing, locked, corrupt or of another program."""


class ManifestError(DetectorError):
    """The manifest CSV is malformed."""


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
