"""Expectations on the end state: resource tables (stock, balances, units booked, rows by state), exact
metric figures and per-saga compensation orders, each a check in `run`'s report that fails when the
run did otherwise; names a scenario cannot have are load-time errors."""

import json
from pathlib import Path

import pytest
import yaml

from sagatui.packs.bundled import bundled_pack_path

HOLDS = {
    "statuses": ["compensated"],
    "metrics": {"sagas": 1, "retries": 2, "fallbacks": 0, "breaker_trips": 0},
    "compensation_orders": {"S-0001": ["charge_payment", "reserve_inventory"]},
    "tables": {
        "stock": {"MOUSE-001": {"available": 20, "reserved": 0, "shipped": 0}},
        "rows": {"payments": {"refunded": 1, "charged": 0}, "reservations": {"released": 1}, "refunds": {"all": 1}},
    },
}


def pack_with(tmp_path: Path, expect: dict) -> Path:
    pack = yaml.safe_load(bundled_pack_path("ecommerce").read_text())
    pack["scenarios"]["shipping_outage_after_payment"]["expect"] = expect
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(pack, sort_keys=False))
    return path


def checks_of(result) -> dict[str, dict]:
    (scenario,) = json.loads(result.out)["scenarios"]
    return {check["name"]: check for check in scenario["expectations"]}


def test_expectations_of_the_end_state_that_hold_pass(sagatui, tmp_path):
    result = sagatui("run", str(pack_with(tmp_path, HOLDS)), "--scenario", "shipping_outage_after_payment",
                     "--format", "json")
    assert result.code == 0, result
    checks = checks_of(result)
    assert all(check["ok"] for check in checks.values()), checks
    assert {"metrics.retries", "compensation_orders.S-0001", "tables.stock.MOUSE-001",
            "tables.rows.payments"} <= set(checks)


@pytest.mark.parametrize(("change", "failing", "actual"), [
    ({"metrics": {"retries": 3}}, "metrics.retries", 2),
    ({"compensation_orders": {"S-0001": ["reserve_inventory", "charge_payment"]}}, "compensation_orders.S-0001",
     ["charge_payment", "reserve_inventory"]),
    ({"tables": {"stock": {"MOUSE-001": {"available": 19}}}}, "tables.stock.MOUSE-001", {"available": 20}),
    ({"tables": {"stock": {"NOPE-1": {"available": 1}}}}, "tables.stock.NOPE-1", "no such sku"),
    ({"tables": {"rows": {"shipments": {"created": 1}}}}, "tables.rows.shipments", {"created": 0}),
])
def test_each_expectation_fails_when_the_run_did_otherwise(sagatui, tmp_path, change, failing, actual):
    result = sagatui("run", str(pack_with(tmp_path, {**HOLDS, **change})), "--scenario",
                     "shipping_outage_after_payment", "--format", "json")
    assert result.code == 1, result
    check = checks_of(result)[failing]
    assert not check["ok"] and check["actual"] == actual, check


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"compensation_orders": {"S-0002": []}}, "compensation_orders.S-0002", "sagas S-0001 to S-0001"),
    ({"compensation_orders": {"S-0001": ["charge_paymnt"]}}, "compensation_orders.S-0001[0]",
     "'charge_paymnt' is not a step of saga order"),
    ({"metrics": {"trips": 1}}, "metrics.trips", "trips"),
    ({"tables": {"rows": {"paymnts": {"refunded": 1}}}}, "tables.rows.paymnts", "paymnts"),
])
def test_names_a_scenario_cannot_have_are_load_time_errors(sagatui, tmp_path, change, field, words):
    result = sagatui("check", str(pack_with(tmp_path, {**HOLDS, **change})))
    assert result.code == 2, result
    assert f"scenarios.shipping_outage_after_payment.expect.{field}" in result.err, result.err
    assert words in result.err, result.err


def test_an_accepted_partial_reservation_charges_and_ships_only_what_was_reserved(sagatui):
    result = sagatui("run", "ecommerce", "--scenario", "partial_order_accepted", "--format", "json", "--db", "p.db")
    assert result.code == 0, result
    (scenario,) = json.loads(result.out)["scenarios"]
    assert scenario["outputs"]["S-0001"] == {"charged": 999.99, "shipped": {"LAPTOP-001": 1},
                                             "dropped": {"KEYBOARD-001": 1}}
    events = sagatui("events", "--db", "p.db", "--kind", "step.started", "--format", "jsonl")
    charge = next(json.loads(line) for line in events.out.splitlines() if '"charge_payment"' in line)
    assert charge["data"]["params"]["amount"] == 999.99  # not the 1099.98 the order asked for
