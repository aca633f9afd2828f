"""Opening a sagatui database: checks that the file is ours and writable, migrates it, and keeps
two connections: a WriteConnection on its own thread for the event writer's transactions, and an
aiosqlite one for readers (WAL lets them overlap)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import aiosqlite

from sagatui.store.errors import StorageError, StorageProblem, explain
from sagatui.store.schema import APPLICATION_ID, MIGRATIONS, RESOURCE_TABLES, SCHEMA_VERSION
from sagatui.store.write_connection import WriteConnection, transaction

Durability = Literal["scratch", "normal", "full"]
_SYNCHRONOUS = {"scratch": "OFF", "normal": "NORMAL", "full": "FULL"}  # PRAGMA synchronous, by durability
# What decides whether a file is ours and readable: its application_id, how many schema objects it
# has, and whether it has our schema_version table (another program's is not ours to read). One
# statement, so the reader and the writer ask the same.
_FACTS = ("SELECT application_id, (SELECT count(*) FROM sqlite_master),"
          f" application_id = {APPLICATION_ID} AND EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_version')"
          " FROM pragma_application_id")
_VERSION = "SELECT coalesce(max(version), 0) FROM schema_version"


@dataclass(frozen=True, slots=True)
class TableShape:
    """The columns of a resource table and its key (without run_id): what a RowWrite must name."""

    columns: frozenset[str]
    key: frozenset[str]


class Store:
    """One sagatui database file: `async with await Store.open(path) as store:` (or `await store.close()`)."""

    def __init__(
        self, path: Path, writer: WriteConnection | None, reader: aiosqlite.Connection,
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
        survives a power cut, at the cost of an fsync per commit; "scratch" is for a throwaway file
        (fuzz's): no saga waits for the disk (the event writer commits in the background and at close,
        see sagatui.store.writer) and SQLite never syncs, so a crash may lose what was not committed.
        `read_only` opens for reading only (nothing is created or migrated)."""
        path = Path(path)
        writer: WriteConnection | None = None
        reader: aiosqlite.Connection | None = None
        try:
            if read_only:
                if not path.is_file():
                    raise StorageError(StorageProblem.UNAVAILABLE, f"{path} does not exist")
            else:
                _check_writable(path)
                writer = await WriteConnection.open(path, timeout=lock_timeout)
                await writer.run(_prepare_writer, path, durability)
            reader = await aiosqlite.connect(
                f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, isolation_level=None, timeout=lock_timeout
            )
            await reader.execute("PRAGMA query_only = ON")
            _check(await _reader_facts(reader), path, new_ok=False, require_current=True)
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

    def _writable(self) -> WriteConnection:
        if self.writer_db is None:
            raise StorageError(StorageProblem.READ_ONLY, f"{self.path} was opened read-only")
        return self.writer_db

    async def create_run(
        self, *, pack_name: str, pack_text: str, seed: int, clock_mode: str,
        scenario: str | None = None, settings: dict[str, Any] | None = None,
    ) -> int:
        """Record a new run and return its id (the events' run_id)."""
        writer = self._writable()
        digest = hashlib.sha256(pack_text.encode()).hexdigest()
        run = (pack_name, digest, seed, scenario, clock_mode, json.dumps(settings or {}, sort_keys=True), time.time())
        try:
            return await writer.run(_insert_run, digest, pack_text, run)
        except sqlite3.Error as error:
            raise explain(error, self.path) from None

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await _close_all(self.reader_db, self.writer_db)  # the writer last: the last to close checkpoints the WAL
        # into the file and deletes it, which a query_only reader cannot do


def remove_database(path: Path) -> None:
    """Delete a database and the files SQLite and the run locks keep beside it (`-wal`, `-shm`, `.lock`),
    where there are any: for scratch files made afresh (a proof's cases)."""
    for file in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", ".lock"))):
        file.unlink(missing_ok=True)


