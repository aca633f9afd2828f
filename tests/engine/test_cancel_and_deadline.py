"""An operator's cancel and a saga's deadline stop a saga going forward: the step under way is abandoned (a
call in flight may have done its work, so it is undone; a step waiting for a retry did nothing), what the
saga did is compensated newest first, nothing twice, and it ends `cancelled` (or, past its deadline,
`compensated`)."""

from __future__ import annotations

import asyncio

import pytest

from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind
from sagatui.model.events import EventKind
from sagatui.model.payloads import SagaStopping, StepFailed
from sagatui.model.status import SagaStatus
from tests.engine.harness import ORDER, Hang, Rig, rig, transient

pytestmark = pytest.mark.asyncio

NOT_GOING_FORWARD = "saga S-0001 is not going forward (only a running saga can be cancelled)"

SLOW_RETRIES = {"max_attempts": 3, "initial_delay": 5}
PATIENT = SagaDef.model_validate({"name": "order", "steps": [
    {**step.model_dump(include={"name", "action", "compensation"}, exclude_none=True), "retry": SLOW_RETRIES}
    for step in ORDER.all_steps()]})


async def _run(r: Rig, definition: SagaDef = PATIENT, cancel_at: float | None = None, saga_id: str = "S-0001"):
    if cancel_at is not None:
        r.clock.call_later(cancel_at, lambda: r.engine.cancel(saga_id, "customer called"))
    return await r.engine.run(definition.name, saga_id, {})


async def test_cancel_mid_call_undoes_the_call_in_flight_and_what_came_before() -> None:
    async with rig(ORDER) as r:
        r.services.script("shipping.create_shipment", Hang(10))
        saga = await _run(r, cancel_at=2)
        assert saga.status is SagaStatus.CANCELLED
        assert r.compensated_steps() == ["create_shipment", "charge_payment", "reserve_inventory"]
        assert "email.send" not in r.services.actions()
        requested = r.events(EventKind.SAGA_CANCEL_REQUESTED)
        assert [(e.time, e.payload_as(SagaStopping).note) for e in requested] == [(2.0, "customer called")]
        failed = r.events(EventKind.STEP_FAILED)
        assert [(e.step, e.time, e.payload_as(StepFailed).may_have_effect, e.data.get("optional")) for e in failed] \
            == [("create_shipment", 2.0, True, False)]
        assert failed[0].message == "cancelled by an operator"
        ended = r.events(EventKind.SAGA_CANCELLED)
        assert len(ended) == 1 and ended[0].data["status"] == "cancelled"
        # nothing twice: one call per forward step and per undo
        assert r.services.actions().count("payment.refund") == 1
        assert r.services.actions().count("shipping.create_shipment") == 1


async def test_cancel_while_waiting_for_a_retry_undoes_only_what_took_effect() -> None:
    async with rig(PATIENT) as r:
        r.services.script("shipping.create_shipment", transient())  # then a backoff of 5s
        saga = await _run(r, cancel_at=0.5)
        assert saga.status is SagaStatus.CANCELLED
        assert r.compensated_steps() == ["charge_payment", "reserve_inventory"]  # the shipment never took effect
        assert r.services.actions().count("shipping.create_shipment") == 1  # no retry after the cancel
        assert not r.events(EventKind.COMPENSATION_SKIPPED) or all(
            e.step != "create_shipment" for e in r.events(EventKind.COMPENSATION_SKIPPED))


async def test_cancel_before_any_effect_ends_cancelled_with_nothing_to_undo() -> None:
    async with rig(PATIENT) as r:
        r.services.script("inventory.reserve", transient(), transient())
        saga = await _run(r, cancel_at=0.5)
        assert saga.status is SagaStatus.CANCELLED
        assert r.compensated_steps() == []
        assert [e.kind for e in r.events() if e.kind.family == "saga"][-1] is EventKind.SAGA_CANCELLED


async def test_only_a_saga_going_forward_can_be_cancelled() -> None:
    async with rig(ORDER) as r:
        assert r.engine.cancel_problem("S-0001") == NOT_GOING_FORWARD
        saga = await _run(r)
        assert saga.status is SagaStatus.COMPLETED
        assert r.engine.cancel("S-0001") is False
        assert not r.events(EventKind.SAGA_CANCEL_REQUESTED)


