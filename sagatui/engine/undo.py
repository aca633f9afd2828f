"""Compensations: one step's undo, tried through the provider that did the work under its compensation
policy (attempts, backoff, TTL), and how it ended (completed, partial, failed, expired)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sagatui.engine.attempts import UNDO, AttemptLoop, CallPlan
from sagatui.engine.breaker import CircuitBreaker
from sagatui.engine.clock import VirtualClock
from sagatui.engine.recorder import EventRecorder
from sagatui.engine.saga_data import compensation_params
from sagatui.engine.saga_state import InterruptedCall, SagaRun, StepRecord
from sagatui.model.calls import Call, CompensationContext
from sagatui.model.definitions import split_action
from sagatui.model.errors import DEFAULT_RETRYABLE, TURNED_AWAY, ServiceError
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import CompensationEnded
from sagatui.model.status import CompensationOutcome, StepStatus


class Undoer:
    """Runs compensations for the saga engine, recording each as events."""

    def __init__(self, attempts: AttemptLoop, clock: VirtualClock, recorder: EventRecorder,
                 breaker_for: Callable[[str], CircuitBreaker]) -> None:
        self.attempts = attempts
        self.clock = clock
        self.recorder = recorder
        self.breaker_for = breaker_for

    def _emit(self, kind: EventKind, saga: SagaRun, **fields: Any) -> Event:
        return self.recorder.emit(kind, saga_id=saga.saga_id, **fields)

    async def undo(
        self, saga: SagaRun, record: StepRecord, restart_ttl: bool, resumed: InterruptedCall | None,
    ) -> CompensationOutcome | None:
        """Undo one step through the provider that did the work, or (`resumed`) the rest of an undo its process
        left under way; None when the step has no compensation. The TTL counts from the saga's failure, or
        from now with `restart_ttl` (an operator's retry)."""
        step = record.definition
        compensation = record.provider.compensation if record.provider else None
        if compensation is None:
            self._emit(EventKind.COMPENSATION_SKIPPED, saga, step=step.name,
                       data={"reason": "the step has no compensation"})
            return None
        service, operation = split_action(compensation)
        error = saga.error
        context = CompensationContext(saga.saga_id, saga.failed_step or step.name,
                                      error.kind if error else None, error.message if error else "",
                                      forward_result=record.result)
        record.status = StepStatus.COMPENSATING
        if resumed is None:
            self._emit(EventKind.COMPENSATION_STARTED, saga, step=step.name, service=service, operation=operation,
                       data={"context": context.as_dict()})
        policy = step.compensation_retry
        counted_from = self.clock.now() if restart_ttl or saga.failed_at is None else saga.failed_at
        expires_at = counted_from + policy.ttl
        attempts, ended = await self._attempts(saga, record, service, operation, context, expires_at,
                                                            resumed or InterruptedCall())
        record.status, record.compensation = ended.outcome.step_status, ended.outcome
        self._emit(EventKind.COMPENSATION_ENDED, saga, step=step.name, service=service, operation=operation,
                   attempt=attempts, payload=ended)
        return ended.outcome

    async def _attempts(
        self, saga: SagaRun, record: StepRecord, service: str, operation: str,
        context: CompensationContext, expires_at: float, start: InterruptedCall,
    ) -> tuple[int, CompensationEnded]:
        """The number of the undo's last attempt, and how it ended."""
        step = record.definition
        policy = step.compensation_retry
        if self.clock.now() >= expires_at:
            return start.attempt - 1, CompensationEnded(outcome=CompensationOutcome.EXPIRED,
                                                        reason="TTL passed before it could run")
        key = f"{saga.saga_id}:{step.name}:undo"
        tally = _UndoTally(attempts=start.attempt - 1)
        try:
            call = Call(saga.saga_id, step.name, service, operation, key, compensation_params(saga, step),
                        compensation=context)
            plan = CallPlan(UNDO, call, self.breaker_for(service), policy, DEFAULT_RETRYABLE, expires_at, key,
                            start)
            result = await self.attempts.call(plan, tally)
        except ServiceError as error:
            return _compensation_failure(error, policy.max_attempts, tally)
        if result.get("outcome") == CompensationOutcome.PARTIAL.value:
            return tally.attempts, CompensationEnded(outcome=CompensationOutcome.PARTIAL, calls=tally.calls,
                                                     rejected=tally.rejected, undone=result.get("undone", []),
                                                     not_undone=result.get("not_undone", []))
        return tally.attempts, CompensationEnded(outcome=CompensationOutcome.COMPLETED, calls=tally.calls,
                                                 rejected=tally.rejected, result=result)


@dataclass
class _UndoTally:
    """An undo's tries in this process, told apart: calls that reached the service, tries an open breaker
    refused, and the last error a call itself returned (not hidden behind the breaker's); `attempts` is
    the number of the last attempt made (in this process or before)."""

    attempts: int
    calls: int = 0
    rejected: int = 0
    last_call_error: ServiceError | None = None

    def attempting(self, attempt: int) -> None:
        self.attempts = attempt

    def waiting(self) -> None:
        return None

    def answered(self, error: ServiceError | None) -> None:
        if error is None:
            self.calls += 1
        elif error.kind in TURNED_AWAY:
            self.rejected += 1
        else:
            self.calls += 1
            self.last_call_error = error

    @property
    def tried(self) -> bool:
        return bool(self.calls or self.rejected)


def _compensation_failure(error: ServiceError, max_attempts: int,
                          tally: _UndoTally) -> tuple[int, CompensationEnded]:
    """A transient error with attempts left means the TTL ran out (expired); anything else failed. The
    reason is the last error a call returned; a breaker that refused the tries after it is told apart.
    A resumed undo with no attempt left, nothing tried in this process, tells no counts."""
    retryable = error.kind in DEFAULT_RETRYABLE
    outcome = (CompensationOutcome.EXPIRED if retryable and tally.attempts < max_attempts
               else CompensationOutcome.FAILED)
    real = tally.last_call_error if tally.last_call_error is not None else error
    if not tally.tried:
        return tally.attempts, CompensationEnded(outcome=outcome, reason=real.message, error_kind=real.kind)
    return tally.attempts, CompensationEnded(outcome=outcome, reason=real.message, error_kind=real.kind,
                                             calls=tally.calls, rejected=tally.rejected,
                                             then=None if error is real else error.message)  # "circuit ... open"
