"""The shop's operations as sagatui services: its own database (`shop`) and its two providers over HTTP
(`payments`, `shipping`). Each operation is idempotent by the key sagatui gives it, the same for every try
of a step (`ctx.idempotency_key`): the shop keeps it on the order, the providers honour it as the
Idempotency-Key header. Each undo works from what its step answered (`ctx.forward_result`), or, when that
answer never came (a lost reply, a timeout), finds what the step did by the order it was for.
"""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import quote

import aiosqlite
from http_client import BadRequest, Declined, NoReply, Rejected, Throttled, Unavailable
from runtime import ShopRun
from shop_db import OrderClosed, OrderNotFound

import sagatui
from sagatui import CallContext

# What each failure of a provider call means to a saga step (the first type that matches decides).
PROVIDER_ERRORS = {Declined: "permanent", Throttled: "rate_limited", BadRequest: "validation",
                   Rejected: "permanent", Unavailable: "transient", NoReply: "timeout"}

shop = sagatui.Service("shop", description="The shop's own orders (SQLite)",
                       errors={OrderNotFound: "permanent", OrderClosed: "permanent",
                               aiosqlite.OperationalError: "transient"})
payments = sagatui.Service("payments", description="The card processor, over HTTP", errors=PROVIDER_ERRORS,
                           breaker="card_gateway")
shipping = sagatui.Service("shipping", description="The carrier, over HTTP", errors=PROVIDER_ERRORS,
                           breaker="carrier")


class OrderResult(TypedDict):
    order_id: str
    status: str


class CancelResult(TypedDict):
    order_id: str | None  # None: the checkout had created no order
    status: str


class ChargeResult(TypedDict):
    charge_id: str
    order_id: str
    amount: float


class RefundResult(TypedDict):
    refund_ids: list[str]  # one per charge of the order ([]: it was never charged)


class ShipmentResult(TypedDict):
    shipment_id: str
    order_id: str


class CancelShipmentResult(TypedDict):
    cancelled: list[str]  # the order's shipments ([]: none was made)


def _why(ctx: CallContext) -> str:
    why = ctx.compensation
    return f"{why.failed_step} failed: {why.error_message}" if why is not None else "rolled back"


# -- the shop's database --------------------------------------------------------------------------------
@shop.operation
async def create_order(ctx: CallContext, customer: str, amount: float, address: str,
                       region: str | None = None) -> OrderResult:
    """A pending order for the checkout: the same one however often the step is tried."""
    order = await ShopRun.of(ctx.run).db.create_order(ctx.idempotency_key, ctx.saga_id, customer=customer,
                                                      amount=amount, address=address, region=region)
    return {"order_id": order.order_id, "status": order.status}


@create_order.undo
async def cancel_order(ctx: CallContext) -> CancelResult:
    """Cancel the checkout's order (found by create_order's own key when its answer was lost)."""
    db = ShopRun.of(ctx.run).db
    order_id = ctx.forward_result.get("order_id")
    if order_id is None:
        found = await db.order_by_key(ctx.step_key)
        if found is None:
            return {"order_id": None, "status": "never created"}
        order_id = found.order_id
    order = await db.cancel_order(order_id, _why(ctx))
    return {"order_id": order.order_id, "status": order.status}


@shop.operation
async def confirm_order(ctx: CallContext, order_id: str, charge_id: str, shipment_id: str) -> OrderResult:
    """The order is paid and on its way."""
    order = await ShopRun.of(ctx.run).db.confirm_order(order_id, charge_id=charge_id, shipment_id=shipment_id)
    return {"order_id": order.order_id, "status": order.status}


# -- payments -------------------------------------------------------------------------------------------
@payments.operation
async def charge(ctx: CallContext, order_id: str, amount: float, card: str) -> ChargeResult:
    """Charge the card for the order; a retry sends the same key, and the processor answers the same charge."""
    answer = await ShopRun.of(ctx.run).payments("POST", "/charges", {"order_id": order_id, "amount": amount,
                                                                     "card": card}, key=ctx.idempotency_key)
    return {"charge_id": answer["charge_id"], "order_id": order_id, "amount": answer["amount"]}


@charge.undo
async def refund(ctx: CallContext, order_id: str) -> RefundResult:
    """Refund the charge (every charge of the order, when the charge's answer was lost)."""
    shop_run = ShopRun.of(ctx.run)
    charge_id = ctx.forward_result.get("charge_id")
    if charge_id is not None:
        charge_ids = [charge_id]
    else:
        found = await shop_run.payments("GET", f"/charges?order_id={quote(order_id)}")
        charge_ids = [made["charge_id"] for made in found["charges"]]
    refund_ids = []
    for each in charge_ids:  # one key per charge, the same on every try of this undo
        answer = await shop_run.payments("POST", "/refunds", {"charge_id": each},
                                         key=f"{ctx.idempotency_key}:{each}")
        refund_ids.append(answer["refund_id"])
    return {"refund_ids": refund_ids}


# -- shipping -------------------------------------------------------------------------------------------
@shipping.operation
async def ship(ctx: CallContext, order_id: str, address: str, region: str | None = None) -> ShipmentResult:
    """Book the carrier for the order (a restricted region is refused for good)."""
    answer = await ShopRun.of(ctx.run).shipping("POST", "/shipments", {"order_id": order_id, "address": address,
                                                                       "region": region}, key=ctx.idempotency_key)
    return {"shipment_id": answer["shipment_id"], "order_id": order_id}


@ship.undo
async def cancel_shipment(ctx: CallContext, order_id: str) -> CancelShipmentResult:
    """Cancel the shipment (every live shipment of the order, when ship's answer was lost)."""
    shop_run = ShopRun.of(ctx.run)
    shipment_id = ctx.forward_result.get("shipment_id")
    if shipment_id is not None:
        shipment_ids = [shipment_id]
    else:
        found = await shop_run.shipping("GET", f"/shipments?order_id={quote(order_id)}")
        shipment_ids = [made["shipment_id"] for made in found["shipments"]]
    for each in shipment_ids:
        await shop_run.shipping("POST", f"/shipments/{quote(each)}/cancel", key=f"{ctx.idempotency_key}:{each}")
    return {"cancelled": shipment_ids}
