"""Uploaded files: kept in a private temporary folder (0700), zips unpacked within the ingest limits, deleted after the scan."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath

from detector.errors import DetectorError
from detector.ingest.docx import MAX_COMPRESSION_RATIO, MAX_UNPACKED_BYTES, MAX_ZIP_MEMBERS, RATIO_CHECK_FROM
from detector.ingest.manifest import read_manifest
from detector.messages import both
from detector.model import DocumentMeta
from detector.settings import WEB_MAX_FILES

_CHUNK = 1 << 16


class UploadRefused(DetectorError):
    """An upload broke a limit (too many files, a zip bomb) or named no file."""


@dataclasses.dataclass
class Upload:
    """What one request brought: files saved under `folder` by their names, and the metadata given for each."""

    folder: Path
    files: list = dataclasses.field(default_factory=list)  # (name as the user knows it, saved path)
    meta: dict = dataclasses.field(default_factory=dict)  # name -> DocumentMeta
    refused: list = dataclasses.field(default_factory=list)  # (name, reason): not saved, reported as unreadable

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def private_folder(root: Path) -> Path:
    """A fresh folder only this user can open (mkdtemp makes it 0700)."""
    return Path(tempfile.mkdtemp(prefix="upload-", dir=root))


def receive(root: Path, files, max_file_bytes: int, manifest=None, common: DocumentMeta | None = None,
            per_file: list | None = None) -> Upload:
    """Save uploaded files (werkzeug FileStorage) and unpack zips; attach the metadata: form per file > manifest > common."""
    upload = Upload(private_folder(root))
    try:
        groups = [_save_one(upload, storage, max_file_bytes) for storage in files if storage and storage.filename]
        if not upload.files and not upload.refused:
            raise UploadRefused(both("web_no_file"))
        _attach_meta(upload, groups, manifest, common, per_file or [])
        return upload
    except BaseException:
        upload.remove()
        raise


def _save_one(upload: Upload, storage, max_file_bytes: int) -> list:
    """Save one uploaded file (a zip: its members); returns the names it gave."""
    name = safe_name(storage.filename)
    if name.lower().endswith(".zip"):
        return _unpack(upload, storage.stream, name, max_file_bytes)
    _check_count(upload)
    target = _target(upload, name)
    if not _copy_limited(storage.stream, target, max_file_bytes):
        upload.refused.append((name, both("web_file_too_large", limit=_mib(max_file_bytes))))
        return []
    return [_saved(upload, target)]


def _unpack(upload: Upload, stream, zip_name: str, max_file_bytes: int) -> list:
    spooled = upload.folder / f".{len(upload.files)}-upload.zip"
    if not _copy_limited(stream, spooled, MAX_UNPACKED_BYTES):
        raise UploadRefused(both("web_zip_large", name=zip_name, limit=_mib(MAX_UNPACKED_BYTES)))
    try:
        with zipfile.ZipFile(spooled) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            _refuse_bomb(zip_name, members)
            return [n for m in members for n in _unpack_member(upload, archive, m, zip_name, max_file_bytes)]
    except zipfile.BadZipFile:
        raise UploadRefused(both("web_zip_damaged", name=zip_name)) from None
    finally:
        spooled.unlink(missing_ok=True)


def _refuse_bomb(zip_name: str, members: list) -> None:
    if len(members) > min(MAX_ZIP_MEMBERS, WEB_MAX_FILES + 1):
        raise UploadRefused(both("web_zip_members", name=zip_name, count=len(members), n=WEB_MAX_FILES))
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise UploadRefused(both("web_zip_bomb", name=zip_name, mib=_mib(unpacked), limit=_mib(MAX_UNPACKED_BYTES)))
    for m in members:
        if m.file_size > RATIO_CHECK_FROM and m.file_size / max(m.compress_size, 1) > MAX_COMPRESSION_RATIO:
            raise UploadRefused(both("web_zip_ratio", name=zip_name, member=m.filename, ratio=MAX_COMPRESSION_RATIO))


def _unpack_member(upload: Upload, archive: zipfile.ZipFile, member: zipfile.ZipInfo, zip_name: str, max_file_bytes: int) -> list:
    raw = _member_name(member)
    name = safe_path(raw)
    if not name or PurePosixPath(raw.replace("\\", "/")).name.startswith((".", "~$")) or name.startswith("__MACOSX/"):
        return []
    _check_count(upload)
    if member.flag_bits & 0x1:
        upload.refused.append((name, both("web_zip_password")))
        return []
    target = _target(upload, name)
    with archive.open(member) as source:  # sizes are counted as read: the directory's sizes may lie
        if not _copy_limited(source, target, min(max_file_bytes, member.file_size)):
            upload.refused.append((name, both("web_file_too_large", limit=_mib(max_file_bytes))))
            return []
    return [_saved(upload, target)]


def _saved(upload: Upload, target: Path) -> str:
    name = target.relative_to(upload.folder / "files").as_posix()
    upload.files.append((name, target))
    return name


def _member_name(member: zipfile.ZipInfo) -> str:
    """The member's name; zips made on Chinese Windows store GBK names without the UTF-8 flag."""
    if member.flag_bits & 0x800:
        return member.filename
    raw = member.filename.encode("cp437", errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return member.filename


def _check_count(upload: Upload) -> None:
    if len(upload.files) + len(upload.refused) >= WEB_MAX_FILES:
        raise UploadRefused(both("web_too_many", n=WEB_MAX_FILES))


def _target(upload: Upload, name: str) -> Path:
    """Where a file is saved: folder/files/NAME, numbered (name-2.txt) when two uploads share a name."""
    taken = {n for n, _ in upload.files}
    path, n = PurePosixPath(name), 1
    while str(path) in taken or (upload.folder / "files" / path).exists():
        n += 1
        path = PurePosixPath(name).with_name(f"{PurePosixPath(name).stem}-{n}{PurePosixPath(name).suffix}")
    target = upload.folder / "files" / path
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return target


def _copy_limited(source, target: Path, limit: int) -> bool:
    """Copy at most `limit` bytes; False (and nothing kept) when there is more."""
    written = 0
    with open(target, "wb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                break
            out.write(chunk)
    if written > limit:
        target.unlink()
        return False
    return True


def safe_name(filename: str) -> str:
    """The last part of an uploaded file's name, without control characters or a leading dot (Chinese kept)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    return name[:180] or "file"


def safe_path(member: str) -> str:
    """A zip member's path made relative and free of '..' (no member may land outside the upload folder)."""
    parts = [safe_name(p) for p in member.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(p for p in parts if p)


# ---------------------------------------------------------------- metadata


def _attach_meta(upload: Upload, groups: list, manifest, common, per_file: list) -> None:
    from_manifest = _manifest_meta(upload, manifest)
    for n, names in enumerate(groups):
        given = per_file[n] if n < len(per_file) else None
        for name in names:
            meta = _merge(common, from_manifest.get(name), given)
            if meta is not None:
                upload.meta[name] = meta


def _merge(*layers) -> DocumentMeta | None:
    """Later layers win field by field; None when nothing was given at all."""
    fields = {}
    for layer in layers:
        if layer is not None:
            fields.update({k: v for k, v in dataclasses.asdict(layer).items() if v is not None and k != "inferred"})
    return DocumentMeta(**fields) if fields else None


def _manifest_meta(upload: Upload, manifest) -> dict:
    """Manifest rows matched to the saved files by relative path, by path suffix, or by a unique file name."""
    if manifest is None or not manifest.filename:
        return {}
    saved = upload.folder / "manifest.csv"
    if not _copy_limited(manifest.stream, saved, 4 * 2**20):
        raise UploadRefused(both("web_manifest_large"))
    rows = {_relative(path, upload.folder): meta for path, meta in read_manifest(saved).items()}
    return {name: meta for name, _ in upload.files if (meta := _match(name, rows)) is not None}


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder.resolve()).as_posix()
    except ValueError:
        return path.name


def _match(name: str, rows: dict):
    if name in rows:
        return rows[name]
    suffixed = [meta for path, meta in rows.items() if name.endswith("/" + path) or path.endswith("/" + name)]
    if len(suffixed) == 1:
        return suffixed[0]
    by_name = [meta for path, meta in rows.items() if PurePosixPath(path).name == PurePosixPath(name).name]
    return by_name[0] if len(by_name) == 1 else None


def _mib(size: int) -> str:
    return f"{size / 2**20:.0f}"
