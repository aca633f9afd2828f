"""Resilience strategies of a retry policy (issue 16 items 1-3): per-error-kind budgets and delays
(`by_error`), attempt timeouts that grow per attempt, and additive and decorrelated jitter, each with
exact attempt counts and clock times, seeded."""

import pytest
from pydantic import ValidationError

from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.payloads import RetryScheduled
from sagatui.model.policies import RetryPolicy
from tests.engine.harness import Hang, rig, transient


def limited(after: float = 2.0) -> ServiceError:
    return ServiceError(ErrorKind.RATE_LIMITED, "429 too many requests", retry_after=after)


def timed_out() -> ServiceError:
    return ServiceError(ErrorKind.TIMEOUT, "no answer within 30s")


def charge(**retry: object) -> SagaDef:
    return SagaDef.model_validate({"name": "pay", "steps": [
        {"name": "charge", "action": "payment.charge", "retry": retry}]})


BY_ERROR = {"max_attempts": 3, "initial_delay": "100ms", "by_error": {
    "rate_limited": {"max_attempts": 6, "initial_delay": "1s", "multiplier": 1},
    "timeout": {"max_attempts": 2},
}}


def retries(r) -> list[tuple[float, float, str | None]]:
    return [(event.time, event.payload_as(RetryScheduled).delay, event.payload_as(RetryScheduled).policy)
            for event in r.events(EventKind.RETRY_SCHEDULED)]


async def test_429s_have_their_own_budget_and_delays_and_retry_after_is_honoured():
    async with rig(charge(**BY_ERROR)) as r:
        r.services.script("payment.charge", limited(), limited(0.5), limited(), limited(), limited())
        saga = await r.engine.run("pay", "S1", {})
    assert saga.status.value == "completed"  # the sixth attempt went through: past max_attempts 3
    assert len(r.events(EventKind.ATTEMPT_STARTED)) == 6
    assert [delay for _, delay, _ in retries(r)] == [2.0, 1.0, 2.0, 2.0, 2.0]  # 1s each, or the hint when longer
    assert {policy for _, _, policy in retries(r)} == {ErrorKind.RATE_LIMITED}


async def test_a_kind_stops_at_its_own_budget():
    async with rig(charge(**BY_ERROR)) as r:
        r.services.script("payment.charge", timed_out(), timed_out(), transient())
        saga = await r.engine.run("pay", "S1", {})
    assert saga.status.value == "failed"
    assert len(r.events(EventKind.ATTEMPT_STARTED)) == 2  # timeouts: twice, though max_attempts is 3


async def test_kinds_it_does_not_name_share_max_attempts_and_each_kind_counts_apart():
    async with rig(charge(**BY_ERROR)) as r:
        r.services.script("payment.charge", transient(), limited(), transient(), limited(), transient())
        saga = await r.engine.run("pay", "S1", {})
    assert saga.status.value == "failed"  # the third 503 ends it: two 429s in between did not count
    assert len(r.events(EventKind.ATTEMPT_STARTED)) == 5
    assert [(delay, policy) for _, delay, policy in retries(r)] == [
        (0.1, None), (2.0, ErrorKind.RATE_LIMITED), (0.2, None), (2.0, ErrorKind.RATE_LIMITED)]


async def test_without_by_error_every_retryable_kind_shares_max_attempts_as_before():
    async with rig(charge(max_attempts=3, initial_delay="100ms")) as r:
        r.services.script("payment.charge", transient(), limited(0.1), transient())
        await r.engine.run("pay", "S1", {})
    assert len(r.events(EventKind.ATTEMPT_STARTED)) == 3
    assert all("policy" not in event.data for event in r.events(EventKind.RETRY_SCHEDULED))


async def test_an_attempt_timeout_grows_per_attempt_up_to_its_cap():
    saga = charge(max_attempts=4, initial_delay="1s", multiplier=1, attempt_timeout="30s", timeout_multiplier=2,
                  max_attempt_timeout="100s")
    async with rig(saga) as r:
        r.services.script("payment.charge", Hang(1000), Hang(1000), Hang(1000), Hang(1000))
        await r.engine.run("pay", "S1", {})
    failed_at = [event.time for event in r.events(EventKind.ATTEMPT_FAILED)]
    assert failed_at == [30.0, 31.0 + 60.0, 92.0 + 100.0, 193.0 + 100.0]  # 30 s, 60 s, then the 100 s cap
    assert [event.data["timeout"] for event in r.events(EventKind.ATTEMPT_STARTED)] == [30.0, 60.0, 100.0, 100.0]


async def test_a_fixed_timeout_is_not_told_on_each_attempt():
    async with rig(charge(max_attempts=2, attempt_timeout="5s")) as r:
        r.services.script("payment.charge", Hang(10), Hang(10))
        await r.engine.run("pay", "S1", {})
    assert all(event.data == {} for event in r.events(EventKind.ATTEMPT_STARTED))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_additive_jitter_adds_up_to_its_factor_of_the_delay(seed):
    saga = charge(max_attempts=5, initial_delay="1s", multiplier=2, max_delay="60s", jitter="additive",
                  jitter_factor=0.5)
    async with rig(saga, seed=seed) as r:
        r.services.script("payment.charge", *[transient()] * 4)
        await r.engine.run("pay", "S1", {})
    delays = [delay for _, delay, _ in retries(r)]
    for number, delay in enumerate(delays, start=1):
        base = 2.0 ** (number - 1)
        assert base <= delay <= 1.5 * base, (number, delay)
    async with rig(saga, seed=seed) as again:
        again.services.script("payment.charge", *[transient()] * 4)
        await again.engine.run("pay", "S1", {})
    assert [delay for _, delay, _ in retries(again)] == delays  # seeded


async def test_decorrelated_jitter_stays_between_the_initial_delay_and_three_times_the_last():
    saga = charge(max_attempts=8, initial_delay="1s", max_delay="20s", jitter="decorrelated")
    async with rig(saga, seed=5) as r:
        r.services.script("payment.charge", *[transient()] * 7)
        await r.engine.run("pay", "S1", {})
    delays = [delay for _, delay, _ in retries(r)]
    previous = 1.0
    for delay in delays:
        assert 1.0 <= delay <= min(20.0, 3 * previous), (delay, previous)
        previous = delay
    assert len(set(delays)) > 3 and max(delays) == 20.0  # drawn, then held at the cap


def test_by_error_takes_only_kinds_that_are_retried():
    with pytest.raises(ValidationError, match="permanent is never retried"):
        RetryPolicy.model_validate({"by_error": {"permanent": {"max_attempts": 2}}})
    assert RetryPolicy.model_validate({"retry_on": ["transient"], "by_error": {"timeout": {}}}).retryable == {
        ErrorKind.TRANSIENT, ErrorKind.TIMEOUT}
