"""The event stream: every happening in a run, in order. Stores, dashboard, reporter and replay read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cache
from operator import attrgetter
from typing import Any, TypeVar

from pydantic import TypeAdapter

from sagatui.model import payloads
from sagatui.model.errors import ErrorKind
from sagatui.model.payloads import EventPayload
from sagatui.model.status import SagaStatus

PayloadT = TypeVar("PayloadT", bound=EventPayload)


class EventKind(StrEnum):
    RUN_STARTED = "run.started"
    RUN_SETTLED = "run.settled"
    RUN_INTERRUPTED = "run.interrupted"
    RUN_RESUMED = "run.resumed"

    SAGA_STARTED = "saga.started"
    SAGA_COMPLETED = "saga.completed"
    SAGA_COMPLETED_PARTIAL = "saga.completed_partial"
    SAGA_FAILED = "saga.failed"
    SAGA_COMPENSATING = "saga.compensating"
    SAGA_COMPENSATED = "saga.compensated"
    SAGA_NEEDS_ATTENTION = "saga.needs_attention"
    SAGA_RESOLVED = "saga.resolved"
    SAGA_CANCEL_REQUESTED = "saga.cancel_requested"
    SAGA_DEADLINE_PASSED = "saga.deadline_passed"
    SAGA_CANCELLED = "saga.cancelled"

    STEP_STARTED = "step.started"
    STEP_SKIPPED = "step.skipped"
    STEP_SUCCEEDED = "step.succeeded"
    STEP_FAILED = "step.failed"
    GROUP_QUORUM = "group.quorum"
    BRANCH_CHOSEN = "branch.chosen"
    FOR_EACH_EXPANDED = "for_each.expanded"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_DECIDED = "approval.decided"

    ATTEMPT_STARTED = "attempt.started"
    ATTEMPT_SUCCEEDED = "attempt.succeeded"
    ATTEMPT_FAILED = "attempt.failed"
    RETRY_SCHEDULED = "retry.scheduled"
    FALLBACK_USED = "fallback.used"

    BREAKER_TRANSITION = "breaker.transition"
    BREAKER_REJECTED = "breaker.rejected"
    BULKHEAD_QUEUED = "bulkhead.queued"
    BULKHEAD_REJECTED = "bulkhead.rejected"
    REMEDIATION_STARTED = "remediation.started"
    REMEDIATION_ENDED = "remediation.ended"

    COMPENSATION_STARTED = "compensation.started"
    COMPENSATION_ATTEMPT_STARTED = "compensation.attempt_started"
    COMPENSATION_ATTEMPT = "compensation.attempt"
    COMPENSATION_RETRY_SCHEDULED = "compensation.retry_scheduled"
    COMPENSATION_ENDED = "compensation.ended"
    COMPENSATION_SKIPPED = "compensation.skipped"

    SERVICE_EFFECT = "service.effect"
    CODE_ANSWERED = "code.answered"  # a real call of the user's own code, and its answer
    FAULT_CHANGED = "fault.changed"
    SERVICE_CHANGED = "service.changed"
    COMMAND = "command"

    @property
    def family(self) -> str:
        """The part before the dot: run, saga, step, attempt, retry, breaker, compensation, ..."""
        return self.value.split(".", 1)[0]

    @property
    def ends_saga(self) -> bool:
        """An end of a saga: the engine's (SAGA_OUTCOMES), or an operator's resolve of one that needed
        attention. A saga can end more than once: a retried rollback, a resolve, end it again."""
        return self in SAGA_ENDINGS


SAGA_OUTCOMES: dict[EventKind, SagaStatus] = {
    EventKind.SAGA_COMPLETED: SagaStatus.COMPLETED,
    EventKind.SAGA_COMPLETED_PARTIAL: SagaStatus.COMPLETED_PARTIAL,
    EventKind.SAGA_COMPENSATED: SagaStatus.COMPENSATED,
    EventKind.SAGA_FAILED: SagaStatus.FAILED,
    EventKind.SAGA_NEEDS_ATTENTION: SagaStatus.NEEDS_ATTENTION,
    EventKind.SAGA_CANCELLED: SagaStatus.CANCELLED,
}
"""The kinds the engine ends a saga with, each with the status it gives."""

SAGA_ENDINGS = frozenset({*SAGA_OUTCOMES, EventKind.SAGA_RESOLVED})
"""Every kind that ends a saga; saga.resolved's status is in its payload (completed or compensated)."""

