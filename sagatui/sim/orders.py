"""Orders: order records a saga creates and its rollback cancels.

- `create(customer?, amount?)`: result `{"order_id"}`.
- `cancel` (undoes create): cancels the order that step created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sagatui.model.calls import Call
from sagatui.sim import params
from sagatui.sim.catalog import OrderOptions
from sagatui.sim.service import Handler, Result, Row, SimService, StepRow


@dataclass
class Order(StepRow):
    table: ClassVar[str] = "orders"
    key_columns: ClassVar[tuple[str, ...]] = ("order_id",)
    holding: ClassVar[tuple[str, ...]] = ("created",)
    id_prefix: ClassVar[str | None] = "ORD"
    order_id: str
    customer: str | None
    amount: float | None
    status: str  # created | cancelled
    created_at: float


class OrderService(SimService):
    kind = "orders"
    row_types = (Order,)
    options: OrderOptions

    def handlers(self) -> dict[str, Handler]:
        return {"create": self.create, "cancel": self.cancel}

    def create(self, call: Call) -> tuple[Result, list[Row]]:
        customer = params.text(call.params, "customer") if "customer" in call.params else None
        amount = params.amount(call.params) if "amount" in call.params else None
        order = Order(call.saga_id, call.step, self.new_id(Order), customer, amount, "created", self.clock.now())
        self.created(order)
        return {"order_id": order.order_id}, [order]

    def cancel(self, call: Call) -> tuple[Result, list[Row]]:
        orders: list[Order] = self.created_by(call, Order)
        changed: list[Row] = []
        for order in orders:
            if order.status == "created":
                order.status = "cancelled"
                changed.append(order)
        return {"outcome": "completed", "order_id": orders[-1].order_id if orders else None}, changed
