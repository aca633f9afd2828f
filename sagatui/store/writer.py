"""The group-commit event writer: the engine's EventSink backed by SQLite.

`append` only queues. A background task drains whatever is queued into one transaction (events,
the row writes of the effects they record, and the saga/step projections), so a thousand sagas in
flight cost a handful of commits, not a thousand. It lingers a few milliseconds first: under load the
quiet-moment commits below take nearly everything, and a background commit that split their batch
cost them a second hop to the database thread (10-20% of the engine's rate, measured).

Durability waiters are released at the clock's quiet moments (an idle hook), in seq order, so when a
saga resumes after `durable()` never depends on how fast the disk was: the same seed gives the same
event stream. On a scratch store (Store durability "scratch": fuzz's throwaway file) the same quiet
moments release the waiters without a commit first, so a run that waits for the disk at every call
(thousands of commits) commits a few large batches instead, with the same stream.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import Any

from pydantic import BaseModel

from sagatui.engine.clock import VirtualClock
from sagatui.model.effects import RowWrite
from sagatui.model.events import Event, EventKind
from sagatui.store.database import Store
from sagatui.store.errors import StorageError, StorageProblem, explain
from sagatui.store.projection import SAGA_COLUMNS, STEP_COLUMNS, Projector, SagaKey
from sagatui.store.write_connection import transaction

_INSERT_EVENT = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_RUN_STATUS = {  # events that change a run's status: resume looks for runs not settled
    EventKind.RUN_SETTLED: "settled", EventKind.RUN_INTERRUPTED: "interrupted", EventKind.RUN_RESUMED: "running",
}
_BATCH_LIMIT = 5000  # events per transaction: bounds how long one commit holds the write lock
_LINGER = 0.005  # real seconds the background commit waits for more events to join its batch
# Events a scratch store may hold uncommitted at a quiet moment before that moment commits them as a durable
# store's does: the background commits alone cannot keep up with an engine that never waits for them.
_SCRATCH_BACKLOG = 5_000

# A row write ready for SQL: table, key columns (sorted), their values, the columns it sets.
_Write = tuple[str, tuple[str, ...], tuple[Any, ...], dict[str, Any]]
# What decides an upsert statement: table, key columns, value columns.
_Statement = tuple[str, tuple[str, ...], tuple[str, ...]]


def _upsert(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """Insert a projected row or update it in place (not INSERT OR REPLACE, whose delete and re-insert
    touches every index of the table again)."""
    update = ", ".join(f"{column} = excluded.{column}" for column in columns if column not in key)
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}")


_UPSERT_SAGA = _upsert("sagas", SAGA_COLUMNS, ("run_id", "saga_id"))
_UPSERT_STEP = _upsert("steps", STEP_COLUMNS, ("run_id", "saga_id", "step"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_jsonable)


def to_json(value: Any) -> str:
    """Compact JSON for the data and JSON columns; odd values (sets, models) are converted, not fatal."""
    return _ENCODER.encode(value)


class EventWriter:
    """The EventSink of one run. Create with `await EventWriter.start(store, run_id, clock)`."""

    def __init__(self, store: Store, run_id: int, clock: VirtualClock, committed_seq: int) -> None:
        if store.writer_db is None:
            raise StorageError(StorageProblem.READ_ONLY, f"{store.path} was opened read-only")
        self._store = store
        self._db = store.writer_db
        self.run_id = run_id
        self._clock = clock
        self.committed_seq = committed_seq
        self.transactions = 0
        self.commit_seconds = 0.0  # real time spent in `_commit`s: with `transactions`, what a commit costs
        self._queue: list[tuple[Event, tuple[Any, ...], list[_Write]]] = []
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._projector = Projector()
        self._waits_for_disk = store.durability != "scratch"
        self._sql: dict[_Statement, str] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._drain: asyncio.Task[None] | None = None
        self._failure: StorageError | None = None
        self._closed = False

    @classmethod
    async def start(cls, store: Store, run_id: int, clock: VirtualClock) -> EventWriter:
        """A writer for `run_id`, continuing after the last event already committed (for resume)."""
        async with store.reader_db.execute("SELECT last_seq FROM runs WHERE id = ?", (run_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise ValueError(f"no run {run_id} in {store.path}")
        writer = cls(store, run_id, clock, committed_seq=row[0])
        clock.add_idle_hook(writer._on_idle)
        writer._task = asyncio.get_running_loop().create_task(writer._drain_forever(), name="event-writer")
        return writer

    # -- EventSink ---------------------------------------------------------------------------------
    def append(self, event: Event, effects: Sequence[RowWrite] = ()) -> None:
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise RuntimeError("the event writer is closed")
        if event.run_id != self.run_id:
            raise ValueError(f"event of run {event.run_id} given to the writer of run {self.run_id}")
        # The kinds are StrEnums, stored as their text; a third of the events carry no data.
        row = (event.run_id, event.seq, event.time, event.kind, event.saga_id, event.step, event.service,
               event.operation, event.attempt, event.error_kind, event.message,
               to_json(event.data) if event.data else "{}")
        self._queue.append((event, row, [self._checked(write) for write in effects]))
        self._wake.set()

    async def durable(self, seq: int) -> None:
        """Wait for the next quiet moment of the clock, where `seq` is made durable if it is not yet.
        Always that moment, even for a seq already committed: whether a background commit got there
        first depends on the disk, and must not decide when the caller goes on."""
        if self._failure is not None:
            raise self._failure
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (seq, next(self._order), future))
        self._clock.poke()
        await future

    # -- draining ----------------------------------------------------------------------------------
    async def flush(self) -> None:
        """Commit everything queued so far. Cancelling the caller never cancels a commit under way."""
        await asyncio.shield(self._draining())

    async def close(self) -> None:
        """Stop the background task and commit what is queued. The store stays open."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with suppress(StorageError):
            await self.flush()
        self._release_waiters()
        self._closed = True

    def _draining(self) -> asyncio.Task[None]:
        """The one task that commits, batch after batch, until the queue is empty."""
        if self._drain is None or self._drain.done():
            self._drain = asyncio.get_running_loop().create_task(self._commit_queued(), name="event-commits")
        return self._drain

    async def _commit_queued(self) -> None:
        while self._queue:
            if self._failure is not None:
                raise self._failure
            batch, self._queue = self._queue[:_BATCH_LIMIT], self._queue[_BATCH_LIMIT:]
            await self._commit(batch)

    async def _drain_forever(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(_LINGER)
            self._wake.clear()
            try:
                await self.flush()
            except StorageError:
                return  # recorded in self._failure; appenders and waiters see it

    async def _on_idle(self) -> bool:
        """At a quiet moment: make everything durable (a scratch store: only a long backlog) and release
        the waiters, in seq order."""
        if not self._waiters:
            return False
        if self._waits_for_disk or len(self._queue) > _SCRATCH_BACKLOG:
            with suppress(StorageError):
                await self.flush()
        self._release_waiters()
        return True

    def _release_waiters(self) -> None:
        while self._waiters and (self._failure is not None or not self._waits_for_disk
                                 or self._waiters[0][0] <= self.committed_seq):
            _, _, future = heapq.heappop(self._waiters)
            if future.done():
                continue
            if self._failure is not None:
                future.set_exception(self._failure)
            else:
                future.set_result(None)

    async def _commit(self, batch: list[tuple[Event, tuple[Any, ...], list[_Write]]]) -> None:
        events = [event for event, _, _ in batch]
        began = time.perf_counter()
        wall_time = time.time()
        rows = [(*row, wall_time) for _, row, _ in batch]
        writes = _group(_merge(write for _, _, effect in batch for write in effect), self.run_id)
        status_changes = [event for event in events if event.kind in _RUN_STATUS]
        try:
            missing = self._projector.missing(events)
            if missing:
                await self._load(missing)
            for event in events:
                self._projector.apply(event)
            sagas, steps = self._projector.take_changes()
            statements: list[tuple[str, list[tuple[Any, ...]]]] = [
                (_INSERT_EVENT, rows),
                *((self._upsert_sql(*statement), params) for statement, params in writes.items()),
                (_UPSERT_SAGA, sagas), (_UPSERT_STEP, steps),
                ("UPDATE runs SET last_seq = ? WHERE id = ?", [(events[-1].seq, self.run_id)]),
                ("UPDATE runs SET status = ?, ended_at = ? WHERE id = ?",
                 [(_RUN_STATUS[event.kind], None if event.kind is EventKind.RUN_RESUMED else wall_time,
                   self.run_id) for event in status_changes]),
            ]
            await self._db.run(_transaction, [(sql, params) for sql, params in statements if params])
        except sqlite3.Error as error:
            self._failure = explain(error, self._store.path)
            self._release_waiters()
            raise self._failure from None
        self.committed_seq = events[-1].seq
        self.transactions += 1
        self.commit_seconds += time.perf_counter() - began
        self._projector.evict_settled()

    async def _load(self, keys: set[SagaKey]) -> None:
        saga_ids = sorted(saga_id for _, saga_id in keys)
        marks = ", ".join("?" * len(saga_ids))
        where = f"run_id = ? AND saga_id IN ({marks})"
        saga_rows, step_rows = await self._db.run(
            _fetch_all, [(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", (self.run_id, *saga_ids))
                         for table, columns in (("sagas", SAGA_COLUMNS), ("steps", STEP_COLUMNS))])
        self._projector.load([dict(zip(SAGA_COLUMNS, row, strict=True)) for row in saga_rows],
                             [dict(zip(STEP_COLUMNS, row, strict=True)) for row in step_rows])

    # -- row writes ----------------------------------------------------------------------------------
    def _checked(self, write: RowWrite) -> _Write:
        """Validate a row write against the schema now, so a bad one fails its caller, not a commit."""
        shape = self._store.tables.get(write.table)
        if shape is None:
            raise ValueError(f"{write.table!r} is not a resource table")
        if set(write.key) != shape.key:
            raise ValueError(f"a row of {write.table} is named by {sorted(shape.key)}, not {sorted(write.key)}")
        unknown = set(write.values) - shape.columns
        if unknown:
            raise ValueError(f"{write.table} has no column {', '.join(sorted(unknown))}")
        key_columns = tuple(sorted(write.key))
        values = {column: to_json(value) if isinstance(value, dict | list | tuple) else value
                  for column, value in write.values.items()}
        return write.table, key_columns, tuple(write.key[column] for column in key_columns), values

    def _upsert_sql(self, table: str, key_columns: tuple[str, ...], value_columns: tuple[str, ...]) -> str:
        signature = (table, key_columns, value_columns)
        sql = self._sql.get(signature)
        if sql is None:
            columns = ("run_id", *key_columns, *value_columns)
            conflict = ", ".join(("run_id", *key_columns))
            update = (f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in value_columns)}"
                      if value_columns else "DO NOTHING")
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                   f" ON CONFLICT ({conflict}) {update}")
            self._sql[signature] = sql
        return sql


