"""A scripted service directory and a ready-wired engine, for engine tests that need no store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sagatui.engine.breaker import BreakerBoard, record_transitions
from sagatui.engine.clock import VirtualClock
from sagatui.engine.orchestrator import SagaEngine
from sagatui.engine.recorder import EventRecorder
from sagatui.model.calls import Call
from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import Event, EventKind
from sagatui.model.policies import BreakerConfig, BulkheadConfig
from sagatui.testing import MemorySink


@dataclass
class Hang:
    """A scripted outcome: take this many clock seconds before answering."""

    seconds: float
    then: Any = None


@dataclass
class ScriptedServices:
    """Each action answers from its script (front first); with the script empty it succeeds."""

    clock: VirtualClock
    scripts: dict[str, list[Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def script(self, action: str, *outcomes: Any) -> None:
        self.scripts.setdefault(action, []).extend(outcomes)

    async def invoke(self, call: Call) -> dict[str, Any]:
        self.calls.append(call)
        queue = self.scripts.get(f"{call.service}.{call.operation}", [])
        outcome = queue.pop(0) if queue else None
        if isinstance(outcome, Hang):
            await self.clock.sleep(outcome.seconds)
            outcome = outcome.then
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, dict):
            return outcome
        return {"done_by": call.service, "key": call.idempotency_key}

    def actions(self) -> list[str]:
        return [f"{c.service}.{c.operation}" for c in self.calls]


@dataclass
class Rig:
    engine: SagaEngine
    services: ScriptedServices
    sink: MemorySink
    clock: VirtualClock

    def events(self, *kinds: EventKind) -> list[Event]:
        return [e for e in self.sink.events if not kinds or e.kind in kinds]

    def compensated_steps(self) -> list[str]:
        return [e.step for e in self.events(EventKind.COMPENSATION_STARTED) if e.step]


@asynccontextmanager
async def rig(
    *sagas: SagaDef, seed: int = 7, breakers: dict[str, BreakerConfig] | None = None,
    bulkheads: dict[str, BulkheadConfig] | None = None,
) -> AsyncIterator[Rig]:
    clock = VirtualClock()
    clock.start()
    sink = MemorySink()
    recorder = EventRecorder(run_id=1, clock=clock, sink=sink)
    board = BreakerBoard(clock, record_transitions(recorder), breakers)
    services = ScriptedServices(clock)
    engine = SagaEngine(sagas={s.name: s for s in sagas}, services=services, breakers=board,
                        clock=clock, recorder=recorder, seed=seed, bulkheads=bulkheads)
    try:
        yield Rig(engine, services, sink, clock)
    finally:
        await clock.stop()


def transient(message: str = "503 service unavailable", **kw: Any) -> ServiceError:
    return ServiceError(ErrorKind.TRANSIENT, message, **kw)


def permanent(message: str = "card declined") -> ServiceError:
    return ServiceError(ErrorKind.PERMANENT, message)


def validation(message: str = "insufficient inventory") -> ServiceError:
    return ServiceError(ErrorKind.VALIDATION, message)


ORDER = SagaDef.model_validate({
    "name": "order",
    "steps": [
        {"name": "reserve_inventory", "action": "inventory.reserve", "compensation": "inventory.release"},
        {"name": "charge_payment", "action": "payment.charge", "compensation": "payment.refund"},
        {"name": "create_shipment", "action": "shipping.create_shipment",
         "compensation": "shipping.cancel_shipment"},
        {"name": "send_confirmation", "action": "email.send"},
    ],
})
