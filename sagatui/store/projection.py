"""Saga and step rows projected from the event stream, so readers need not replay events.

The writer applies every event of a batch here and writes the rows that changed in the same
transaction as the events. Rows of sagas still running stay in memory; a settled saga is dropped
after its rows are written and reloaded only if a later event names it (an operator's retry).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from sagatui.model.events import SAGA_ENDINGS, Event, EventKind
from sagatui.model.payloads import CompensationEnded, SagaStarted
from sagatui.model.status import TERMINAL_SAGA_STATUSES, SagaStatus, StepStatus

SAGA_COLUMNS = (
    "run_id", "saga_id", "saga", "status", "current_step", "failed_step", "input", "started_at", "ended_at",
    "attempts", "retries", "compensations", "error_kind", "message", "last_seq",
)
STEP_COLUMNS = (
    "run_id", "saga_id", "step", "position", "status", "service", "operation", "attempts", "started_at",
    "ended_at", "error_kind", "message", "compensation_outcome", "compensation_attempts",
)
SagaKey = tuple[int, str]
_saga_values = itemgetter(*SAGA_COLUMNS)
_step_values = itemgetter(*STEP_COLUMNS)

_TERMINAL = {status.value for status in TERMINAL_SAGA_STATUSES}


class SagaState:
    """The projected row of one saga and the rows of its steps, as column -> value dicts."""

    __slots__ = ("row", "steps")

    def __init__(self, row: dict[str, Any], steps: dict[str, dict[str, Any]]) -> None:
        self.row = row
        self.steps = steps

    def step(self, event: Event) -> dict[str, Any]:
        assert event.step is not None
        row = self.steps.get(event.step)
        if row is None:
            row = dict.fromkeys(STEP_COLUMNS)
            row.update(run_id=event.run_id, saga_id=event.saga_id, step=event.step, position=len(self.steps),
                       status=StepStatus.PENDING.value, attempts=0, compensation_attempts=0)
            self.steps[event.step] = row
        return row


class Projector:
    def __init__(self) -> None:
        self._sagas: dict[SagaKey, SagaState] = {}
        self._dirty_sagas: set[SagaKey] = set()
        self._dirty_steps: set[tuple[SagaKey, str]] = set()
        self._touched: set[SagaKey] = set()  # sagas changed or loaded since `evict_settled` last looked

    @property
    def held(self) -> int:
        """Sagas kept in memory: those not settled yet."""
        return len(self._sagas)

    def missing(self, events: Iterable[Event]) -> set[SagaKey]:
        """Sagas the events name that are neither in memory nor started by these events."""
        missing: set[SagaKey] = set()
        seen: set[SagaKey] = set()
        for event in events:
            if event.saga_id is None:
                continue
            key = (event.run_id, event.saga_id)
            if key not in seen and key not in self._sagas and event.kind is not EventKind.SAGA_STARTED:
                missing.add(key)
            seen.add(key)
        return missing

    def load(self, saga_rows: Iterable[dict[str, Any]], step_rows: Iterable[dict[str, Any]]) -> None:
        """Bring back sagas written earlier (after eviction or on resume)."""
        for row in saga_rows:
            key = (row["run_id"], row["saga_id"])
            self._sagas[key] = SagaState(dict(row), {})
            self._touched.add(key)
        for row in step_rows:
            state = self._sagas.get((row["run_id"], row["saga_id"]))
            if state is not None:
                state.steps[row["step"]] = dict(row)

    def apply(self, event: Event) -> None:
        if event.saga_id is None:
            return
        key = (event.run_id, event.saga_id)
        if event.kind is EventKind.SAGA_STARTED:
            started = event.payload_as(SagaStarted)
            row = dict.fromkeys(SAGA_COLUMNS)
            row.update(run_id=event.run_id, saga_id=event.saga_id, saga=started.saga,
                       status=SagaStatus.RUNNING.value, input=json.dumps(started.input),
                       started_at=event.time, attempts=0, retries=0, compensations=0)
            self._sagas[key] = SagaState(row, {})
        state = self._sagas.get(key)
        if state is None:
            return  # an event for a saga never started: nothing to project onto
        state.row["last_seq"] = event.seq
        self._dirty_sagas.add(key)
        self._touched.add(key)
        handler = _HANDLERS.get(event.kind)
        if handler is not None:
            handler(state, event)
        if event.step is not None and event.step in state.steps:
            self._dirty_steps.add((key, event.step))

    def take_changes(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The saga and step rows changed since the last call, as tuples in column order."""
        sagas = [_saga_values(self._sagas[key].row) for key in self._dirty_sagas]
        steps = [_step_values(self._sagas[key].steps[step]) for key, step in self._dirty_steps]
        self._dirty_sagas.clear()
        self._dirty_steps.clear()
        return sagas, steps

    def evict_settled(self) -> None:
        """Forget sagas that reached a terminal status (their rows are committed by now). Only the sagas
        touched since the last look can have reached one: the cost follows the events, not the sagas in
        flight."""
        for key in self._touched:
            state = self._sagas.get(key)
            if state is not None and state.row["status"] in _TERMINAL:
                del self._sagas[key]
        self._touched.clear()


