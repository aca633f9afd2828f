"""Run metrics folded from the event stream, so the dashboard, the CLI summary and replay agree."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from sagatui.model.events import REFUSALS, Event, EventKind
from sagatui.model.payloads import BreakerTransition, CompensationEnded, SagaEnded
from sagatui.model.status import BreakerState, SagaStatus

EXACT_LATENCIES = 10_000
"""Up to this many sagas the latency percentiles are exact; past it they come from a histogram."""
_SMALLEST = 1e-6  # seconds: latencies below it share the histogram's first bucket
_GROWTH = 1.01  # each bucket 1% wider than the one below: a percentile within 0.5% of the exact one


def _rank(count: int, fraction: float) -> int:
    """Nearest rank, from 0, of the `fraction` percentile among `count` values."""
    return max(0, min(count - 1, math.ceil(fraction * count) - 1))


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already-sorted values."""
    return values[_rank(len(values), fraction)] if values else None


def _bucket(value: float) -> int:
    return 0 if value < _SMALLEST else 1 + math.floor(math.log(value / _SMALLEST, _GROWTH))


def _bucket_value(bucket: int) -> float:
    """The middle (geometric) of a bucket's range."""
    return 0.0 if bucket == 0 else _SMALLEST * _GROWTH ** (bucket - 0.5)


class Latencies:
    """Saga latencies in bounded memory, deterministically (no sampling): every value while there are
    up to EXACT_LATENCIES, so a test's or a scenario's figures are exact; then counts in log-spaced
    buckets, a few thousand at most whatever the run's length, the answer clamped to the range seen."""

    def __init__(self) -> None:
        self._values: list[float] = []
        self._buckets: Counter[int] | None = None  # None while every value is kept
        self._count = 0
        self._low = math.inf
        self._high = -math.inf

    def __len__(self) -> int:
        return self._count

    def add(self, value: float) -> None:
        self._count += 1
        self._low, self._high = min(self._low, value), max(self._high, value)
        if self._buckets is not None:
            self._buckets[_bucket(value)] += 1
            return
        self._values.append(value)
        if len(self._values) > EXACT_LATENCIES:
            self._buckets = Counter(_bucket(kept) for kept in self._values)
            self._values = []

    def percentile(self, fraction: float) -> float | None:
        if self._buckets is None:
            self._values.sort()
            return percentile(self._values, fraction)
        rank, seen = _rank(self._count, fraction), 0
        for bucket in sorted(self._buckets):
            seen += self._buckets[bucket]
            if seen > rank:
                return min(max(_bucket_value(bucket), self._low), self._high)
        raise AssertionError("the buckets hold every value counted")  # pragma: no cover


