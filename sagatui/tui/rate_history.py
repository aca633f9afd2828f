"""Per clock-second counts for the metrics sparklines: sagas settled, and calls that failed.

Bucketed by the run clock, not the wall clock, so a run at any speed (and a test on the virtual
clock) draws the same lines. Only the last `seconds` buckets are kept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from sagatui.model.events import SAGA_OUTCOMES, Event, EventKind

_SETTLED = frozenset(SAGA_OUTCOMES)  # the engine's ends of a saga; a resolve ends one that had settled
_CALL_ENDS = frozenset({EventKind.ATTEMPT_SUCCEEDED, EventKind.ATTEMPT_FAILED, EventKind.BREAKER_REJECTED})
_CALL_FAILURES = frozenset({EventKind.ATTEMPT_FAILED, EventKind.BREAKER_REJECTED})


@dataclass
class Bucket:
    second: int
    settled: int = 0
    calls: int = 0
    failed_calls: int = 0


class RateHistory:
    def __init__(self, seconds: int = 120) -> None:
        self._buckets: deque[Bucket] = deque(maxlen=seconds)

    def add(self, event: Event) -> None:
        kind = event.kind
        if kind not in _SETTLED and kind not in _CALL_ENDS:
            return
        bucket = self._bucket(int(event.time))
        if kind in _SETTLED:
            bucket.settled += 1
        else:
            bucket.calls += 1
            bucket.failed_calls += kind in _CALL_FAILURES

    def _bucket(self, second: int) -> Bucket:
        last = self._buckets[-1].second if self._buckets else second - 1
        assert self._buckets.maxlen is not None
        first = max(last + 1, second - self._buckets.maxlen + 1)
        for missing in range(first, second + 1):  # quiet seconds are zeros, not gaps
            self._buckets.append(Bucket(missing))
        return self._buckets[-1]

    def throughput(self) -> list[float]:
        """Sagas settled per clock second."""
        return [float(bucket.settled) for bucket in self._buckets]

    def failure_rate(self) -> list[float]:
        """Share of calls per clock second that failed or were rejected by a breaker."""
        return [bucket.failed_calls / bucket.calls if bucket.calls else 0.0 for bucket in self._buckets]
