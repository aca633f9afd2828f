"""Rebuilding services from their rows: what a resumed run starts from."""

from typing import Any

from sagatui.model.events import EventKind
from sagatui.sim.directory import ServiceDirectory
from tests.sim.conftest import SEED, Lab

SERVICES: dict[str, tuple[str, dict[str, Any]]] = {
    "inventory": ("inventory", {"stock": {"A": 5, "B": 2}}),
    "payment": ("payment", {}),
    "shipping": ("shipping", {}),
    "email": ("notification", {}),
    "hotel": ("booking", {"capacity": 4}),
    "accounts": ("account", {}),
    "bank": ("ledger", {"balances": {"alice": 50.0}}),
    "orders": ("orders", {}),
}


def wire(directory: ServiceDirectory) -> None:
    for name, (kind, options) in SERVICES.items():
        directory.add(name, kind, options)


async def work(lab: Lab) -> None:
    await lab.invoke("inventory", "reserve", step="reserve", items={"A": 2, "B": 1})
    await lab.invoke("inventory", "commit", step="commit", skus=["B"])
    await lab.invoke("payment", "charge", step="pay", amount=20.0)
    await lab.invoke("shipping", "create_shipment", step="ship", region="EU")
    await lab.invoke("email", "send", step="mail")
    await lab.invoke("hotel", "book", step="room", quantity=2)
    await lab.invoke("accounts", "create", step="signup", username="ada")
    await lab.invoke("bank", "debit", step="withdraw", account="alice", amount=5.0)
    await lab.invoke("orders", "create", step="order")


async def test_a_restored_directory_continues_where_the_first_stopped(lab: Lab) -> None:
    wire(lab.directory)
    lab.directory.start()
    await work(lab)
    await lab.writer.flush()

    restored = ServiceDirectory(lab.clock, lab.recorder, SEED)
    wire(restored)
    await restored.restore(lab.store, lab.run_id)

    original_inventory, inventory = lab.directory.services["inventory"], restored.services["inventory"]
    assert inventory.stock == original_inventory.stock  # type: ignore[attr-defined]
    effects = len(await lab.events(EventKind.SERVICE_EFFECT))
    # A repeated key is still answered from the record, without a new effect.
    assert await restored.invoke(lab.call("payment", "charge", step="pay", amount=20.0)) == {
        "payment_id": "PAY-000001", "amount": 20.0}
    await lab.writer.flush()
    assert len(await lab.events(EventKind.SERVICE_EFFECT)) == effects
    # Ids continue, capacity and usernames are remembered, and undos find what to undo.
    assert (await restored.invoke(lab.call("payment", "charge", saga="s2", amount=1.0)))["payment_id"] == "PAY-000002"
    assert (await restored.invoke(lab.call("hotel", "book", saga="s2", quantity=2)))["booking_id"] == "BKG-000002"
    undone = {
        ("hotel", "cancel", "room"): ("booking_id", "BKG-000001"),
        ("payment", "refund", "pay"): ("amount", 20.0),
        ("inventory", "release", "reserve"): ("outcome", "partial"),
        ("bank", "credit", "withdraw"): ("entry_id", "ENT-000002"),
        ("accounts", "delete", "signup"): ("account_id", "ACC-000001"),
        ("email", "send_correction", "mail"): ("corrects", "MSG-000001"),
        ("orders", "cancel", "order"): ("order_id", "ORD-000001"),
        ("shipping", "cancel_shipment", "ship"): ("shipment_id", "SHP-000001"),
    }
    for (service, operation, step), (field, expected) in undone.items():
        result = await restored.invoke(lab.call(service, operation, step=step, undo=True))
        assert result[field] == expected, (service, result)
    assert {row["account"]: row["balance"] for row in await lab.rows("balances")} == {"alice": 50.0}