def _transaction(connection: sqlite3.Connection, statements: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
    """One commit, run whole on the connection's thread: one hop there and back, however many statements."""
    with transaction(connection):
        for sql, params in statements:
            connection.executemany(sql, params)


def _fetch_all(connection: sqlite3.Connection, queries: list[tuple[str, tuple[Any, ...]]]) -> list[list[Any]]:
    """The rows of each query, in one hop."""
    return [connection.execute(sql, params).fetchall() for sql, params in queries]


def _merge(writes: Iterable[_Write]) -> list[_Write]:
    """One write per row: later writes of a row within the batch override earlier ones' columns."""
    merged: dict[tuple[str, tuple[str, ...], tuple[Any, ...]], _Write] = {}
    for table, key_columns, key, values in writes:
        row = (table, key_columns, key)
        if row in merged:
            merged[row][3].update(values)
        else:
            merged[row] = (table, key_columns, key, dict(values))
    return list(merged.values())


def _group(writes: list[_Write], run_id: int) -> dict[_Statement, list[tuple[Any, ...]]]:
    """Writes sharing a statement, as executemany parameters."""
    groups: dict[_Statement, list[tuple[Any, ...]]] = {}
    for table, key_columns, key, values in writes:
        value_columns = tuple(sorted(values))
        groups.setdefault((table, key_columns, value_columns), []).append(
            (run_id, *key, *(values[column] for column in value_columns)))
    return groups
