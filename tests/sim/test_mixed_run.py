"""A mixed run through the real engine, services and store: 200 sagas, outages switched on and off
mid-run, every transition made durable before the next call. The invariants hold, the run is
reproducible event for event, and a deliberately broken compensation is caught."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sagatui.engine.breaker import BreakerBoard, record_transitions
from sagatui.engine.orchestrator import SagaEngine
from sagatui.engine.seeds import random_stream
from sagatui.model.calls import Call
from sagatui.model.definitions import SagaDef
from sagatui.model.faults import FaultProfile
from sagatui.sim.payment import PaymentService
from sagatui.sim.service import Result, Row
from sagatui.store.invariants import check_invariants
from sagatui.store.queries import read_events, saga_counts
from tests.sim.conftest import Lab, close_lab, open_lab

ORDER = SagaDef.model_validate({
    "name": "order",
    "steps": [
        {"name": "reserve", "action": "inventory.reserve", "compensation": "inventory.release"},
        {"name": "charge", "action": "payment.charge", "compensation": "payment.refund"},
        {"name": "ship", "action": "shipping.create_shipment", "compensation": "shipping.cancel_shipment"},
        {"name": "hold_room", "action": "hotel.book", "compensation": "hotel.cancel"},
        {"name": "confirm", "action": "email.send", "compensation": "email.send_correction", "optional": True},
    ],
})

OUTAGES: list[tuple[float, str, FaultProfile]] = [
    (0.5, "payment", FaultProfile(mode="degraded", error_rate=0.3, permanent_share=0.3)),
    (1.0, "shipping", FaultProfile(mode="offline", revert_after="800ms")),
    (1.5, "inventory", FaultProfile(mode="lost_reply", error_rate=0.3, revert_after="1s")),
    (2.0, "payment", FaultProfile(mode="offline", target="compensations", revert_after="1s")),
    (2.5, "hotel", FaultProfile(mode="latency", latency="300ms", latency_jitter="200ms")),
    (3.0, "email", FaultProfile(mode="flapping", period="1s", duty=0.5)),
]


class DurableCalls:
    """Services that make every event so far durable before each call, as a durable engine would."""

    def __init__(self, lab: Lab) -> None:
        self._lab = lab

    async def invoke(self, call: Call) -> dict[str, Any]:
        await self._lab.writer.durable(self._lab.recorder.next_seq - 1)
        return await self._lab.directory.invoke(call)


async def mixed_run(path: Path, seed: int = 3) -> Lab:
    lab = await open_lab(path, seed)
    lab.add("inventory", "inventory", stock={"LAPTOP-001": 150, "MOUSE-001": 300, "MONITOR-001": 25})
    lab.add("payment", "payment", decline_over=2000)
    lab.add("shipping", "shipping", restricted_regions=["XX"])
    lab.add("hotel", "booking", capacity=150)
    lab.add("email", "notification")
    lab.directory.start()
    for at, service, profile in OUTAGES:
        lab.clock.call_later(at, lambda s=service, p=profile: lab.directory.set_fault(s, p, source="test"))
    engine = SagaEngine(sagas={"order": ORDER}, services=DurableCalls(lab), clock=lab.clock,
                        breakers=BreakerBoard(lab.clock, record_transitions(lab.recorder)),
                        recorder=lab.recorder, seed=seed)
    inputs = random_stream(seed, "inputs")

    async def saga(number: int) -> None:
        await lab.clock.sleep(number * 0.02)
        items = {sku: inputs.randint(1, 2) for sku in inputs.sample(["LAPTOP-001", "MOUSE-001", "MONITOR-001"], 2)}
        saga_input = {"items": items, "amount": inputs.choice([25.0, 400.0, 900.0, 2500.0]),
                      "card": inputs.choice(["4242", "4242", "4242", "4000-0000-0000-0002"]),
                      "region": inputs.choice(["EU", "US", "EU", "XX"])}
        await engine.run("order", f"S{number:03d}", saga_input)

    await asyncio.gather(*(saga(number) for number in range(200)))
    await lab.clock.stop()  # the run ends here: no timer left over (a revert) may add an event later
    await lab.writer.flush()
    return lab


async def test_invariants_hold_after_a_mixed_run_with_outages(tmp_path: Path) -> None:
    lab = await mixed_run(tmp_path / "mixed.db")
    try:
        counts = await saga_counts(lab.store, lab.run_id)
        assert sum(counts.values()) == 200
        assert counts.get("completed", 0) > 20 and counts.get("compensated", 0) > 20 and counts.get("failed", 0) > 0
        results = await check_invariants(lab.store, lab.run_id)
        assert [result for result in results if result.details] == []  # nothing broken
        held = [line for result in results for line in result.held]  # what sagas needing attention hold
        assert all("needs attention" in line for line in held if not line.startswith("... and"))
        assert bool(held) == bool(counts.get("needs_attention", 0))
        assert len(await lab.rows("refunds")) > 5
    finally:
        await close_lab(lab)


async def test_the_same_seed_gives_the_same_event_stream(tmp_path: Path) -> None:
    streams = []
    for name in ("a.db", "b.db"):
        lab = await mixed_run(tmp_path / name)
        streams.append([event.comparable() for event in await read_events(lab.store, lab.run_id, limit=None)])
        await close_lab(lab)
    assert len(streams[0]) > 3000
    assert streams[0] == streams[1]


async def test_a_broken_compensation_fails_the_invariants_loudly(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def refund_nothing(self: PaymentService, call: Call) -> tuple[Result, list[Row]]:
        return {"outcome": "completed", "refund_id": None, "amount": 0}, []

    monkeypatch.setattr(PaymentService, "refund", refund_nothing)
    lab = await mixed_run(tmp_path / "broken.db")
    try:
        failed = {result.name: result.details for result in await check_invariants(lab.store, lab.run_id)
                  if not result.ok}
    finally:
        await close_lab(lab)
    assert set(failed) == {"nothing_leaked", "charges_refunded"}
    assert all("payment PAY-" in line for line in failed["charges_refunded"][:5])
    assert any("still charged" in line for line in failed["nothing_leaked"])
