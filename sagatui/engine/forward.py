"""A step's forward course: its condition, then its provider chain (primary and fallbacks), each through
the attempt loop (retries, breaker, deadline), and how it ended (succeeded, failed, may have an effect).
The rules are the orchestrator's (sagatui.engine.orchestrator's docstring)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sagatui.engine.approvals import Approvals, Decision
from sagatui.engine.attempts import FORWARD, AttemptLoop, CallPlan
from sagatui.engine.breaker import BreakerBoard, CircuitBreaker
from sagatui.engine.clock import VirtualClock
from sagatui.engine.recorder import EventRecorder
from sagatui.engine.remediation import Remedy
from sagatui.engine.saga_data import forward_params, saga_facts
from sagatui.engine.saga_state import SIBLING_FAILED, InterruptedCall, SagaRun, StepRecord
from sagatui.model.calls import Call, step_key
from sagatui.model.conditions import dumped
from sagatui.model.definitions import Approval, Fallback, StepDef, split_action
from sagatui.model.errors import TURNED_AWAY, ErrorKind, ServiceError
from sagatui.model.events import Event, EventKind
from sagatui.model.status import StepStatus

_FINAL_AT_ONCE = frozenset({ErrorKind.VALIDATION, ErrorKind.PERMANENT, ErrorKind.UNEXPECTED})


class StepRunner:
    """Runs one step of a saga forward, recording each happening as events."""

    def __init__(self, attempts: AttemptLoop, clock: VirtualClock, recorder: EventRecorder, breakers: BreakerBoard,
                 breaker_for: Callable[[str], CircuitBreaker], approvals: Approvals) -> None:
        self.attempts = attempts
        self.approvals = approvals
        self.clock = clock
        self.recorder = recorder
        self.breakers = breakers
        self.breaker_for = breaker_for

    def _emit(self, kind: EventKind, saga: SagaRun, **fields: Any) -> Event:
        return self.recorder.emit(kind, saga_id=saga.saga_id, **fields)

    async def run(self, saga: SagaRun, step: StepDef, resumed: InterruptedCall | None = None,
                  quorum: str | None = None) -> bool:
        """Run a step through its provider chain (from where it stopped, when `resumed`); False when the
        saga must roll back (never for a member of a quorum group: its group decides)."""
        record = saga.steps[step.name]
        if resumed is None and step.when is not None and not step.when.holds(saga_facts(saga, step)):
            record.status = StepStatus.SKIPPED
            self._emit(EventKind.STEP_SKIPPED, saga, step=step.name,
                       data={"reason": "condition", "condition": dumped(step.when)})
            return True
        if step.approval is not None:
            return await self._await_decision(saga, record, step.approval, resumed, quorum)
        assert step.action is not None
        sent = _sent(saga, step)  # once for every provider: what they are sent does not change
        if resumed is None:
            record.status = StepStatus.RUNNING
            service, operation = split_action(step.action)
            read = {name: sent[name] for name, _ in step.references} \
                if step.references and not isinstance(sent, ServiceError) else None
            self._emit(EventKind.STEP_STARTED, saga, step=step.name, service=service, operation=operation,
                       data={"params": read} if read is not None else None)
            resumed = InterruptedCall(step_started_at=self.clock.now())
        deadline_at = resumed.step_started_at + step.retry.deadline if step.retry.deadline is not None else None
        providers = step.providers
        error: ServiceError | None = None
        first = resumed.provider
        provider = providers[first]
        try:
            for index in range(first, len(providers)):
                provider = providers[index]
                if index > first:
                    self._emit(EventKind.FALLBACK_USED, saga, step=step.name,
                               service=split_action(provider.action)[0],
                               data={"from": providers[index - 1].action, "to": provider.action,
                                     "reason": error.message if error else ""})
                try:
                    result = await self._call_provider(saga, record, provider, index, deadline_at, sent,
                                                       has_fallback=index < len(providers) - 1,
                                                       start=resumed if index == first else InterruptedCall())
                except ServiceError as failure:
                    error = failure
                    if not _falls_over(step, failure, record):
                        break  # a business error, or this provider may have done the work: no fallback
                    if step.safe_to_repeat:
                        record.provider = None  # a timed-out read did nothing to undo
                    continue
                record.provider, record.result = provider, result
                if result.get("partial") and not step.accept_partial:
                    error = ServiceError(ErrorKind.PERMANENT, "partial result not accepted",
                                         code="partial")
                    break
                record.status = StepStatus.SUCCEEDED
                saga.effects.append(step.name)
                self._emit(EventKind.STEP_SUCCEEDED, saga, step=step.name,
                           service=split_action(provider.action)[0], operation=split_action(provider.action)[1],
                           attempt=record.attempts, data={"result": result})
                return True
        except asyncio.CancelledError:
            # The saga's stop or a sibling's failure ends this step; a shutdown leaves it as it is, for `resume`.
            if saga.stop is not None:
                if record.status is StepStatus.RUNNING and record.attempts:
                    record.provider = provider  # the call in flight may have done the work
                self.fail(saga, record, saga.stop_error(), None)
            elif step.name in saga.abandoned:
                if record.attempts:
                    record.provider = provider  # the call in flight may have done the work
                self.fail(saga, record, ServiceError(ErrorKind.TRANSIENT, SIBLING_FAILED), quorum)
            raise
        assert error is not None
        return self.fail(saga, record, error, quorum)

    async def _await_decision(self, saga: SagaRun, record: StepRecord, approval: Approval,
                              resumed: InterruptedCall | None, quorum: str | None) -> bool:
        """An approval step: wait for the decision (sagatui.engine.approvals). Approved, it succeeds with
        the decision as its result (no effect to undo); rejected, it fails for good."""
        step = record.definition
        if resumed is None:
            record.status = StepStatus.RUNNING
            self._emit(EventKind.STEP_STARTED, saga, step=step.name)
        if resumed is not None and "approved" in record.result:  # decided (recorded) before the process stopped
            decision = Decision(record.result["approved"], record.result["note"], record.result["by"])
        else:
            asked_at = self.clock.now() if resumed is None else resumed.step_started_at
            record.status = StepStatus.WAITING_APPROVAL
            decision = await self.approvals.wait(saga, step.name, approval, asked_at, resumed is not None)
        result: dict[str, Any] = {"approved": decision.approved, "note": decision.note, "by": decision.by}
        record.result = result
        if decision.approved:
            record.status = StepStatus.SUCCEEDED
            self._emit(EventKind.STEP_SUCCEEDED, saga, step=step.name, data={"result": result})
            return True
        because = f": {decision.note}" if decision.note else ""
        return self.fail(saga, record, ServiceError(ErrorKind.PERMANENT, f"rejected{because}", code="rejected"),
                         quorum)

    def fail(self, saga: SagaRun, record: StepRecord, error: ServiceError, quorum: str | None) -> bool:
        """Record a step's failure for good; False when the saga must roll back (an optional step, or a
        member of a quorum group, leaves that to the saga's course)."""
        step = record.definition
        record.status, record.error = StepStatus.FAILED, _detached(error)
        may_have_effect = record.provider is not None
        if may_have_effect:
            saga.effects.append(step.name)
        self._emit(EventKind.STEP_FAILED, saga, step=step.name, attempt=record.attempts,
                   service=split_action(record.provider.action)[0] if record.provider else None,
                   error_kind=error.kind, message=error.message,
                   data={"optional": step.optional, "may_have_effect": may_have_effect,
                         **({"quorum": quorum} if quorum is not None else {})})
        if step.optional or quorum is not None:
            return True
        if saga.failed_step is None:
            saga.failed_step, saga.failed_at = step.name, self.clock.now()
        return False

    async def _call_provider(
        self, saga: SagaRun, record: StepRecord, provider: Fallback, index: int,
        deadline_at: float | None, sent: dict[str, Any] | ServiceError, has_fallback: bool, start: InterruptedCall,
    ) -> dict[str, Any]:
        if isinstance(sent, ServiceError):
            raise sent  # a reference that finds nothing: validation, nothing called
        step = record.definition
        service, operation = split_action(provider.action)
        breaker = self.breakers.get(step.breaker) if index == 0 and step.breaker else self.breaker_for(service)
        retry_on = step.retry.retryable
        if has_fallback:  # with a fallback waiting, an open breaker or a full bulkhead means: move on now
            retry_on = retry_on - TURNED_AWAY
        call = Call(saga.saga_id, step.name, service, operation, step_key(saga.saga_id, step.name), sent)
        remedy = None if step.remediate is None else Remedy(step.remediate, lambda: saga_facts(saga, step))
        plan = CallPlan(FORWARD, call, breaker, step.retry, retry_on, deadline_at,
                        f"{saga.saga_id}:{step.name}:{index}", start, cost=provider.cost, remedy=remedy)
        return await self.attempts.call(plan, _StepAttempts(record, provider))


