"""The shop's own tests, through sagatui's pytest plugin: each runs a scenario of the App on the virtual clock
(the providers over real HTTP on 127.0.0.1), then looks at what sagatui saw and at what the shop's database
and the providers' books hold.

    pytest examples/shop/test_shop.py
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from pathlib import Path

import pytest
from http_client import NoReply, Throttled, Unavailable, request
from providers import PaymentProvider
from runtime import RunFiles, read_rows
from serving import ProviderServer

from sagatui.lab.trial import Outcome
from sagatui.model.events import EventKind
from sagatui.pytest_plugin import SagaLab

APP = f"{os.path.relpath(Path(__file__).with_name('app.py'))}:app"  # examples/shop/app.py:app from the repo root


def files(outcome: Outcome) -> RunFiles:
    """The shop's and the providers' files of the outcome's run."""
    return RunFiles.of(outcome.db.resolve(), outcome.report.run_id)


def attempts(outcome: Outcome, saga_id: str, step: str) -> int:
    return sum(1 for event in outcome.events
               if event.kind is EventKind.ATTEMPT_STARTED and event.saga_id == saga_id and event.step == step)


def attempts_of_undo(outcome: Outcome, saga_id: str, step: str) -> int:
    return sum(1 for event in outcome.events if event.kind is EventKind.COMPENSATION_ATTEMPT_STARTED
               and event.saga_id == saga_id and event.step == step)


def test_happy(saga_lab: SagaLab) -> None:
    outcome = saga_lab.run(APP, "happy", seed=1)
    assert outcome.statuses == {"S-0001": "completed"}
    outcome.assert_passed()
    [order] = read_rows(files(outcome).shop, "orders")
    [made] = read_rows(files(outcome).payments, "charges")
    [shipment] = read_rows(files(outcome).shipping, "shipments")
    assert (order["status"], order["charge_id"], order["shipment_id"]) == (
        "confirmed", made["charge_id"], shipment["shipment_id"])
    assert made["amount"] == order["amount"] == 42.5


def test_declined_card_charges_nothing(saga_lab: SagaLab) -> None:
    outcome = saga_lab.run(APP, "declined")
    outcome.assert_passed()
    assert outcome.compensation_orders == {"S-0001": ["create_order"]}
    assert [order["status"] for order in read_rows(files(outcome).shop, "orders")] == ["cancelled"]
    assert read_rows(files(outcome).payments, "charges") == []


def test_restricted_region_refunds_the_charge(saga_lab: SagaLab) -> None:
    outcome = saga_lab.run(APP, "restricted_region")
    outcome.assert_passed()
    assert outcome.compensation_orders == {"S-0001": ["charge", "create_order"]}
    payments = files(outcome).payments
    [made], [refund] = read_rows(payments, "charges"), read_rows(payments, "refunds")
    assert (refund["charge_id"], refund["amount"]) == (made["charge_id"], made["amount"])
    assert read_rows(files(outcome).shipping, "shipments") == []


def test_lost_replies_are_retried_with_one_key_and_charged_once(saga_lab: SagaLab) -> None:
    outcome = saga_lab.run(APP, "lost_replies", seed=1)
    outcome.assert_passed()
    payments = files(outcome).payments
    requests = read_rows(payments, "requests")
    posts = Counter(row["idempotency_key"] for row in requests if (row["method"], row["path"]) == ("POST", "/charges"))
    charges = Counter(row["idempotency_key"] for row in read_rows(payments, "charges"))
    for saga_id in outcome.statuses:  # every try reached the processor (a lost reply is lost after it acted)
        key = f"{saga_id}:charge"
        assert posts[key] == attempts(outcome, saga_id, "charge")
        assert charges[key] == 1, f"{key} was posted {posts[key]} times and charged {charges[key]} times"
    assert max(posts.values()) > 1, "seed 1 loses some replies: a charge is posted again"
    replayed = sum(1 for row in requests if row["path"] == "/charges" and row["replayed"])  # GETs never are
    assert replayed == sum(posts.values()) - len(posts)  # every post after a key's first: its stored answer
    # and the order shipping refused (S-0002) was refunded once, however often the refund was asked for
    assert outcome.compensation_orders == {"S-0002": ["charge", "create_order"]}
    refund_posts = [row for row in requests if (row["method"], row["path"]) == ("POST", "/refunds")]
    assert len(refund_posts) == attempts_of_undo(outcome, "S-0002", "charge")
    assert len(read_rows(payments, "refunds")) == 1

