"""A parallel group whose member fails while another cancel of a sibling lands in the same loop iteration.

Two `Task.cancel()` calls before the task runs again keep one cancel message, the first: a group that
told a sibling's failure from a shutdown by the message took the sibling for shut down, and the effect
its call in flight may have had was never compensated (issue 12)."""

import asyncio
from typing import Any

from sagatui.model.calls import Call
from sagatui.model.definitions import SagaDef
from sagatui.model.status import SagaStatus, StepStatus
from tests.engine.harness import Hang, permanent, rig

TRIP = SagaDef.model_validate({"name": "trip", "steps": [
    {"name": "pay", "action": "payment.charge", "compensation": "payment.refund"},
    {"name": "book", "on_failure": "cancel", "parallel": [
        {"name": "flight", "action": "flights.book", "compensation": "flights.cancel"},
        {"name": "hotel", "action": "hotels.book", "compensation": "hotels.cancel"},
    ]},
]})


async def test_a_sibling_cancelled_twice_in_one_iteration_is_still_compensated():
    async with rig(TRIP) as r:
        r.services.script("flights.book", Hang(10))  # in flight when the hotel fails
        scripted = r.services.invoke
        flight: list[asyncio.Task[Any]] = []

        async def invoke(call: Call) -> dict[str, Any]:
            if call.operation == "book" and call.service == "flights":
                task = asyncio.current_task()
                assert task is not None
                flight.append(task)
            elif call.operation == "book" and call.service == "hotels":
                # Two iterations on, the group cancels its members; this cancel lands first in that
                # iteration (as an attempt timeout due at that moment would), so its empty message wins.
                loop = asyncio.get_running_loop()
                loop.call_soon(lambda: loop.call_soon(flight[0].cancel))
                raise permanent("no rooms")
            return await scripted(call)

        r.services.invoke = invoke  # type: ignore[method-assign]
        saga = await r.engine.run("trip", "S1", {})
    assert flight and flight[0].cancelling() >= 2  # both cancels reached the flight's task
    assert saga.steps["flight"].status is StepStatus.COMPENSATED  # its booking may have been made
    assert "flights.cancel" in r.services.actions()
    assert saga.status is SagaStatus.COMPENSATED


async def test_a_shutdown_stops_a_cancel_groups_members_where_they_stand():
    async with rig(TRIP) as r:
        r.services.script("flights.book", Hang(5))
        r.services.script("hotels.book", Hang(5))
        saga_task = asyncio.ensure_future(r.engine.run("trip", "S1", {}))
        await r.clock.sleep(1)
        saga_task.cancel()  # as an interrupted run cancels its sagas
        await asyncio.gather(saga_task, return_exceptions=True)
        stopped_at = len(r.sink.events)
        await r.clock.sleep(10)
    assert r.sink.events[stopped_at:] == []  # no member went on after its saga stopped
    assert [r.services.actions().count(action) for action in ("flights.book", "hotels.book")] == [1, 1]
    assert r.compensated_steps() == []  # left for resume, not rolled back