def _sent(saga: SagaRun, step: StepDef) -> dict[str, Any] | ServiceError:
    """What the step's calls are sent, or the validation error of a reference that finds nothing."""
    try:
        return forward_params(saga, step)
    except ServiceError as missing:
        return missing


def _falls_over(step: StepDef, failure: ServiceError, record: StepRecord) -> bool:
    """Whether a provider's failure for good sends the step to its next provider: never when the provider
    may have done the work (it timed out), unless the step is safe to repeat elsewhere; then, the kinds
    `fallback_on` names, or by default any error but a business one or a bug."""
    if record.provider is not None and not step.safe_to_repeat:
        return False
    if step.fallback_on is not None:
        return failure.kind in step.fallback_on
    return failure.kind not in _FINAL_AT_ONCE


@dataclass
class _StepAttempts:
    """A step's record kept up to date as its provider's attempts go: counted, running or waiting for a
    retry, and a provider that timed out taken to have (maybe) done the work."""

    record: StepRecord
    provider: Fallback

    def attempting(self, attempt: int) -> None:
        self.record.attempts += 1
        self.record.status = StepStatus.RUNNING

    def waiting(self) -> None:
        self.record.status = StepStatus.WAITING_RETRY

    def answered(self, error: ServiceError | None) -> None:
        if error is not None and error.kind is ErrorKind.TIMEOUT:
            self.record.provider = self.provider  # no answer: it may have done the work


def _detached(error: ServiceError) -> ServiceError:
    """The same error, never raised: a step keeps its error as long as its saga is kept, and a raised
    one's traceback (and cause) would keep every frame of its retries alive with it."""
    return ServiceError(error.kind, error.message, code=error.code, retry_after=error.retry_after)
