"""Status vocabularies of sagas, steps, compensations and circuit breakers."""

from enum import StrEnum


class SagaStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING_APPROVAL = "waiting_approval"  # an approval step waits for an operator's decision
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    COMPLETED_PARTIAL = "completed_partial"  # a quorum group was met with some members failed
    COMPENSATED = "compensated"
    FAILED = "failed"
    NEEDS_ATTENTION = "needs_attention"
    CANCELLED = "cancelled"  # an operator stopped it going forward; what it did was undone

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_SAGA_STATUSES


TERMINAL_SAGA_STATUSES = frozenset(
    {SagaStatus.COMPLETED, SagaStatus.COMPLETED_PARTIAL, SagaStatus.COMPENSATED, SagaStatus.FAILED,
     SagaStatus.NEEDS_ATTENTION, SagaStatus.CANCELLED}
)


GOING_FORWARD = frozenset({SagaStatus.RUNNING, SagaStatus.WAITING_APPROVAL})
"""The statuses of a saga still going forward: what an operator's cancel can stop."""


class InvariantState(StrEnum):
    """What an invariant check says of a run's tables."""

    OK = "ok"  # the rule holds (what resolved sagas still hold is listed as accepted)
    HELD = "held"  # it holds but for what sagas needing attention still hold, awaiting an operator
    FAIL = "fail"  # the rule is broken


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING_RETRY = "waiting_retry"
    WAITING_APPROVAL = "waiting_approval"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    COMPENSATING = "compensating"
    COMPENSATED = "compensated"
    COMPENSATION_FAILED = "compensation_failed"
    COMPENSATION_PARTIAL = "compensation_partial"
    COMPENSATION_EXPIRED = "compensation_expired"


class CompensationOutcome(StrEnum):
    """How a compensation ended (the orra vocabulary)."""

    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
    EXPIRED = "expired"

    @property
    def step_status(self) -> StepStatus:
        return {
            CompensationOutcome.COMPLETED: StepStatus.COMPENSATED,
            CompensationOutcome.PARTIAL: StepStatus.COMPENSATION_PARTIAL,
            CompensationOutcome.FAILED: StepStatus.COMPENSATION_FAILED,
            CompensationOutcome.EXPIRED: StepStatus.COMPENSATION_EXPIRED,
        }[self]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    ISOLATED = "isolated"
