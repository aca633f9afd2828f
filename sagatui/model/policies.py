"""Resilience policies a pack gives its steps and services: how a step's action is retried (per error
kind if it says so, each attempt's timeout growing if it says so), how a compensation is retried and
for how long, and circuit breakers. Data only; sagatui.engine.retry turns them into tenacity's strategies."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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


class RetryPolicy(Definition):
    """How a step's action is retried. Delays grow by `multiplier` from `initial_delay` up to `max_delay`."""

    max_attempts: int = Field(3, ge=1, le=1000)
    initial_delay: Duration = 0.1
    multiplier: float = Field(2.0, ge=1.0, le=100.0)
    max_delay: Duration = 10.0
    jitter: Literal["none", "full", "equal"] = "none"
    retry_on: frozenset[ErrorKind] = DEFAULT_RETRYABLE
    # A hang must not hold a saga for hours by default: each attempt gets this long (null: no limit).
    attempt_timeout: PositiveDuration | None = DEFAULT_ATTEMPT_TIMEOUT
    deadline: PositiveDuration | None = None

    def backoff(self, retry_number: int) -> float:
        """The un-jittered delay before retry `retry_number` (1 = the first retry)."""
        return _backoff(self.initial_delay, self.multiplier, self.max_delay, retry_number)


class CompensationPolicy(Definition):
    """How a compensation is retried, and how long it may keep trying before it expires."""

    max_attempts: int = Field(10, ge=1, le=1000)
    initial_delay: Duration = 0.1
    multiplier: float = Field(2.0, ge=1.0, le=100.0)
    max_delay: Duration = 30.0
    jitter: Literal["none", "full", "equal"] = "none"
    attempt_timeout: PositiveDuration | None = DEFAULT_ATTEMPT_TIMEOUT  # the orra reference's 30 s
    ttl: Duration = 86400.0

    def backoff(self, retry_number: int) -> float:
        return _backoff(self.initial_delay, self.multiplier, self.max_delay, retry_number)


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
