"""Engine throughput, by hand: `python bench/engine.py [--sagas N]`.

1. In memory: sagas/s for the 4-step happy path and the fail-at-step-3 path, 1 and 100 concurrent,
   for the engine on the virtual clock (events kept in a list) next to a naive baseline measured in
   the same run: the same steps as plain asyncio calls with a hand-written rollback, no events, no
   retries, no breakers. The ratio says what the engine's bookkeeping costs.
2. Durable: the same happy path with every event committed to SQLite by the group-commit writer
   (and each call's intent durable before the call), next to a naive durable baseline: plain
   aiosqlite, one commit per transition (saga running, each step running and done, saga done).
   Beside each: commits per saga and real milliseconds per commit. The last line reads `ratio <x>`:
   durable engine at 100 concurrent / that baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sagatui.engine.breaker import BreakerBoard, record_transitions
from sagatui.engine.clock import VirtualClock
from sagatui.engine.orchestrator import SagaEngine
from sagatui.engine.recorder import EventRecorder
from sagatui.model.calls import Call
from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.store.database import Store
from sagatui.store.writer import EventWriter
from sagatui.testing import MemorySink

ORDER = SagaDef.model_validate({"name": "order", "steps": [
    {"name": "reserve_inventory", "action": "inventory.reserve", "compensation": "inventory.release"},
    {"name": "charge_payment", "action": "payment.charge", "compensation": "payment.refund"},
    {"name": "create_shipment", "action": "shipping.create_shipment", "compensation": "shipping.cancel_shipment"},
    {"name": "send_confirmation", "action": "email.send"},
]})


class InstantServices:
    """Answers every call at once; the shipment fails permanently when the input asks for it."""

    async def invoke(self, call: Call) -> dict[str, Any]:
        if call.operation == "create_shipment" and call.params.get("fail"):
            raise ServiceError(ErrorKind.PERMANENT, "restricted delivery area")
        return {"ok": True}


async def naive_saga(services: InstantServices, saga_id: str, saga_input: dict[str, Any]) -> str:
    done: list[tuple[str, str]] = []
    for step in ORDER.all_steps():
        service, operation = step.action.split(".")
        try:
            await services.invoke(Call(saga_id, step.name, service, operation, saga_id, saga_input))
        except ServiceError:
            for undo_service, undo_operation in reversed(done):
                await services.invoke(Call(saga_id, step.name, undo_service, undo_operation, saga_id, saga_input))
            return "compensated"
        if step.compensation:
            done.append(tuple(step.compensation.split(".")))  # type: ignore[arg-type]
    return "completed"


async def run_batches(total: int, concurrency: int, one: Callable[[int], Awaitable[object]]) -> float:
    started = time.perf_counter()
    for first in range(0, total, concurrency):
        await asyncio.gather(*(one(n) for n in range(first, min(total, first + concurrency))))
    return total / (time.perf_counter() - started)


@dataclass
class Commits:
    """What the durable engine's commits cost: how many per saga, real milliseconds each."""

    per_saga: float = 0.0
    ms_each: float = 0.0


async def engine_rate(total: int, concurrency: int, fail: bool, db: Path | None = None,
                      commits: Commits | None = None) -> float:
    """The engine's rate; with `db`, every event goes through the store's group-commit writer (and
    `commits`, when given, is filled in)."""
    clock = VirtualClock()
    clock.start()
    store = await Store.open(db) if db is not None else None
    sink: MemorySink | EventWriter = MemorySink()
    if store is not None:
        run_id = await store.create_run(pack_name="bench", pack_text="", seed=1, clock_mode="virtual")
        sink = await EventWriter.start(store, run_id, clock)
    recorder = EventRecorder(1, clock, sink)
    engine = SagaEngine(sagas={"order": ORDER}, services=InstantServices(),
                        breakers=BreakerBoard(clock, record_transitions(recorder)), clock=clock,
                        recorder=recorder, seed=1)
    try:
        rate = await run_batches(total, concurrency, lambda n: engine.run("order", f"S{n}", {"fail": fail}))
        if isinstance(sink, EventWriter):
            await sink.close()
            if commits is not None:
                commits.per_saga = sink.transactions / total
                commits.ms_each = 1000 * sink.commit_seconds / max(1, sink.transactions)
        return rate
    finally:
        if store is not None:
            await store.close()
        await clock.stop()


async def naive_durable_rate(total: int, concurrency: int, db: Path) -> float:
    """Plain aiosqlite, autocommit: one INSERT, so one commit, per transition."""
    import aiosqlite

    async with aiosqlite.connect(db, isolation_level=None) as conn:
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("CREATE TABLE transitions (saga TEXT, step TEXT, status TEXT)")
        services = InstantServices()

        async def saga(n: int) -> None:
            saga_id = f"S{n}"
            await conn.execute("INSERT INTO transitions VALUES (?, NULL, 'running')", (saga_id,))
            for step in ORDER.all_steps():
                service, operation = step.action.split(".")
                await conn.execute("INSERT INTO transitions VALUES (?, ?, 'running')", (saga_id, step.name))
                await services.invoke(Call(saga_id, step.name, service, operation, saga_id, {}))
                await conn.execute("INSERT INTO transitions VALUES (?, ?, 'succeeded')", (saga_id, step.name))
            await conn.execute("INSERT INTO transitions VALUES (?, NULL, 'completed')", (saga_id,))

        return await run_batches(total, concurrency, saga)


async def naive_rate(total: int, concurrency: int, fail: bool) -> float:
    services = InstantServices()
    return await run_batches(total, concurrency, lambda n: naive_saga(services, f"S{n}", {"fail": fail}))


async def main(total: int) -> None:
    print(f"{'in memory':<22}{'concurrent':>11}{'engine/s':>12}{'naive/s':>12}{'ratio':>8}")
    for fail in (False, True):
        for concurrency in (1, 100):
            engine = await engine_rate(total, concurrency, fail)
            naive = await naive_rate(total, concurrency, fail)
            path = "fail at step 3" if fail else "4-step happy path"
            print(f"{path:<22}{concurrency:>11}{engine:>12,.0f}{naive:>12,.0f}{engine / naive:>8.3f}")
    print()
    print(f"{'durable (SQLite)':<22}{'concurrent':>11}{'engine/s':>12}{'naive/s':>12}{'ratio':>8}"
          f"{'commits/saga':>14}{'ms/commit':>11}")
    ratio = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for concurrency in (1, 100):
            commits = Commits()
            engine = await engine_rate(total, concurrency, False, Path(scratch) / f"engine-{concurrency}.db", commits)
            naive = await naive_durable_rate(total, concurrency, Path(scratch) / f"naive-{concurrency}.db")
            ratio = engine / naive
            print(f"{'4-step happy path':<22}{concurrency:>11}{engine:>12,.0f}{naive:>12,.0f}{ratio:>8.3f}"
                  f"{commits.per_saga:>14.3f}{commits.ms_each:>11.2f}")
    print(f"ratio {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sagas", type=int, default=2000)
    asyncio.run(main(parser.parse_args().sagas))