@dataclass
class RunMetrics:
    started: int = 0
    ended: Counter[SagaStatus] = field(default_factory=Counter)
    attempts: int = 0
    retries: int = 0
    steps_finished: int = 0
    breaker_trips: int = 0
    rejected_calls: int = 0  # tries an open breaker or a full bulkhead turned away, steps' and compensations'
    rejected_step_tries: int = 0  # of those, steps' tries
    bulkhead_rejections: int = 0  # of those, the bulkheads'
    fallbacks: int = 0
    calls: int = 0  # a step's calls to a provider: each is tried once, then once per retry
    compensations: Counter[str] = field(default_factory=Counter)
    latencies: Latencies = field(default_factory=Latencies)
    cost: float = 0.0  # what the steps' calls cost, as their providers' `cost` says
    retry_cost: float = 0.0  # of that, the retries'
    fallback_cost: float = 0.0  # and the calls to fallback providers
    fallen_back: dict[str, set[str]] = field(default_factory=dict)  # saga -> steps now on a fallback
    needing_attention: set[str] = field(default_factory=set)  # an operator's retry or resolve ends them again

    def add(self, event: Event) -> None:
        kind = event.kind
        if kind is EventKind.SAGA_STARTED:
            self.started += 1
        elif kind.ends_saga:
            self._saga_ended(event)
        elif kind is EventKind.ATTEMPT_STARTED:
            self.attempts += 1
            if cost := event.data.get("cost"):
                self._cost(event, float(cost))
        elif kind is EventKind.STEP_STARTED:
            self.calls += 1
        elif kind is EventKind.RETRY_SCHEDULED:
            self.retries += 1
        elif kind in (EventKind.STEP_SUCCEEDED, EventKind.STEP_FAILED):
            self.steps_finished += 1
        elif kind is EventKind.BREAKER_TRANSITION:
            if event.payload_as(BreakerTransition).to_state is BreakerState.OPEN:
                self.breaker_trips += 1
        elif kind in REFUSALS:
            self.rejected_calls += 1
            self.bulkhead_rejections += kind is EventKind.BULKHEAD_REJECTED
            if not event.refused_an_undo:
                self.rejected_step_tries += 1
        elif kind is EventKind.FALLBACK_USED:
            self.fallbacks += 1
            self.calls += 1
            if event.saga_id is not None and event.step is not None:
                self.fallen_back.setdefault(event.saga_id, set()).add(event.step)
        elif kind is EventKind.COMPENSATION_ENDED:
            self.compensations[event.payload_as(CompensationEnded).outcome.value] += 1

    def _cost(self, event: Event, cost: float) -> None:
        self.cost += cost
        if (event.attempt or 1) > 1:
            self.retry_cost += cost
        if event.step in self.fallen_back.get(event.saga_id or "", ()):
            self.fallback_cost += cost

    def _saga_ended(self, event: Event) -> None:
        """Count a saga's end; a saga that needed attention (a retried rollback, a resolve) moves, once."""
        status = event.saga_status
        assert status is not None
        if event.saga_id is not None:
            self.fallen_back.pop(event.saga_id, None)
        if event.saga_id in self.needing_attention:
            self.needing_attention.discard(event.saga_id)
            self.ended[SagaStatus.NEEDS_ATTENTION] -= 1
        elif event.kind is EventKind.SAGA_RESOLVED:
            return  # only a saga that needs attention is resolved: this one was counted already
        else:
            self.latencies.add(event.payload_as(SagaEnded).duration)
        self.ended[status] += 1
        if status is SagaStatus.NEEDS_ATTENTION and event.saga_id is not None:
            self.needing_attention.add(event.saga_id)

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
        """Tries per finished step: the attempts that reached a provider and those an open breaker turned
        away (each a try of the step's policy), so never below 1."""
        tries = self.attempts + self.rejected_step_tries
        return tries / self.steps_finished if self.steps_finished else None

    @property
    def retry_rate(self) -> float | None:
        """Share of the tries of steps' calls that were retries, in [0, 1]: a call is tried once, then
        once per retry. Not retries / attempts: a try the breaker turns away makes no attempt, so a call
        retried while its breaker is open would count retries without attempts (past 100%)."""
        tries = self.calls + self.retries
        return self.retries / tries if tries else None

    def latency(self, fraction: float) -> float | None:
        return self.latencies.percentile(fraction)

    def summary(self) -> MetricsSummary:
        return MetricsSummary(
            sagas=self.started,
            by_status={status.value: self.ended[status] for status in SagaStatus if self.ended[status]},
            success_rate=self.success_rate, attempts=self.attempts, retries=self.retries,
            average_attempts=self.average_attempts, retry_rate=self.retry_rate, breaker_trips=self.breaker_trips,
            rejected_calls=self.rejected_calls, fallbacks=self.fallbacks,
            compensations=dict(sorted(self.compensations.items())),
            latency_p50=self.latency(0.50), latency_p95=self.latency(0.95),
            **({"cost": round(self.cost, 6), "retry_cost": round(self.retry_cost, 6),
                "fallback_cost": round(self.fallback_cost, 6)} if self.cost else {}),
            bulkhead_rejections=self.bulkhead_rejections or None,
        )

    def as_dict(self) -> dict[str, object]:
        return self.summary().model_dump()


class MetricsSummary(BaseModel):
    """A run's metrics as a report gives them (`sagatui run`'s summary and JSON, `run.settled`)."""

    model_config = ConfigDict(frozen=True)

    sagas: int
    by_status: dict[str, int]
    success_rate: float | None
    attempts: int
    retries: int
    average_attempts: float | None
    retry_rate: float | None
    breaker_trips: int
    rejected_calls: int
    fallbacks: int
    compensations: dict[str, int]
    latency_p50: float | None
    latency_p95: float | None
    # What the calls cost, when their providers say (no keys at all otherwise: older reports keep theirs).
    cost: float | None = None
    retry_cost: float | None = None
    fallback_cost: float | None = None
    bulkhead_rejections: int | None = None  # of rejected_calls, the bulkheads' (no key when there were none)

    @model_serializer(mode="wrap")
    def _without_unpriced_costs(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        if self.cost is None:
            for key in ("cost", "retry_cost", "fallback_cost"):
                dumped.pop(key, None)
        if self.bulkhead_rejections is None:
            dumped.pop("bulkhead_rejections", None)
        return dumped
