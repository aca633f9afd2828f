"""Engine throughput, by hand: `python bench/engine.py [--sagas N]`.

Prints sagas/s for the 4-step happy path and the fail-at-step-3 path, 1 and 100 concurrent, for
the engine on the virtual clock (events kept in memory) and for a naive baseline measured in the
same run: the same steps as plain asyncio calls with a hand-written rollback, no events, no retries,
no breakers. The ratio says what the engine's bookkeeping costs.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sagatui.engine.breaker import BreakerBoard, record_transitions
from sagatui.engine.clock import VirtualClock
from sagatui.engine.orchestrator import SagaEngine
from sagatui.engine.recorder import EventRecorder, MemorySink
from sagatui.model.calls import Call
from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind, ServiceError

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


async def engine_rate(total: int, concurrency: int, fail: bool) -> float:
    clock = VirtualClock()
    clock.start()
    recorder = EventRecorder(1, clock, MemorySink())
    engine = SagaEngine(sagas={"order": ORDER}, services=InstantServices(),
                        breakers=BreakerBoard(clock, record_transitions(recorder)), clock=clock,
                        recorder=recorder, seed=1)
    try:
        return await run_batches(total, concurrency, lambda n: engine.run("order", f"S{n}", {"fail": fail}))
    finally:
        await clock.stop()


async def naive_rate(total: int, concurrency: int, fail: bool) -> float:
    services = InstantServices()
    return await run_batches(total, concurrency, lambda n: naive_saga(services, f"S{n}", {"fail": fail}))


async def main(total: int) -> None:
    print(f"{'path':<22}{'concurrent':>11}{'engine/s':>12}{'naive/s':>12}{'ratio':>8}")
    for fail in (False, True):
        for concurrency in (1, 100):
            engine = await engine_rate(total, concurrency, fail)
            naive = await naive_rate(total, concurrency, fail)
            path = "fail at step 3" if fail else "4-step happy path"
            print(f"{path:<22}{concurrency:>11}{engine:>12,.0f}{naive:>12,.0f}{engine / naive:>8.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sagas", type=int, default=2000)
    asyncio.run(main(parser.parse_args().sagas))
