"""A small shop's checkout as a saga over its own code: an order in its own SQLite database, a card charged and
a parcel booked over real HTTP, each undone when a later step fails for good.

    create_order (undo: cancel_order) -> charge (undo: refund) -> ship (undo: cancel_shipment) -> confirm_order

    sagatui run examples/shop/app.py:app --all     # every scenario, headless
    sagatui examples/shop/app.py:app               # the dashboard

The invariants below check the shop's tables and the providers' books at the end of every run.
"""

from __future__ import annotations

from ledger import Ledger, charges_text, shipments_text
from runtime import shop_lifespan
from services import charge, confirm_order, create_order, payments, ship, shipping, shop

import sagatui
from sagatui import RunEnd, ref, saga, scenario, step

ORDER = ref("steps.create_order.result.order_id")
CARD = "4242-4242-4242-4242"
DECLINED_CARD = "4000-0000-0000-0002"  # the processor always declines it
THROTTLED_CARD = "4000-0000-0000-0429"  # the processor answers its first try 429, Retry-After: 1
RESTRICTED = "antarctica"  # the carrier does not deliver there

checkout = saga(
    "checkout",
    step("create_order", create_order, retry={"max_attempts": 3, "initial_delay": "50ms", "attempt_timeout": "2s"},
         description="A pending order in the shop's database; cancelled if the checkout rolls back"),
    step("charge", charge, params={"order_id": ORDER},
         retry={"max_attempts": 5, "initial_delay": "100ms", "max_delay": "1s", "jitter": "full",
                "attempt_timeout": "2s",
                "by_error": {"rate_limited": {"max_attempts": 6, "multiplier": 1},  # at least its Retry-After
                             "breaker_open": {"max_attempts": 4, "initial_delay": "1s", "multiplier": 1,
                                              "jitter": "none"}}},  # waits out the gateway's 2 s open
         compensation_retry={"max_attempts": 10, "initial_delay": "200ms", "max_delay": "2s", "attempt_timeout": "2s"},
         description="Charge the card over HTTP; refunded if shipping fails"),
    step("ship", ship, params={"order_id": ORDER},
         retry={"max_attempts": 8, "initial_delay": "100ms", "max_delay": "1s", "jitter": "full",
                "attempt_timeout": "2s"},
         compensation_retry={"max_attempts": 10, "initial_delay": "200ms", "max_delay": "2s", "attempt_timeout": "2s"},
         description="Book the carrier over HTTP; cancelled if the order cannot be confirmed"),
    step("confirm_order", confirm_order,
         params={"order_id": ORDER, "charge_id": ref("steps.charge.result.charge_id"),
                 "shipment_id": ref("steps.ship.result.shipment_id")},
         retry={"max_attempts": 3, "initial_delay": "50ms", "attempt_timeout": "2s"},
         description="The order is paid and shipped"),
    description="Order, charge, ship, confirm",
    input={"customer": {"type": "text"}, "amount": {"type": "number", "minimum": 0.01},
           "card": {"type": "text"}, "address": {"type": "text"}, "region": {"type": "text", "required": False}},
    output={"order_id": ORDER, "charge_id": ref("steps.charge.result.charge_id"),
            "shipment_id": ref("steps.ship.result.shipment_id")},
)


def order(n: int | str, *, card: str = CARD, region: str = "north", amount: float = 42.50) -> dict[str, object]:
    """A checkout's input; `n` numbers the customer (`"{n}"`: the saga's own number, in a workload)."""
    return {"customer": f"customer{n}@example.com", "amount": amount, "card": card,
            "address": f"{n} Main St", "region": region}


def spaced(*inputs: dict[str, object], every: float = 5.0) -> list[dict[str, object]]:
    """Inputs started one after another (each saga has ended before the next starts): a fault's seeded
    draws then fall on the same calls every run."""
    return [{"at": f"{index * every:g}s", "input": given} for index, given in enumerate(inputs)]


