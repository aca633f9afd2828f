"""Opening databases: creation, migration, and a clear StorageError for each kind of bad storage."""

import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sagatui.store import database, schema
from sagatui.store.database import Store
from sagatui.store.errors import StorageError, StorageProblem
from sagatui.store.schema import APPLICATION_ID, SCHEMA_VERSION


async def problem(path: Path, **kwargs: object) -> StorageError:
    with pytest.raises(StorageError) as raised:
        await Store.open(path, **kwargs)  # type: ignore[arg-type]
    assert "\n" not in raised.value.message
    return raised.value


async def test_a_new_file_becomes_a_wal_database_of_the_current_schema(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "new.db")
    await store.close()
    raw = sqlite3.connect(tmp_path / "new.db")
    assert raw.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert raw.execute("SELECT max(version) FROM schema_version").fetchone() == (SCHEMA_VERSION,)
    raw.close()
    reopened = await Store.open(tmp_path / "new.db")
    assert await reopened.create_run(pack_name="p", pack_text="", seed=1, clock_mode="virtual") == 1
    await reopened.close()



async def test_closing_folds_the_log_into_the_file(tmp_path: Path) -> None:
    """The last connection to close checkpoints the WAL and deletes it; a query_only reader cannot, so
    the writer closes last. Otherwise every run stays in sagatui.db-wal beside a 4 KB sagatui.db."""
    store = await Store.open(tmp_path / "runs.db")
    await store.create_run(pack_name="p", pack_text="", seed=1, clock_mode="virtual")
    await store.close()
    assert not (tmp_path / "runs.db-wal").exists()
    raw = sqlite3.connect(tmp_path / "runs.db")
    assert raw.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    raw.close()

@pytest.mark.parametrize(("durability", "level"), [("scratch", 0), ("normal", 1), ("full", 2)])
async def test_durability_sets_synchronous(tmp_path: Path, durability: str, level: int) -> None:
    store = await Store.open(tmp_path / "d.db", durability=durability)  # type: ignore[arg-type]
    assert store.writer_db is not None
    assert await store.writer_db.run(lambda connection: connection.execute("PRAGMA synchronous").fetchall()) == [
        (level,)]
    await store.close()


async def test_forward_migrations_apply_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await (await Store.open(tmp_path / "m.db")).close()
    migrations = {**schema.MIGRATIONS, SCHEMA_VERSION + 1: "ALTER TABLE runs ADD COLUMN note TEXT"}
    monkeypatch.setattr(database, "MIGRATIONS", migrations)
    monkeypatch.setattr(database, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    store = await Store.open(tmp_path / "m.db")
    await store.close()
    raw = sqlite3.connect(tmp_path / "m.db")
    assert [row[0] for row in raw.execute("SELECT version FROM schema_version")] == [
        *range(1, SCHEMA_VERSION + 2)]
    assert "note" in [row[1] for row in raw.execute("PRAGMA table_info(runs)")]


async def test_a_text_file_is_not_a_sagatui_database(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("shopping list\n" * 200)
    assert (await problem(tmp_path / "notes.txt")).problem is StorageProblem.NOT_SAGATUI


async def test_another_programs_database_is_not_a_sagatui_database(tmp_path: Path) -> None:
    raw = sqlite3.connect(tmp_path / "other.db")
    raw.execute("CREATE TABLE contacts (name TEXT)")
    raw.commit()
    raw.close()
    error = await problem(tmp_path / "other.db")
    assert error.problem is StorageProblem.NOT_SAGATUI and "not a sagatui database" in error.message


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    await (await Store.open(tmp_path / "n.db")).close()
    raw = sqlite3.connect(tmp_path / "n.db")
    raw.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 1,))
    raw.commit()
    raw.close()
    error = await problem(tmp_path / "n.db")
    assert error.problem is StorageProblem.NEWER_SCHEMA and "newer sagatui" in error.message
    assert (await problem(tmp_path / "n.db", read_only=True)).problem is StorageProblem.NEWER_SCHEMA


@pytest.mark.parametrize("existing", [True, False])
async def test_a_database_locked_by_another_process(tmp_path: Path, existing: bool) -> None:
    path = tmp_path / "locked.db"
    if existing:
        await (await Store.open(path)).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        error = await problem(path, lock_timeout=0.05)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert error.problem is StorageProblem.LOCKED and "locked by another process" in error.message


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """Make `path` unwritable even for root (chattr +i), or skip when this system cannot."""
    path.chmod(0o555 if path.is_dir() else 0o444)
    immutable = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
    try:
        probe = path / "probe" if path.is_dir() else path
        try:
            with open(probe, "a"):
                pass
        except OSError:
            pass
        else:
            pytest.skip("cannot make a file read-only here (root without chattr)")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o755 if path.is_dir() else 0o644)


