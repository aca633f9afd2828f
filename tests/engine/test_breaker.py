"""Circuit breaker transitions (resilience4j/Polly semantics) on the virtual clock."""

import time

import pytest

from sagatui.engine.breaker import CircuitBreaker
from sagatui.engine.clock import VirtualClock
from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.policies import BreakerConfig
from sagatui.model.status import BreakerState
from tests.engine.harness import rig, transient

T = ErrorKind.TRANSIENT


@pytest.fixture
async def clock():
    clock = VirtualClock()
    clock.start()
    yield clock
    await clock.stop()


def make(clock, **config) -> tuple[CircuitBreaker, list]:
    seen = []
    return CircuitBreaker("payment", BreakerConfig(**config), clock, seen.append), seen


async def test_defaults_follow_the_tutorial(clock):
    breaker, _ = make(clock)
    assert breaker.config.consecutive_failures == 5
    assert breaker.config.open_duration == 60
    assert breaker.config.half_open_probes == 1


async def test_opens_after_consecutive_failures_and_rejects_without_calling(clock):
    breaker, seen = make(clock)
    for _ in range(4):
        breaker.admit()
        breaker.record(T, 0.0)
    assert breaker.state is BreakerState.CLOSED
    breaker.admit()
    breaker.record(T, 0.0)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(ServiceError) as rejected:
        breaker.admit()
    assert rejected.value.kind is ErrorKind.BREAKER_OPEN
    assert [(t.old, t.new) for t in seen] == [(BreakerState.CLOSED, BreakerState.OPEN)]


async def test_a_success_resets_the_consecutive_count(clock):
    breaker, _ = make(clock)
    for kind in [T, T, T, T, None, T, T, T, T]:
        breaker.admit()
        breaker.record(kind, 0.0)
    assert breaker.state is BreakerState.CLOSED


async def test_permanent_business_errors_do_not_count(clock):
    breaker, _ = make(clock)
    for _ in range(10):
        breaker.admit()
        breaker.record(ErrorKind.PERMANENT, 0.0)
    assert breaker.state is BreakerState.CLOSED


async def test_half_open_after_cooldown_then_probe_success_closes(clock):
    breaker, seen = make(clock, consecutive_failures=2, open_duration=60)
    for _ in range(2):
        breaker.admit()
        breaker.record(T, 0.0)
    await clock.sleep(59.9)
    assert breaker.state is BreakerState.OPEN
    await clock.sleep(0.1)
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.admit()  # the one probe
    with pytest.raises(ServiceError):
        breaker.admit()  # no second probe while the first is out
    breaker.record(None, 0.0)
    assert breaker.state is BreakerState.CLOSED
    assert [t.new for t in seen] == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


async def test_probe_failure_opens_again_for_another_cooldown(clock):
    breaker, seen = make(clock, consecutive_failures=1, open_duration=10)
    breaker.admit()
    breaker.record(T, 0.0)
    await clock.sleep(10)
    breaker.admit()
    breaker.record(T, 0.0)
    assert breaker.state is BreakerState.OPEN
    assert breaker.half_open_at == clock.now() + 10
    assert [t.new for t in seen] == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.OPEN]
    assert breaker.trips == 2


async def test_several_probes_must_all_succeed(clock):
    breaker, _ = make(clock, consecutive_failures=1, open_duration=1, half_open_probes=3)
    breaker.admit()
    breaker.record(T, 0.0)
    await clock.sleep(1)
    for _ in range(3):
        breaker.admit()
    breaker.record(None, 0.0)
    breaker.record(None, 0.0)
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.record(None, 0.0)
    assert breaker.state is BreakerState.CLOSED


async def test_failure_rate_over_window_after_minimum_calls(clock):
    breaker, seen = make(clock, consecutive_failures=None, failure_rate=0.5, window_size=10, minimum_calls=6)
    for kind in [T, None, T, None, T]:  # 60% but only 5 calls
        breaker.admit()
        breaker.record(kind, 0.0)
    assert breaker.state is BreakerState.CLOSED
    breaker.admit()
    breaker.record(None, 0.0)  # 3 of 6 = 50%
    assert breaker.state is BreakerState.OPEN
    assert "failure rate 50%" in seen[-1].reason


async def test_slow_calls_trip_when_configured(clock):
    breaker, _ = make(clock, consecutive_failures=None, slow_call_duration=2, slow_call_rate=0.8,
                      minimum_calls=5)
    for _ in range(5):
        breaker.admit()
        breaker.record(None, 3.0)
    assert breaker.state is BreakerState.OPEN


async def test_isolate_and_reset(clock):
    breaker, seen = make(clock)
    breaker.isolate()
    await clock.sleep(3600)
    with pytest.raises(ServiceError):
        breaker.admit()
    breaker.reset()
    breaker.admit()
    assert [t.new for t in seen] == [BreakerState.ISOLATED, BreakerState.CLOSED]


async def test_engine_open_breaker_rejects_calls_then_recovers_after_cooldown():
    saga_def = SagaDef.model_validate({"name": "pay", "steps": [
        {"name": "charge", "action": "payment.charge", "retry": {"max_attempts": 1}}]})
    started = time.perf_counter()
    async with rig(saga_def, breakers={"payment": BreakerConfig()}) as r:
        r.services.script("payment.charge", *[transient()] * 5)
        for n in range(5):
            await r.engine.run("pay", f"fail-{n}", {})
        calls_before = len(r.services.calls)
        rejected = await r.engine.run("pay", "rejected", {})
        assert len(r.services.calls) == calls_before  # the service was never called
        assert rejected.steps["charge"].error.kind is ErrorKind.BREAKER_OPEN
        await r.clock.sleep(60)
        probe = await r.engine.run("pay", "probe", {})
    assert probe.status == "completed"
    transitions = [(e.data["from"], e.data["to"]) for e in r.events(EventKind.BREAKER_TRANSITION)]
    assert transitions == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert [e.saga_id for e in r.events(EventKind.BREAKER_REJECTED)] == ["rejected"]
    assert time.perf_counter() - started < 60  # a 60 s cooldown on the virtual clock
