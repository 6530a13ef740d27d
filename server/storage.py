"""What goes wrong with the data folder, said in words: a full disk, a read-only folder, a file the
reader may not open. Plus the file modes that keep the reader's data readable by the reader alone.

`describe(exc, path)` turns a SQLite or operating-system error into a StorageError (status, code and a
message that names the path), or None when the error is not about storage.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

# SQLite primary result codes (extended codes carry them in their low byte).
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_PERM = 3

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


class StorageError(Exception):
    """The data folder cannot hold what was asked. `message` is meant for the reader of a failed request;
    `reason` says the same without speaking of a request (for warnings at start)."""

    def __init__(self, status: int, code: str, message: str, reason: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.reason = reason or message


def disk_full(path) -> StorageError:
    return StorageError(507, "disk_full",
                        f"Not enough disk space, nothing was stored: free some space on the disk holding {path}.",
                        f"The disk holding {path} is full.")


def read_only(path) -> StorageError:
    return StorageError(503, "read_only",
                        f"Crosscurrent cannot write to {path} (it is read-only or not yours): nothing was stored.",
                        f"Crosscurrent cannot write to {path}: it is read-only or not yours.")


def describe(exc: BaseException, path) -> StorageError | None:
    """The storage problem behind exc, or None. `path` is the file Crosscurrent was working on."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        text = str(exc).lower()
        if code == SQLITE_FULL or "disk is full" in text:
            return disk_full(path)
        if code in (SQLITE_READONLY, SQLITE_PERM) or "readonly" in text:
            return read_only(path)
        cannot_open = code == SQLITE_CANTOPEN or "unable to open" in text
        if cannot_open or code == SQLITE_IOERR or "disk i/o error" in text:
            if _read_only_folder(path):
                return read_only(path)
            if cannot_open:
                return StorageError(503, "cannot_open", f"Crosscurrent cannot open {path}: check that the "
                                                        "folder exists, is yours and is writable.")
            if _nearly_full(path):
                return disk_full(path)
            return StorageError(503, "storage_error", f"Reading or writing {path} failed (disk I/O error): "
                                                      "nothing was stored.")
        return None
    if isinstance(exc, OSError):
        where = exc.filename or path
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return disk_full(where)
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return read_only(where)
    return None


def _read_only_folder(path) -> bool:
    """A folder on a read-only file system, or one this user may not write to."""
    folder = Path(path).parent
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY) or not os.access(folder, os.W_OK)
    except OSError:
        return False


def _nearly_full(path, minimum: int = 1024 * 1024) -> bool:
    try:
        import shutil

        return shutil.disk_usage(Path(path).parent).free < minimum
    except OSError:
        return False


def free_bytes(folder) -> int | None:
    import shutil

    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def make_private(db_path: Path) -> None:
    """Create the database file readable by the reader only, and tighten files an older version left.

    SQLite gives its -wal and -shm files the mode of the database file, so 0600 here makes them 0600 too.
    """
    db_path = Path(db_path)
    try:
        os.chmod(db_path.parent, PRIVATE_FOLDER)
    except OSError:
        pass
    if not db_path.exists():
        os.close(os.open(str(db_path), os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for suffix in DB_SUFFIXES:
        path = db_path.with_name(db_path.name + suffix)
        try:
            if path.exists() and (path.stat().st_mode & 0o777) != PRIVATE_FILE:
                os.chmod(path, PRIVATE_FILE)
        except OSError:
            pass    # a read-only folder: reading still works, and writing will say why it cannot


def write_private(path: Path, data: bytes) -> None:
    """Write a file only the reader can read (exports hold the reading history)."""
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    try:
        os.chmod(path, PRIVATE_FILE)
    except OSError:
        pass
