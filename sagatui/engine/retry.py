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
from collections import Counter
from collections.abc import Callable

from tenacity import RetryCallState, Retrying, after_nothing, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from sagatui.engine.clock import VirtualClock
from sagatui.model.errors import ErrorKind, ServiceError
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


RetryNumber = Callable[[RetryCallState], int]


def _attempt_number(retry_state: RetryCallState) -> int:
    return retry_state.attempt_number


class PolicyBackoff(wait_base):
    """`share` of the policy's un-jittered backoff before each retry: tenacity's `wait_exponential`, with
    the policy's `backoff` kept the one definition of it (the delays recorded in sessions follow it).
    `number` says which retry this is (the attempt number; for a per-kind policy, that kind's count)."""

    def __init__(self, policy: Backoff, share: float = 1.0, number: RetryNumber = _attempt_number) -> None:
        self.policy = policy
        self.share = share
        self.number = number

    def __call__(self, retry_state: RetryCallState) -> float:
        return self.policy.backoff(self.number(retry_state)) * self.share


class DecorrelatedJitter(wait_base):
    """AWS's decorrelated jitter: each delay drawn between the policy's initial delay and three times the
    one before, capped at its max delay (one per call: it keeps the delay before)."""

    def __init__(self, policy: Backoff, rng: random.Random) -> None:
        self.policy = policy
        self.rng = rng
        self.previous = policy.initial_delay

    def __call__(self, retry_state: RetryCallState) -> float:
        low = self.policy.initial_delay
        self.previous = min(self.policy.max_delay, self.rng.uniform(low, max(low, self.previous * 3)))
        return self.previous


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


def policy_wait(policy: Backoff, rng: random.Random | None, number: RetryNumber = _attempt_number) -> wait_base:
    """The wait before each retry: the backoff with the policy's jitter (model.policies.Jitter), never
    under a retry-after hint."""
    base = PolicyBackoff(policy, number=number)
    if policy.jitter == "none" or rng is None:
        return AtLeastRetryAfter(base)
    if policy.jitter == "full":
        return AtLeastRetryAfter(SeededJitter(base, rng))
    if policy.jitter == "additive":
        return AtLeastRetryAfter(base + SeededJitter(PolicyBackoff(policy, policy.jitter_factor, number), rng))
    if policy.jitter == "decorrelated":
        return AtLeastRetryAfter(DecorrelatedJitter(policy, rng))
    half = PolicyBackoff(policy, share=0.5, number=number)
    return AtLeastRetryAfter(half + SeededJitter(half, rng))


class KindBudgets:
    """A retry policy with `by_error`: each error kind it names keeps its own count of failed attempts,
    its own budget and delays; the kinds it does not name share the policy's own. Counted after each
    failed attempt (tenacity's `after`), read by the wait and the stop that follow it."""

    def __init__(self, policy: RetryPolicy, rng: random.Random | None) -> None:
        self.policy = policy
        self.rng = rng
        self.failed: Counter[ErrorKind | None] = Counter()
        self._waits: dict[ErrorKind | None, wait_base] = {}

    def _pool(self, retry_state: RetryCallState) -> ErrorKind | None:
        error = retry_state.outcome.exception() if retry_state.outcome is not None else None
        kind = error.kind if isinstance(error, ServiceError) else None
        return kind if kind in self.policy.by_error else None

    def count(self, retry_state: RetryCallState) -> None:
        self.failed[self._pool(retry_state)] += 1

    def stop(self, retry_state: RetryCallState) -> bool:
        pool = self._pool(retry_state)
        rule = self.policy if pool is None else self.policy.for_kind(pool)
        return self.failed[pool] >= rule.max_attempts

    def wait(self, retry_state: RetryCallState) -> float:
        pool = self._pool(retry_state)
        wait = self._waits.get(pool)
        if wait is None:
            rule = self.policy if pool is None else self.policy.for_kind(pool)
            wait = self._waits[pool] = policy_wait(rule, self.rng, number=lambda _: self.failed[pool])
        return wait(retry_state)


class _KindStop(stop_base):
    def __init__(self, budgets: KindBudgets) -> None:
        self.budgets = budgets

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.budgets.stop(retry_state)


class _KindWait(wait_base):
    def __init__(self, budgets: KindBudgets) -> None:
        self.budgets = budgets

    def __call__(self, retry_state: RetryCallState) -> float:
        return self.budgets.wait(retry_state)


class DeferredSleep:
    """Tenacity's `sleep` for a loop on the run's clock: it keeps the delay tenacity chose, and
    `await sleep.wait_out(clock)` at the top of each attempt waits it out (nothing before the first)."""

    def __init__(self) -> None:
        self._delay: float | None = None

    def __call__(self, delay: float) -> None:
        self._delay = delay

    async def wait_out(self, clock: VirtualClock, spent: float = 0.0) -> None:
        """Wait what is left of the delay once `spent` seconds of it went to something else (a remediation)."""
        if self._delay is not None:
            delay, self._delay = self._delay - spent, None
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
    budgets = KindBudgets(policy, rng) if isinstance(policy, RetryPolicy) and policy.by_error else None
    stop: stop_base = stop_after_attempt(policy.max_attempts) if budgets is None else _KindStop(budgets)
    wait: wait_base = policy_wait(policy, rng) if budgets is None else _KindWait(budgets)
    if deadline_at is not None:
        stop = stop | ClockDeadline(clock, deadline_at)

    def report(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        before_sleep(state.attempt_number + 1, state.upcoming_sleep, error)

    return Retrying(
        sleep=sleep,
        stop=stop,
        wait=wait,
        retry=retry_if_exception(retryable),
        after=budgets.count if budgets is not None else after_nothing,
        before_sleep=report,
        reraise=True,
    )

