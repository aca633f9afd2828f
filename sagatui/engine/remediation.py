"""Remediation between retries: detect -> diagnose -> remediate -> retry.

When an attempt fails with a kind the step's `remediate.errors` names and the step will try again, the
engine first calls the step's diagnosis operation; the routes' conditions read its result (as
`diagnosis`, beside the saga's data) and the first route whose condition holds names the remedies to
call, in order. Without a diagnosis, the step's `run` remedies are called every time. Each call is a
`remediation.started` (durable before it goes out, as every intent is) and a `remediation.ended` with
its result or error, between the failed attempt and the next one, inside the backoff's wait: a
remediation that takes less than the delay does not move the next attempt.

A remediation call goes to the service's management side (sagatui.sim.maintenance): no breaker or
bulkhead stands before it (it is what heals them), and nothing undoes it. One that fails is told; the
rest of its route is not called, and the retry goes on as it would have."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sagatui.engine.clock import VirtualClock
from sagatui.engine.ports import Services
from sagatui.engine.recorder import EventRecorder
from sagatui.model.calls import Call
from sagatui.model.conditions import SagaFacts
from sagatui.model.definitions import Remediation, split_action
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.payloads import RemediationEnded, RemediationStarted

Role = Literal["diagnose", "remedy"]

REMEDY_TIMEOUT = 10.0
"""Clock seconds a diagnosis or a remedy may take before it counts as failed (a timeout)."""


@dataclass(frozen=True)
class Remedy:
    """A step's remediation, with what its routes' conditions read: the saga's facts as the step sees them."""

    definition: Remediation
    facts: Callable[[], SagaFacts]

    def wanted(self, error: BaseException) -> bool:
        """The failed attempt calls for the remediation."""
        return isinstance(error, ServiceError) and error.kind in self.definition.errors


class Remediator:
    def __init__(self, services: Services, clock: VirtualClock, recorder: EventRecorder) -> None:
        self.services = services
        self.clock = clock
        self.recorder = recorder

    async def heal(self, failed: Call, remedy: Remedy) -> None:
        """Diagnose and remedy after the attempt `failed` (the call as that attempt sent it)."""
        remediation = remedy.definition
        remedies = remediation.run
        if remediation.diagnose is not None:
            found = await self._call(failed, remediation.diagnose, "diagnose", remedy)
            if found is None:
                return
            remedies = found
        for action in remedies:
            if await self._call(failed, action, "remedy", remedy) is None:
                return

    async def _call(self, failed: Call, action: str, role: Role, remedy: Remedy) -> tuple[str, ...] | None:
        """Call one diagnosis or remedy, told; None when it failed. A diagnosis gives the remedies of the
        route its result chose (none: no route's condition held); a remedy, no remedies."""
        service, operation = split_action(action)
        where: dict[str, Any] = {"saga_id": failed.saga_id, "step": failed.step, "service": service,
                                 "operation": operation, "attempt": failed.attempt}
        emit = self.recorder.emit
        await self.recorder.durable(emit(EventKind.REMEDIATION_STARTED, **where,
                                         payload=RemediationStarted(role=role)))
        call = Call(failed.saga_id, failed.step, service, operation,
                    f"{failed.idempotency_key}:{role}:{failed.attempt}:{operation}", {}, attempt=failed.attempt)
        started = self.clock.now()
        try:
            async with self.clock.timeout(REMEDY_TIMEOUT):
                result = await self.services.invoke(call)
        except Exception as raised:
            error = raised if isinstance(raised, ServiceError) else ServiceError(
                ErrorKind.TIMEOUT if isinstance(raised, TimeoutError) else ErrorKind.UNEXPECTED,
                f"no answer within {REMEDY_TIMEOUT:g}s" if isinstance(raised, TimeoutError) else repr(raised))
            emit(EventKind.REMEDIATION_ENDED, **where, error_kind=error.kind, message=error.message,
                 payload=RemediationEnded(role=role, duration=self.clock.now() - started))
            return None
        route, remedies = (None, ()) if role == "remedy" else _route(remedy, result)
        emit(EventKind.REMEDIATION_ENDED, **where, payload=RemediationEnded(
            role=role, duration=self.clock.now() - started, result=result, route=route,
            remedies=list(remedies) if role == "diagnose" else None))
        return remedies


def _route(remedy: Remedy, diagnosis: dict[str, Any]) -> tuple[int | None, tuple[str, ...]]:
    """The first route whose condition holds on the diagnosis (and the saga's data), and its remedies."""
    facts = remedy.facts()
    facts = SagaFacts({**facts.data, "diagnosis": diagnosis}, facts.statuses)
    for index, route in enumerate(remedy.definition.routes):
        if route.when is None or route.when.holds(facts):
            return index, route.run
    return None, ()
