"""Per clock-second counts for the metrics view's charts and sparklines: sagas started, completed,
compensated and settled, calls and failed calls, retries, breaker rejections, the step latencies of each
second (kept as p50 and p95 once the second is over), and the worst state each breaker was in.

Bucketed by the run clock, not the wall clock, so a run at any speed (and a test on the virtual
clock) draws the same lines. Only the last `seconds` buckets are kept, and the steps under way: bounded
memory however long the run.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from sagatui.engine.metrics import percentile
from sagatui.model.events import REFUSALS, SAGA_OUTCOMES, Event, EventKind
from sagatui.model.payloads import BreakerTransition
from sagatui.model.status import BreakerState

_SETTLED = frozenset(SAGA_OUTCOMES)  # the engine's ends of a saga; a resolve ends one that had settled
_COMPLETED = frozenset({EventKind.SAGA_COMPLETED, EventKind.SAGA_COMPLETED_PARTIAL})
_CALL_ENDS = frozenset({EventKind.ATTEMPT_SUCCEEDED, EventKind.ATTEMPT_FAILED, *REFUSALS})
_CALL_FAILURES = frozenset({EventKind.ATTEMPT_FAILED, *REFUSALS})
_RETRIES = frozenset({EventKind.RETRY_SCHEDULED, EventKind.COMPENSATION_RETRY_SCHEDULED})
_STEP_ENDS = frozenset({EventKind.STEP_SUCCEEDED, EventKind.STEP_FAILED})
_COUNTED = frozenset({*_SETTLED, *_CALL_ENDS, *_RETRIES, *_STEP_ENDS, EventKind.SAGA_STARTED,
                      EventKind.STEP_STARTED, EventKind.BREAKER_TRANSITION})
SEVERITY = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2, BreakerState.ISOLATED: 3}
"""A second in which a breaker was in several states shows the worst."""


@dataclass
class Bucket:
    second: int
    settled: int = 0
    started: int = 0
    completed: int = 0
    compensated: int = 0
    calls: int = 0
    failed_calls: int = 0
    retries: int = 0  # steps' and compensations'
    rejected: int = 0  # tries an open breaker turned away
    latencies: list[float] = field(default_factory=list)  # of the steps that ended in it, while it is the newest
    p50: float | None = None  # of `latencies`, once the second is over
    p95: float | None = None
    breakers: dict[str, BreakerState] = field(default_factory=dict)  # the worst state of each breaker seen

    def close(self) -> None:
        """The second is over: keep its latency percentiles, not every latency."""
        self.p50, self.p95 = self.latency(0.5), self.latency(0.95)
        self.latencies = []

    def latency(self, fraction: float) -> float | None:
        if not self.latencies:
            return self.p95 if fraction > 0.5 else self.p50
        return percentile(sorted(self.latencies), fraction)


class RateHistory:
    def __init__(self, seconds: int = 120) -> None:
        self._buckets: deque[Bucket] = deque(maxlen=seconds)
        self._steps: dict[str, dict[str, float]] = {}  # saga -> step under way -> when it started
        self._breakers: dict[str, BreakerState] = {}  # each breaker's state now (a quiet second carries it)
        self.version = 0  # counts the events that changed a bucket: a chart is redrawn only when it moved

    def add(self, event: Event) -> None:
        kind = event.kind
        if kind not in _COUNTED:
            return
        self.version += 1
        bucket = self._bucket(int(event.time))
        if kind is EventKind.SAGA_STARTED:
            bucket.started += 1
        elif kind in _SETTLED:
            bucket.settled += 1
            bucket.completed += kind in _COMPLETED
            bucket.compensated += kind is EventKind.SAGA_COMPENSATED
            self._steps.pop(event.saga_id or "", None)
        elif kind is EventKind.STEP_STARTED and event.saga_id is not None and event.step is not None:
            self._steps.setdefault(event.saga_id, {})[event.step] = event.time
        elif kind in _STEP_ENDS:
            started = self._steps.get(event.saga_id or "", {}).pop(event.step or "", None)
            if started is not None:
                bucket.latencies.append(event.time - started)
        elif kind in _RETRIES:
            bucket.retries += 1
        elif kind is EventKind.BREAKER_TRANSITION:
            transition = event.payload_as(BreakerTransition)
            name, state = transition.breaker, transition.to_state
            self._breakers[name] = state
            if SEVERITY[state] >= SEVERITY[bucket.breakers.get(name, BreakerState.CLOSED)]:
                bucket.breakers[name] = state
        if kind in _CALL_ENDS:
            bucket.calls += 1
            bucket.failed_calls += kind in _CALL_FAILURES
            bucket.rejected += kind in REFUSALS

    def _bucket(self, second: int) -> Bucket:
        last = self._buckets[-1].second if self._buckets else second - 1
        assert self._buckets.maxlen is not None
        first = max(last + 1, second - self._buckets.maxlen + 1)
        if first <= second and self._buckets:
            self._buckets[-1].close()
        for missing in range(first, second + 1):  # quiet seconds are zeros, not gaps
            self._buckets.append(Bucket(missing, breakers=dict(self._breakers)))
        return self._buckets[-1]

    @property
    def buckets(self) -> list[Bucket]:
        """Oldest first, one for every clock second from the first counted event to the newest."""
        return list(self._buckets)

    def throughput(self) -> list[float]:
        """Sagas settled per clock second."""
        return [float(bucket.settled) for bucket in self._buckets]

    def failure_rate(self) -> list[float]:
        """Share of calls per clock second that failed or were rejected by a breaker."""
        return [bucket.failed_calls / bucket.calls if bucket.calls else 0.0 for bucket in self._buckets]
