"""Read queries for the dashboard and the CLI. They use the store's reader connection, so they see
committed data only and never wait on (or hold up) the event writer."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterable
from typing import Any

from pydantic import BaseModel

from sagatui.model.events import Event, EventKind
from sagatui.store.database import Store
from sagatui.store.errors import explain


class RunInfo(BaseModel):
    id: int
    pack_name: str
    pack_hash: str
    seed: int
    scenario: str | None
    clock_mode: str
    settings: dict[str, Any]
    started_at: float  # wall clock
    ended_at: float | None
    status: str
    last_seq: int


class SagaInfo(BaseModel):
    saga_id: str
    saga: str
    status: str
    current_step: str | None
    failed_step: str | None
    input: dict[str, Any]
    started_at: float  # run clock
    ended_at: float | None
    attempts: int
    retries: int
    compensations: int
    error_kind: str | None
    message: str | None
    last_seq: int


class StepInfo(BaseModel):
    step: str
    position: int
    status: str
    service: str | None
    operation: str | None
    attempts: int
    started_at: float | None
    ended_at: float | None
    error_kind: str | None
    message: str | None
    compensation_outcome: str | None
    compensation_attempts: int


class SagaTimeline(BaseModel):
    saga: SagaInfo
    steps: list[StepInfo]
    events: list[Event]


_RUN_COLUMNS = "id, pack_name, pack_hash, seed, scenario, clock_mode, settings, started_at, ended_at, status, last_seq"


async def runs_by_status(store: Store, statuses: Iterable[str]) -> list[RunInfo]:
    """Every run in one of `statuses`, oldest first (e.g. the runs a crash left unfinished)."""
    wanted = list(statuses)
    rows = await _fetch(store, f"SELECT {_RUN_COLUMNS} FROM runs WHERE status IN ({', '.join('?' * len(wanted))})"
                               " ORDER BY id", *wanted)
    return [_run(row) for row in rows]


async def latest_run_id(store: Store) -> int | None:
    rows = await _fetch(store, "SELECT max(id) FROM runs")
    return rows[0][0]


async def get_run(store: Store, run_id: int) -> RunInfo | None:
    rows = await _fetch(store, f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", run_id)
    return _run(rows[0]) if rows else None


async def run_pack_text(store: Store, run_id: int) -> str | None:
    """The full text of the pack a run used, as recorded (replay rebuilds the run from it); kept out of
    RunInfo for its size."""
    rows = await _fetch(store, "SELECT p.text FROM runs r JOIN packs p ON p.hash = r.pack_hash WHERE r.id = ?",
                        run_id)
    return str(rows[0][0]) if rows else None


async def sagas(
    store: Store, run_id: int, *, statuses: Iterable[str] | None = None, offset: int = 0, limit: int = 100,
) -> list[SagaInfo]:
    """Sagas of a run in start order, optionally only those in `statuses`, one page at a time."""
    wanted = list(statuses or ())
    where = f" AND status IN ({', '.join('?' * len(wanted))})" if wanted else ""
    rows = await _fetch(
        store, f"SELECT * FROM sagas WHERE run_id = ?{where} ORDER BY started_at, saga_id LIMIT ? OFFSET ?",
        run_id, *wanted, limit, offset,
    )
    return [_saga(row) for row in rows]


async def saga_counts(store: Store, run_id: int) -> dict[str, int]:
    rows = await _fetch(store, "SELECT status, count(*) FROM sagas WHERE run_id = ? GROUP BY status", run_id)
    return {row[0]: row[1] for row in rows}


async def saga_timeline(store: Store, run_id: int, saga_id: str) -> SagaTimeline | None:
    """One saga: its row, its steps in the order they started, and every event naming it."""
    rows = await _fetch(store, "SELECT * FROM sagas WHERE run_id = ? AND saga_id = ?", run_id, saga_id)
    if not rows:
        return None
    steps = await _fetch(store, "SELECT * FROM steps WHERE run_id = ? AND saga_id = ? ORDER BY position",
                         run_id, saga_id)
    return SagaTimeline(saga=_saga(rows[0]), steps=[_step(row) for row in steps],
                        events=await read_events(store, run_id, saga_id=saga_id))


async def read_events(
    store: Store, run_id: int, *, saga_id: str | None = None, kinds: Iterable[EventKind | str] | None = None,
    after_seq: int = 0, limit: int | None = None,
) -> list[Event]:
    """Events in seq order after `after_seq`, at most `limit` (pass the last seq seen to get the next page).
    `kinds` are EventKinds or their values ("saga.failed"); an unknown value raises ValueError."""
    where, args = ["run_id = ?", "seq > ?"], list[int | str]([run_id, after_seq])
    if saga_id is not None:
        where.append("saga_id = ?")
        args.append(saga_id)
    wanted = [EventKind(kind).value for kind in kinds or ()]
    if wanted:
        where.append(f"kind IN ({', '.join('?' * len(wanted))})")
        args.extend(wanted)
    rows = await _fetch(store, f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?",
                        *args, -1 if limit is None else limit)
    return [_event(row) for row in rows]


async def iter_events(
    store: Store, run_id: int, *, saga_id: str | None = None, kinds: Iterable[EventKind | str] | None = None,
    limit: int | None = None, page: int = 5_000,
) -> AsyncIterator[list[Event]]:
    """read_events a page at a time (at most `limit` in all), so a reader of a long run holds one page,
    not the whole run."""
    after_seq, left = 0, limit
    while left is None or left > 0:
        batch = await read_events(store, run_id, saga_id=saga_id, kinds=kinds, after_seq=after_seq,
                                  limit=page if left is None else min(page, left))
        if not batch:
            return
        yield batch
        after_seq = batch[-1].seq
        if left is not None:
            left -= len(batch)


async def resource_rows(store: Store, run_id: int, table: str, *, service: str | None = None) -> list[dict[str, Any]]:
    """The rows of a resource table (stock, payments, ...) in the order they were first written."""
    if table not in store.tables:
        raise ValueError(f"{table!r} is not a resource table; known: {', '.join(sorted(store.tables))}")
    where, args = "run_id = ?", list[int | str]([run_id])
    if service is not None:
        where += " AND service = ?"
        args.append(service)
    rows = await _fetch(store, f"SELECT * FROM {table} WHERE {where} ORDER BY rowid", *args)
    return [{key: value for key, value in dict(row).items() if key != "run_id"} for row in rows]


async def _fetch(store: Store, sql: str, *args: Any) -> list[Any]:
    try:
        return list(await store.reader_db.execute_fetchall(sql, args))
    except sqlite3.Error as error:  # a damaged page shows up only when a query reaches it
        raise explain(error, store.path) from None


def _run(row: Any) -> RunInfo:
    return RunInfo(**{**dict(row), "settings": json.loads(row["settings"])})


def _saga(row: Any) -> SagaInfo:
    return SagaInfo(**{**dict(row), "input": json.loads(row["input"])})


def _step(row: Any) -> StepInfo:
    return StepInfo(**dict(row))


def _event(row: Any) -> Event:
    return Event.validated({**dict(row), "data": json.loads(row["data"])})
