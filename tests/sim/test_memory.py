"""Memory stays bounded under an endless load: the lab and the simulated services let go of a saga once
it can make no more calls (the database has it), and keep the ones an operator may still retry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sagatui.lab import Lab
from sagatui.lab.commands import Resolve, RetryCompensation, SetFault
from sagatui.model.events import Event, EventKind
from sagatui.model.faults import FaultProfile
from sagatui.packs.bundled import read_pack
from sagatui.packs.loader import load_pack_text
from sagatui.store.database import Store

SAGAS = 1000
EVERY_KIND = f"""
name: every_kind
services:
  inventory: {{kind: inventory, options: {{stock: {{KIT: 100000}}}}, fault: {{latency: 100ms}}}}
  orders: {{kind: orders, fault: {{latency: 100ms}}}}
  payment: {{kind: payment, fault: {{latency: 100ms}}}}
  hotel: {{kind: booking, options: {{capacity: 100000}}, fault: {{latency: 100ms}}}}
  accounts: {{kind: account, fault: {{latency: 100ms}}}}
  bank: {{kind: ledger, options: {{balances: {{house: 1000000}}}}, fault: {{latency: 100ms}}}}
  shipping: {{kind: shipping, options: {{restricted_regions: [antarctica]}}, fault: {{latency: 100ms}}}}
  email: {{kind: notification, fault: {{latency: 100ms}}}}
sagas:
  signup:
    steps:
      - {{name: reserve, action: inventory.reserve, compensation: inventory.release, params: {{items: {{KIT: 1}}}}}}
      - {{name: order, action: orders.create, compensation: orders.cancel}}
      - {{name: charge, action: payment.charge, compensation: payment.refund}}
      - {{name: room, action: hotel.book, compensation: hotel.cancel}}
      - {{name: account, action: accounts.create, compensation: accounts.delete}}
      - {{name: bonus, action: bank.debit, compensation: bank.credit, params: {{account: house, amount: 1}}}}
      - {{name: welcome, action: email.send, compensation: email.send_correction}}
      - {{name: ship, action: shipping.create_shipment, compensation: shipping.cancel_shipment}}
      - {{name: commit, action: inventory.commit, compensation: inventory.restock}}
scenarios:
  endless:
    saga: signup
    workload:
      count: {SAGAS}
      rate: 50
      variations:
        - {{weight: 3, input: {{username: "u{{n}}", amount: 10, card: "4242-4242-4242-4242", region: eu}}}}
        - {{weight: 1, input: {{username: "u{{n}}", amount: 10, card: "4000-0000-0000-0002", region: eu}}}}
        - {{weight: 1, input: {{username: "u{{n}}", amount: 10, card: "4242-4242-4242-4242", region: antarctica}}}}
"""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(tmp_path / "runs.db")
    yield store
    await store.close()


def remembered(lab: Lab) -> dict[str, int]:
    return {name: service.sagas_remembered for name, service in lab.services.services.items()}


async def test_after_thousands_of_sagas_only_those_in_flight_are_held(store: Store) -> None:
    lab = Lab(load_pack_text(EVERY_KIND, "every_kind.yaml"), EVERY_KIND, store)
    most_held = 0

    def sample(event: Event) -> None:
        nonlocal most_held
        if event.kind is EventKind.SAGA_STARTED:
            most_held = max(most_held, len(lab.workload.sagas), *remembered(lab).values())

    lab.bus.add_listener(sample)
    await lab.open()
    try:
        lab.start_scenario("endless")
        invariants = await lab.conclude()
    finally:
        await lab.close()
    assert lab.metrics.started == SAGAS
    assert set(lab.metrics.ended) == {"completed", "compensated"}  # every kind's undo ran too
    assert all(result.ok for result in invariants)
    # 50 sagas start each clock second and take about one: that many are held, not the thousand.
    assert 20 < most_held < 100
    assert lab.workload.sagas == {} and set(remembered(lab).values()) == {0}
    assert lab.services.services["inventory"]._lines_of_saga == {}  # type: ignore[attr-defined]
    assert len(lab.metrics.latencies) == SAGAS
    assert lab.workload.scenarios.get("S-0001") == lab.workload.scenarios.get(f"S-{SAGAS:04d}") == "endless"


async def test_a_saga_needing_attention_is_held_until_retried_or_resolved(store: Store) -> None:
    source = read_pack("ecommerce")
    lab = Lab(source.pack, source.text, store)
    await lab.open()
    try:
        lab.start_scenario("refund_gateway_down")
        lab.start_scenario("refund_gateway_down")
        await lab.settle()
        assert sorted(lab.workload.sagas) == ["S-0001", "S-0002"]
        assert remembered(lab) == {"inventory": 2, "payment": 2, "shipping": 0, "email": 0}

        lab.apply(Resolve(saga_id="S-0001", note="refunded by hand"))
        lab.apply(SetFault(service="payment", profile=FaultProfile(mode="online")))
        lab.apply(RetryCompensation(saga_id="S-0002"))
        await lab.settle()
    finally:
        await lab.close()
    assert lab.workload.sagas == {} and set(remembered(lab).values()) == {0}
    assert lab.metrics.ended == {"compensated": 2, "needs_attention": 0}