REFUSALS = frozenset({EventKind.BREAKER_REJECTED, EventKind.BULKHEAD_REJECTED})
"""A try our own guards turned away (an open breaker, a full bulkhead): an attempt that never reached its service."""

PAYLOAD_MODELS: dict[EventKind, type[EventPayload]] = {
    EventKind.RUN_STARTED: payloads.RunStarted,
    EventKind.RUN_SETTLED: payloads.RunSettled,
    EventKind.RUN_INTERRUPTED: payloads.RunInterrupted,
    EventKind.RUN_RESUMED: payloads.RunResumed,
    EventKind.SAGA_STARTED: payloads.SagaStarted,
    **dict.fromkeys(SAGA_OUTCOMES, payloads.SagaEnded),
    EventKind.SAGA_COMPENSATING: payloads.SagaCompensating,
    EventKind.SAGA_RESOLVED: payloads.SagaResolved,
    EventKind.SAGA_CANCEL_REQUESTED: payloads.SagaStopping,
    EventKind.SAGA_DEADLINE_PASSED: payloads.SagaStopping,
    EventKind.APPROVAL_REQUESTED: payloads.ApprovalRequested,
    EventKind.APPROVAL_DECIDED: payloads.ApprovalDecided,
    EventKind.STEP_STARTED: payloads.StepStarted,
    EventKind.STEP_SKIPPED: payloads.StepSkipped,
    EventKind.STEP_SUCCEEDED: payloads.StepSucceeded,
    EventKind.STEP_FAILED: payloads.StepFailed,
    EventKind.GROUP_QUORUM: payloads.QuorumDecided,
    EventKind.BRANCH_CHOSEN: payloads.BranchChosen,
    EventKind.FOR_EACH_EXPANDED: payloads.ForEachExpanded,
    EventKind.ATTEMPT_SUCCEEDED: payloads.CallOutcome,
    EventKind.ATTEMPT_FAILED: payloads.CallOutcome,
    EventKind.RETRY_SCHEDULED: payloads.RetryScheduled,
    EventKind.FALLBACK_USED: payloads.FallbackUsed,
    EventKind.BREAKER_TRANSITION: payloads.BreakerTransition,
    EventKind.BREAKER_REJECTED: payloads.BreakerRejected,
    EventKind.BULKHEAD_QUEUED: payloads.BulkheadQueued,
    EventKind.BULKHEAD_REJECTED: payloads.BulkheadRejected,
    EventKind.REMEDIATION_STARTED: payloads.RemediationStarted,
    EventKind.REMEDIATION_ENDED: payloads.RemediationEnded,
    EventKind.COMPENSATION_STARTED: payloads.CompensationStarted,
    EventKind.COMPENSATION_ATTEMPT: payloads.CallOutcome,
    EventKind.COMPENSATION_RETRY_SCHEDULED: payloads.RetryScheduled,
    EventKind.COMPENSATION_ENDED: payloads.CompensationEnded,
    EventKind.COMPENSATION_SKIPPED: payloads.CompensationSkipped,
    EventKind.SERVICE_EFFECT: payloads.ServiceEffect,
    EventKind.CODE_ANSWERED: payloads.CodeAnswered,
    EventKind.FAULT_CHANGED: payloads.FaultChanged,
    EventKind.SERVICE_CHANGED: payloads.ServiceChanged,
}
"""The payload model of each kind that carries data. Not here: kinds with none (the attempts' intents)
and `command`, whose data is the command's name and arguments."""


