"""What each kind of simulated service can do: its operations, the operation that undoes each, the
fields of each operation's result, and the options a pack may set on it. Packs are checked against
this (a `{ref: steps.charge.result.payment_id}` must name a field the result has); services implement it.

No `from __future__ import annotations` here: a TypedDict tells NotRequired fields apart only from
annotations that are not strings (Python 3.11)."""

from dataclasses import dataclass, field
from typing import NotRequired, Self, TypedDict

from pydantic import Field, NonNegativeFloat, NonNegativeInt, model_validator

from sagatui.model.definitions import Definition
from sagatui.model.durations import Duration


class InventoryOptions(Definition):
    stock: dict[str, NonNegativeInt] = Field(default_factory=dict)
    # A unit price per SKU: a reservation then answers the `value` of what it holds, so a later step
    # charges only what was reserved (`amount: {ref: steps.reserve.result.value}`).
    prices: dict[str, NonNegativeFloat] = Field(default_factory=dict)


class PaymentOptions(Definition):
    decline_over: NonNegativeFloat | None = None  # amounts above this are declined (permanent)
    declined_cards: tuple[str, ...] = ("4000-0000-0000-0002",)
    processing_error_rate: float = Field(0.0, ge=0, le=1)  # seeded share of charges failing transiently
    flaky_cards: tuple[str, ...] = ("4000-0000-0000-0119",)  # first attempt fails transiently, retry works
    # A bug to find (`sagatui prove` does): refund answers completed and gives nothing back.
    refund_does_nothing: bool = False


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


class ClassifierOptions(Definition):
    """Rules as data (nothing is evaluated): keywords name a category and a priority, a tier a least priority."""

    categories: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # category -> keywords: most matches wins
    default_category: str = "general"  # when no category keyword is in the text
    priorities: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # priority -> keywords, most urgent first
    tier_priorities: dict[str, str] = Field(default_factory=dict)  # customer tier -> the least priority it gets
    default_priority: str = "low"  # the least urgent: no priority keyword in the text, no tier rule

    @model_validator(mode="after")
    def _rules_are_usable(self) -> Self:
        for rules in (self.categories, self.priorities):
            for name, keywords in rules.items():
                if not keywords or any(not keyword.strip() for keyword in keywords):
                    raise ValueError(f"{name}: give it at least one keyword, none of them empty")
        levels = [*self.priorities, self.default_priority]
        for tier, priority in self.tier_priorities.items():
            if priority not in levels:
                raise ValueError(f"tier_priorities.{tier}: {priority!r} is not a priority ({', '.join(levels)})")
        return self


# What each operation answers when it is a step's action (docs/services.md). An undo operation used
# as an action answers as it does as a compensation, except where noted.
class ReserveResult(TypedDict):
    reservation_id: str
    reserved: dict[str, int]
    partial: bool
    short: NotRequired[dict[str, int]]  # only when partial
    value: NotRequired[float]  # only with prices: what the reserved units cost, to the cent


class UndoResult(TypedDict):
    outcome: str  # completed | partial


class ReleaseResult(UndoResult):
    released: dict[str, int]
    undone: NotRequired[list[str]]  # only when partial
    not_undone: NotRequired[list[str]]


class CommitResult(TypedDict):
    committed: dict[str, int]


class RestockResult(UndoResult):
    restocked: dict[str, int]


class ChargeResult(TypedDict):
    payment_id: str
    amount: float


class RefundResult(UndoResult):
    refund_id: str | None
    amount: float


class ShipmentResult(TypedDict):
    shipment_id: str
    tracking_number: str


class CancelShipmentResult(UndoResult):
    shipment_id: str | None


class SendResult(TypedDict):
    message_id: str


class CorrectionResult(TypedDict):
    message_id: str | None
    corrects: str | None
    outcome: NotRequired[str]  # as a compensation


class BookingResult(TypedDict):
    booking_id: str
    quantity: int


class CancelBookingResult(UndoResult):
    booking_id: str | None


class AccountResult(TypedDict):
    account_id: str
    username: str


class DeleteAccountResult(UndoResult):
    account_id: str | None


class EntryResult(TypedDict):
    entry_id: str
    account: str
    amount: float
    balance: float


class OrderResult(TypedDict):
    order_id: str


class CancelOrderResult(UndoResult):
    order_id: str | None


class ClassifyResult(TypedDict):
    category: str
    priority: str
    confidence: float  # the share of category keyword matches that named the category (0.0: none matched)
    keywords: list[str]  # the keywords found in the text, category and priority ones, in the order written


@dataclass(frozen=True)
class ServiceKind:
    name: str
    description: str
    operations: dict[str, str | None]  # operation -> the operation that undoes it (None: nothing to undo)
    options: type[Definition]
    results: dict[str, type]  # operation (every one, undo operations too) -> the TypedDict of its result
    # Options that seed the kind's rows and that a scenario's change may not set: option -> what to do instead.
    seeding_options: dict[str, str] = field(default_factory=dict)
    restockable: bool = False  # a scenario's change may `restock` it (units added to SKUs)

    def result_fields(self, operation: str) -> frozenset[str]:
        """The fields the operation's result may have when it is a step's action."""
        shape = self.results[operation]
        return frozenset(shape.__required_keys__ | shape.__optional_keys__)  # type: ignore[attr-defined]

    @property
    def all_operations(self) -> set[str]:
        undo = {op for op in self.operations.values() if op is not None}
        return set(self.operations) | undo


SERVICE_KINDS: dict[str, ServiceKind] = {
    kind.name: kind
    for kind in (
        ServiceKind("inventory", "stock per SKU; reservations that can be released or committed",
                    {"reserve": "release", "commit": "restock"}, InventoryOptions,
                    {"reserve": ReserveResult, "release": ReleaseResult, "commit": CommitResult,
                     "restock": RestockResult},
                    {"stock": "it seeds the stock rows; a change adds units with `restock: {SKU: n}` instead"},
                    restockable=True),
        ServiceKind("payment", "charges that can be refunded; declined cards fail permanently",
                    {"charge": "refund"}, PaymentOptions, {"charge": ChargeResult, "refund": RefundResult}),
        ServiceKind("shipping", "shipments that can be cancelled until dispatched",
                    {"create_shipment": "cancel_shipment"}, ShippingOptions,
                    {"create_shipment": ShipmentResult, "cancel_shipment": CancelShipmentResult}),
        ServiceKind("notification", "messages; a sent message is corrected, not unsent",
                    {"send": "send_correction"}, NotificationOptions,
                    {"send": SendResult, "send_correction": CorrectionResult}),
        ServiceKind("booking", "bookings against a limited capacity (flights, hotels, cars)",
                    {"book": "cancel"}, BookingOptions, {"book": BookingResult, "cancel": CancelBookingResult}),
        ServiceKind("account", "user accounts", {"create": "delete"}, AccountOptions,
                    {"create": AccountResult, "delete": DeleteAccountResult}),
        ServiceKind("ledger", "debits and credits on named accounts",
                    {"debit": "credit", "credit": "debit"}, LedgerOptions,
                    {"debit": EntryResult, "credit": EntryResult},
                    {"balances": "it seeds the balance rows, which only entries change"}),
        ServiceKind("orders", "order records that can be cancelled", {"create": "cancel"}, OrderOptions,
                    {"create": OrderResult, "cancel": CancelOrderResult}),
        ServiceKind("classifier", "a category and a priority for a text, by keyword and tier rules; nothing to undo",
                    {"classify": None}, ClassifierOptions, {"classify": ClassifyResult}),
    )
}