SCENARIOS = {
    "happy": scenario("checkout", description="One order, paid, shipped and confirmed",
                      inputs=[order(1)], expect={"statuses": ["completed"], "max_retries": 0}),
    "declined": scenario(
        "checkout", description="The card is declined (402): the order is cancelled, nothing was charged",
        inputs=[order(2, card=DECLINED_CARD)],
        expect={"statuses": ["compensated"], "compensation_order": ["create_order"], "max_retries": 0}),
    "restricted_region": scenario(
        "checkout", description="The carrier refuses the region (422): the charge is refunded, the order cancelled",
        inputs=[order(3, region=RESTRICTED)],
        expect={"statuses": ["compensated"], "compensation_order": ["charge", "create_order"], "max_retries": 0}),
    "throttled": scenario(
        "checkout", description="The processor answers 429 with Retry-After: 1; the retry waits for it, then charges",
        inputs=[order(4, card=THROTTLED_CARD)], expect={"statuses": ["completed"], "metrics": {"retries": 1}}),
    "lost_replies": scenario(
        "checkout", description="Half the processor's replies are lost: retries with the same key charge once",
        faults=[{"at": "0s", "service": "payments", "profile": {"mode": "lost_reply", "error_rate": 0.5}}],
        inputs=spaced(order(4), order(5, region=RESTRICTED), order(6), order(7), order(8)),
        expect={"statuses": ["completed", "compensated", "completed", "completed", "completed"],
                "compensation_orders": {"S-0002": ["charge", "create_order"]}}),
    "flaky_shipping": scenario(
        "checkout", description="The carrier fails half its calls (500): shipping is retried until it books",
        faults=[{"at": "0s", "service": "shipping", "profile": {"mode": "degraded", "error_rate": 0.5}}],
        inputs=spaced(order(9), order(10), order(11)),
        expect={"statuses": ["completed", "completed", "completed"]}),
    "busy_day": scenario(
        "checkout",
        description="30 orders at 10/s; the processor degrades at 1s, is down at 1.5s, loses replies from 2s to 3s",
        workload={"count": 30, "rate": 10, "variations": [
            {"weight": 8, "input": order("{n}") | {"amount": {"draw": {"between": [5, 300]}},
                                                   "region": {"draw": {"one_of": ["north", "south", "east", "west"]}}}},
            {"weight": 1, "input": order("{n}", card=DECLINED_CARD)},
            {"weight": 1, "input": order("{n}", region=RESTRICTED)},
            {"weight": 1, "input": order("{n}", card=THROTTLED_CARD)}]},
        faults=[{"at": "1s", "service": "payments", "profile": {"mode": "degraded", "error_rate": 0.5}},
                {"at": "1500ms", "service": "payments", "profile": {"mode": "offline"}},
                {"at": "2s", "service": "payments", "profile": {"mode": "lost_reply", "error_rate": 0.3}},
                {"at": "3s", "service": "payments", "profile": {"mode": "online"}}],
        expect={"counts": {"failed": 0, "needs_attention": 0}, "breaker_trips": 1}),
}

# The gateway opens on 5 failures in a row, and charge's by_error policy waits its 2 s out; the carrier's takes
# as many failures as ship has attempts, so a flaky carrier is retried rather than cut off.
BREAKERS = {"card_gateway": {"consecutive_failures": 5, "open_duration": "2s"},
            "carrier": {"consecutive_failures": 8, "open_duration": "2s"}}

app = sagatui.App("shop", services=[shop, payments, shipping], sagas=[checkout], scenarios=SCENARIOS, breakers=BREAKERS,
                  description="A checkout over the shop's own database and two HTTP providers",
                  default_scenario="happy", lifespan=shop_lifespan)


