"""Sagas rebuilt from a run's event log: the SagaRun each one was when its process stopped, and the
ResumePoint the engine carries it on from.

The log is enough because of write-ahead: a call's intent is durable before the call, so a call the
log does not name never happened; one it names without an answer is sent again under the same
idempotency key, and a service that did the work answers from its record instead of doing it twice.

A retry that was waiting for its delay when the process stopped waits out what was left of it. What a
restart does not keep: the backoff of the attempts a call has left after that starts again from its
policy's initial delay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sagatui.engine.saga_state import InterruptedCall, ResumePoint, SagaRun, StepRecord, Stop
from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import (
    ApprovalDecided,
    BranchChosen,
    CallOutcome,
    CompensationEnded,
    FallbackUsed,
    ForEachExpanded,
    QuorumDecided,
    RetryScheduled,
    SagaStarted,
    StepFailed,
    StepSucceeded,
)
from sagatui.model.status import SagaStatus, StepStatus


@dataclass(frozen=True)
class RebuiltSaga:
    saga: SagaRun
    point: ResumePoint

    @property
    def resent(self) -> list[str]:
        """The idempotency keys of the open calls to be sent again (intent durable, answer not)."""
        return ([f"{self.saga.saga_id}:{step}" for step, call in self.point.calls.items() if call.resend]
                + [f"{self.saga.saga_id}:{step}:undo" for step, call in self.point.undos.items() if call.resend])


@dataclass
class _CallTrace:
    """What the log says of one open call: its provider, its last attempt, and how that attempt ended."""

    provider: int = 0
    attempt: int = 0  # the last attempt named (0: none yet)
    answered: bool = True
    error: ServiceError | None = None
    retry_at: float | None = None  # a retry scheduled after its last attempt is due then

    def started(self, attempt: int) -> None:
        self.attempt, self.answered, self.error, self.retry_at = attempt, False, None, None

    def ended(self, error: ServiceError | None) -> None:
        self.answered, self.error = True, error

    def interrupted(self, step_started_at: float) -> InterruptedCall:
        if self.attempt and (not self.answered or self.error is None):
            # An intent without an answer, or an answer whose outcome was not recorded: ask again.
            return InterruptedCall(self.provider, self.attempt, resend=True, step_started_at=step_started_at)
        return InterruptedCall(self.provider, self.attempt + 1, last_error=self.error,
                               step_started_at=step_started_at, retry_at=self.retry_at)


@dataclass
class _StepTrace:
    started_at: float = 0.0
    forward: _CallTrace = field(default_factory=_CallTrace)
    undo: _CallTrace | None = None  # a compensation under way
    undo_settled: bool = False  # its compensation ended or was skipped


_STOPS = {EventKind.SAGA_CANCEL_REQUESTED: Stop.CANCELLED, EventKind.SAGA_DEADLINE_PASSED: Stop.DEADLINE}


class _SagaFold:
    """Folds one saga's events, in order, into the engine's view of it."""

    def __init__(self, definition: SagaDef, started: Event) -> None:
        assert started.saga_id is not None
        self.saga = SagaRun(started.saga_id, definition, dict(started.payload_as(SagaStarted).input),
                            started_at=started.time, status=SagaStatus.RUNNING,
                            steps={step.name: StepRecord(step) for step in definition.all_steps()})
        self.traces = {name: _StepTrace() for name in self.saga.steps}

    def apply(self, event: Event) -> None:
        saga = self.saga
        if (status := event.saga_status) is not None:
            saga.status, saga.ended_at = status, event.time
            return
        if event.kind is EventKind.SAGA_COMPENSATING:
            saga.status = SagaStatus.COMPENSATING
            return
        if event.kind in _STOPS:
            saga.stop = _STOPS[event.kind]
            return
        if event.kind is EventKind.BRANCH_CHOSEN and event.step is not None:
            saga.branches[event.step] = event.payload_as(BranchChosen).case
            return
        if event.kind is EventKind.GROUP_QUORUM and event.step is not None:
            decided = event.payload_as(QuorumDecided)
            saga.decide_quorum(event.step, decided.met, decided.failed)
            if not decided.met and saga.failed_step is None:
                saga.failed_step, saga.failed_at = saga.first_to_fail(decided.failed), event.time
            return
        if event.kind is EventKind.FOR_EACH_EXPANDED and event.step in saga.steps:
            template = saga.steps[event.step]
            template.status = StepStatus.RUNNING
            for element in saga.expand(template.definition, event.payload_as(ForEachExpanded).items):
                self.traces.setdefault(element.name, _StepTrace())
            return
        if event.step not in saga.steps:
            return
        record, trace = saga.steps[event.step], self.traces[event.step]
        providers = record.definition.providers
        match event.kind:
            case EventKind.STEP_STARTED:
                record.status, trace.started_at = StepStatus.RUNNING, event.time
            case EventKind.STEP_SKIPPED:
                record.status = StepStatus.SKIPPED
            case EventKind.FALLBACK_USED:
                if record.definition.safe_to_repeat:
                    record.provider = None  # a timed-out read did nothing to undo
                actions = [provider.action for provider in providers]
                trace.forward = _CallTrace(provider=actions.index(event.payload_as(FallbackUsed).to_action))
            case EventKind.ATTEMPT_STARTED:
                record.status = StepStatus.RUNNING
                record.attempts += 1
                trace.forward.started(event.attempt or 1)
            case EventKind.ATTEMPT_SUCCEEDED:
                trace.forward.ended(None)
            case EventKind.ATTEMPT_FAILED:
                error = _error(event)
                trace.forward.ended(error)
                if error.kind is ErrorKind.TIMEOUT:
                    record.provider = providers[trace.forward.provider]  # it may have done the work
            case EventKind.BREAKER_REJECTED | EventKind.BULKHEAD_REJECTED:
                call = trace.undo if trace.undo is not None else trace.forward
                if trace.undo is None:
                    record.attempts += 1
                call.started(event.attempt or 1)
                call.ended(_error(event))
            case EventKind.RETRY_SCHEDULED:
                record.status = StepStatus.WAITING_RETRY
                trace.forward.retry_at = event.time + event.payload_as(RetryScheduled).delay
            case EventKind.COMPENSATION_RETRY_SCHEDULED if trace.undo is not None:
                trace.undo.retry_at = event.time + event.payload_as(RetryScheduled).delay
            case EventKind.STEP_SUCCEEDED:
                record.status = StepStatus.SUCCEEDED
                record.result = dict(event.payload_as(StepSucceeded).result)
                if providers:  # an approval calls no service: nothing to undo
                    record.provider = providers[trace.forward.provider]
                    saga.effects.append(event.step)
            case EventKind.APPROVAL_REQUESTED:
                record.status, saga.status = StepStatus.WAITING_APPROVAL, SagaStatus.WAITING_APPROVAL
            case EventKind.APPROVAL_DECIDED:  # kept: a stop before the step's end must not ask again
                record.status, saga.status = StepStatus.RUNNING, SagaStatus.RUNNING
                record.result = event.payload_as(ApprovalDecided).model_dump()
            case EventKind.STEP_FAILED:
                record.status, record.error = StepStatus.FAILED, _error(event)
                failed = event.payload_as(StepFailed)
                if failed.may_have_effect:
                    record.provider = providers[trace.forward.provider]
                    saga.effects.append(event.step)
                if not failed.optional and failed.quorum is None and saga.failed_step is None:
                    saga.failed_step, saga.failed_at = event.step, event.time
            case EventKind.COMPENSATION_STARTED:
                record.status = StepStatus.COMPENSATING
                trace.undo, trace.undo_settled = _CallTrace(), False
            case EventKind.COMPENSATION_ATTEMPT_STARTED if trace.undo is not None:
                trace.undo.started(event.attempt or 1)
            case EventKind.COMPENSATION_ATTEMPT if trace.undo is not None:
                trace.undo.ended(_error(event) if event.error_kind else None)
            case EventKind.COMPENSATION_ENDED:
                outcome = event.payload_as(CompensationEnded).outcome
                record.status, record.compensation = outcome.step_status, outcome
                trace.undo, trace.undo_settled = None, True
            case EventKind.COMPENSATION_SKIPPED:
                trace.undo_settled = True

    def rebuilt(self) -> RebuiltSaga:
        saga, calls, undos = self.saga, {}, {}
        for name, trace in self.traces.items():
            record = saga.steps[name]
            if trace.undo is not None:
                undos[name] = trace.undo.interrupted(trace.started_at)
            elif record.status is StepStatus.WAITING_APPROVAL:
                calls[name] = InterruptedCall(step_started_at=trace.started_at)  # asked then: waits as long
            elif record.status in (StepStatus.RUNNING, StepStatus.WAITING_RETRY):
                call = trace.forward.interrupted(trace.started_at)
                if call.resend:
                    record.attempts -= 1  # the resend counts it again
                    record.provider = record.definition.providers[call.provider]  # it may have done the work
                calls[name] = call
        rollback = saga.rollback_order()
        undone = next((index for index, name in enumerate(rollback) if not self.traces[name].undo_settled),
                      len(rollback))
        return RebuiltSaga(saga, ResumePoint(calls, undos, undone))


def rebuild_sagas(definitions: Mapping[str, SagaDef], events: Iterable[Event]) -> dict[str, RebuiltSaga]:
    """Every saga of a run, by id in start order, as its events (in seq order) leave it."""
    folds: dict[str, _SagaFold] = {}
    for event in events:
        if event.saga_id is None:
            continue
        if event.kind is EventKind.SAGA_STARTED:
            folds[event.saga_id] = _SagaFold(definitions[event.payload_as(SagaStarted).saga], event)
        elif event.saga_id in folds:
            folds[event.saga_id].apply(event)
    return {saga_id: fold.rebuilt() for saga_id, fold in folds.items()}


def _error(event: Event) -> ServiceError:
    """The error an event names; a call's outcome tells its code and retry-after too (a step's end does not)."""
    call = event.payload if isinstance(event.payload, CallOutcome) else None
    return ServiceError(event.error_kind or ErrorKind.UNEXPECTED, event.message or "",
                        code=call.code if call else None, retry_after=call.retry_after if call else None)
