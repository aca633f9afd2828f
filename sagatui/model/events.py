"""The event stream: every happening in a run, in order. Stores, dashboard, reporter and replay read it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sagatui.model.errors import ErrorKind


class EventKind(StrEnum):
    RUN_STARTED = "run.started"
    RUN_SETTLED = "run.settled"
    RUN_INTERRUPTED = "run.interrupted"
    RUN_RESUMED = "run.resumed"

    SAGA_STARTED = "saga.started"
    SAGA_COMPLETED = "saga.completed"
    SAGA_FAILED = "saga.failed"
    SAGA_COMPENSATING = "saga.compensating"
    SAGA_COMPENSATED = "saga.compensated"
    SAGA_NEEDS_ATTENTION = "saga.needs_attention"
    SAGA_RESOLVED = "saga.resolved"

    STEP_STARTED = "step.started"
    STEP_SKIPPED = "step.skipped"
    STEP_SUCCEEDED = "step.succeeded"
    STEP_FAILED = "step.failed"

    ATTEMPT_STARTED = "attempt.started"
    ATTEMPT_SUCCEEDED = "attempt.succeeded"
    ATTEMPT_FAILED = "attempt.failed"
    RETRY_SCHEDULED = "retry.scheduled"
    FALLBACK_USED = "fallback.used"

    BREAKER_TRANSITION = "breaker.transition"
    BREAKER_REJECTED = "breaker.rejected"

    COMPENSATION_STARTED = "compensation.started"
    COMPENSATION_ATTEMPT_STARTED = "compensation.attempt_started"
    COMPENSATION_ATTEMPT = "compensation.attempt"
    COMPENSATION_RETRY_SCHEDULED = "compensation.retry_scheduled"
    COMPENSATION_ENDED = "compensation.ended"
    COMPENSATION_SKIPPED = "compensation.skipped"

    SERVICE_EFFECT = "service.effect"
    FAULT_CHANGED = "fault.changed"
    COMMAND = "command"

    @property
    def family(self) -> str:
        """The part before the dot: run, saga, step, attempt, retry, breaker, compensation, ..."""
        return self.value.split(".", 1)[0]


class Event(BaseModel):
    """One happening. `time` is the run clock's seconds; `wall_time` is the only wall-clock value and
    every comparison ignores it (and `run_id`, which a database assigns)."""

    model_config = ConfigDict(frozen=True, use_enum_values=False)

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
    data: dict[str, Any] = Field(default_factory=dict)
    wall_time: float | None = None

    def comparable(self) -> dict[str, Any]:
        """The event as replay compares it: without wall_time and run_id."""
        return self.model_dump(mode="json", exclude={"wall_time", "run_id"})
