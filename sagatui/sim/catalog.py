"""What each kind of simulated service can do: its operations, the operation that undoes each, and
the options a pack may set on it. Packs are checked against this; services implement it."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, NonNegativeFloat, NonNegativeInt

from sagatui.model.definitions import Definition
from sagatui.model.durations import Duration


class InventoryOptions(Definition):
    stock: dict[str, NonNegativeInt] = Field(default_factory=dict)


class PaymentOptions(Definition):
    decline_over: NonNegativeFloat | None = None  # amounts above this are declined (permanent)
    declined_cards: tuple[str, ...] = ("4000-0000-0000-0002",)
    processing_error_rate: float = Field(0.0, ge=0, le=1)  # seeded share of charges failing transiently
    flaky_cards: tuple[str, ...] = ("4000-0000-0000-0119",)  # first attempt fails transiently, retry works


class ShippingOptions(Definition):
    restricted_regions: tuple[str, ...] = ()
    dispatch_after: Duration | None = None  # a shipment older than this is dispatched: cancel fails
    transient_error_rate: float = Field(0.0, ge=0, le=1)  # address validation failed / carrier unavailable


class NotificationOptions(Definition):
    failure_rate: float = Field(0.0, ge=0, le=1)  # seeded share of sends failing transiently


class BookingOptions(Definition):
    capacity: int = Field(10, ge=0)


class AccountOptions(Definition):
    reserved_usernames: tuple[str, ...] = ()


class LedgerOptions(Definition):
    balances: dict[str, float] = Field(default_factory=dict)
    allow_overdraft: bool = False


class OrderOptions(Definition):
    pass


@dataclass(frozen=True)
class ServiceKind:
    name: str
    description: str
    operations: dict[str, str | None]  # operation -> the operation that undoes it (None: nothing to undo)
    options: type[Definition]

    @property
    def all_operations(self) -> set[str]:
        undo = {op for op in self.operations.values() if op is not None}
        return set(self.operations) | undo


SERVICE_KINDS: dict[str, ServiceKind] = {
    kind.name: kind
    for kind in (
        ServiceKind("inventory", "stock per SKU; reservations that can be released or committed",
                    {"reserve": "release", "commit": "restock"}, InventoryOptions),
        ServiceKind("payment", "charges that can be refunded; declined cards fail permanently",
                    {"charge": "refund"}, PaymentOptions),
        ServiceKind("shipping", "shipments that can be cancelled until dispatched",
                    {"create_shipment": "cancel_shipment"}, ShippingOptions),
        ServiceKind("notification", "messages; a sent message is corrected, not unsent",
                    {"send": "send_correction"}, NotificationOptions),
        ServiceKind("booking", "bookings against a limited capacity (flights, hotels, cars)",
                    {"book": "cancel"}, BookingOptions),
        ServiceKind("account", "user accounts", {"create": "delete"}, AccountOptions),
        ServiceKind("ledger", "debits and credits on named accounts",
                    {"debit": "credit", "credit": "debit"}, LedgerOptions),
        ServiceKind("orders", "order records that can be cancelled", {"create": "cancel"}, OrderOptions),
    )
}
