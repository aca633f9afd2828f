"""Each fault profile, on the virtual clock (time jumps; nothing really sleeps)."""

import asyncio

import pytest

from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.faults import ONLINE, FaultProfile
from sagatui.sim.faults import HANG_SECONDS
from tests.sim.conftest import Lab


@pytest.fixture
async def orders(lab: Lab) -> Lab:
    lab.add("orders", "orders")
    return lab


async def outcome(lab: Lab, number: int, **kwargs: object) -> ErrorKind | None:
    """None when the call succeeded, else the kind of error it raised."""
    try:
        await lab.invoke("orders", "create", saga=f"s{number}", **kwargs)  # type: ignore[arg-type]
    except ServiceError as error:
        return error.kind
    return None


async def test_offline_fails_at_once_with_a_503(orders: Lab) -> None:
    orders.directory.set_fault("orders", FaultProfile(mode="offline"))
    with pytest.raises(ServiceError) as raised:
        await orders.invoke("orders", "create")
    assert (raised.value.kind, raised.value.code, orders.clock.now()) == (ErrorKind.TRANSIENT, "503", 0.0)
    assert await orders.rows("orders") == []


async def test_a_profile_targeting_compensations_lets_actions_through(orders: Lab) -> None:
    orders.directory.set_fault("orders", FaultProfile(mode="offline", target="compensations"))
    await orders.invoke("orders", "create")
    with pytest.raises(ServiceError):
        await orders.invoke("orders", "cancel", undo=True)
    orders.directory.set_fault("orders", FaultProfile(mode="offline", target="actions"))
    assert (await orders.invoke("orders", "cancel", undo=True))["outcome"] == "completed"


async def test_degraded_fails_a_seeded_share_split_between_transient_and_permanent(orders: Lab) -> None:
    orders.directory.set_fault("orders", FaultProfile(mode="degraded", error_rate=0.3, permanent_share=0.5))
    kinds = [await outcome(orders, number) for number in range(300)]
    failures = [kind for kind in kinds if kind is not None]
    assert 60 < len(failures) < 120
    assert {ErrorKind.TRANSIENT, ErrorKind.PERMANENT} == set(failures)
    assert 0.3 < failures.count(ErrorKind.PERMANENT) / len(failures) < 0.7
    assert len(await orders.rows("orders")) == kinds.count(None)


async def test_latency_takes_clock_time_within_the_jitter(orders: Lab) -> None:
    orders.directory.set_fault("orders", FaultProfile(mode="latency", latency="2s", latency_jitter="500ms"))
    durations = []
    for number in range(20):
        started = orders.clock.now()
        await orders.invoke("orders", "create", saga=f"s{number}")
        durations.append(orders.clock.now() - started)
    assert all(1.5 <= duration <= 2.5 for duration in durations)
    assert len(set(durations)) > 10


async def test_hang_never_answers_so_the_callers_timeout_fires(orders: Lab) -> None:
    orders.directory.set_fault("orders", FaultProfile(mode="hang"))
    with pytest.raises(TimeoutError):
        async with orders.clock.timeout(5):
            await orders.invoke("orders", "create")
    assert orders.clock.now() == 5.0
    with pytest.raises(ServiceError) as raised:
        await orders.invoke("orders", "create")
    assert raised.value.kind is ErrorKind.TIMEOUT and orders.clock.now() == 5.0 + HANG_SECONDS
    assert await orders.rows("orders") == []


async def test_rate_limit_is_a_token_bucket_with_retry_after(orders: Lab) -> None:
    orders.directory.set_fault("orders", FaultProfile(mode="rate_limit", rate=2, burst=3))
    assert [await outcome(orders, number) for number in range(3)] == [None, None, None]
    with pytest.raises(ServiceError) as raised:
        await orders.invoke("orders", "create", saga="s3")
    assert (raised.value.kind, raised.value.code, raised.value.retry_after) == (ErrorKind.RATE_LIMITED, "429", 0.5)
    await orders.clock.sleep(raised.value.retry_after)
    assert await outcome(orders, 3) is None
    assert await outcome(orders, 4) is ErrorKind.RATE_LIMITED


