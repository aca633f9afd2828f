"""The simulated services of a run, as the engine's `Services`: each call goes through the fault profile
switched on for its service, then to the operation; the effect is recorded as a `service.effect` event
carrying its row writes, so the store commits both in one transaction.

Every fault change is an event too (`fault.changed`), so replay re-applies it at the same moment.
So is a scenario's scheduled change of a service's options (`service.changed`), with the rows it
changed (a restock, a new capacity) as the writes the store commits with it.
A profile with `revert_after` goes back to the service's configured profile (online when that
profile was itself temporary) after that much clock time, unless changed again in between.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sagatui.engine.clock import VirtualClock
from sagatui.engine.recorder import EventRecorder
from sagatui.engine.seeds import random_stream
from sagatui.model.calls import Call
from sagatui.model.definitions import Definition
from sagatui.model.effects import RowWrite
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.faults import ONLINE, FaultProfile
from sagatui.model.payloads import CodeAnswered, FaultChanged, ServiceChanged, ServiceEffect
from sagatui.sim.account import AccountService
from sagatui.sim.booking import BookingService
from sagatui.sim.catalog import SERVICE_KINDS
from sagatui.sim.classifier import ClassifierService
from sagatui.sim.faults import FaultState
from sagatui.sim.inventory import InventoryService
from sagatui.sim.ledger import LedgerService
from sagatui.sim.maintenance import MAINTENANCE_RESULTS, clears, diagnosis
from sagatui.sim.notification import NotificationService
from sagatui.sim.orders import OrderService
from sagatui.sim.payment import PaymentService
from sagatui.sim.service import Recorded, SimService
from sagatui.sim.shipping import ShippingService
from sagatui.store.database import Store
from sagatui.store.queries import resource_rows

SERVICE_CLASSES: dict[str, type[SimService]] = {
    service.kind: service
    for service in (InventoryService, PaymentService, ShippingService, NotificationService, BookingService,
                    AccountService, LedgerService, OrderService, ClassifierService)
}
assert SERVICE_CLASSES.keys() == SERVICE_KINDS.keys(), "every kind in the catalog needs a simulated service"


Perform = Callable[[Call], Awaitable[dict[str, Any]]]
"""A real call of the user's own service (sagatui.code): its answer, or the ServiceError of its failure."""


@dataclass(frozen=True)
class Arrival:
    """A call that reached a service at clock time `at`, as a stopped run's log records it."""

    at: float
    is_compensation: bool
    operation: str
    step: str


