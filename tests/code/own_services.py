"""A user's service for the tests: a wallet whose operations count every real call and keep their own
idempotency record, so a test can tell calls made from effects done."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sagatui
from sagatui import ref, saga, scenario, step


class Declined(Exception):
    """The user's own exception for a card the bank refuses."""


class Busy(Exception):
    """The user's own exception for a bank that asks to be called later."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("bank busy")
        self.retry_after = retry_after


@dataclass
class Bank:
    """What the wallet's operations did: calls by operation, charges by idempotency key."""

    calls: Counter[str] = field(default_factory=Counter)
    charges: dict[str, float] = field(default_factory=dict)
    refunded: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    fail_first: int = 0  # the first N charge calls fail transiently
    hang: bool = False  # charge never answers (until cancelled)
    takes: float = 0.0  # real seconds a charge takes


def wallet_app(bank: Bank, *, fault: dict[str, Any] | None = None, retry: dict[str, Any] | None = None,
               inputs: int = 1, notify: bool = False, **app_options: Any) -> sagatui.App:
    """The wallet and shipping; `notify`: a step more between them (a changed definition)."""
    wallet = sagatui.Service("wallet", errors={Declined: "permanent", Busy: "rate_limited"}, fault=fault)

    @wallet.operation
    async def charge(ctx: sagatui.CallContext, amount: float, card: str = "ok") -> dict[str, Any]:
        bank.calls["charge"] += 1
        if bank.hang:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                bank.cancelled.append(ctx.idempotency_key)
                raise
        if bank.takes:
            await asyncio.sleep(bank.takes)
        if bank.calls["charge"] <= bank.fail_first:
            raise sagatui.Transient("bank unavailable", code="503")
        if card == "declined":
            raise Declined("card declined by the bank")
        if card == "broken":
            raise KeyError("card")
        bank.charges.setdefault(ctx.idempotency_key, amount)  # a repeated key charges nothing new
        return {"charge_id": f"CH-{ctx.saga_id}", "amount": amount}

    @charge.undo
    async def refund(ctx: sagatui.CallContext, amount: float) -> dict[str, Any]:
        bank.calls["refund"] += 1
        charged = ctx.step_key in bank.charges  # found by the step's key: a lost reply told no charge id
        if charged and ctx.step_key not in bank.refunded:
            bank.refunded.append(ctx.step_key)
        return {"refunded": charged}

    steps = [
        step("charge", charge, params={"amount": ref("input.amount"), "card": ref("input.card")},
             **({"retry": retry} if retry else {})),
        step("ship", "shipping.create_shipment", params={"region": ref("input.region")},
             compensation="shipping.cancel_shipment"),
    ]
    if notify:
        steps.insert(1, step("notify", "shipping.create_shipment", params={"region": "EU"}))
    order = {"amount": 12.5, "card": "ok", "region": "EU"}
    return sagatui.App(
        "wallet_shop", services=[wallet], pack=_SHIPPING_PACK, sagas=[saga("pay_and_ship", *steps)],
        scenarios={"pay": scenario("pay_and_ship", inputs=[order] * inputs),
                   "declined": scenario("pay_and_ship", inputs=[{**order, "card": "declined"}]),
                   "broken": scenario("pay_and_ship", inputs=[{**order, "card": "broken"}]),
                   "restricted": scenario("pay_and_ship", inputs=[{**order, "region": "mars"}])},
        **app_options)


_SHIPPING_PACK = __file__.replace("own_services.py", "shipping_pack.yaml")
