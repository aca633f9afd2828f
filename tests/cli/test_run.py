"""`sagatui run`: every bundled scenario's expectations hold through the real CLI; output and exit codes."""

import json
import sqlite3

import pytest

from sagatui.packs.bundled import bundled_pack_names


@pytest.mark.parametrize("pack", bundled_pack_names())
def test_every_bundled_scenario_meets_its_expectations(sagatui, pack, tmp_path):
    result = sagatui("run", pack, "--all", "--db", str(tmp_path / "runs.db"), "--quiet")
    assert result.code == 0, result.out[-3000:] + result.err
    assert "FAIL" not in result.out
    assert result.out.strip().endswith("scenario(s) passed")


def test_text_mode_streams_events_then_a_summary(sagatui):
    result = sagatui("run", "ecommerce", "--scenario", "shipping_outage_after_payment")
    assert result.code == 0
    lines = result.out.splitlines()
    compensations = [line for line in lines if "compensation.started" in line]
    assert ["charge_payment" in compensations[0], "reserve_inventory" in compensations[1]] == [True, True]
    assert any(line.startswith("  invariant ok   stock_conserved") for line in lines)
    assert "\x1b[" not in result.out  # not a terminal: no colour codes


def test_json_mode_is_one_document(sagatui):
    result = sagatui("run", "payments", "--scenario", "carrier_failing", "--scenario", "happy_path",
                     "--format", "json", "--seed", "3")
    assert result.code == 0
    document = json.loads(result.out)
    assert document["passed"] is True and document["seed"] == 3
    assert [s["scenario"] for s in document["scenarios"]] == ["carrier_failing", "happy_path"]
    carrier = document["scenarios"][0]
    assert carrier["statuses"] == {"S-0001": "compensated"}
    assert carrier["metrics"]["compensations"] == {"completed": 3}
    assert {i["name"] for i in carrier["invariants"]} == {"stock_conserved", "nothing_leaked",
                                                        "charges_refunded", "all_terminal"}


def test_a_failed_expectation_exits_1(sagatui, tmp_path):
    pack = (tmp_path / "wrong.yaml")
    from sagatui.packs.bundled import bundled_pack_path

    text = bundled_pack_path("ecommerce").read_text()
    marker = "statuses: [compensated]"
    assert marker in text
    pack.write_text(text.replace(marker, "statuses: [completed]", 1))
    result = sagatui("run", str(pack), "--all", "--quiet")
    assert result.code == 1
    assert "FAIL" in result.out and "expected ['completed'], got ['compensated']" in result.out


def test_unknown_scenario_is_bad_input(sagatui):
    result = sagatui("run", "ecommerce", "--scenario", "nope")
    assert result.code == 2
    assert "has no scenario 'nope'" in result.err and "Traceback" not in result.err


def test_a_locked_database_is_a_storage_error(sagatui, tmp_path):
    db = tmp_path / "locked.db"
    assert sagatui("run", "ecommerce", "--db", str(db), "--quiet").code == 0
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = sagatui("run", "ecommerce", "--db", str(db), "--quiet")
    finally:
        holder.rollback()
        holder.close()
    assert result.code == 3
    assert result.err.startswith("sagatui: storage error:") and "Traceback" not in result.err


def test_not_a_sagatui_database_is_a_storage_error(sagatui, tmp_path):
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    result = sagatui("run", "ecommerce", "--db", str(other))
    assert result.code == 3 and "not a sagatui database" in result.err


def test_events_reads_the_log(sagatui, tmp_path):
    db = str(tmp_path / "e.db")
    assert sagatui("run", "ecommerce", "--scenario", "payment_declined", "--db", db, "--quiet").code == 0
    table = sagatui("events", "--db", db, "--kind", "compensation.ended")
    assert table.code == 0
    assert "compensation.ended" in table.out and "reserve_inventory" in table.out
    jsonl = sagatui("events", "--db", db, "--format", "jsonl", "--saga", "S-0001")
    events = [json.loads(line) for line in jsonl.out.splitlines()]
    assert events and all(e["saga_id"] == "S-0001" for e in events)
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)


def test_events_kind_may_name_a_family(sagatui, tmp_path):
    db = str(tmp_path / "e.db")
    assert sagatui("run", "resilience", "--scenario", "breaker_cycle", "--db", db, "--quiet").code == 0
    result = sagatui("events", "--db", db, "--kind", "breaker", "--format", "jsonl")
    kinds = {json.loads(line)["kind"] for line in result.out.splitlines()}
    assert kinds == {"breaker.transition", "breaker.rejected"}


def test_version_and_help(sagatui):
    version = sagatui("--version")
    assert version.code == 0 and version.out.startswith("sagatui ")
    for command in ("run", "check", "packs", "events", "replay", "export", "fuzz"):
        helped = sagatui(command, "--help")
        assert helped.code == 0 and "usage: sagatui" in helped.out


def test_packs_lists_the_bundled_packs(sagatui):
    result = sagatui("packs")
    assert result.code == 0
    for name in bundled_pack_names():
        assert result.out.count(f"{name}") >= 1
    assert "ecommerce (default)" in result.out and "load_with_outages" in result.out
