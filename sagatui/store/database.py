"""Opening a sagatui database: checks that the file is ours and writable, migrates it, and keeps
two connections: one for the event writer's transactions, one for readers (WAL lets them overlap)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import aiosqlite

from sagatui.store.errors import StorageError, StorageProblem, explain
from sagatui.store.schema import APPLICATION_ID, MIGRATIONS, RESOURCE_TABLES, SCHEMA_VERSION

Durability = Literal["normal", "full"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TableShape:
    """The columns of a resource table and its key (without run_id): what a RowWrite must name."""

    columns: frozenset[str]
    key: frozenset[str]


class Store:
    """One sagatui database file. Open with `await Store.open(path)`; close with `await store.close()`."""

    def __init__(
        self, path: Path, writer: aiosqlite.Connection | None, reader: aiosqlite.Connection,
        durability: Durability, tables: dict[str, TableShape],
    ) -> None:
        self.path = path
        self.writer_db = writer
        self.reader_db = reader
        self.durability = durability
        self.tables = tables

    @classmethod
    async def open(
        cls, path: str | Path, *, durability: Durability = "normal", read_only: bool = False,
        lock_timeout: float = 5.0,
    ) -> Store:
        """Open (creating and migrating when writable) the database at `path`. Raises StorageError.

        `durability` "normal" (PRAGMA synchronous=NORMAL) survives a process crash; "full" also
        survives a power cut, at the cost of an fsync per commit. `read_only` opens for reading only
        (nothing is created or migrated)."""
        path = Path(path)
        writer: aiosqlite.Connection | None = None
        reader: aiosqlite.Connection | None = None
        try:
            if read_only:
                if not path.is_file():
                    raise StorageError(StorageProblem.UNAVAILABLE, f"{path} does not exist")
            else:
                _check_writable(path)
                writer = await aiosqlite.connect(path, isolation_level=None, timeout=lock_timeout)
                await _prepare_writer(writer, path, durability)
            reader = await aiosqlite.connect(
                f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, isolation_level=None, timeout=lock_timeout
            )
            await reader.execute("PRAGMA query_only = ON")
            await _check_ours(reader, path, new_ok=False)
            await _check_version(reader, path, require_current=True)
            tables = {name: await _table_shape(reader, name) for name in RESOURCE_TABLES}
        except sqlite3.Error as error:
            await _close_all(writer, reader)
            raise explain(error, path) from None
        except StorageError:
            await _close_all(writer, reader)
            raise
        reader.row_factory = aiosqlite.Row
        return cls(path, writer, reader, durability, tables)

    @property
    def read_only(self) -> bool:
        return self.writer_db is None

    def _writable(self) -> aiosqlite.Connection:
        if self.writer_db is None:
            raise StorageError(StorageProblem.READ_ONLY, f"{self.path} was opened read-only")
        return self.writer_db

    async def create_run(
        self, *, pack_name: str, pack_text: str, seed: int, clock_mode: str,
        scenario: str | None = None, settings: dict[str, Any] | None = None,
    ) -> int:
        """Record a new run and return its id (the events' run_id)."""
        db = self._writable()
        digest = hashlib.sha256(pack_text.encode()).hexdigest()
        try:
            await db.execute("INSERT OR IGNORE INTO packs (hash, text) VALUES (?, ?)", (digest, pack_text))
            cursor = await db.execute(  # the pack by hash: each distinct text is stored once, in packs
                "INSERT INTO runs (pack_name, pack_text, pack_hash, seed, scenario, clock_mode, settings, started_at)"
                " VALUES (?, '', ?, ?, ?, ?, ?, ?)",
                (pack_name, digest, seed, scenario, clock_mode, json.dumps(settings or {}, sort_keys=True),
                 time.time()),
            )
        except sqlite3.Error as error:
            raise explain(error, self.path) from None
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def close(self) -> None:
        await _close_all(self.reader_db, self.writer_db)  # the writer last: the last to close checkpoints the WAL
        # into the file and deletes it, which a query_only reader cannot do


async def in_connection_thread(db: aiosqlite.Connection, function: Callable[..., T], *args: Any) -> T:
    """Run `function(sqlite3_connection, *args)` in the aiosqlite connection's own thread and await it.

    aiosqlite hops to its thread and back once per statement; a commit of several statements would cost
    several hops. This queues the whole function as one item on the connection's worker queue, through
    aiosqlite's `_execute` and `_conn` (not public API, present from 0.17 through 0.22; pinned in
    pyproject), so the statements still run in order with every other use of the connection."""
    return await db._execute(lambda: function(db._conn, *args))


def _check_writable(path: Path) -> None:
    """Catch what SQLite would report vaguely: a missing folder, a directory where the file should be."""
    if not path.parent.is_dir():
        raise StorageError(StorageProblem.UNAVAILABLE, f"folder {path.parent} does not exist")
    if path.is_dir():
        raise StorageError(StorageProblem.UNAVAILABLE, f"{path} is a folder, not a database file")


async def _prepare_writer(db: aiosqlite.Connection, path: Path, durability: Durability) -> None:
    """Claim or verify the file, switch to WAL, migrate, and prove we can take the write lock."""
    await _check_ours(db, path, new_ok=True)
    await _check_version(db, path, require_current=False)
    await db.execute("BEGIN IMMEDIATE")  # fails at once when the file is read-only or locked
    await db.execute("ROLLBACK")
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute(f"PRAGMA synchronous = {durability.upper()}")
    await _migrate(db)


async def _migrate(db: aiosqlite.Connection) -> None:
    await db.execute("BEGIN IMMEDIATE")
    try:
        await db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        current = await _version(db)
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    await db.execute(statement)
            await db.execute("INSERT INTO schema_version VALUES (?, ?)", (version, time.time()))
        await db.execute("COMMIT")
    except BaseException:
        await db.execute("ROLLBACK")
        raise


async def _check_ours(db: aiosqlite.Connection, path: Path, *, new_ok: bool) -> None:
    """Is the file ours? An empty one is, when it may be claimed now (opened writable)."""
    (app_id,) = await _one(db, "PRAGMA application_id")
    (tables,) = await _one(db, "SELECT count(*) FROM sqlite_master")
    if app_id != APPLICATION_ID and not (new_ok and app_id == 0 and not tables):
        raise StorageError(StorageProblem.NOT_SAGATUI, f"{path} is not a sagatui database")


async def _check_version(db: aiosqlite.Connection, path: Path, *, require_current: bool) -> None:
    version = await _version(db)
    if version > SCHEMA_VERSION:
        raise StorageError(
            StorageProblem.NEWER_SCHEMA,
            f"{path} was written by a newer sagatui (schema {version}, this one reads up to {SCHEMA_VERSION})",
        )
    if require_current and version < SCHEMA_VERSION:
        raise StorageError(
            StorageProblem.READ_ONLY, f"{path} has an older schema and must be opened writable once to upgrade it"
        )


async def _version(db: aiosqlite.Connection) -> int:
    (exists,) = await _one(db, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'")
    if not exists:
        return 0
    (version,) = await _one(db, "SELECT coalesce(max(version), 0) FROM schema_version")
    return int(version)


async def _table_shape(db: aiosqlite.Connection, table: str) -> TableShape:
    rows = await db.execute_fetchall(f"PRAGMA table_info({table})")
    columns = frozenset(row[1] for row in rows) - {"run_id"}
    key = frozenset(row[1] for row in rows if row[5]) - {"run_id"}
    return TableShape(columns, key)


async def _one(db: aiosqlite.Connection, sql: str) -> tuple[Any, ...]:
    rows = list(await db.execute_fetchall(sql))
    return tuple(rows[0])


async def _close_all(*connections: aiosqlite.Connection | None) -> None:
    for connection in connections:
        if connection is not None:
            await connection.close()
