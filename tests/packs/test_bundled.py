"""The bundled packs load, are complete enough to learn from, and are found by name or by path."""

from pathlib import Path

import pytest

from sagatui.packs import DEFAULT_PACK
from sagatui.packs.bundled import (
    bundled_pack_names,
    bundled_pack_path,
    bundled_packs,
    resolve_pack,
)
from sagatui.packs.errors import PackError
from sagatui.packs.loader import load_pack

REPOSITORY_PACKS = Path(__file__).resolve().parents[2] / "scenarios"


def test_the_packs_of_the_issues_are_bundled():
    assert bundled_pack_names() == ["ecommerce", "onboarding", "orchestration", "payments", "resilience", "travel"]
    assert DEFAULT_PACK in bundled_pack_names()


@pytest.mark.parametrize("name", bundled_pack_names())
def test_bundled_pack_loads_with_described_scenarios_that_expect_something(name):
    pack = load_pack(bundled_pack_path(name))
    assert pack.name == name
    assert pack.description
    assert pack.default_scenario in pack.scenarios
    for scenario_name, scenario in pack.scenarios.items():
        assert scenario.description, scenario_name
        assert "\n" not in scenario.description, scenario_name
        expect = scenario.expect
        assert any(value is not None for value in (expect.statuses, expect.counts, expect.breaker_trips)), (
            f"{scenario_name} states no outcome")


def test_ecommerce_carries_the_tutorial_inventory_and_scenarios():
    pack = load_pack(bundled_pack_path("ecommerce"))
    stock = pack.services["inventory"].options["stock"]
    assert {sku: stock[sku] for sku in ("LAPTOP-001", "MOUSE-001", "KEYBOARD-001", "MONITOR-001")} == {
        "LAPTOP-001": 5, "MOUSE-001": 20, "KEYBOARD-001": 0, "MONITOR-001": 3}
    assert set(pack.scenarios) == {
        "successful_order", "insufficient_inventory", "payment_declined", "payment_outage",
        "shipping_outage_after_payment", "refund_gateway_down", "partial_reservation", "partial_order_accepted",
        "keyboards_restocked",
        "load_with_outages"}
    assert [change.restock for change in pack.scenarios["keyboards_restocked"].changes] == [{"KEYBOARD-001": 3}]
    load = pack.scenarios["load_with_outages"]
    assert load.workload is not None and 200 <= load.workload.count <= 1000
    assert len(load.faults) >= 2


def test_the_payments_rollback_undoes_three_steps_in_reverse():
    scenario = load_pack(bundled_pack_path("payments")).scenarios["carrier_failing"]
    assert scenario.expect.compensation_order == ("reserve_inventory", "charge_payment", "create_order")


def test_resolve_pack_takes_a_bundled_name_with_or_without_suffix():
    assert resolve_pack("travel") == resolve_pack("travel.yaml") == bundled_pack_path("travel")
    assert load_pack(resolve_pack("travel")).name == "travel"


def test_resolve_pack_prefers_an_existing_file(tmp_path, monkeypatch):
    (tmp_path / "travel").write_text("name: mine\n")
    monkeypatch.chdir(tmp_path)
    assert resolve_pack("travel") == Path("travel")
    assert resolve_pack(str(tmp_path / "travel")) == tmp_path / "travel"


def test_resolve_pack_names_the_bundled_packs_when_nothing_matches():
    with pytest.raises(PackError) as raised:
        resolve_pack("nowhere/shop.yaml")
    assert raised.value.file == "nowhere/shop.yaml"
    assert raised.value.line is None
    assert "bundled: ecommerce, onboarding, orchestration, payments, resilience, travel" in raised.value.message


def test_bundled_pack_files_are_readable_paths():
    paths = bundled_packs()
    assert [path.stem for path in paths] == bundled_pack_names()
    assert all(path.read_text(encoding="utf-8").startswith("#") for path in paths)


def test_bundled_packs_are_the_repository_scenarios_folder():
    assert sorted(path.stem for path in REPOSITORY_PACKS.glob("*.yaml")) == bundled_pack_names()