def test_flaky_shipping_is_retried_until_it_books(saga_lab: SagaLab) -> None:
    outcome = saga_lab.run(APP, "flaky_shipping", seed=1)
    outcome.assert_passed()
    assert outcome.report.metrics.retries > 0
    assert len(read_rows(files(outcome).shipping, "shipments")) == 3  # a failed try booked nothing


def test_throttled_charge_waits_for_retry_after(saga_lab: SagaLab) -> None:
    outcome = saga_lab.run(APP, "throttled")
    outcome.assert_passed()
    [waited] = [event for event in outcome.events if event.kind is EventKind.RETRY_SCHEDULED]
    assert waited.error_kind is not None and waited.error_kind.value == "rate_limited"
    assert waited.data["delay"] >= 1.0


def test_payments_offline_rolls_the_order_back(saga_lab: SagaLab) -> None:
    outcome = saga_lab.run(APP, "happy", faults={"payments": {"mode": "offline"}})
    assert outcome.statuses == {"S-0001": "compensated"}
    assert outcome.compensation_orders == {"S-0001": ["create_order"]}
    assert all(state == "ok" for state in outcome.invariants.values())
    posts = [row for row in read_rows(files(outcome).payments, "requests") if row["method"] == "POST"]
    assert posts == []  # offline: not one call reached it (the invariants' reconciliation GETs did)


@pytest.mark.sagatui_fuzz(seeds=10)
def test_busy_day_holds(saga_lab: SagaLab, sagatui_seed: int) -> None:
    saga_lab.run(APP, "busy_day", seed=sagatui_seed).assert_passed()


# -- the HTTP client on its own: how each failure is told ------------------------------------------------
def test_client_tells_refused_throttled_and_lost(tmp_path: Path) -> None:
    async def calls() -> None:
        server = ProviderServer(PaymentProvider(tmp_path / "payments.sqlite")).start()
        try:
            order = {"order_id": "ord_1", "amount": 5.0, "card": "4000-0000-0000-0429"}
            with pytest.raises(Throttled) as throttled:
                await request(server.url, "POST", "/charges", order, idempotency_key="k1")
            assert throttled.value.retry_after == 1.0
            first = await request(server.url, "POST", "/charges", order, idempotency_key="k1")
            again = await request(server.url, "POST", "/charges", order, idempotency_key="k1")
            assert first == again  # the stored answer: one charge
            assert len((await request(server.url, "GET", "/charges"))["charges"]) == 1
        finally:
            await asyncio.to_thread(server.stop)
        with pytest.raises(Unavailable):  # nobody listens there any more: refused, nothing was sent
            await request(server.url, "POST", "/charges", order, idempotency_key="k2")

    asyncio.run(calls())


def test_client_tells_a_reply_cut_short(tmp_path: Path) -> None:
    async def calls() -> None:
        async def half_an_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\n{\"charge")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(half_an_answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            with pytest.raises(NoReply):  # the request went out: it may have been done
                await request(f"http://127.0.0.1:{port}", "POST", "/charges", {}, idempotency_key="k")

    asyncio.run(calls())


def test_a_shipment_whose_replies_were_all_lost_is_found_and_cancelled(saga_lab: SagaLab) -> None:
    outcome = saga_lab.run(APP, "happy", faults={"shipping": {"mode": "lost_reply", "error_rate": 1.0,
                                                              "target": "actions"}})
    assert outcome.statuses == {"S-0001": "compensated"}
    # ship timed out on every try (it may have booked): its undo ran too, with no answer to work from
    assert outcome.compensation_orders == {"S-0001": ["ship", "charge", "create_order"]}
    assert all(state == "ok" for state in outcome.invariants.values())
    [shipment] = read_rows(files(outcome).shipping, "shipments")  # one booking, however many tries
    assert shipment["status"] == "cancelled"
