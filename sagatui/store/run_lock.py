"""Which process is writing which run: one byte-range lock per run in `<db>.lock`, held by the lab that
writes the run and dropped by the kernel when that process ends, however it ends (SIGKILL included).

So `resume` never carries on a run another live process is still writing (a dashboard, a headless
run in another terminal), and a run a crashed process left is free at once.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sagatui.store.errors import StorageError, StorageProblem

# One descriptor per lock file for the life of the process: closing any descriptor of a file drops
# every POSIX lock the process holds on it, so none is ever closed.
_FILES: dict[Path, int] = {}
_HELD: set[tuple[Path, int]] = set()  # runs this process writes (its own locks never conflict with it)


def _lock_file(db: Path) -> tuple[Path, int]:
    resolved = db.resolve()
    path = resolved.with_name(resolved.name + ".lock")
    if path not in _FILES:
        try:
            _FILES[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StorageError(StorageProblem.UNAVAILABLE, f"cannot create {path}: {error.strerror}") from None
    return path, _FILES[path]


def _try_lock(descriptor: int, run_id: int) -> bool:
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, run_id)
    except OSError:
        return False
    return True


def claim_run(db: Path, run_id: int) -> None:
    """Mark run `run_id` of `db` as written by this process until `release_run`; StorageError if another
    live process writes it."""
    path, descriptor = _lock_file(db)
    if (path, run_id) in _HELD or not _try_lock(descriptor, run_id):
        raise StorageError(StorageProblem.LOCKED, f"run {run_id} of {db} is being written by another process")
    _HELD.add((path, run_id))


def release_run(db: Path, run_id: int) -> None:
    path, descriptor = _lock_file(db)
    if (path, run_id) in _HELD:
        fcntl.lockf(descriptor, fcntl.LOCK_UN, 1, run_id)
        _HELD.discard((path, run_id))


def run_in_use(db: Path, run_id: int) -> bool:
    """Is a live process (this one included) writing run `run_id` of `db`?"""
    path, descriptor = _lock_file(db)
    if (path, run_id) in _HELD:
        return True
    if not _try_lock(descriptor, run_id):
        return True
    fcntl.lockf(descriptor, fcntl.LOCK_UN, 1, run_id)
    return False
