import pytest

from sagatui.model.errors import ErrorKind, ServiceError
from tests.sim.conftest import Lab


async def test_booking_takes_capacity_and_cancel_gives_it_back(lab: Lab) -> None:
    lab.add("hotel", "booking", capacity=3)
    lab.directory.start()
    assert await lab.invoke("hotel", "book", saga="a", quantity=2) == {"booking_id": "BKG-000001", "quantity": 2}
    with pytest.raises(ServiceError) as raised:
        await lab.invoke("hotel", "book", saga="b", quantity=2)
    assert raised.value.kind is ErrorKind.PERMANENT and raised.value.message.startswith("fully booked")
    assert await lab.invoke("hotel", "cancel", saga="a", undo=True) == {"outcome": "completed",
                                                                        "booking_id": "BKG-000001"}
    assert await lab.rows("capacity") == [{"service": "hotel", "capacity": 3, "booked": 0}]
    assert [row["status"] for row in await lab.rows("bookings")] == ["cancelled"]
    assert await lab.invoke("hotel", "book", saga="b", quantity=3) == {"booking_id": "BKG-000002", "quantity": 3}


async def test_two_booking_services_keep_their_own_capacity(lab: Lab) -> None:
    lab.add("flights", "booking", capacity=1)
    lab.add("cars", "booking", capacity=1)
    await lab.invoke("flights", "book")
    await lab.invoke("cars", "book")
    assert {row["service"]: row["booking_id"] for row in await lab.rows("bookings")} == {
        "flights": "BKG-000001", "cars": "BKG-000001"}


async def test_cancel_without_a_booking_completes(lab: Lab) -> None:
    lab.add("hotel", "booking")
    assert await lab.invoke("hotel", "cancel", undo=True) == {"outcome": "completed", "booking_id": None}


async def test_account_create_and_delete_free_the_username(lab: Lab) -> None:
    lab.add("accounts", "account", reserved_usernames=["root"])
    assert await lab.invoke("accounts", "create", saga="a", username="ada") == {
        "account_id": "ACC-000001", "username": "ada"}
    with pytest.raises(ServiceError) as taken:
        await lab.invoke("accounts", "create", saga="b", username="ada")
    assert taken.value.kind is ErrorKind.PERMANENT
    with pytest.raises(ServiceError) as reserved:
        await lab.invoke("accounts", "create", saga="c", username="root")
    assert reserved.value.kind is ErrorKind.VALIDATION
    assert await lab.invoke("accounts", "delete", saga="a", undo=True) == {
        "outcome": "completed", "account_id": "ACC-000001"}
    assert (await lab.invoke("accounts", "create", saga="b", username="ada"))["account_id"] == "ACC-000002"
    assert [row["status"] for row in await lab.rows("accounts")] == ["deleted", "active"]


async def test_account_needs_a_username(lab: Lab) -> None:
    lab.add("accounts", "account")
    with pytest.raises(ServiceError) as raised:
        await lab.invoke("accounts", "create")
    assert raised.value.kind is ErrorKind.VALIDATION and raised.value.message == "username is required"


async def test_orders_are_created_and_cancelled(lab: Lab) -> None:
    lab.add("orders", "orders")
    assert await lab.invoke("orders", "create", customer="ada", amount=10.5) == {"order_id": "ORD-000001"}
    assert await lab.invoke("orders", "cancel", undo=True) == {"outcome": "completed", "order_id": "ORD-000001"}
    [row] = await lab.rows("orders")
    assert (row["customer"], row["amount"], row["status"]) == ("ada", 10.5, "cancelled")


async def test_an_unknown_operation_is_a_validation_error(lab: Lab) -> None:
    lab.add("orders", "orders")
    with pytest.raises(ServiceError) as raised:
        await lab.invoke("orders", "explode")
    assert raised.value.kind is ErrorKind.VALIDATION


async def test_an_unknown_service_is_a_validation_error(lab: Lab) -> None:
    with pytest.raises(ServiceError) as raised:
        await lab.invoke("nowhere", "create")
    assert raised.value.kind is ErrorKind.VALIDATION
