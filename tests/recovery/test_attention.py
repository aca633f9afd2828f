"""The needs_attention inbox from the CLI: list, show, retry and resolve a saga whose refund could not be
made (the ecommerce `refund_gateway_down` scenario), on a run no live session holds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from sagatui.cli import main
from sagatui.exit_codes import ExitCode
from sagatui.lab import attention
from sagatui.store.database import Store
from sagatui.store.invariants import check_invariants
from tests.recovery.helpers import DUPLICATED, ECOMMERCE, query, sagatui


def needing_attention(db: Path, pack: Path = ECOMMERCE) -> None:
    done = sagatui("run", str(pack), "--scenario", "refund_gateway_down", "--quiet", "--db", str(db))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def inbox_made_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run whose S-0001 needs attention, made once by the CLI for the tests that start from it."""
    db = tmp_path_factory.mktemp("inbox") / "inbox.db"
    needing_attention(db)
    assert not db.with_name("inbox.db-wal").exists()  # the run folded its log into the file: one file to copy
    return db


@pytest.fixture
def inbox(inbox_made_once: Path, tmp_path: Path) -> Path:
    """This test's own copy of that run (the tests change it: retry, resolve)."""
    db = tmp_path / "inbox.db"
    shutil.copyfile(inbox_made_once, db)
    return db


def compensations(db: Path, step: str) -> list[tuple[object, ...]]:
    return query(db, "SELECT json_extract(data, '$.outcome'), attempt FROM events WHERE kind = 'compensation.ended'"
                     " AND saga_id = 'S-0001' AND step = ? ORDER BY seq", step)


async def test_list_show_then_retry_with_the_gateway_back(inbox: Path) -> None:
    db = inbox

    listed = sagatui("attention", "list", "--db", str(db))
    assert listed.returncode == 1  # something needs an operator: a cron job or CI step notices
    assert "1 saga(s) need attention" in listed.stdout and "S-0001  order  failed at create_shipment" in listed.stdout
    document = sagatui("attention", "list", "--db", str(db), "--format", "json")
    assert document.returncode == 1
    (waiting,) = json.loads(document.stdout)["sagas"]
    assert (waiting["saga_id"], waiting["failed_step"], waiting["error_kind"]) == ("S-0001", "create_shipment",
                                                                                  "permanent")
    shown = sagatui("attention", "show", "S-0001", "--db", str(db)).stdout
    assert "charge_payment     payment.refund             failed after 5 attempt(s): 503" in shown
    assert "reserve_inventory  inventory.release          completed after 1 attempt(s)" in shown
    # the context of the refund that failed (what an operator refunds by hand), not of the last undo run
    assert '"failed_step": "create_shipment"' in shown and '"payment_id": "PAY-000001"' in shown
    assert '"reservation_id"' not in shown

    retried = sagatui("attention", "retry", "S-0001", "--db", str(db))
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert "S-0001: compensated" in retried.stdout
    emptied = sagatui("attention", "list", "--db", str(db))
    assert "0 saga(s) need attention" in emptied.stdout and emptied.returncode == 0
    as_json = json.loads(sagatui("attention", "list", "--db", str(db), "--format", "json").stdout)
    assert as_json["count"] == 0 and as_json["sagas"] == []
    # The refund ran again and completed; the release, completed the first time, did not run again.
    assert compensations(db, "charge_payment") == [("failed", 5), ("completed", 1)]
    assert compensations(db, "reserve_inventory") == [("completed", 1)]
    assert query(db, "SELECT json_extract(data, '$.name') FROM events WHERE kind = 'command'")[-1] == (
        "retry_compensation",)
    assert query(db, "SELECT status FROM runs") == [("settled",)]
    await holds(db)


async def test_a_retry_that_fails_again_leaves_it_in_the_inbox(tmp_path: Path) -> None:
    pack = yaml.safe_load(ECOMMERCE.read_text(encoding="utf-8"))
    pack["services"]["payment"]["fault"] = {"mode": "offline", "target": "compensations"}  # for good
    path = tmp_path / "no_refunds.yaml"
    path.write_text(yaml.safe_dump(pack, sort_keys=False), encoding="utf-8")
    db = tmp_path / "inbox.db"
    needing_attention(db, path)

    retried = sagatui("attention", "retry", "S-0001", "--db", str(db))
    assert retried.returncode == 1 and "S-0001: needs_attention" in retried.stdout
    assert compensations(db, "charge_payment") == [("failed", 5), ("failed", 5)]  # its policy, once more
    assert "S-0001" in sagatui("attention", "list", "--db", str(db)).stdout


