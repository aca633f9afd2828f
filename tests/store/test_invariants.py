"""The run invariants, each shown passing and failing on rows written as effects would write them."""

from typing import Any

import pytest

from sagatui.model.effects import RowWrite
from sagatui.model.events import SAGA_OUTCOMES, EventKind
from sagatui.store.invariants import INVARIANT_NAMES, check_invariants
from tests.store.conftest import Run


def saga(run: Run, saga_id: str, status: str) -> None:
    run.recorder.emit(EventKind.SAGA_STARTED, saga_id=saga_id, data={"saga": "order", "input": {}})
    if status != "running":
        kind = next(kind for kind, ends_as in SAGA_OUTCOMES.items() if ends_as == status)
        run.recorder.emit(kind, saga_id=saga_id, data={"status": status, "duration": 1.0})


def write(run: Run, table: str, key: dict[str, Any], **values: Any) -> None:
    run.recorder.emit(EventKind.SERVICE_EFFECT, service=key["service"],
                      effects=[RowWrite(table, key, values)])


async def failing(run: Run) -> dict[str, list[str]]:
    await run.writer.flush()
    return {result.name: result.details for result in await check_invariants(run.store, run.id) if not result.ok}


def step(saga_id: str) -> dict[str, Any]:
    return {"saga_id": saga_id, "step": "x"}


async def test_a_consistent_run_passes_every_invariant(run: Run) -> None:
    saga(run, "done", "completed")
    saga(run, "undone", "compensated")
    write(run, "stock", {"service": "inv", "sku": "A"}, initial=5, available=3, reserved=1, shipped=1)
    for number, (owner, status) in enumerate([("done", "reserved"), ("done", "committed"), ("undone", "released")]):
        write(run, "reservations", {"service": "inv", "reservation_id": f"R{number}", "sku": "A"}, **step(owner),
              quantity=1, status=status, updated_at=0.0)
    write(run, "payments", {"service": "pay", "payment_id": "P1"}, **step("undone"), card="", amount=9.5,
          status="refunded", charged_at=0.0)
    write(run, "refunds", {"service": "pay", "refund_id": "F1"}, **step("undone"), payment_id="P1", amount=9.5,
          refunded_at=1.0)
    write(run, "balances", {"service": "bank", "account": "a"}, initial=10.0, balance=10.0)
    for entry, amount in (("E1", -4.0), ("E2", 4.0)):
        write(run, "ledger_entries", {"service": "bank", "entry_id": entry}, **step("undone"), account="a",
              amount=amount, kind="debit" if amount < 0 else "credit", reverses=None, at=0.0)
    assert await failing(run) == {}
    results = await check_invariants(run.store, run.id)
    assert [result.name for result in results] == list(INVARIANT_NAMES)


async def test_stock_not_conserved(run: Run) -> None:
    write(run, "stock", {"service": "inv", "sku": "A"}, initial=5, available=5, reserved=1, shipped=0)
    write(run, "stock", {"service": "inv", "sku": "B"}, initial=2, available=1, reserved=1, shipped=0)
    write(run, "capacity", {"service": "hotel"}, capacity=2, booked=1)
    write(run, "balances", {"service": "bank", "account": "a"}, initial=10.0, balance=7.0)
    assert await failing(run) == {"stock_conserved": [
        "inv A: initial 5 != available 5 + reserved 1 + shipped 0",
        "inv A: stock says reserved 1, lines say 0; stock says shipped 0, lines say 0",
        "inv B: stock says reserved 1, lines say 0; stock says shipped 0, lines say 0",
        "hotel: capacity says 1 booked, bookings say 0",
        "bank a: balance 7.00 != initial + entries 10.00",
    ]}


