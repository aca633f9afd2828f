import pytest

from sagatui.model.errors import ErrorKind, ServiceError
from tests.sim.conftest import Lab

STOCK = {"LAPTOP-001": 5, "MOUSE-001": 20, "KEYBOARD-001": 0, "MONITOR-001": 3}


@pytest.fixture
async def inventory(lab: Lab) -> Lab:
    lab.add("inventory", "inventory", stock=STOCK)
    lab.directory.start()
    return lab


async def stock(lab: Lab) -> dict[str, tuple[int, int, int, int]]:
    return {row["sku"]: (row["initial"], row["available"], row["reserved"], row["shipped"])
            for row in await lab.rows("stock")}


async def test_initial_stock_is_recorded(inventory: Lab) -> None:
    assert await stock(inventory) == {sku: (units, units, 0, 0) for sku, units in STOCK.items()}


async def test_reserve_moves_units_from_available_to_reserved(inventory: Lab) -> None:
    result = await inventory.invoke("inventory", "reserve", items={"LAPTOP-001": 1, "MOUSE-001": 2})
    assert result == {"reservation_id": "RES-000001", "reserved": {"LAPTOP-001": 1, "MOUSE-001": 2}, "partial": False}
    assert (await stock(inventory))["LAPTOP-001"] == (5, 4, 1, 0)
    lines = await inventory.rows("reservations")
    assert [(line["sku"], line["quantity"], line["status"], line["saga_id"]) for line in lines] == [
        ("LAPTOP-001", 1, "reserved", "s1"), ("MOUSE-001", 2, "reserved", "s1")]


async def test_nothing_reservable_is_insufficient_inventory_and_changes_nothing(inventory: Lab) -> None:
    with pytest.raises(ServiceError) as raised:
        await inventory.invoke("inventory", "reserve", items={"KEYBOARD-001": 5})
    assert raised.value.kind is ErrorKind.VALIDATION
    assert "insufficient inventory" in raised.value.message and "KEYBOARD-001 (0 of 5" in raised.value.message
    assert await inventory.rows("reservations") == []
    assert (await stock(inventory))["KEYBOARD-001"] == (0, 0, 0, 0)


async def test_partial_reservation_keeps_what_it_could_and_names_the_short_skus(inventory: Lab) -> None:
    result = await inventory.invoke("inventory", "reserve", items={"MONITOR-001": 2, "KEYBOARD-001": 1, "NOPE": 1})
    assert result["partial"] is True
    assert result["reserved"] == {"MONITOR-001": 2}
    assert result["short"] == {"KEYBOARD-001": 1, "NOPE": 1}
    assert (await stock(inventory))["MONITOR-001"] == (3, 1, 2, 0)


@pytest.mark.parametrize("items", [None, {}, {"LAPTOP-001": 0}, {"LAPTOP-001": "two"}, ["LAPTOP-001"]])
async def test_bad_items_are_validation_errors(inventory: Lab, items: object) -> None:
    with pytest.raises(ServiceError) as raised:
        await inventory.invoke("inventory", "reserve", items=items)
    assert raised.value.kind is ErrorKind.VALIDATION


async def test_release_puts_the_units_back(inventory: Lab) -> None:
    await inventory.invoke("inventory", "reserve", items={"LAPTOP-001": 2})
    result = await inventory.invoke("inventory", "release", undo=True)
    assert result == {"outcome": "completed", "released": {"LAPTOP-001": 2}}
    assert (await stock(inventory))["LAPTOP-001"] == (5, 5, 0, 0)
    assert [line["status"] for line in await inventory.rows("reservations")] == ["released"]


async def test_release_without_a_reservation_completes_with_nothing_to_do(inventory: Lab) -> None:
    result = await inventory.invoke("inventory", "release", undo=True)
    assert result == {"outcome": "completed", "released": {}}


async def test_commit_then_restock_then_release_restores_the_stock(inventory: Lab) -> None:
    await inventory.invoke("inventory", "reserve", step="reserve", items={"LAPTOP-001": 1, "MOUSE-001": 3})
    committed = await inventory.invoke("inventory", "commit", step="commit")
    assert committed == {"committed": {"LAPTOP-001": 1, "MOUSE-001": 3}}
    assert (await stock(inventory))["MOUSE-001"] == (20, 17, 0, 3)
    assert await inventory.invoke("inventory", "restock", step="commit", undo=True) == {
        "outcome": "completed", "restocked": {"LAPTOP-001": 1, "MOUSE-001": 3}}
    assert (await stock(inventory))["MOUSE-001"] == (20, 17, 3, 0)
    await inventory.invoke("inventory", "release", step="reserve", undo=True)
    assert await stock(inventory) == {sku: (units, units, 0, 0) for sku, units in STOCK.items()}


async def test_release_of_a_partly_committed_saga_is_partial(inventory: Lab) -> None:
    await inventory.invoke("inventory", "reserve", step="first", items={"LAPTOP-001": 1})
    await inventory.invoke("inventory", "commit", step="commit")
    await inventory.invoke("inventory", "reserve", step="second", items={"MOUSE-001": 1})
    # 'second' is reserved, not committed: it releases completely; 'first' was committed.
    assert (await inventory.invoke("inventory", "release", step="second", undo=True))["outcome"] == "completed"
    with pytest.raises(ServiceError) as raised:
        await inventory.invoke("inventory", "release", step="first", undo=True)
    assert raised.value.kind is ErrorKind.PERMANENT and raised.value.message == "reservation already committed"


async def test_release_reports_partial_when_some_lines_of_the_reservation_are_committed(inventory: Lab) -> None:
    await inventory.invoke("inventory", "reserve", step="reserve", items={"LAPTOP-001": 1, "MOUSE-001": 2})
    await inventory.invoke("inventory", "commit", step="ship_laptops", skus=["LAPTOP-001"])
    result = await inventory.invoke("inventory", "release", step="reserve", undo=True)
    assert result == {"outcome": "partial", "released": {"MOUSE-001": 2}, "undone": ["MOUSE-001"],
                      "not_undone": ["LAPTOP-001"]}
    assert (await stock(inventory))["LAPTOP-001"] == (5, 4, 0, 1)
    assert (await stock(inventory))["MOUSE-001"] == (20, 20, 0, 0)


async def test_commit_with_nothing_reserved_is_a_validation_error(inventory: Lab) -> None:
    with pytest.raises(ServiceError) as raised:
        await inventory.invoke("inventory", "commit")
    assert raised.value.kind is ErrorKind.VALIDATION
