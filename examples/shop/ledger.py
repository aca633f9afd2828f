"""The shop's books at the end of a run, side by side: its orders (its own database) and what each provider
says it did (their list endpoints, as a reconciliation job would ask them). The invariants read these."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from http_client import JSON
from runtime import ShopRun
from shop_db import Order, OrderStatus

from sagatui import RunEnd


@dataclass(frozen=True)
class Ledger:
    orders: list[Order]
    charges: list[JSON]  # each with its refunds
    shipments: list[JSON]

    @classmethod
    async def read(cls, end: RunEnd) -> Ledger:
        shop = ShopRun.of(end.run)
        charges = await shop.payments("GET", "/charges")
        shipments = await shop.shipping("GET", "/shipments")
        return cls(await shop.db.orders(), charges["charges"], shipments["shipments"])

    def orders_in(self, status: OrderStatus) -> list[Order]:
        return [order for order in self.orders if order.status == status]

    def order_of(self, saga_id: str) -> Order | None:
        return next((order for order in self.orders if order.saga_id == saga_id), None)

    def charges_of(self, order_id: str) -> list[JSON]:
        return [charge for charge in self.charges if charge["order_id"] == order_id]

    def shipments_of(self, order_id: str) -> list[JSON]:
        return [shipment for shipment in self.shipments if shipment["order_id"] == order_id]

    def charges_per_key(self) -> Counter[str]:
        return Counter(charge["idempotency_key"] for charge in self.charges if charge["idempotency_key"])


def charges_text(charges: list[JSON]) -> str:
    if not charges:
        return "no charge"
    return ", ".join(f"{c['charge_id']} ({len(c['refunds'])} refunds)" for c in charges)


def shipments_text(shipments: list[JSON]) -> str:
    if not shipments:
        return "no shipment"
    return ", ".join(f"{s['shipment_id']} ({s['status']})" for s in shipments)
