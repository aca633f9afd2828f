"""Bulkheads (issue 16 item 7): at most N calls in flight to a service, a bounded first-come queue with a
queue timeout; a refused try is `bulkhead_full` (its own event, retried by policy, never counted by the
breaker), and no slot is lost when a saga stops while it waits."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sagatui.model.calls import Call
from sagatui.model.definitions import SagaDef
from sagatui.model.errors import ErrorKind
from sagatui.model.events import EventKind
from sagatui.model.policies import BulkheadConfig
from sagatui.model.status import SagaStatus
from tests.engine.harness import Hang, rig, transient


@dataclass
class Counting:
    """Wraps a rig's services: how many calls each service has in flight, and the most it ever had."""

    inner: Any
    in_flight: dict[str, int] = field(default_factory=dict)
    peak: dict[str, int] = field(default_factory=dict)

    async def invoke(self, call: Call) -> dict[str, Any]:
        now = self.in_flight[call.service] = self.in_flight.get(call.service, 0) + 1
        self.peak[call.service] = max(self.peak.get(call.service, 0), now)
        try:
            return await self.inner.invoke(call)
        finally:
            self.in_flight[call.service] -= 1


def booking(retry: dict[str, Any] | None = None, **step: Any) -> SagaDef:
    return SagaDef.model_validate({"name": "booking", "steps": [
        {"name": "hold", "action": "seats.hold", "compensation": "seats.release",
         "retry": retry or {"max_attempts": 1}, **step},
        {"name": "pay", "action": "pay.charge", "compensation": "pay.refund"},
    ]})


async def _run_all(r, count: int, saga: str = "booking") -> list[Any]:
    return await asyncio.gather(*(r.engine.run(saga, f"S-{n:04d}", {}) for n in range(1, count + 1)))


async def test_300_concurrent_sagas_never_have_more_calls_in_flight_than_the_limit():
    retry = {"max_attempts": 50, "initial_delay": "50ms", "max_delay": "200ms", "jitter": "full"}
    limits = {"seats": BulkheadConfig(max_concurrent=5, max_queue=20, queue_timeout=0.3)}
    async with rig(booking(retry), bulkheads=limits) as r:
        counting = Counting(r.services)
        r.engine.attempts.services = counting
        r.services.script("seats.hold", *[Hang(0.05)] * 300)
        sagas = await _run_all(r, 300)
        bulkhead = r.engine.bulkheads["seats"]
    assert counting.peak["seats"] == 5 and bulkhead.peak == 5  # saturated, never above
    assert all(saga.status is SagaStatus.COMPLETED for saga in sagas)
    assert bulkhead.in_flight == 0 and bulkhead.queued == 0  # every slot given back
    rejected = r.events(EventKind.BULKHEAD_REJECTED)
    assert rejected and all(event.error_kind is ErrorKind.BULKHEAD_FULL for event in rejected)
    assert len(rejected) == bulkhead.rejected
    assert r.events(EventKind.BULKHEAD_QUEUED)
    assert not r.events(EventKind.BREAKER_TRANSITION)  # a full bulkhead is not the service failing
    assert all(event.attempt for event in rejected)  # each refusal is an attempt of its step's policy


async def test_the_queue_is_first_come_first_served():
    limits = {"seats": BulkheadConfig(max_concurrent=1, max_queue=5, queue_timeout=10)}
    async with rig(booking(), bulkheads=limits) as r:
        r.services.script("seats.hold", *[Hang(1)] * 4)
        await _run_all(r, 4)
    started = [event.saga_id for event in r.events(EventKind.ATTEMPT_STARTED) if event.step == "hold"]
    assert started == ["S-0001", "S-0002", "S-0003", "S-0004"]
    queued = r.events(EventKind.BULKHEAD_QUEUED)
    assert [(event.saga_id, event.data["ahead"], event.data["in_flight"]) for event in queued] == [
        ("S-0002", 0, 1), ("S-0003", 1, 1), ("S-0004", 2, 1)]
    assert [event.time for event in r.events(EventKind.ATTEMPT_STARTED) if event.step == "hold"] == [0, 1, 2, 3]