def row_writes(event: Event) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The row writes an event carries, as (table, row key, values set); none for a kind that carries none."""
    if event.kind is EventKind.SERVICE_EFFECT:
        return event.payload_as(payloads.ServiceEffect).writes
    if event.kind is EventKind.SERVICE_CHANGED:
        return event.payload_as(payloads.ServiceChanged).writes
    return []


@dataclass(frozen=True, slots=True, kw_only=True)
class EventFields:
    """What an event says (the fields of Event, which adds only a cache of its payload)."""

    run_id: int
    seq: int
    time: float
    kind: EventKind
    saga_id: str | None = None
    step: str | None = None
    service: str | None = None
    operation: str | None = None
    attempt: int | None = None
    error_kind: ErrorKind | None = None
    message: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    wall_time: float | None = None


class Event(EventFields):
    """One happening. `time` is the run clock's seconds; `wall_time` is the only wall-clock value and
    every comparison ignores it (and `run_id`, which a database assigns).

    A frozen, slotted dataclass, built without validation: the engine makes tens of thousands a second
    and each one as a pydantic model cost five times as much (with the garbage collector's share). What
    comes from outside (a database, a session file) comes in through `Event.validated`."""

    __slots__ = ("_payload",)
    _payload: EventPayload | None  # set on first read of `payload`

    @classmethod
    def validated(cls, fields: Mapping[str, Any]) -> Event:
        """An event from outside, checked and converted field by field ("saga.started" -> EventKind);
        raises pydantic's ValidationError naming what is wrong."""
        return _adapter().validate_python(fields)

    @property
    def payload(self) -> EventPayload | None:
        """`data` validated into its kind's model (once: the event is frozen), None for a kind without one."""
        try:
            return self._payload
        except AttributeError:
            pass
        model = PAYLOAD_MODELS.get(self.kind)
        payload = None if model is None else model.model_validate(self.data)
        object.__setattr__(self, "_payload", payload)
        return payload

    def payload_as(self, model: type[PayloadT]) -> PayloadT:
        """The payload as `model`, which must be its kind's: `event.payload_as(RetryScheduled).delay`."""
        payload = self.payload
        if not isinstance(payload, model):
            raise TypeError(f"a {self.kind.value} event's payload is {type(payload).__name__}, not {model.__name__}")
        return payload

    @property
    def saga_status(self) -> SagaStatus | None:
        """The status this event ends its saga in; None for an event that ends none."""
        if self.kind is EventKind.SAGA_RESOLVED:
            return self.payload_as(payloads.SagaResolved).status
        return SAGA_OUTCOMES.get(self.kind)

    @property
    def refused_an_undo(self) -> bool:
        """A try our own guards turned away (REFUSALS) was a compensation's."""
        if self.kind is EventKind.BREAKER_REJECTED:
            return bool(self.payload_as(payloads.BreakerRejected).undo)
        return self.kind is EventKind.BULKHEAD_REJECTED and bool(self.payload_as(payloads.BulkheadRejected).undo)

    def json_text(self) -> str:
        """Every field, as one line of compact JSON."""
        return _adapter().dump_json(self).decode()

    def comparable(self) -> dict[str, Any]:
        """The event as replay compares it: without wall_time and run_id."""
        return _adapter().dump_python(self, mode="json", exclude=set(NOT_COMPARED))

    def same_as(self, other: Event) -> bool:
        """`self.comparable() == other.comparable()`, without dumping either when their compared fields
        are equal as they are (replay compares every event of a run). Fields that are not equal may
        still dump equal (a tuple in `data` is the list a file reads back), so only then are both dumped."""
        return _compared_fields(self) == _compared_fields(other) or self.comparable() == other.comparable()


NOT_COMPARED = frozenset({"wall_time", "run_id"})
"""The fields replay ignores: the wall clock's, and the run id a database assigns."""

_compared_fields = attrgetter(*(spec.name for spec in fields(EventFields) if spec.name not in NOT_COMPARED))


@cache
def _adapter() -> TypeAdapter[Event]:
    """Built on first use: a command that never reads events from outside never pays for it."""
    return TypeAdapter(Event)
