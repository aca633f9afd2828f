"""Tenacity retrying on the run's clock: seeded jitter, retry-after hints, a clock-time deadline.

Tenacity's own `stop_after_delay` and random waits read the real monotonic clock and the global
`random`; here the wait and the stop read our clock and a seeded stream instead, and each call
gets a fresh AsyncRetrying (tenacity keeps per-call state on the object).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from sagatui.engine.clock import VirtualClock
from sagatui.model.definitions import CompensationPolicy, RetryPolicy
from sagatui.model.errors import ErrorKind, ServiceError

Backoff = RetryPolicy | CompensationPolicy


def jittered(base: float, jitter: str, rng: random.Random | None) -> float:
    """Apply the policy's jitter to a backoff delay: none, full (0..base) or equal (base/2..base)."""
    if jitter == "none" or rng is None:
        return base
    if jitter == "full":
        return rng.uniform(0, base)
    return base / 2 + rng.uniform(0, base / 2)


def _error_of(state: RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome is not None else None


def retry_delay(policy: Backoff, retry_number: int, error: BaseException | None, rng: random.Random | None) -> float:
    """The wait before retry `retry_number`; a 429's retry-after hint is never undercut."""
    delay = jittered(policy.backoff(retry_number), policy.jitter, rng)
    if isinstance(error, ServiceError) and error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return delay


def make_retrying(
    policy: Backoff,
    clock: VirtualClock,
    *,
    retryable: Callable[[BaseException], bool],
    rng: random.Random | None,
    deadline_at: float | None,
    before_sleep: Callable[[int, float, BaseException | None], None],
) -> AsyncRetrying:
    """A fresh AsyncRetrying for one call. `before_sleep(next_attempt, delay, error)` reports each retry."""

    def wait(state: RetryCallState) -> float:
        return retry_delay(policy, state.attempt_number, _error_of(state), rng)

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        return deadline_at is not None and clock.now() + (state.upcoming_sleep or 0.0) >= deadline_at

    def report(state: RetryCallState) -> None:
        before_sleep(state.attempt_number + 1, state.upcoming_sleep, _error_of(state))

    sleep: Callable[[float], Awaitable[None]] = clock.sleep
    return AsyncRetrying(
        sleep=sleep,
        stop=stop,
        wait=wait,
        retry=retry_if_exception(retryable),
        before_sleep=report,
        reraise=True,
    )


def is_retryable(retry_on: frozenset[ErrorKind]) -> Callable[[BaseException], bool]:
    def check(error: BaseException) -> bool:
        return isinstance(error, ServiceError) and error.kind in retry_on

    return check