async def test_a_full_queue_refuses_at_once_and_the_retry_policy_tries_again():
    limits = {"seats": BulkheadConfig(max_concurrent=1)}  # no queue
    retry = {"max_attempts": 3, "initial_delay": "1s", "multiplier": 1}
    async with rig(booking(retry), bulkheads=limits) as r:
        r.services.script("seats.hold", Hang(1.5), Hang(0.1))
        first, second = await _run_all(r, 2)
    assert first.status is second.status is SagaStatus.COMPLETED
    refused = r.events(EventKind.BULKHEAD_REJECTED)
    assert [(e.saga_id, e.time, e.attempt) for e in refused] == [("S-0002", 0, 1), ("S-0002", 1, 2)]
    assert refused[0].message == "bulkhead seats is full: 1 in flight, 0 waiting"
    assert refused[0].data == {"bulkhead": "seats", "in_flight": 1, "queued": 0}
    scheduled = r.events(EventKind.RETRY_SCHEDULED)
    assert [(e.saga_id, e.error_kind, e.data["delay"]) for e in scheduled] == [
        ("S-0002", ErrorKind.BULKHEAD_FULL, 1)] * 2
    again = [e for e in r.events(EventKind.ATTEMPT_STARTED) if e.saga_id == "S-0002" and e.step == "hold"]
    assert [(e.time, e.attempt) for e in again] == [(2, 3)]  # at 1 s the slot was still taken; at 2 s free


async def test_a_try_waits_its_queue_timeout_and_no_longer():
    limits = {"seats": BulkheadConfig(max_concurrent=1, max_queue=1, queue_timeout=0.25)}
    async with rig(booking(), bulkheads=limits) as r:
        r.services.script("seats.hold", Hang(5))
        first, second = await _run_all(r, 2)
    assert first.status is SagaStatus.COMPLETED and second.status is SagaStatus.FAILED
    (refused,) = r.events(EventKind.BULKHEAD_REJECTED)
    assert refused.time == 0.25 and refused.message == "bulkhead seats had no free slot within 0.25s"
    assert refused.data == {"bulkhead": "seats", "in_flight": 1, "queued": 0, "waited": 0.25}
    (failed,) = [e for e in r.events(EventKind.STEP_FAILED) if e.saga_id == "S-0002"]
    assert failed.error_kind is ErrorKind.BULKHEAD_FULL and failed.data["may_have_effect"] is False
    assert r.compensated_steps() == []  # refused before the service: nothing to undo


async def test_with_a_fallback_a_full_bulkhead_moves_on_at_once():
    limits = {"seats": BulkheadConfig(max_concurrent=1)}
    async with rig(booking({"max_attempts": 5}, fallbacks=["spare.hold"]), bulkheads=limits) as r:
        r.services.script("seats.hold", Hang(1))
        await _run_all(r, 2)
    (hop,) = r.events(EventKind.FALLBACK_USED)
    assert (hop.saga_id, hop.time, hop.data["to"]) == ("S-0002", 0, "spare.hold")
    assert not r.events(EventKind.RETRY_SCHEDULED)


async def test_a_per_kind_policy_can_retry_bulkhead_refusals_on_their_own_terms():
    limits = {"seats": BulkheadConfig(max_concurrent=1)}
    retry = {"max_attempts": 1, "by_error": {"bulkhead_full": {"max_attempts": 4, "initial_delay": "500ms",
                                                               "multiplier": 1}}}
    async with rig(booking(retry), bulkheads=limits) as r:
        r.services.script("seats.hold", Hang(1.2))
        first, second = await _run_all(r, 2)
    assert first.status is second.status is SagaStatus.COMPLETED
    scheduled = r.events(EventKind.RETRY_SCHEDULED)
    assert [(e.time, e.data["policy"]) for e in scheduled] == [(0, "bulkhead_full"), (0.5, "bulkhead_full"),
                                                              (1.0, "bulkhead_full")]