# -- invariants: the shop's tables against the providers' books, at the end of every run ------------------
@app.invariant
async def confirmed_orders_paid_and_shipped(end: RunEnd) -> list[str]:
    """A confirmed order has one charge, not refunded, and one live shipment: the ones it records."""
    books = await Ledger.read(end)
    problems = []
    for order in books.orders_in("confirmed"):
        charges, shipments = books.charges_of(order.order_id), books.shipments_of(order.order_id)
        if [c["charge_id"] for c in charges] != [order.charge_id] or any(c["refunds"] for c in charges):
            problems.append(f"{order.order_id} ({order.saga_id}) is confirmed with charge {order.charge_id}, "
                            f"the processor has {charges_text(charges)}")
        if [s["shipment_id"] for s in shipments if s["status"] == "created"] != [order.shipment_id]:
            problems.append(f"{order.order_id} ({order.saga_id}) is confirmed with shipment {order.shipment_id}, "
                            f"the carrier has {shipments_text(shipments)}")
    return problems


@app.invariant
async def cancelled_orders_made_whole(end: RunEnd) -> list[str]:
    """A cancelled order's charges are each refunded exactly once, in full, and none of its shipments is live;
    but for a checkout that needs attention (its rollback could not finish: an operator's inbox lists it)."""
    books = await Ledger.read(end)
    awaiting = {ended.saga_id for ended in end.sagas if ended.status == "needs_attention"}
    problems = []
    for order in books.orders_in("cancelled"):
        if order.saga_id in awaiting:
            continue
        for made in books.charges_of(order.order_id):
            refunded = [refund["amount"] for refund in made["refunds"]]
            if refunded != [made["amount"]]:
                problems.append(f"{order.order_id} ({order.saga_id}) is cancelled; charge {made['charge_id']} "
                                f"of {made['amount']} has refunds {refunded}")
        live = [s["shipment_id"] for s in books.shipments_of(order.order_id) if s["status"] != "cancelled"]
        if live:
            problems.append(f"{order.order_id} ({order.saga_id}) is cancelled; shipments still live: {live}")
    return problems


@app.invariant
async def charged_once_per_key(end: RunEnd) -> list[str]:
    """No idempotency key made two charges, no charge was refunded twice, and no charge or shipment is for
    an order the shop does not have."""
    books = await Ledger.read(end)
    problems = [f"key {key} made {n} charges" for key, n in books.charges_per_key().items() if n > 1]
    problems += [f"charge {c['charge_id']} refunded {len(c['refunds'])} times" for c in books.charges
                 if len(c["refunds"]) > 1]
    known = {order.order_id for order in books.orders}
    problems += [f"charge {c['charge_id']} is for unknown order {c['order_id']}" for c in books.charges
                 if c["order_id"] not in known]
    problems += [f"shipment {s['shipment_id']} is for unknown order {s['order_id']}" for s in books.shipments
                 if s["order_id"] not in known]
    return problems


@app.invariant
async def saga_status_matches_order(end: RunEnd) -> list[str]:
    """A completed checkout confirmed its order; one rolled back cancelled it (or made none); none is left
    pending, but by a saga that needs an operator."""
    books = await Ledger.read(end)
    rolled_back: set[str | None] = {"cancelled", None}  # None: no order was made
    wanted: dict[str, set[str | None]] = {
        "completed": {"confirmed"}, "compensated": rolled_back, "cancelled": rolled_back, "failed": rolled_back,
        "needs_attention": rolled_back | {"pending"}}
    problems = []
    for ended in end.sagas:
        order = books.order_of(ended.saga_id)
        if ended.status in wanted and (order.status if order else None) not in wanted[ended.status]:
            problems.append(f"{ended.saga_id} is {ended.status}, its order "
                            f"{order.order_id + ' is ' + order.status if order else 'was never created'}")
    sagas = {ended.saga_id for ended in end.sagas}
    problems += [f"{order.order_id} belongs to no saga of the run ({order.saga_id})" for order in books.orders
                 if order.saga_id not in sagas]
    return problems
