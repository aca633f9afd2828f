"""Scheduled changes of a scenario's simulated services (`changes:`): at clock time `at` a service's options
are updated with the keys given (the rest kept), recorded as a `service.changed` event; an inventory's
`restock` adds units, a booking's new capacity changes its capacity row, the rows committed with the event
so the tables and the invariants stay true. The same pack and seed give the same events, `replay` says
identical, and a change the pack's kind refuses is a load-time error naming file, line and field."""

import json
import sqlite3
from pathlib import Path

PACK = """\
name: changing
services:
  inventory: {kind: inventory, options: {stock: {WIDGET: 2}}}
  payment: {kind: payment, options: {flaky_cards: []}}
  seats: {kind: booking, options: {capacity: 2}}
  slow_payment: {kind: payment, fault: {latency: 2s}}
sagas:
  order:
    steps:
      - {name: reserve, action: inventory.reserve, compensation: inventory.release}
      - {name: charge, action: payment.charge, compensation: payment.refund}
  seat:
    steps:
      - {name: book, action: seats.book, compensation: seats.cancel}
      - {name: charge, action: slow_payment.charge, compensation: slow_payment.refund}
scenarios:
  card_blocked:
    description: the card starts being declined at 2s; a sale before goes through, one after is rolled back
    saga: order
    changes:
      - {at: 2s, service: payment, options: {declined_cards: ['4242-4242-4242-4242']}}
    inputs:
      - {items: {WIDGET: 1}, amount: 5, card: '4242-4242-4242-4242'}
      - {at: 3s, input: {items: {WIDGET: 1}, amount: 5, card: '4242-4242-4242-4242'}}
    expect:
      statuses: [completed, compensated]
      tables: {stock: {WIDGET: {available: 1, reserved: 1}}, rows: {payments: {charged: 1}}}
  restocked:
    description: two widgets sold, none left at 1s; five more (and a new gadget) at 2s
    saga: order
    changes:
      - {at: 2s, service: inventory, restock: {WIDGET: 5, GADGET: 1}}
    inputs:
      - {items: {WIDGET: 2}, amount: 5, card: '4242-4242-4242-4242'}
      - {at: 1s, input: {items: {WIDGET: 1}, amount: 5, card: '4242-4242-4242-4242'}}
      - {at: 3s, input: {items: {WIDGET: 4, GADGET: 1}, amount: 5, card: '4242-4242-4242-4242'}}
    expect:
      statuses: [completed, failed, completed]
      tables: {stock: {WIDGET: {available: 1, reserved: 6}, GADGET: {available: 0, reserved: 1}}}
  capacity:
    description: two seats; a third is added at 2s, then all but one taken away at 4s
    saga: seat
    changes:
      - {at: 2s, service: seats, options: {capacity: 3}}
      - {at: 4s, service: seats, options: {capacity: 1}}
    inputs:
      - {amount: 1, card: '4242-4242-4242-4242'}
      - {amount: 1, card: '4242-4242-4242-4242'}
      - {at: 1s, input: {amount: 1, card: '4242-4242-4242-4242'}}
      - {at: 3s, input: {amount: 1, card: '4000-0000-0000-0002'}}
      - {at: 6s, input: {amount: 1, card: '4242-4242-4242-4242'}}
    expect:
      statuses: [completed, completed, failed, compensated, failed]
      tables: {booked: {seats: 2}}
"""


def write_pack(folder: Path, text: str = PACK) -> str:
    (folder / "changing.yaml").write_text(text)
    return "changing.yaml"


def run_json(sagatui, tmp_path: Path, scenario: str, db: str, *more: str) -> dict:
    result = sagatui("run", write_pack(tmp_path), "--scenario", scenario, "--format", "json", "--db", db, *more)
    assert result.code == 0, result
    (report,) = json.loads(result.out)["scenarios"]
    assert report["passed"] and all(check["ok"] for check in report["expectations"]), report["expectations"]
    assert all(invariant["state"] == "ok" for invariant in report["invariants"]), report["invariants"]
    return report


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def changes_of(db: Path) -> list[tuple[float, str, dict]]:
    return [(time, service, json.loads(data)) for time, service, data in
            query(db, "SELECT time, service, data FROM events WHERE kind = 'service.changed' ORDER BY seq")]


def test_a_card_declined_from_2s_on(sagatui, tmp_path):
    report = run_json(sagatui, tmp_path, "card_blocked", "a.db")
    assert report["statuses"] == {"S-0001": "completed", "S-0002": "compensated"}
    db = tmp_path / "a.db"
    ((time, service, data),) = changes_of(db)
    assert (time, service) == (2.0, "payment")
    assert data == {"options": {"declined_cards": ["4242-4242-4242-4242"]}, "restock": {}, "writes": [],
                    "source": "scenario card_blocked"}
    assert query(db, "SELECT error_kind, message FROM events WHERE kind = 'step.failed'") == [
        ("permanent", "card declined")]
    shown = sagatui("events", "--db", "a.db", "--kind", "service.changed")
    assert "2.000s service.changed" in shown.out and 'declined_cards=["4242-4242-4242-4242"]' in shown.out, shown