async def test_a_saga_cancelled_while_it_waits_in_the_queue_leaves_no_slot_taken():
    limits = {"seats": BulkheadConfig(max_concurrent=1, max_queue=3, queue_timeout=60)}
    async with rig(booking(), bulkheads=limits) as r:
        r.services.script("seats.hold", Hang(2))
        r.clock.call_later(1, lambda: r.engine.cancel("S-0002", "changed my mind"))
        first, second, third = await _run_all(r, 3)
        bulkhead = r.engine.bulkheads["seats"]
    assert second.status is SagaStatus.CANCELLED
    assert first.status is third.status is SagaStatus.COMPLETED
    assert bulkhead.in_flight == 0 and bulkhead.queued == 0
    third_hold = [e for e in r.events(EventKind.ATTEMPT_STARTED) if e.saga_id == "S-0003" and e.step == "hold"]
    assert [e.time for e in third_hold] == [2]  # it moved up when S-0002 left the queue


async def test_a_compensation_refused_by_the_bulkhead_is_retried_and_counted_as_turned_away():
    limits = {"pay": BulkheadConfig(max_concurrent=1)}
    saga = SagaDef.model_validate({"name": "booking", "steps": [
        {"name": "pay", "action": "pay.charge", "compensation": "pay.refund", "retry": {"max_attempts": 1}},
        {"name": "ship", "action": "ship.send", "retry": {"max_attempts": 1}},
    ]})
    hog = SagaDef.model_validate({"name": "hog", "steps": [{"name": "pay", "action": "pay.charge"}]})
    async with rig(saga, hog, bulkheads=limits) as r:
        r.services.script("ship.send", Hang(1, then=transient()))
        r.services.script("pay.charge", {"ok": True}, Hang(3))  # the hog holds the only slot from 0.5 s to 3.5 s

        async def hog_later() -> Any:
            await r.clock.sleep(0.5)
            return await r.engine.run("hog", "S-0002", {})

        first, _ = await asyncio.gather(r.engine.run("booking", "S-0001", {}), hog_later())
    assert first.status is SagaStatus.COMPENSATED
    refusals = [e for e in r.events(EventKind.BULKHEAD_REJECTED) if e.saga_id == "S-0001"]
    assert refusals and all(e.data["undo"] is True for e in refusals)
    (ended,) = [e for e in r.events(EventKind.COMPENSATION_ENDED) if e.saga_id == "S-0001"]
    assert ended.data["outcome"] == "completed" and ended.data.get("rejected") == len(refusals)


async def test_a_wait_in_the_queue_never_runs_past_the_steps_deadline():
    limits = {"seats": BulkheadConfig(max_concurrent=1, max_queue=1, queue_timeout=5)}
    async with rig(booking({"max_attempts": 1, "deadline": "2s"}), bulkheads=limits) as r:
        r.services.script("seats.hold", Hang(1.5), Hang(1.5))
        first, second = await _run_all(r, 2)
    assert first.status is SagaStatus.COMPLETED
    # S-0002 got the slot at 1.5 s with 0.5 s of its deadline left: its attempt timed out at 2 s, not 3 s
    (started,) = [e for e in r.events(EventKind.ATTEMPT_STARTED) if e.saga_id == "S-0002" and e.step == "hold"]
    (failed,) = [e for e in r.events(EventKind.ATTEMPT_FAILED) if e.saga_id == "S-0002"]
    assert (started.time, failed.time, failed.error_kind) == (1.5, 2.0, ErrorKind.TIMEOUT)
    assert second.status is not SagaStatus.COMPLETED


async def test_a_try_handed_a_slot_while_the_engine_is_paused_waits_for_the_resume():
    limits = {"seats": BulkheadConfig(max_concurrent=1, max_queue=1, queue_timeout=10)}
    async with rig(booking(), bulkheads=limits) as r:
        r.services.script("seats.hold", Hang(1))
        r.clock.call_later(0.5, r.engine.pause)
        r.clock.call_later(3, r.engine.resume)
        await _run_all(r, 2)
    (started,) = [e for e in r.events(EventKind.ATTEMPT_STARTED) if e.saga_id == "S-0002" and e.step == "hold"]
    assert started.time == 3  # its slot came at 1 s, during the pause