def described(writes: list[RowWrite]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The row writes of an effect as its payload names them: the event log alone says what each effect changed."""
    return [(write.table, write.key, write.values) for write in writes]


class ServiceDirectory:
    def __init__(self, clock: VirtualClock, recorder: EventRecorder, seed: int) -> None:
        self._clock = clock
        self._recorder = recorder
        self._seed = seed
        self.services: dict[str, SimService] = {}
        self.code: dict[str, Perform] = {}  # the user's own services, by name
        self._replayed: set[str] = set()  # those whose answers come from a recording
        self._configured: dict[str, FaultProfile] = {}
        self._faults: dict[str, FaultState] = {}
        self._fault_rngs: dict[str, random.Random] = {}
        self._generation: dict[str, int] = {}

    def add(self, name: str, kind: str, options: Mapping[str, Any] | None = None,
            fault: FaultProfile = ONLINE) -> SimService:
        """Add a service of a catalog kind; `fault` is its configured profile, switched on by `start()`."""
        catalog = SERVICE_KINDS.get(kind)
        if catalog is None:
            raise ValueError(f"unknown service kind {kind!r}; known: {', '.join(sorted(SERVICE_KINDS))}")
        service = SERVICE_CLASSES[kind](name, catalog.options.model_validate(dict(options or {})),
                                        random_stream(self._seed, f"service:{name}"), self._clock)
        self.services[name] = service
        self._add_faults(name, fault)
        return service

    def add_code(self, name: str, perform: Perform, fault: FaultProfile = ONLINE, *, replayed: bool = False) -> None:
        """Add a service that is the user's own code (sagatui.code): `perform(call)` makes the real call. Its
        fault profile wraps that call as it wraps a simulated operation (offline: the function is not called;
        lost_reply: called, its answer recorded, then lost). `replayed`: `perform` answers from a recording
        on the clock, no real call (time jumps as ever)."""
        self.code[name] = perform
        if replayed:
            self._replayed.add(name)
        self._add_faults(name, fault)

    def has_service(self, service: str | None) -> bool:
        """A service of the run: simulated, or the user's own code."""
        return service in self._faults

    def _add_faults(self, name: str, fault: FaultProfile) -> None:
        self._configured[name] = fault
        self._fault_rngs[name] = random_stream(self._seed, f"fault:{name}")
        self._faults[name] = FaultState(ONLINE, self._clock, self._fault_rngs[name])
        self._generation[name] = 0

    def start(self) -> None:
        """Record each service's starting rows (stock, capacity, balances) and switch on configured faults.
        Call once per new run, after its first event; a resumed run calls `restore` instead."""
        for name in self.code:
            if self._configured[name] != ONLINE:
                self.set_fault(name, self._configured[name], source="pack")
        for name, service in self.services.items():
            rows = service.initial_rows()
            if rows:
                writes = [row.write(name) for row in rows]
                self._recorder.emit(EventKind.SERVICE_EFFECT, service=name, operation="setup",
                                    payload=ServiceEffect(writes=described(writes)), effects=writes)
            if self._configured[name] != ONLINE:
                self.set_fault(name, self._configured[name], source="pack")

    def configure_faults(self, source: str) -> None:
        """Switch every service to its configured profile (recorded): a stored run reopened for an
        operator's action, after the outages of its session are over."""
        for name, profile in self._configured.items():
            if self._faults[name].profile != profile:
                self.set_fault(name, profile, source=source)

    async def restore(self, store: Store, run_id: int) -> None:
        """Rebuild every service's in-memory state from its committed rows (resuming a run)."""
        for name, service in self.services.items():
            tables = [Recorded.table, *(row_type.table for row_type in service.row_types)]
            rows: dict[str, list[dict[str, Any]]] = {}
            for table in tables:
                with self._clock.io():
                    rows[table] = await resource_rows(store, run_id, table, service=name)
            service.restore(rows)

    def forget(self, saga_id: str) -> None:
        """Drop every service's records of a saga that will make no more calls."""
        for service in self.services.values():
            service.forget(saga_id)

    # -- Services ---------------------------------------------------------------------------------
    async def invoke(self, call: Call) -> dict[str, Any]:
        service = self.services.get(call.service)
        if service is None and call.service in self.code:
            if call.operation in MAINTENANCE_RESULTS:  # sagatui's own, on the fault profile it set on the service
                return self._maintain(call)
            return await self._invoke_code(call)
        if service is None:
            raise ServiceError(ErrorKind.VALIDATION, f"no service named {call.service!r}", code="unknown_service")
        if call.operation in MAINTENANCE_RESULTS:
            return self._maintain(call)
        fault = self._faults[call.service]
        await fault.before(call)
        result, writes = service.perform(call)
        if writes:
            self._recorder.emit(EventKind.SERVICE_EFFECT, saga_id=call.saga_id, step=call.step, service=call.service,
                                operation=call.operation, attempt=call.attempt,
                                payload=ServiceEffect(key=call.idempotency_key, result=result,
                                                      writes=described(writes)),
                                effects=writes)
        fault.after(call)
        return result

    async def _invoke_code(self, call: Call) -> dict[str, Any]:
        """The user's real call, inside its fault profile; clock time goes at real time while it is out. Its
        answer, or its error, is recorded (`code.answered`: replay feeds it back) before a lost reply."""
        fault = self._faults[call.service]
        await fault.before(call)
        perform = self.code[call.service]
        try:
            if call.service in self._replayed:
                result = await perform(call)
            else:
                result = await self._clock.call_real(lambda: perform(call))
        except asyncio.CancelledError:
            caller = asyncio.current_task()
            if caller is not None and caller.cancelling():
                raise  # the saga gave up on the call (its timeout, a cancel): not the call's own doing
            error = ServiceError(ErrorKind.UNEXPECTED, f"{call.service}.{call.operation} was cancelled from within "
                                                       f"(a task it awaited was cancelled)")
            self._answered(call, error)
            raise error from None
        except ServiceError as error:
            self._answered(call, error)
            raise
        self._answered(call, result)
        fault.after(call)
        return result

    def _answered(self, call: Call, answer: dict[str, Any] | ServiceError) -> None:
        self._recorder.emit(EventKind.CODE_ANSWERED, saga_id=call.saga_id, step=call.step, service=call.service,
                            operation=call.operation, attempt=call.attempt,
                            error_kind=answer.kind if isinstance(answer, ServiceError) else None,
                            payload=CodeAnswered.of(call.idempotency_key, answer))

    def _maintain(self, call: Call) -> dict[str, Any]:
        """A maintenance operation (sagatui.sim.maintenance): a diagnosis, or a remedy that switches the
        service back online (recorded) when it clears what is wrong."""
        profile = self._faults[call.service].profile
        if call.operation == "diagnose":
            return dict(diagnosis(profile))
        cleared = clears(call.operation, profile)
        if cleared:
            self.set_fault(call.service, ONLINE, source="remediation")
        return {"cleared": cleared, "mode": self._faults[call.service].profile.mode}

    # -- scheduled changes of a service's state ------------------------------------------------------
    def change(self, service: str, options: Mapping[str, Any], restock: Mapping[str, int] | None = None, *,
               source: str) -> None:
        """Update `service`'s options with the keys given (the rest kept) and restock its SKUs, now:
        recorded as a `service.changed` event carrying the rows that changed. ValueError for options
        the kind refuses (the pack check reports them first)."""
        sim = self._service(service)
        kind = SERVICE_KINDS[sim.kind]
        if seeding := sorted(set(options) & kind.seeding_options.keys()):
            raise ValueError(f"{service}: a change cannot set {', '.join(seeding)}: {kind.seeding_options[seeding[0]]}")
        if restock and not kind.restockable:
            raise ValueError(f"{service} ({sim.kind}) has no stock to restock")
        updated = self._updated(sim, options)
        writes = [row.write(service) for row in sim.change(updated, dict(restock or {}))]
        given = updated.model_dump(mode="json", include=set(options))
        self._recorder.emit(EventKind.SERVICE_CHANGED, service=service,
                            payload=ServiceChanged(options=given, restock=dict(restock or {}),
                                                   writes=described(writes), source=source),
                            effects=writes)

    def restore_options(self, service: str, options: Mapping[str, Any]) -> None:
        """Put back options a stopped run's `service.changed` set (in order, one event at a time). No
        event, and no rows: the change is in the log, its rows are in the store."""
        sim = self._service(service)
        sim.options = self._updated(sim, options)

    def _service(self, service: str) -> SimService:
        sim = self.services.get(service)
        if sim is None:
            raise ValueError(f"no service named {service!r}")
        return sim

    @staticmethod
    def _updated(sim: SimService, options: Mapping[str, Any]) -> Definition:
        return SERVICE_KINDS[sim.kind].options.model_validate({**sim.options.model_dump(), **options})

    # -- outage switches ----------------------------------------------------------------------------
    def fault(self, service: str) -> FaultProfile:
        return self._faults[service].profile

    def set_fault(self, service: str, profile: FaultProfile, *, source: str = "user") -> None:
        """Switch `profile` on for `service` now (recorded as an event); schedule its revert if it has one."""
        if service not in self._faults:
            raise ValueError(f"no service named {service!r}")
        previous = self._faults[service].profile
        self._switch(service, profile, profile.revert_after)
        self._recorder.emit(EventKind.FAULT_CHANGED, service=service, message=profile.label(),
                            payload=FaultChanged(profile=profile, previous=previous.label(), source=source))

    def restore_fault(self, service: str, profile: FaultProfile, revert_in: float | None, *,
                      since: float | None = None, arrivals: Iterable[Arrival] = ()) -> None:
        """Put back the profile a stopped run left on `service`, and its revert if one was still due.
        No event: the change is in the log already. `since` is when it was switched on (the phase of
        flapping; now when not given) and `arrivals` the calls that reached the service since then, in
        order (what they took from a token bucket)."""
        state = self._switch(service, profile, revert_in, since)
        for arrival in arrivals:
            state.arrived(arrival.at, arrival.is_compensation, arrival.operation, arrival.step)

    def _switch(self, service: str, profile: FaultProfile, revert_in: float | None,
                since: float | None = None) -> FaultState:
        state = self._faults[service] = FaultState(profile, self._clock, self._fault_rngs[service], since)
        self._generation[service] += 1
        if revert_in is not None:
            generation = self._generation[service]
            self._clock.call_later(revert_in, lambda: self._revert(service, generation))
        return state

    def _revert(self, service: str, generation: int) -> None:
        if self._generation[service] != generation:
            return  # changed again since: that change decides
        configured = self._configured[service]
        self.set_fault(service, ONLINE if configured.revert_after is not None else configured, source="revert")