async def test_a_cancel_during_its_own_rollback_changes_nothing() -> None:
    async with rig(ORDER) as r:
        r.services.script("shipping.create_shipment", *[transient()] * 3)
        r.services.script("payment.refund", Hang(5))
        problems: list[str | None] = []
        r.clock.call_later(2, lambda: problems.append(r.engine.cancel_problem("S-0001")))
        saga = await _run(r)
        assert saga.status is SagaStatus.COMPENSATED
        assert problems == [NOT_GOING_FORWARD]  # compensating: not going forward


async def test_cancel_stops_every_member_of_a_parallel_group() -> None:
    trip = SagaDef.model_validate({"name": "trip", "steps": [
        {"name": "pay", "action": "payment.charge", "compensation": "payment.refund"},
        {"name": "book", "parallel": [
            {"name": "flight", "action": "flights.book", "compensation": "flights.cancel"},
            {"name": "hotel", "action": "hotels.book", "compensation": "hotels.cancel", "retry": SLOW_RETRIES},
        ]},
    ]})
    async with rig(trip) as r:
        r.services.script("flights.book", Hang(10))
        r.services.script("hotels.book", transient())
        saga = await _run(r, trip, cancel_at=0.5)
        assert saga.status is SagaStatus.CANCELLED
        # the flight's call was in flight: undone; the hotel waited for a retry: nothing to undo
        assert r.compensated_steps() == ["flight", "pay"]
        assert r.services.actions().count("hotels.book") == 1


async def test_a_deadline_abandons_the_step_under_way_as_a_timeout_and_compensates() -> None:
    timed = ORDER.model_copy(update={"name": "timed", "deadline": 5.0})
    async with rig(timed) as r:
        r.services.script("shipping.create_shipment", Hang(30))
        saga = await r.engine.run("timed", "S-0001", {})
        assert saga.status is SagaStatus.COMPENSATED
        passed = r.events(EventKind.SAGA_DEADLINE_PASSED)
        assert [(e.time, e.payload_as(SagaStopping).deadline) for e in passed] == [(5.0, 5.0)]
        failed = r.events(EventKind.STEP_FAILED)
        assert [(e.step, e.time, e.error_kind, e.payload_as(StepFailed).may_have_effect) for e in failed] == [
            ("create_shipment", 5.0, ErrorKind.TIMEOUT, True)]
        assert failed[0].message == "the saga's deadline (5s) passed"
        assert r.compensated_steps() == ["create_shipment", "charge_payment", "reserve_inventory"]
        assert r.events(EventKind.SAGA_COMPENSATED)[0].step == "create_shipment"


async def test_a_deadline_during_a_backoff_stops_the_retries() -> None:
    timed = PATIENT.model_copy(update={"name": "timed", "deadline": 2.5})
    async with rig(timed) as r:
        r.services.script("payment.charge", *[transient()] * 10)
        saga = await r.engine.run("timed", "S-0001", {})
        assert saga.status is SagaStatus.COMPENSATED
        assert r.events(EventKind.SAGA_DEADLINE_PASSED)[0].time == 2.5
        assert r.compensated_steps() == ["reserve_inventory"]  # the charge never went through


async def test_a_saga_that_ends_before_its_deadline_leaves_no_timer() -> None:
    timed = ORDER.model_copy(update={"name": "timed", "deadline": 60.0})
    async with rig(timed) as r:
        saga = await r.engine.run("timed", "S-0001", {})
        assert saga.status is SagaStatus.COMPLETED
        assert r.clock.next_due() is None
        assert not r.events(EventKind.SAGA_DEADLINE_PASSED)


async def test_a_shutdown_during_a_cancel_still_stops_the_saga() -> None:
    """A shutdown cancel that lands with the operator's cancel is not swallowed: the task ends cancelled."""
    async with rig(ORDER) as r:
        r.services.script("shipping.create_shipment", Hang(10))
        task = asyncio.ensure_future(r.engine.run("order", "S-0001", {}))

        def both() -> None:
            r.engine.cancel("S-0001")
            task.cancel()

        r.clock.call_later(2, both)
        with pytest.raises(asyncio.CancelledError):
            await task
