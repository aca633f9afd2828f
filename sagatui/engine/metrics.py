"""Run metrics folded from the event stream, so the dashboard, the CLI summary and replay agree."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from sagatui.model.events import Event, EventKind
from sagatui.model.status import SagaStatus

_SAGA_ENDINGS = {
    EventKind.SAGA_COMPLETED: SagaStatus.COMPLETED,
    EventKind.SAGA_COMPENSATED: SagaStatus.COMPENSATED,
    EventKind.SAGA_FAILED: SagaStatus.FAILED,
    EventKind.SAGA_NEEDS_ATTENTION: SagaStatus.NEEDS_ATTENTION,
}


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already-sorted values."""
    if not values:
        return None
    rank = max(0, min(len(values) - 1, math.ceil(fraction * len(values)) - 1))
    return values[rank]


@dataclass
class RunMetrics:
    started: int = 0
    ended: Counter[SagaStatus] = field(default_factory=Counter)
    attempts: int = 0
    retries: int = 0
    steps_finished: int = 0
    breaker_trips: int = 0
    rejected_calls: int = 0
    fallbacks: int = 0
    compensations: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    needing_attention: set[str] = field(default_factory=set)  # an operator's retry or resolve ends them again

    def add(self, event: Event) -> None:
        kind = event.kind
        if kind is EventKind.SAGA_STARTED:
            self.started += 1
        elif kind in _SAGA_ENDINGS:
            if event.saga_id in self.needing_attention:  # a retried rollback ended: the saga moves, once
                self.needing_attention.discard(event.saga_id)
                self.ended[SagaStatus.NEEDS_ATTENTION] -= 1
            else:
                self.latencies.append(float(event.data.get("duration", 0.0)))
            self.ended[_SAGA_ENDINGS[kind]] += 1
            if kind is EventKind.SAGA_NEEDS_ATTENTION and event.saga_id is not None:
                self.needing_attention.add(event.saga_id)
        elif kind is EventKind.ATTEMPT_STARTED:
            self.attempts += 1
        elif kind is EventKind.RETRY_SCHEDULED:
            self.retries += 1
        elif kind in (EventKind.STEP_SUCCEEDED, EventKind.STEP_FAILED):
            self.steps_finished += 1
        elif kind is EventKind.BREAKER_TRANSITION and event.data.get("to") == "open":
            self.breaker_trips += 1
        elif kind is EventKind.BREAKER_REJECTED:
            self.rejected_calls += 1
        elif kind is EventKind.FALLBACK_USED:
            self.fallbacks += 1
        elif kind is EventKind.COMPENSATION_ENDED:
            self.compensations[str(event.data.get("outcome"))] += 1
        elif kind is EventKind.SAGA_RESOLVED:
            self.needing_attention.discard(event.saga_id or "")
            self.ended[SagaStatus.NEEDS_ATTENTION] -= 1
            self.ended[SagaStatus.COMPENSATED] += 1

    def extend(self, events: list[Event]) -> RunMetrics:
        for event in events:
            self.add(event)
        return self

    @property
    def finished(self) -> int:
        return sum(self.ended.values())

    @property
    def in_flight(self) -> int:
        return self.started - self.finished

    @property
    def success_rate(self) -> float | None:
        return self.ended[SagaStatus.COMPLETED] / self.finished if self.finished else None

    @property
    def average_attempts(self) -> float | None:
        return self.attempts / self.steps_finished if self.steps_finished else None

    @property
    def retry_rate(self) -> float | None:
        """Share of attempts that were retries."""
        return self.retries / self.attempts if self.attempts else None

    def latency(self, fraction: float) -> float | None:
        return percentile(sorted(self.latencies), fraction)

    def as_dict(self) -> dict[str, object]:
        return {
            "sagas": self.started,
            "by_status": {status.value: self.ended[status] for status in SagaStatus if self.ended[status]},
            "success_rate": self.success_rate,
            "attempts": self.attempts,
            "retries": self.retries,
            "average_attempts": self.average_attempts,
            "retry_rate": self.retry_rate,
            "breaker_trips": self.breaker_trips,
            "rejected_calls": self.rejected_calls,
            "fallbacks": self.fallbacks,
            "compensations": dict(sorted(self.compensations.items())),
            "latency_p50": self.latency(0.50),
            "latency_p95": self.latency(0.95),
        }