def test_a_restock_adds_units_that_later_orders_take(sagatui, tmp_path):
    run_json(sagatui, tmp_path, "restocked", "r.db")
    db = tmp_path / "r.db"
    ((time, service, data),) = changes_of(db)
    assert (time, service, data["restock"], data["options"]) == (2.0, "inventory", {"WIDGET": 5, "GADGET": 1}, {})
    assert data["writes"] == [
        ["stock", {"service": "inventory", "sku": "WIDGET"}, {"initial": 7, "available": 5, "reserved": 2,
                                                               "shipped": 0}],
        ["stock", {"service": "inventory", "sku": "GADGET"}, {"initial": 1, "available": 1, "reserved": 0,
                                                               "shipped": 0}]]
    assert query(db, "SELECT sku, initial, available, reserved, shipped FROM stock ORDER BY sku") == [
        ("GADGET", 1, 0, 1, 0), ("WIDGET", 7, 1, 6, 0)]


def test_a_capacity_change_and_one_below_what_is_booked(sagatui, tmp_path):
    """Two seats booked at once, none left at 1s; a third at 2s, booked at 3s (its card declined at 5s, a
    charge taking 2s). Down to 1 at 4s with 3 booked: nothing booked is taken back, the capacity stays at
    3, and comes down as bookings are cancelled: to 2 at 5s, so the seat asked for at 6s is refused."""
    run_json(sagatui, tmp_path, "capacity", "c.db")
    db = tmp_path / "c.db"
    assert [(time, data["options"], data["writes"]) for time, _, data in changes_of(db)] == [
        (2.0, {"capacity": 3}, [["capacity", {"service": "seats"}, {"capacity": 3, "booked": 2}]]),
        (4.0, {"capacity": 1}, [["capacity", {"service": "seats"}, {"capacity": 3, "booked": 3}]])]
    assert query(db, "SELECT capacity, booked FROM capacity") == [(2, 2)]
    assert query(db, "SELECT saga_id, time, message FROM events WHERE kind = 'step.failed' ORDER BY seq") == [
        ("S-0003", 1.0, "fully booked (0 left, 1 wanted)"), ("S-0004", 5.0, "card declined"),
        ("S-0005", 6.0, "fully booked (0 left, 1 wanted)")]


def test_same_pack_and_seed_same_events_and_replay_says_identical(sagatui, tmp_path):
    for db in ("one.db", "two.db"):
        for scenario in ("card_blocked", "restocked", "capacity"):
            run_json(sagatui, tmp_path, scenario, db)
    columns = "run_id, seq, time, kind, saga_id, step, service, operation, attempt, error_kind, message, data"
    one, two = (query(tmp_path / db, f"SELECT {columns} FROM events ORDER BY run_id, seq")
                for db in ("one.db", "two.db"))
    assert one == two and sum(row[3] == "service.changed" for row in one) == 4
    for run in ("1", "2", "3"):
        replayed = sagatui("replay", "one.db", "--run", run)
        assert replayed.code == 0 and replayed.out.startswith("identical: "), replayed


def test_a_change_the_service_refuses_is_named_by_file_line_and_field(sagatui, tmp_path):
    broken = PACK.replace("service: payment, options: {declined_cards:", "service: payment, options: {declined_card:")
    broken = broken.replace("{at: 2s, service: inventory, restock:", "{at: 2s, service: inventry, restock:")
    broken = broken.replace("options: {capacity: 1}", "options: {capacity: many}")
    broken = broken.replace("options: {capacity: 3}", "options: {capacity: 3}, restock: {SEAT: 1}")
    result = sagatui("check", write_pack(tmp_path, broken))
    assert result.code == 2, result
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert lines == [
        "sagatui: error: changing.yaml:21: scenarios.card_blocked.changes[0].options.declined_card: unknown field "
        "'declined_card'; did you mean 'declined_cards'?",
        "sagatui: error: changing.yaml:32: scenarios.restocked.changes[0].service: there is no service 'inventry'; "
        "did you mean 'inventory'? (services: inventory, payment, seats, slow_payment)",
        "sagatui: error: changing.yaml:44: scenarios.capacity.changes[0].restock: seats is a booking service, with "
        "no stock to restock",
        "sagatui: error: changing.yaml:45: scenarios.capacity.changes[1].options.capacity: expected a whole number, "
        "got 'many'"], result.err


def test_an_option_that_seeds_rows_is_refused(sagatui, tmp_path):
    broken = PACK.replace("restock: {WIDGET: 5, GADGET: 1}", "options: {stock: {WIDGET: 7}}")
    result = sagatui("check", write_pack(tmp_path, broken))
    assert result.code == 2 and "Traceback" not in result.err, result
    assert ("changing.yaml:32: scenarios.restocked.changes[0].options.stock: a change cannot set stock: it seeds "
            "the stock rows; a change adds units with `restock: {SKU: n}` instead") in result.err, result.err
    empty = sagatui("check", write_pack(tmp_path, PACK.replace(", restock: {WIDGET: 5, GADGET: 1}", "")))
    assert empty.code == 2 and "changing.yaml:32: scenarios.restocked.changes[0]: a change needs options" in empty.err
