"""The virtual clock: jumps to the next timer at quiet moments, pauses, steps."""

import asyncio

from sagatui.engine.clock import VirtualClock


async def test_a_paused_clock_steps_one_timer_at_a_time():
    clock = VirtualClock()
    clock.start()
    clock.set_paused(True)
    woke: list[float] = []

    async def sleeper(delay: float) -> None:
        await clock.sleep(delay)
        woke.append(clock.now())

    tasks = [asyncio.ensure_future(sleeper(d)) for d in (1.0, 2.0, 5.0)]
    await clock.wait_idle()
    assert woke == [] and clock.now() == 0.0
    clock.step()
    await clock.wait_idle()
    assert woke == [1.0]
    clock.step()
    await clock.wait_idle()
    assert woke == [1.0, 2.0]
    clock.set_paused(False)
    await asyncio.gather(*tasks)
    assert woke == [1.0, 2.0, 5.0]
    await clock.stop()


async def test_timeouts_run_on_clock_time():
    clock = VirtualClock()
    clock.start()
    try:
        async with clock.timeout(2):
            await clock.sleep(100)
    except TimeoutError:
        assert clock.now() == 2.0
    else:
        raise AssertionError("the timeout did not fire")
    await clock.stop()


async def test_a_loop_whose_quiet_moments_cannot_be_seen_is_refused(monkeypatch):
    """Under another loop (uvloop) the clock would guess at quiet moments and the same seed could give
    another stream: it says so instead."""
    import types

    import pytest

    from sagatui.engine import clock as clock_module

    opaque = types.SimpleNamespace()  # a loop without asyncio's ready queue
    monkeypatch.setattr(clock_module.asyncio, "get_running_loop", lambda: opaque)
    with pytest.raises(clock_module.UnsupportedEventLoop, match="standard event loop"):
        clock_module.VirtualClock().start()


async def test_the_standard_loop_is_watched():
    from sagatui.engine.clock import VirtualClock

    clock = VirtualClock()
    clock.start()
    await clock.sleep(5)
    assert clock.now() == 5
    await clock.stop()


async def test_cancelled_timers_are_dropped_from_the_heap_and_the_rest_still_fire_in_order():
    from sagatui.engine.clock import VirtualClock

    clock = VirtualClock()
    clock.start()
    fired: list[int] = []
    kept = [clock.call_later(float(n), lambda n=n: fired.append(n)) for n in range(1, 6)]
    for _ in range(2000):
        clock.call_later(30.0, lambda: fired.append(-1)).cancel()
    assert len(clock._timers) < 1000  # compacted, not 2,005 entries
    kept[2].cancel()
    await clock.sleep(40)
    assert fired == [1, 2, 4, 5]
    await clock.stop()


async def test_call_at_fires_at_the_very_time_given_and_a_past_time_now():
    clock = VirtualClock(start=0.3)
    clock.start()
    fired: list[tuple[str, float]] = []
    clock.call_at(0.7000000000000001, lambda: fired.append(("due", clock.now())))
    clock.call_at(0.1, lambda: fired.append(("past", clock.now())))
    await clock.sleep(1)
    await clock.stop()
    assert fired == [("past", 0.3), ("due", 0.7000000000000001)]  # not 0.3 + (0.7... - 0.3)
