"""Retry delays follow the policy on the virtual clock: backoff, seeded jitter, retry-after, deadline."""

import itertools
import random
import time

from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt, wait_fixed

from sagatui.engine.clock import VirtualClock
from sagatui.engine.retry import ClockDeadline, PolicyBackoff, SeededJitter, policy_wait
from sagatui.model.definitions import SagaDef
from sagatui.model.events import EventKind
from sagatui.model.policies import CompensationPolicy, RetryPolicy
from sagatui.model.status import SagaStatus
from tests.engine.harness import rig, transient


def one_step(retry: dict) -> SagaDef:
    return SagaDef.model_validate({"name": "one", "steps": [
        {"name": "charge", "action": "payment.charge", "compensation": "payment.refund", "retry": retry}]})


def attempt_times(r) -> list[float]:
    return [e.time for e in r.events(EventKind.ATTEMPT_STARTED)]


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 9) for a, b in itertools.pairwise(times)]


def retry_state(attempt: int, upcoming_sleep: float = 0.0) -> RetryCallState:
    state = RetryCallState(AsyncRetrying(), None, (), {})
    state.attempt_number, state.upcoming_sleep = attempt, upcoming_sleep
    return state


def test_the_clock_deadline_combines_with_tenacitys_own_stops():
    clock = VirtualClock(start=3.0)
    stop = stop_after_attempt(4) | ClockDeadline(clock, deadline_at=5.0)
    assert not stop(retry_state(1, upcoming_sleep=1.5))
    assert stop(retry_state(1, upcoming_sleep=2.0))  # the next attempt would start at the deadline
    assert stop(retry_state(4))


def test_seeded_jitter_combines_with_tenacitys_own_waits_and_repeats_with_its_seed():
    def delays(seed: int) -> list[float]:
        wait = wait_fixed(1) + SeededJitter(wait_fixed(2), random.Random(seed))
        return [wait(retry_state(n)) for n in range(1, 6)]

    assert delays(1) == delays(1) != delays(2)
    assert all(1 <= delay <= 3 for delay in delays(1))


def test_equal_jitter_draws_half_the_backoff_on_top_of_the_other_half_to_the_bit():
    policy = RetryPolicy(max_attempts=6, initial_delay=0.3, multiplier=3, max_delay=5, jitter="equal")
    wait, draws = policy_wait(policy, random.Random(9)), random.Random(9)
    for n in range(1, 6):
        base = policy.backoff(n)
        assert wait(retry_state(n)) == base / 2 + draws.uniform(0, base / 2)
    assert PolicyBackoff(policy)(retry_state(5)) == 5.0


def test_a_backoff_too_large_for_a_float_is_the_max_delay():
    assert RetryPolicy(max_attempts=1000, multiplier=100, max_delay="1m").backoff(999) == 60.0  # 100.0 ** 998
    assert CompensationPolicy(max_attempts=1000, multiplier=100).backoff(999) == 30.0


async def test_exponential_backoff_without_jitter_matches_policy():
    policy = {"max_attempts": 5, "initial_delay": "100ms", "multiplier": 2, "max_delay": "500ms"}
    async with rig(one_step(policy)) as r:
        r.services.script("payment.charge", *[transient()] * 4)
        saga = await r.engine.run("one", "S1", {})
    assert saga.status is SagaStatus.COMPLETED
    assert gaps(attempt_times(r)) == [0.1, 0.2, 0.4, 0.5]
    scheduled = r.events(EventKind.RETRY_SCHEDULED)
    assert [e.attempt for e in scheduled] == [2, 3, 4, 5]
    assert [e.data["delay"] for e in scheduled] == [0.1, 0.2, 0.4, 0.5]


async def test_attempts_never_exceed_max_attempts():
    async with rig(one_step({"max_attempts": 4})) as r:
        r.services.script("payment.charge", *[transient()] * 10)
        await r.engine.run("one", "S1", {})
    assert len(r.services.calls) == 4


async def test_full_jitter_is_seeded_and_within_bounds():
    policy = {"max_attempts": 6, "initial_delay": "1s", "multiplier": 2, "max_delay": "1m", "jitter": "full"}

    async def delays(seed: int) -> list[float]:
        async with rig(one_step(policy), seed=seed) as r:
            r.services.script("payment.charge", *[transient()] * 5)
            await r.engine.run("one", "S1", {})
            return gaps(attempt_times(r))

    first, again, other = await delays(1), await delays(1), await delays(2)
    assert first == again
    assert first != other
    for n, delay in enumerate(first, start=1):
        assert 0 <= delay <= 2 ** (n - 1)


async def test_equal_jitter_keeps_at_least_half_the_backoff():
    policy = {"max_attempts": 6, "initial_delay": "1s", "multiplier": 2, "jitter": "equal"}
    async with rig(one_step(policy)) as r:
        r.services.script("payment.charge", *[transient()] * 5)
        await r.engine.run("one", "S1", {})
    for n, delay in enumerate(gaps(attempt_times(r)), start=1):
        base = min(10.0, 2 ** (n - 1))
        assert base / 2 <= delay <= base


async def test_retry_after_from_a_429_is_honoured():
    async with rig(one_step({"max_attempts": 3, "initial_delay": "100ms"})) as r:
        r.services.script("payment.charge", transient("429 too many requests", retry_after=7.5))
        await r.engine.run("one", "S1", {})
    assert gaps(attempt_times(r)) == [7.5]


async def test_deadline_stops_retrying_on_the_clock():
    policy = {"max_attempts": 50, "initial_delay": "1s", "multiplier": 1, "deadline": "5s"}
    async with rig(one_step(policy)) as r:
        r.services.script("payment.charge", *[transient()] * 50)
        saga = await r.engine.run("one", "S1", {})
    assert saga.status is SagaStatus.FAILED
    assert attempt_times(r)[-1] < 5.0
    assert len(r.services.calls) == 5


async def test_minutes_of_backoff_pass_without_real_waiting():
    policy = {"max_attempts": 8, "initial_delay": "10s", "multiplier": 2, "max_delay": "10m"}
    started = time.perf_counter()
    async with rig(one_step(policy)) as r:
        r.services.script("payment.charge", *[transient()] * 7)
        await r.engine.run("one", "S1", {})
    assert r.clock.now() == 10 + 20 + 40 + 80 + 160 + 320 + 600
    # Twenty minutes of clock time; a real sleep anywhere would take that long, not seconds.
    assert time.perf_counter() - started < 60