async def test_resolve_records_the_note(inbox: Path) -> None:
    db = inbox
    assert sagatui("attention", "resolve", "S-0001", "--db", str(db)).returncode == 2  # a note is required

    resolved = sagatui("attention", "resolve", "S-0001", "--db", str(db), "--note", "refunded by hand, ticket 42")
    assert resolved.returncode == 0 and "S-0001: resolved (compensated)" in resolved.stdout
    last_two = query(db, "SELECT kind, json_extract(data, '$.note') FROM events ORDER BY seq DESC LIMIT 2")
    assert last_two == [("saga.resolved", "refunded by hand, ticket 42"), ("command", None)]
    assert query(db, "SELECT status FROM sagas WHERE saga_id = 'S-0001'") == [("compensated",)]
    again = sagatui("attention", "retry", "S-0001", "--db", str(db))
    assert again.returncode == 2 and "does not need attention (compensated)" in again.stderr


async def test_a_resolved_saga_is_accepted_by_the_invariants_with_its_note(inbox: Path) -> None:
    db = inbox
    sagatui("attention", "resolve", "S-0001", "--db", str(db), "--note", "refunded by hand, ticket 42")

    async with await Store.open(db, read_only=True) as store:
        results = {result.name: result for result in await check_invariants(store, 1)}
    # the charge is still unrefunded in the tables: not hidden, but accepted with the operator's note
    for name in ("nothing_leaked", "charges_refunded"):
        assert results[name].ok and results[name].details == []
        assert [line for line in results[name].accepted if line.startswith("saga S-0001")
                and line.endswith("(resolved: refunded by hand, ticket 42)")], results[name].accepted


async def test_bad_requests_are_usage_errors(inbox: Path) -> None:
    db = inbox
    for arguments in (("show",), ("show", "S-0099"), ("retry", "S-0001", "--run", "7")):
        done = sagatui("attention", *arguments, "--db", str(db))
        assert done.returncode == 2 and done.stderr.startswith("sagatui: error: "), (arguments, done.stderr)


async def holds(db: Path) -> None:
    async with await Store.open(db, read_only=True) as store:
        assert all(result.ok for result in await check_invariants(store, 1))
        for sql in DUPLICATED.values():
            assert list(await store.reader_db.execute_fetchall(sql, {"run": 1})) == []


async def test_the_unrefunded_charge_of_a_saga_needing_attention_is_shown_held_everywhere(tmp_path: Path) -> None:
    import json

    db = tmp_path / "held.db"
    text = sagatui("run", "ecommerce", "--scenario", "refund_gateway_down", "--quiet", "--db", str(db))
    assert text.returncode == 0, text.stderr  # the scenario expects them held
    for name in ("nothing_leaked", "charges_refunded"):
        [line] = [line for line in text.stdout.splitlines() if line.startswith(f"  invariant HELD {name}")]
        assert "PAY-000001" in line and "awaiting an operator" in line
        assert f"invariant ok   {name}" not in text.stdout
    as_json = sagatui("run", "ecommerce", "--scenario", "refund_gateway_down", "--format", "json",
                      "--db", str(tmp_path / "json.db"))
    [report] = json.loads(as_json.stdout)["scenarios"]
    states = {row["name"]: row["state"] for row in report["invariants"]}
    assert states == {"stock_conserved": "ok", "nothing_leaked": "held", "charges_refunded": "held",
                      "all_terminal": "ok"}
    resolved = sagatui("attention", "resolve", "S-0001", "--db", str(db), "--note", "refunded by hand")
    assert resolved.returncode == 0, resolved.stderr
    async with await Store.open(db, read_only=True) as store:
        results = {result.name: result for result in await check_invariants(store, 1)}
    assert results["nothing_leaked"].state.value == "ok" and results["nothing_leaked"].accepted


@pytest.mark.parametrize("action", [("retry",), ("resolve", "--note", "seen to")])
def test_a_saga_another_process_settled_first_is_a_one_line_error(
    inbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], action: tuple[str, ...],
) -> None:
    """Another operator resolves the saga while this command is about to take the run's lock: what this one
    reads under the lock says so (exit 2), where reading first would have found it in the inbox."""
    db = inbox
    reopen = attention.reopen_run

    async def resolved_meanwhile(*arguments: Any, **options: Any) -> Any:
        done = sagatui("attention", "resolve", "S-0001", "--db", str(db), "--note", "refunded by the other operator")
        assert done.returncode == 0, done.stderr
        return await reopen(*arguments, **options)

    monkeypatch.setattr(attention, "reopen_run", resolved_meanwhile)
    code = main(["attention", action[0], "S-0001", *action[1:], "--db", str(db)])
    assert code == ExitCode.BAD_INPUT
    assert capsys.readouterr().err == ("sagatui: error: saga S-0001 of run 1 does not need attention (compensated)\n")
    assert query(db, "SELECT count(*) FROM events WHERE kind = 'saga.resolved'") == [(1,)]
