"""A run whose params read the input and earlier results records and replays identically, and the
services got what the references read (the balances prove which account each leg touched)."""

from pathlib import Path

import pytest

from sagatui.lab.headless import run_scenario
from sagatui.lab.replay import recording_from_store, replay
from sagatui.model.events import EventKind
from sagatui.packs.loader import load_pack_text
from sagatui.store.database import Store
from sagatui.store.queries import read_events, resource_rows

PACK = Path(__file__).parent / "transfer.yaml"


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "runs.db")
    yield store
    await store.close()


async def test_a_run_with_references_replays_identically_and_the_legs_touch_the_right_accounts(store):
    text = PACK.read_text()
    report = await run_scenario(load_pack_text(text, str(PACK)), text, store, "transfers", seed=3)
    assert report.passed, [check for check in report.checks if not check.ok]
    balances = {row["account"]: row["balance"] for row in await resource_rows(store, report.run_id, "balances")}
    assert balances == {"alice": 70.0, "bob": 30.0}  # only the first transfer stands

    failed = {event.saga_id: event for event in await read_events(store, report.run_id,
                                                                  kinds=[EventKind.STEP_FAILED], limit=None)}
    assert failed["S-0002"].step == "credit_payee" and "unknown account: carol" in (failed["S-0002"].message or "")
    assert failed["S-0003"].step == "confirm" and failed["S-0003"].error_kind == "validation"
    assert failed["S-0003"].message == "params.reference: {ref: input.reference} found nothing in the saga's data"

    undo_started = await read_events(store, report.run_id, kinds=[EventKind.COMPENSATION_STARTED], limit=None)
    assert [(e.saga_id, e.step) for e in undo_started] == [
        ("S-0002", "debit_payer"),
        ("S-0003", "notify_payee"), ("S-0003", "credit_payee"), ("S-0003", "debit_payer")]
    messages = await resource_rows(store, report.run_id, "messages")
    corrections = [row for row in messages if row["kind"] == "correction"]
    assert [row["template"] for row in corrections] == ["withdrawn-MSG-000002"]  # read by compensation_params

    recording = await recording_from_store(store, report.run_id)
    result = await replay(recording)
    assert result.identical, result.divergence.describe()
    assert len(result.events) == len(recording.events)
