import pytest

from sagatui.model.errors import ErrorKind, ServiceError
from tests.sim.conftest import Lab


@pytest.fixture
async def shipping(lab: Lab) -> Lab:
    lab.add("shipping", "shipping", restricted_regions=["XX"], dispatch_after="1h")
    return lab


async def test_create_shipment_records_it_with_its_address_and_items(shipping: Lab) -> None:
    result = await shipping.invoke("shipping", "create_shipment", region="EU", address={"city": "Lyon"},
                                   items={"LAPTOP-001": 1})
    assert result == {"shipment_id": "SHP-000001", "tracking_number": "TRK000000001"}
    [row] = await shipping.rows("shipments")
    assert (row["status"], row["region"], row["address"], row["items"]) == (
        "created", "EU", '{"city":"Lyon"}', '{"LAPTOP-001":1}')


async def test_a_restricted_region_fails_permanently(shipping: Lab) -> None:
    with pytest.raises(ServiceError) as raised:
        await shipping.invoke("shipping", "create_shipment", region="XX")
    assert raised.value.kind is ErrorKind.PERMANENT and raised.value.message == "restricted delivery area: XX"
    assert await shipping.rows("shipments") == []


async def test_transient_failures_name_the_reference_causes(lab: Lab) -> None:
    lab.add("shipping", "shipping", transient_error_rate=1.0)
    messages = set()
    for number in range(20):
        with pytest.raises(ServiceError) as raised:
            await lab.invoke("shipping", "create_shipment", saga=f"s{number}")
        assert raised.value.kind is ErrorKind.TRANSIENT
        messages.add(raised.value.message)
    assert messages == {"address validation failed", "carrier unavailable"}


async def test_cancel_before_dispatch_cancels(shipping: Lab) -> None:
    await shipping.invoke("shipping", "create_shipment", region="EU")
    await shipping.clock.sleep(60)
    assert await shipping.invoke("shipping", "cancel_shipment", undo=True) == {
        "outcome": "completed", "shipment_id": "SHP-000001"}
    [row] = await shipping.rows("shipments")
    assert (row["status"], row["cancelled_at"]) == ("cancelled", 60.0)


async def test_cancel_after_dispatch_fails_and_changes_nothing(shipping: Lab) -> None:
    await shipping.invoke("shipping", "create_shipment", region="EU")
    await shipping.clock.sleep(3600)
    with pytest.raises(ServiceError) as raised:
        await shipping.invoke("shipping", "cancel_shipment", undo=True)
    assert raised.value.kind is ErrorKind.PERMANENT and raised.value.message == "already dispatched"
    assert [row["status"] for row in await shipping.rows("shipments")] == ["created"]


async def test_cancel_with_no_shipment_completes(shipping: Lab) -> None:
    assert await shipping.invoke("shipping", "cancel_shipment", undo=True) == {
        "outcome": "completed", "shipment_id": None}
