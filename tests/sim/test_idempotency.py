import pytest

from sagatui.model.errors import ServiceError
from sagatui.model.events import EventKind
from tests.sim.conftest import Lab


async def test_a_repeated_key_returns_the_recorded_result_without_a_second_effect(lab: Lab) -> None:
    lab.add("payment", "payment")
    first = await lab.invoke("payment", "charge", amount=50.0)
    second = await lab.invoke("payment", "charge", amount=50.0, attempt=2)
    assert second == first
    assert len(await lab.rows("payments")) == 1
    assert len(await lab.events(EventKind.SERVICE_EFFECT)) == 1
    [recorded] = await lab.rows("idempotency")
    assert (recorded["key"], recorded["operation"], recorded["result"]) == (
        "s1:step", "charge", '{"payment_id":"PAY-000001","amount":50.0}')


async def test_a_failed_call_is_not_recorded_so_a_retry_runs_again(lab: Lab) -> None:
    lab.add("payment", "payment")
    card = "4000-0000-0000-0119"  # fails its first attempt
    with pytest.raises(ServiceError):
        await lab.invoke("payment", "charge", amount=5.0, card=card)
    assert await lab.rows("idempotency") == []
    assert (await lab.invoke("payment", "charge", amount=5.0, card=card, attempt=2))["payment_id"] == "PAY-000001"


async def test_the_effect_event_carries_the_key_the_result_and_the_row_writes(lab: Lab) -> None:
    lab.add("orders", "orders")
    await lab.invoke("orders", "create", saga="s9", step="open")
    [event] = await lab.events(EventKind.SERVICE_EFFECT)
    assert (event.saga_id, event.step, event.service, event.operation, event.attempt) == (
        "s9", "open", "orders", "create", 1)
    assert event.data["key"] == "s9:open" and event.data["result"] == {"order_id": "ORD-000001"}
    writes = {table: (key, values) for table, key, values in event.data["writes"]}  # in the log itself
    assert writes["orders"][0] == {"service": "orders", "order_id": "ORD-000001"}
    assert writes["orders"][1]["saga_id"] == "s9"
    assert writes["idempotency"][0] == {"service": "orders", "key": "s9:open"}


async def test_results_given_out_are_copies(lab: Lab) -> None:
    lab.add("orders", "orders")
    first = await lab.invoke("orders", "create")
    first["order_id"] = "tampered"
    assert await lab.invoke("orders", "create") == {"order_id": "ORD-000001"}