@pytest.mark.parametrize("status", ["compensated", "failed"])
async def test_resources_left_behind_by_a_rolled_back_saga_leak(run: Run, status: str) -> None:
    saga(run, "s1", status)
    saga(run, "ok", "completed")
    held = {"reservations": ("reservation_id", "reserved", {"sku": "A", "quantity": 1, "updated_at": 0.0}),
            "shipments": ("shipment_id", "created", {"tracking_number": "T", "region": "EU", "created_at": 0.0}),
            "bookings": ("booking_id", "booked", {"quantity": 1, "booked_at": 0.0}),
            "accounts": ("account_id", "active", {"username": "ada", "created_at": 0.0}),
            "orders": ("order_id", "created", {"created_at": 0.0})}
    for owner in ("s1", "ok"):
        for table, (id_column, live, extra) in held.items():
            key = {"service": "svc", id_column: f"{owner}-1"}
            if table == "reservations":
                key["sku"] = extra.pop("sku", "A")
            write(run, table, key, **step(owner), status=live, **extra)
    write(run, "ledger_entries", {"service": "bank", "entry_id": "E1"}, **step("s1"), account="a", amount=-4.0,
          kind="debit", reverses=None, at=0.0)
    problems = await failing(run)
    assert problems.pop("nothing_leaked") == [
        "saga s1: svc reservation s1-1 still reserved", "saga s1: svc shipment s1-1 still created",
        "saga s1: svc booking s1-1 still booked", "saga s1: svc account s1-1 still active",
        "saga s1: svc order s1-1 still created", "saga s1: bank account a still moved by -4.00"]
    assert set(problems) <= {"stock_conserved", "charges_refunded"}


async def test_an_unrefunded_charge_of_a_compensated_saga(run: Run) -> None:
    saga(run, "s1", "compensated")
    write(run, "payments", {"service": "pay", "payment_id": "P1"}, **step("s1"), card="", amount=20.0,
          status="charged", charged_at=0.0)
    assert await failing(run) == {
        "nothing_leaked": ["saga s1: pay payment P1 still charged"],
        "charges_refunded": ["saga s1 (compensated): pay payment P1 of 20.00 refunded 0.00"],
    }


async def test_a_charge_refunded_twice(run: Run) -> None:
    saga(run, "s1", "completed")
    write(run, "payments", {"service": "pay", "payment_id": "P1"}, **step("s1"), card="", amount=20.0,
          status="refunded", charged_at=0.0)
    for refund in ("F1", "F2"):
        write(run, "refunds", {"service": "pay", "refund_id": refund}, **step("s1"), payment_id="P1", amount=20.0,
              refunded_at=0.0)
    assert await failing(run) == {"charges_refunded": ["saga s1 (completed): pay payment P1 of 20.00 refunded 40.00"]}


async def test_a_saga_still_running(run: Run) -> None:
    saga(run, "s1", "running")
    assert await failing(run) == {"all_terminal": ["saga s1 is still running (no step started)"]}


async def test_details_are_capped(run: Run) -> None:
    for number in range(30):
        saga(run, f"s{number}", "running")
    await run.writer.flush()
    [result] = await check_invariants(run.store, run.id, ["all_terminal"])
    assert len(result.details) == 21 and result.details[-1] == "... and 10 more"


async def test_an_unknown_invariant_is_refused(run: Run) -> None:
    with pytest.raises(ValueError, match="unknown invariant"):
        await check_invariants(run.store, run.id, ["money_printed"])


async def test_what_a_saga_needing_attention_still_holds_is_held_never_ok(run: Run) -> None:
    from sagatui.model.status import InvariantState

    saga(run, "s1", "needs_attention")
    write(run, "payments", {"service": "pay", "payment_id": "P1"}, **step("s1"), card="", amount=20.0,
          status="charged", charged_at=0.0)
    write(run, "reservations", {"service": "inv", "reservation_id": "R1", "sku": "A"}, **step("s1"),
          quantity=1, status="reserved", updated_at=0.0)
    await run.writer.flush()
    results = {result.name: result for result in await check_invariants(run.store, run.id)}
    assert {name: result.state for name, result in results.items()} == {
        "stock_conserved": InvariantState.OK,
        "nothing_leaked": InvariantState.HELD, "charges_refunded": InvariantState.HELD,
        "all_terminal": InvariantState.OK}
    leaked = results["nothing_leaked"]
    assert not leaked.ok and leaked.details == []
    assert leaked.held == ["saga s1: inv reservation R1 still reserved (needs attention: awaiting an operator)",
                           "saga s1: pay payment P1 still charged (needs attention: awaiting an operator)"]
    assert leaked.as_dict()["state"] == "held"