def _insert_run(connection: sqlite3.Connection, digest: str, pack_text: str, run: tuple[Any, ...]) -> int:
    """The pack by hash (each distinct text is stored once, in packs) and the run naming it, in one commit."""
    with transaction(connection):
        connection.execute("INSERT OR IGNORE INTO packs (hash, text) VALUES (?, ?)", (digest, pack_text))
        cursor = connection.execute(
            "INSERT INTO runs (pack_name, pack_text, pack_hash, seed, scenario, clock_mode, settings, started_at)"
            " VALUES (?, '', ?, ?, ?, ?, ?, ?)", run)
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _check_writable(path: Path) -> None:
    """Catch what SQLite would report vaguely: a missing folder, a directory where the file should be."""
    if not path.parent.is_dir():
        raise StorageError(StorageProblem.UNAVAILABLE, f"folder {path.parent} does not exist")
    if path.is_dir():
        raise StorageError(StorageProblem.UNAVAILABLE, f"{path} is a folder, not a database file")


def _prepare_writer(connection: sqlite3.Connection, path: Path, durability: Durability) -> None:
    """Claim or verify the file, switch to WAL, migrate, and prove we can take the write lock."""
    _check(_facts(connection), path, new_ok=True, require_current=False)
    connection.execute("BEGIN IMMEDIATE")  # fails at once when the file is read-only or locked
    connection.execute("ROLLBACK")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {_SYNCHRONOUS[durability]}")
    _migrate(connection)


def _migrate(connection: sqlite3.Connection) -> None:
    with transaction(connection):
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        current = _facts(connection).version
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute("INSERT INTO schema_version VALUES (?, ?)", (version, time.time()))


@dataclass(frozen=True, slots=True)
class _FileFacts:
    application_id: int
    tables: int  # schema objects of any kind: 0 in a new, empty file
    version: int  # 0 when there is no schema_version table


def _facts(connection: sqlite3.Connection) -> _FileFacts:
    application_id, tables, versioned = connection.execute(_FACTS).fetchone()
    version = connection.execute(_VERSION).fetchone()[0] if versioned else 0
    return _FileFacts(application_id, tables, int(version))


async def _reader_facts(db: aiosqlite.Connection) -> _FileFacts:
    """_facts through the aiosqlite reader."""
    ((application_id, tables, versioned),) = await db.execute_fetchall(_FACTS)
    ((version,),) = await db.execute_fetchall(_VERSION) if versioned else [(0,)]
    return _FileFacts(application_id, tables, int(version))


def _check(facts: _FileFacts, path: Path, *, new_ok: bool, require_current: bool) -> None:
    """Is the file ours (an empty one is, when it may be claimed now: opened writable), and of a schema
    this sagatui reads?"""
    if facts.application_id != APPLICATION_ID and not (new_ok and facts.application_id == 0 and not facts.tables):
        raise StorageError(StorageProblem.NOT_SAGATUI, f"{path} is not a sagatui database")
    if facts.version > SCHEMA_VERSION:
        raise StorageError(
            StorageProblem.NEWER_SCHEMA,
            f"{path} was written by a newer sagatui (schema {facts.version}, this one reads up to {SCHEMA_VERSION})",
        )
    if require_current and facts.version < SCHEMA_VERSION:
        raise StorageError(
            StorageProblem.READ_ONLY, f"{path} has an older schema and must be opened writable once to upgrade it"
        )


async def _table_shape(db: aiosqlite.Connection, table: str) -> TableShape:
    rows = await db.execute_fetchall(f"PRAGMA table_info({table})")
    columns = frozenset(row[1] for row in rows) - {"run_id"}
    key = frozenset(row[1] for row in rows if row[5]) - {"run_id"}
    return TableShape(columns, key)


async def _close_all(*connections: aiosqlite.Connection | WriteConnection | None) -> None:
    for connection in connections:
        if connection is not None:
            await connection.close()
