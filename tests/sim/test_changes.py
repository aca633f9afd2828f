"""A scheduled change of a service's state (`ServiceDirectory.change`): the options given replace theirs, the
rest are kept; rows that options seed change with them, as writes of the `service.changed` event; options
a change may not set are refused. `restore_options` (a resumed run) puts options back without rows."""

import pytest

from sagatui.model.errors import ServiceError
from sagatui.model.events import EventKind
from sagatui.model.payloads import ServiceChanged
from sagatui.store.invariants import check_invariants
from tests.sim.conftest import Lab


async def test_the_options_given_change_and_the_rest_are_kept(lab: Lab) -> None:
    lab.add("payment", "payment", declined_cards=["1111"], decline_over=100)
    lab.directory.start()
    lab.directory.change("payment", {"declined_cards": ["2222"]}, source="scenario s")
    assert await lab.invoke("payment", "charge", saga="a", amount=5, card="1111")
    with pytest.raises(ServiceError, match=r"card declined$"):
        await lab.invoke("payment", "charge", saga="b", amount=5, card="2222")
    with pytest.raises(ServiceError, match="over limit"):
        await lab.invoke("payment", "charge", saga="c", amount=500, card="3333")  # decline_over kept
    (event,) = await lab.events(EventKind.SERVICE_CHANGED)
    assert event.service == "payment"
    assert event.payload_as(ServiceChanged) == ServiceChanged(options={"declined_cards": ["2222"]},
                                                              source="scenario s")


async def test_a_restock_is_conserved_stock(lab: Lab) -> None:
    lab.add("inventory", "inventory", stock={"WIDGET": 1})
    lab.directory.start()
    await lab.invoke("inventory", "reserve", saga="a", items={"WIDGET": 1})
    await lab.invoke("inventory", "commit", saga="a", step="commit")
    lab.directory.change("inventory", {}, {"WIDGET": 2}, source="scenario s")
    assert await lab.rows("stock") == [{"service": "inventory", "sku": "WIDGET", "initial": 3, "available": 2,
                                        "reserved": 0, "shipped": 1}]
    assert all(result.ok for result in await check_invariants(lab.store, lab.run_id))


async def test_capacity_below_what_is_booked_comes_down_as_bookings_go(lab: Lab) -> None:
    lab.add("hotel", "booking", capacity=3)
    lab.directory.start()
    await lab.invoke("hotel", "book", saga="a", quantity=2)
    lab.directory.change("hotel", {"capacity": 1}, source="scenario s")
    assert await lab.rows("capacity") == [{"service": "hotel", "capacity": 2, "booked": 2}]
    with pytest.raises(ServiceError, match=r"fully booked \(0 left, 1 wanted\)"):
        await lab.invoke("hotel", "book", saga="b")
    await lab.invoke("hotel", "cancel", saga="a", undo=True)
    assert await lab.rows("capacity") == [{"service": "hotel", "capacity": 1, "booked": 0}]
    assert all(result.ok for result in await check_invariants(lab.store, lab.run_id))


def test_options_that_seed_rows_and_restocks_without_stock_are_refused(lab: Lab) -> None:
    lab.add("inventory", "inventory", stock={"WIDGET": 1})
    lab.add("ledger", "ledger", balances={"cash": 10})
    lab.add("payment", "payment")
    with pytest.raises(ValueError, match="cannot set stock"):
        lab.directory.change("inventory", {"stock": {"WIDGET": 5}}, source="scenario s")
    with pytest.raises(ValueError, match="cannot set balances"):
        lab.directory.change("ledger", {"balances": {"cash": 5}}, source="scenario s")
    with pytest.raises(ValueError, match="no stock to restock"):
        lab.directory.change("payment", {}, {"WIDGET": 1}, source="scenario s")
    with pytest.raises(ValueError, match="no service named 'nope'"):
        lab.directory.change("nope", {"x": 1}, source="scenario s")


async def test_restored_options_come_back_without_an_event_or_rows(lab: Lab) -> None:
    lab.add("hotel", "booking", capacity=3)
    lab.add("shipping", "shipping")
    lab.directory.restore_options("shipping", {"restricted_regions": ["mars"]})
    lab.directory.restore_options("hotel", {"capacity": 1})
    with pytest.raises(ServiceError, match="restricted delivery area: mars"):
        await lab.invoke("shipping", "create_shipment", region="mars")
    assert await lab.events(EventKind.SERVICE_CHANGED) == []
    assert lab.directory.services["hotel"].options.model_dump() == {"capacity": 1}
