"""Storage that fails under a running run: the file made read-only, the disk full, another process holding
the write lock. Each gives a one-line error and exit 3, leaves the database consistent, and a later
`sagatui resume` (once the storage is fine again) completes the run."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.recovery.helpers import LOAD, one_line_error, problems, query, sagatui, start, wait_for_events

REALTIME_LOAD = (*LOAD, "--realtime")  # 300 orders over 15 s of wall time: storage breaks mid-run


@contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """Refuse every write to `paths`, even through descriptors already open and even for root."""
    if subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted on `folder` (root only; skipped where mounting is not allowed)."""
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


async def resumes_completely(db: Path) -> None:
    resumed = sagatui("resume", "--db", str(db), "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert await problems(db) == []


async def test_the_database_made_read_only_mid_run(tmp_path: Path) -> None:
    db = tmp_path / "ro.db"
    run = start(*REALTIME_LOAD, "--db", str(db))
    wait_for_events(db, 300, run)
    with immutable(db, db.with_name("ro.db-wal")):
        _, stderr = run.communicate(timeout=60)
        assert run.returncode == 3 and one_line_error(stderr, "read-only"), stderr
        refused = sagatui("resume", "--db", str(db))
        assert refused.returncode == 3 and one_line_error(refused.stderr, "read-only"), refused.stderr
    assert query(db, "SELECT status FROM runs") == [("running",)]
    await resumes_completely(db)


async def test_a_full_disk(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "3m") as disk:
        db = disk / "full.db"
        done = sagatui(*LOAD, "--db", str(db))
        assert done.returncode == 3 and one_line_error(done.stderr, "the disk is full"), done.stderr
        (sagas,) = query(db, "SELECT count(*) FROM sagas")[0]
        assert 0 < sagas < 300  # it broke mid-run
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        await resumes_completely(db)


async def test_another_process_holding_the_write_lock(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    run = start(*REALTIME_LOAD, "--db", str(db))
    wait_for_events(db, 300, run)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        _, stderr = run.communicate(timeout=60)
        assert run.returncode == 3 and one_line_error(stderr, "locked by another process"), stderr
        refused = sagatui("resume", "--db", str(db))
        assert refused.returncode == 3 and one_line_error(refused.stderr, "locked"), refused.stderr
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await resumes_completely(db)