async def test_a_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    await (await Store.open(path)).close()
    with unwritable(path):
        error = await problem(path)
        assert error.problem is StorageProblem.READ_ONLY and "read-only" in error.message
        reader = await Store.open(path, read_only=True)  # reading it is fine
        assert reader.read_only
        await reader.close()


async def test_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    with unwritable(folder):
        error = await problem(folder / "new.db")
    assert error.problem is StorageProblem.READ_ONLY and str(folder) in error.message


async def test_missing_folders_directories_and_files(tmp_path: Path) -> None:
    assert (await problem(tmp_path / "nowhere" / "x.db")).problem is StorageProblem.UNAVAILABLE
    assert (await problem(tmp_path)).problem is StorageProblem.UNAVAILABLE
    assert (await problem(tmp_path / "absent.db", read_only=True)).problem is StorageProblem.UNAVAILABLE


async def test_a_store_opened_read_only_refuses_to_write(tmp_path: Path) -> None:
    await (await Store.open(tmp_path / "r.db")).close()
    store = await Store.open(tmp_path / "r.db", read_only=True)
    with pytest.raises(StorageError) as raised:
        await store.create_run(pack_name="p", pack_text="", seed=1, clock_mode="virtual")
    assert raised.value.problem is StorageProblem.READ_ONLY
    await store.close()


async def test_each_distinct_pack_text_is_stored_once(tmp_path: Path) -> None:
    from sagatui.store.queries import run_pack_text

    async with await Store.open(tmp_path / "packs.db") as store:
        runs = [await store.create_run(pack_name="p", pack_text=text, seed=1, clock_mode="virtual")
                for text in ("name: a\n" * 1000, "name: a\n" * 1000, "name: b\n")]
        assert [await run_pack_text(store, run) for run in runs] == ["name: a\n" * 1000] * 2 + ["name: b\n"]
    raw = sqlite3.connect(tmp_path / "packs.db")
    assert raw.execute("SELECT count(*) FROM packs").fetchone() == (2,)
    assert raw.execute("SELECT sum(length(pack_text)) FROM runs").fetchone() == (0,)
    raw.close()


async def test_a_version_1_database_keeps_its_runs_packs_when_upgraded(tmp_path: Path) -> None:
    from sagatui.store.queries import run_pack_text

    path = tmp_path / "v1.db"
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    raw.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
    raw.executescript(schema.MIGRATIONS[1])
    raw.execute("INSERT INTO schema_version VALUES (1, 0)")
    for _ in range(2):
        raw.execute("INSERT INTO runs (pack_name, pack_text, pack_hash, seed, clock_mode, started_at)"
                    " VALUES ('p', 'name: p', 'h1', 1, 'virtual', 0)")
    raw.close()
    async with await Store.open(path) as store:
        assert [await run_pack_text(store, run) for run in (1, 2)] == ["name: p", "name: p"]
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT hash, text FROM packs").fetchall() == [("h1", "name: p")]
    raw.close()


async def test_a_version_2_database_names_its_breakers_in_their_transitions_when_upgraded(tmp_path: Path) -> None:
    """Before schema 3 a breaker.transition carried the breaker's name in `service`: an older file's
    transitions read through the payload model (resume, playback) once it is opened."""
    from sagatui.model.payloads import BreakerTransition
    from sagatui.store.queries import read_events

    path = tmp_path / "v2.db"
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    raw.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
    for version in (1, 2):
        raw.executescript(schema.MIGRATIONS[version])
        raw.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    raw.execute("INSERT INTO runs (pack_name, pack_text, pack_hash, seed, clock_mode, started_at)"
                " VALUES ('p', '', 'h1', 1, 'virtual', 0)")
    raw.execute("INSERT INTO events (run_id, seq, time, kind, service, message, data, wall_time) VALUES"
                " (1, 1, 2.5, 'breaker.transition', 'payment_gateway', '3 consecutive failures',"
                " '{\"from\": \"closed\", \"to\": \"open\"}', 0)")
    raw.close()
    async with await Store.open(path) as store:
        [event] = await read_events(store, 1)
    assert event.service is None
    transition = event.payload_as(BreakerTransition)
    assert (transition.breaker, transition.to_state.value) == ("payment_gateway", "open")
