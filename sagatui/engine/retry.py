"""Tenacity retrying on the run's clock: the policy's backoff, seeded jitter, retry-after hints and a
clock-time deadline, as tenacity strategies that combine with its own (`stop_after_attempt(n) |
ClockDeadline(...)`, `PolicyBackoff(...) + SeededJitter(...)`).

Tenacity's own `stop_after_delay` and random waits read the real monotonic clock and the global
`random`; these read our clock and a seeded stream instead, and each call gets a fresh Retrying
(tenacity keeps per-call state on the object).

The loop is tenacity's synchronous `Retrying`, whose `sleep` only records the delay (`DeferredSleep`):
the caller awaits it on the run's clock before the next attempt. Tenacity decides everything as before
(retry, wait, stop, before_sleep, in its order); `AsyncRetrying` would do the same but wraps every
strategy in coroutine checks (`inspect`) on every iteration, a tenth of a fuzz run's time.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from sagatui.engine.clock import VirtualClock
from sagatui.model.errors import ServiceError
from sagatui.model.policies import CompensationPolicy, RetryPolicy

Backoff = RetryPolicy | CompensationPolicy


class ClockDeadline(stop_base):
    """Stop when the next attempt would start at or past `deadline_at` on the run's clock: tenacity's
    `stop_before_delay`, reading the injected clock instead of the real one."""

    def __init__(self, clock: VirtualClock, deadline_at: float) -> None:
        self.clock = clock
        self.deadline_at = deadline_at

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.clock.now() + retry_state.upcoming_sleep >= self.deadline_at


class PolicyBackoff(wait_base):
    """`share` of the policy's un-jittered backoff before each retry: tenacity's `wait_exponential`, with
    the policy's `backoff` kept the one definition of it (the delays recorded in sessions follow it)."""

    def __init__(self, policy: Backoff, share: float = 1.0) -> None:
        self.policy = policy
        self.share = share

    def __call__(self, retry_state: RetryCallState) -> float:
        return self.policy.backoff(retry_state.attempt_number) * self.share


class SeededJitter(wait_base):
    """A wait drawn from 0 up to `span`'s, from a seeded stream: tenacity's `wait_random` without the
    global `random`, its top following another wait (the backoff)."""

    def __init__(self, span: wait_base, rng: random.Random) -> None:
        self.span = span
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        return self.rng.uniform(0, self.span(retry_state))


class AtLeastRetryAfter(wait_base):
    """Another wait, never shorter than the retry-after hint of the error it follows (a 429's)."""

    def __init__(self, wait: wait_base) -> None:
        self.wait = wait

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = self.wait(retry_state)
        error = retry_state.outcome.exception() if retry_state.outcome is not None else None
        if isinstance(error, ServiceError) and error.retry_after is not None:
            return max(delay, error.retry_after)
        return delay


def policy_wait(policy: Backoff, rng: random.Random | None) -> wait_base:
    """The wait before each retry: the backoff with the policy's jitter, none, full (0..base) or equal
    (base/2 + 0..base/2), and never under a retry-after hint."""
    if policy.jitter == "none" or rng is None:
        return AtLeastRetryAfter(PolicyBackoff(policy))
    if policy.jitter == "full":
        return AtLeastRetryAfter(SeededJitter(PolicyBackoff(policy), rng))
    half = PolicyBackoff(policy, share=0.5)
    return AtLeastRetryAfter(half + SeededJitter(half, rng))


class DeferredSleep:
    """Tenacity's `sleep` for a loop on the run's clock: it keeps the delay tenacity chose, and
    `await sleep.wait_out(clock)` at the top of each attempt waits it out (nothing before the first)."""

    def __init__(self) -> None:
        self._delay: float | None = None

    def __call__(self, delay: float) -> None:
        self._delay = delay

    async def wait_out(self, clock: VirtualClock) -> None:
        if self._delay is not None:
            delay, self._delay = self._delay, None
            await clock.sleep(delay)


def make_retrying(
    policy: Backoff,
    clock: VirtualClock,
    *,
    retryable: Callable[[BaseException], bool],
    rng: random.Random | None,
    deadline_at: float | None,
    before_sleep: Callable[[int, float, BaseException | None], None],
    sleep: DeferredSleep,
) -> Retrying:
    """A fresh Retrying for one call. `before_sleep(next_attempt, delay, error)` reports each retry;
    `sleep` is handed each delay, for the caller to wait out."""
    stop: stop_base = stop_after_attempt(policy.max_attempts)
    if deadline_at is not None:
        stop = stop | ClockDeadline(clock, deadline_at)

    def report(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        before_sleep(state.attempt_number + 1, state.upcoming_sleep, error)

    return Retrying(
        sleep=sleep,
        stop=stop,
        wait=policy_wait(policy, rng),
        retry=retry_if_exception(retryable),
        before_sleep=report,
        reraise=True,
    )