def _saga_ended(state: SagaState, event: Event) -> None:
    status = event.saga_status
    assert status is not None
    state.row.update(status=status.value, ended_at=event.time, current_step=None, failed_step=event.step,
                     error_kind=event.error_kind.value if event.error_kind else None, message=event.message)


def _saga_compensating(state: SagaState, event: Event) -> None:
    state.row.update(status=SagaStatus.COMPENSATING.value, failed_step=event.step,
                     error_kind=event.error_kind.value if event.error_kind else None, message=event.message)


def _step_started(state: SagaState, event: Event) -> None:
    state.row["current_step"] = event.step
    state.step(event).update(status=StepStatus.RUNNING.value, service=event.service, operation=event.operation,
                             started_at=event.time)


def _step_skipped(state: SagaState, event: Event) -> None:
    state.step(event).update(status=StepStatus.SKIPPED.value, started_at=event.time, ended_at=event.time)


def _step_ended(status: StepStatus) -> Callable[[SagaState, Event], None]:
    def apply(state: SagaState, event: Event) -> None:
        row = state.step(event)
        row.update(status=status.value, ended_at=event.time,
                   error_kind=event.error_kind.value if event.error_kind else None, message=event.message)
        if event.attempt is not None:
            row["attempts"] = event.attempt
        if event.service is not None:
            row["service"], row["operation"] = event.service, event.operation or row["operation"]
    return apply


def _attempt_started(state: SagaState, event: Event) -> None:
    row = state.step(event)
    row.update(status=StepStatus.RUNNING.value, attempts=row["attempts"] + 1, service=event.service,
               operation=event.operation)
    state.row["attempts"] += 1


def _attempt_failed(state: SagaState, event: Event) -> None:
    state.step(event).update(error_kind=event.error_kind.value if event.error_kind else None,
                             message=event.message)


def _retry_scheduled(state: SagaState, event: Event) -> None:
    state.step(event)["status"] = StepStatus.WAITING_RETRY.value
    state.row["retries"] += 1


def _compensation_started(state: SagaState, event: Event) -> None:
    state.row["current_step"] = event.step
    state.row["compensations"] += 1
    state.step(event)["status"] = StepStatus.COMPENSATING.value


def _compensation_attempt(state: SagaState, event: Event) -> None:
    row = state.step(event)
    row["compensation_attempts"] += 1
    if event.error_kind is not None:
        row.update(error_kind=event.error_kind.value, message=event.message)


def _compensation_ended(state: SagaState, event: Event) -> None:
    outcome = event.payload_as(CompensationEnded).outcome
    row = state.step(event)
    row.update(status=outcome.step_status.value, compensation_outcome=outcome.value, ended_at=event.time)
    if event.attempt is not None:
        row["compensation_attempts"] = event.attempt


def _approval_requested(state: SagaState, event: Event) -> None:
    state.row["status"] = SagaStatus.WAITING_APPROVAL.value
    state.step(event)["status"] = StepStatus.WAITING_APPROVAL.value


def _approval_decided(state: SagaState, event: Event) -> None:
    state.row["status"] = SagaStatus.RUNNING.value  # the step's end (succeeded, failed) follows
    state.step(event)["status"] = StepStatus.RUNNING.value


_HANDLERS: dict[EventKind, Callable[[SagaState, Event], None]] = {
    **dict.fromkeys(SAGA_ENDINGS, _saga_ended),
    EventKind.SAGA_COMPENSATING: _saga_compensating,
    EventKind.STEP_STARTED: _step_started,
    EventKind.STEP_SKIPPED: _step_skipped,
    EventKind.STEP_SUCCEEDED: _step_ended(StepStatus.SUCCEEDED),
    EventKind.STEP_FAILED: _step_ended(StepStatus.FAILED),
    EventKind.ATTEMPT_STARTED: _attempt_started,
    EventKind.ATTEMPT_FAILED: _attempt_failed,
    EventKind.RETRY_SCHEDULED: _retry_scheduled,
    EventKind.COMPENSATION_STARTED: _compensation_started,
    EventKind.COMPENSATION_ATTEMPT: _compensation_attempt,
    EventKind.COMPENSATION_ENDED: _compensation_ended,
    EventKind.APPROVAL_REQUESTED: _approval_requested,
    EventKind.APPROVAL_DECIDED: _approval_decided,
}