async def test_flapping_is_online_for_the_duty_share_of_each_period(orders: Lab) -> None:
    await orders.clock.sleep(3)  # the phase starts when the profile is switched on, not at zero
    orders.directory.set_fault("orders", FaultProfile(mode="flapping", period="10s", duty=0.7))
    seen = []
    for number in range(20):
        seen.append((orders.clock.now() - 3, await outcome(orders, number)))
        await orders.clock.sleep(1)
    assert [kind for at, kind in seen if at % 10 < 7] == [None] * 14
    assert [kind for at, kind in seen if at % 10 >= 7] == [ErrorKind.TRANSIENT] * 6


async def test_lost_reply_does_the_work_then_loses_the_answer(orders: Lab) -> None:
    orders.directory.set_fault("orders", FaultProfile(mode="lost_reply", error_rate=1.0))
    with pytest.raises(ServiceError) as raised:
        await orders.invoke("orders", "create")
    assert raised.value.kind is ErrorKind.TIMEOUT and raised.value.code == "reply_lost"
    assert len(await orders.rows("orders")) == 1
    orders.directory.set_fault("orders", ONLINE)
    assert await orders.invoke("orders", "create", attempt=2) == {"order_id": "ORD-000001"}
    assert len(await orders.rows("orders")) == 1
    assert len(await orders.events(EventKind.SERVICE_EFFECT)) == 1


async def test_every_change_is_an_event(orders: Lab) -> None:
    profile = FaultProfile(mode="degraded", error_rate=0.25)
    orders.directory.set_fault("orders", profile, source="scenario")
    [event] = await orders.events(EventKind.FAULT_CHANGED)
    assert (event.service, event.message) == ("orders", "degraded 25%")
    assert event.data == {"profile": profile.model_dump(mode="json"), "previous": "online", "source": "scenario"}
    assert FaultProfile.model_validate(event.data["profile"]) == profile


async def test_revert_after_goes_back_to_the_configured_profile(lab: Lab) -> None:
    configured = FaultProfile(mode="latency", latency="100ms")
    lab.add("orders", "orders", fault=configured)
    lab.directory.start()
    lab.directory.set_fault("orders", FaultProfile(mode="offline", revert_after="30s"))
    await lab.clock.sleep(29.9)
    assert lab.directory.fault("orders").mode == "offline"
    await lab.clock.sleep(0.2)
    assert lab.directory.fault("orders") == configured
    changes = await lab.events(EventKind.FAULT_CHANGED)
    assert [(event.time, event.message, event.data["source"]) for event in changes] == [
        (0.0, "latency 100ms", "pack"), (0.0, "offline", "user"), (30.0, "latency 100ms", "revert")]


async def test_a_change_before_the_revert_cancels_it(orders: Lab) -> None:
    orders.directory.set_fault("orders", FaultProfile(mode="offline", revert_after="10s"))
    await orders.clock.sleep(5)
    orders.directory.set_fault("orders", FaultProfile(mode="hang"))
    await orders.clock.sleep(10)
    assert orders.directory.fault("orders").mode == "hang"


async def test_a_configured_temporary_fault_reverts_to_online(lab: Lab) -> None:
    lab.add("orders", "orders", fault=FaultProfile(mode="offline", revert_after="1m"))
    lab.directory.start()
    await lab.clock.sleep(61)
    assert lab.directory.fault("orders") == ONLINE


async def test_concurrent_calls_during_latency_all_finish_at_the_same_clock_time(orders: Lab) -> None:
    orders.directory.set_fault("orders", FaultProfile(mode="latency", latency="1s"))
    await asyncio.gather(*(orders.invoke("orders", "create", saga=f"s{n}") for n in range(50)))
    assert orders.clock.now() == 1.0
    assert len(await orders.rows("orders")) == 50
