"""Storage failures the user can act on, each with a one-line message; the CLI maps them to exit 3."""

from __future__ import annotations

import os
import sqlite3
from enum import StrEnum
from pathlib import Path


class StorageProblem(StrEnum):
    LOCKED = "locked"  # another process holds the write lock
    READ_ONLY = "read_only"  # the file or its folder cannot be written
    NOT_SAGATUI = "not_sagatui"  # some other file, or another program's database
    NEWER_SCHEMA = "newer_schema"  # written by a newer sagatui
    DAMAGED = "damaged"  # ours (or SQLite at least), but its pages are truncated or overwritten
    UNAVAILABLE = "unavailable"  # missing folder, a directory, a disk error


class StorageError(Exception):
    """A database problem explained in one line, never a traceback."""

    def __init__(self, problem: StorageProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message

    def __reduce__(self) -> tuple[type[StorageError], tuple[StorageProblem, str]]:
        """Picklable: a fuzz worker process hands its storage error to the command, which exits 3."""
        return StorageError, (self.problem, self.message)


def explain(error: sqlite3.Error, path: Path) -> StorageError:
    """Turn an sqlite3 error raised while opening or writing `path` into a StorageError."""
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(error):
        return StorageError(StorageProblem.LOCKED, f"{path} is locked by another process; close it and retry")
    if name.startswith("SQLITE_READONLY") or "readonly" in str(error) or (
            name.startswith("SQLITE_IOERR") and not _writable(path)):
        return StorageError(StorageProblem.READ_ONLY, f"{path} is read-only; choose a writable file or folder")
    if name == "SQLITE_FULL":
        return StorageError(StorageProblem.UNAVAILABLE, f"cannot write {path}: the disk is full")
    if name == "SQLITE_NOTADB":
        return StorageError(StorageProblem.NOT_SAGATUI, f"{path} is not a sagatui database")
    if name == "SQLITE_CORRUPT" or "malformed" in str(error) or str(error).startswith("Could not decode"):
        return StorageError(StorageProblem.DAMAGED, f"{path} is damaged ({error}); restore it from a copy")
    if name.startswith("SQLITE_CANTOPEN") and not os.access(path.parent, os.W_OK):
        return StorageError(StorageProblem.READ_ONLY, f"cannot write in {path.parent}; choose a writable folder")
    return StorageError(StorageProblem.UNAVAILABLE, f"cannot use {path}: {error}")


def _writable(path: Path) -> bool:
    """A write that failed with an I/O error may have met a file made read-only under a running
    process (it holds the file open, so SQLite reports the refused write, not a read-only file)."""
    files = [path, path.with_name(path.name + "-wal")]
    return all(os.access(file, os.W_OK) for file in files if file.exists())
