"""Resilience policies a pack gives its steps and services: how a step's action is retried (per error
kind if it says so, each attempt's timeout growing if it says so), how a compensation is retried and
for how long, and circuit breakers. Data only; sagatui.engine.retry turns them into tenacity's strategies."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import Field, field_validator

from sagatui.model.definition_base import Definition
from sagatui.model.durations import Duration, PositiveDuration
from sagatui.model.errors import DEFAULT_RETRYABLE, ErrorKind

DEFAULT_ATTEMPT_TIMEOUT = 30.0
"""Seconds an attempt of a step or of a compensation may take unless its policy says otherwise."""


def _backoff(initial_delay: float, multiplier: float, max_delay: float, retry_number: int) -> float:
    """`initial_delay * multiplier ** (retry_number - 1)`, capped at `max_delay`; a power too large
    for a float (10 ** 999 raises OverflowError) is past any cap."""
    try:
        return min(max_delay, initial_delay * multiplier ** (retry_number - 1))
    except OverflowError:
        return max_delay


Jitter = Literal["none", "full", "equal", "additive", "decorrelated"]
"""none; full: 0..base; equal: base/2 + 0..base/2; additive: base + 0..jitter_factor x base; decorrelated:
AWS's, each delay drawn between initial_delay and three times the one before (capped at max_delay)."""

class BackoffPolicy(Definition):
    """What retrying a step and retrying a compensation share: attempts, a delay growing by `multiplier`
    from `initial_delay` up to `max_delay`, jitter, and each attempt's timeout (growing by
    `timeout_multiplier` per attempt, up to `max_attempt_timeout`, when it is above 1)."""

    max_attempts: int = Field(3, ge=1, le=1000)
    initial_delay: Duration = 0.1
    multiplier: float = Field(2.0, ge=1.0, le=100.0)
    max_delay: Duration = 10.0
    jitter: Jitter = "none"
    jitter_factor: float = Field(0.5, gt=0, le=10)  # additive jitter: up to this share of the delay on top
    # A hang must not hold a saga for hours by default: each attempt gets this long (null: no limit).
    attempt_timeout: PositiveDuration | None = DEFAULT_ATTEMPT_TIMEOUT
    timeout_multiplier: float = Field(1.0, ge=1.0, le=100.0)  # 2: 30 s, then 60 s, then 120 s
    max_attempt_timeout: PositiveDuration | None = None  # the cap of a growing timeout

    def backoff(self, retry_number: int) -> float:
        """The un-jittered delay before retry `retry_number` (1 = the first retry)."""
        return _backoff(self.initial_delay, self.multiplier, self.max_delay, retry_number)

    def timeout_for(self, attempt: int) -> float | None:
        """Attempt `attempt`'s timeout (1 = the first): `attempt_timeout`, grown per attempt, capped."""
        if self.attempt_timeout is None or self.timeout_multiplier == 1.0:
            return self.attempt_timeout
        cap = self.max_attempt_timeout if self.max_attempt_timeout is not None else float("inf")
        return min(cap, _backoff(self.attempt_timeout, self.timeout_multiplier, cap, attempt))

    @property
    def timeout_grows(self) -> bool:
        return self.attempt_timeout is not None and self.timeout_multiplier != 1.0


class ErrorRetry(Definition):
    """How one error kind is retried, under a step's `retry.by_error`; what it leaves out is the step's."""

    max_attempts: int | None = Field(None, ge=1, le=1000)  # attempts failing with this kind before it stops
    initial_delay: Duration | None = None
    multiplier: float | None = Field(None, ge=1.0, le=100.0)
    max_delay: Duration | None = None
    jitter: Jitter | None = None


class RetryPolicy(BackoffPolicy):
    """How a step's action is retried. With `by_error`, each error kind named keeps its own count of
    failed attempts and its own delays (429s up to 6 times, timeouts twice); the kinds it does not name
    share `max_attempts` as before."""

    retry_on: frozenset[ErrorKind] = DEFAULT_RETRYABLE
    by_error: dict[ErrorKind, ErrorRetry] = Field(default_factory=dict)
    deadline: PositiveDuration | None = None

    @field_validator("by_error")
    @classmethod
    def _retryable_kinds(cls, value: dict[ErrorKind, ErrorRetry]) -> dict[ErrorKind, ErrorRetry]:
        for kind in value:
            if kind not in DEFAULT_RETRYABLE:
                raise ValueError(f"{kind.value} is never retried (a business error or a bug): by_error takes "
                                 f"{', '.join(sorted(k.value for k in DEFAULT_RETRYABLE))}")
        return value

    @property
    def retryable(self) -> frozenset[ErrorKind]:
        """The kinds that earn a retry: `retry_on`, and every kind `by_error` names."""
        return self.retry_on | frozenset(self.by_error)

    def for_kind(self, kind: ErrorKind) -> RetryPolicy:
        """The policy a failure of `kind` is retried under: this one, with what `by_error` says of it."""
        chosen = self.by_error.get(kind)
        if chosen is None:
            return self
        return self._per_kind.setdefault(kind, self.model_copy(
            update={**chosen.model_dump(exclude_none=True), "by_error": {}}))

    @cached_property
    def _per_kind(self) -> dict[ErrorKind, RetryPolicy]:
        return {}


class CompensationPolicy(BackoffPolicy):
    """How a compensation is retried, and how long it may keep trying before it expires."""

    max_attempts: int = Field(10, ge=1, le=1000)
    max_delay: Duration = 30.0
    ttl: Duration = 86400.0


class BulkheadConfig(Definition):
    """A service's bulkhead (resilience4j / Polly): at most `max_concurrent` calls in flight, up to
    `max_queue` more waiting for a slot, each at most `queue_timeout`; a try refused is `bulkhead_full`."""

    max_concurrent: int = Field(ge=1, le=100_000)
    max_queue: int = Field(0, ge=0, le=100_000)
    queue_timeout: Duration = 1.0


class BreakerConfig(Definition):
    """Circuit breaker settings (resilience4j/Polly semantics); defaults follow the resilience tutorial."""

    consecutive_failures: int | None = Field(5, ge=1, le=10_000)
    failure_rate: float | None = Field(None, gt=0, le=1)
    window_size: int = Field(10, ge=1, le=10_000)
    minimum_calls: int = Field(5, ge=1, le=10_000)
    slow_call_duration: PositiveDuration | None = None
    slow_call_rate: float | None = Field(None, gt=0, le=1)
    open_duration: Duration = 60.0
    half_open_probes: int = Field(1, ge=1, le=10_000)
    counts_as_failure: frozenset[ErrorKind] = frozenset(
        {ErrorKind.TRANSIENT, ErrorKind.TIMEOUT, ErrorKind.UNEXPECTED}
    )
    # Outcomes that count neither way (resilience4j's ignored exceptions): a 429 says the service is up
    # and asks the caller to slow down; it must not open the breaker on everyone.
    ignore: frozenset[ErrorKind] = frozenset({ErrorKind.RATE_LIMITED})
