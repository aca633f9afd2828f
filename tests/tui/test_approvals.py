"""The dashboard's approvals: a saga waiting at an approval step shows `waiting_approval` in the sagas table
and heads the attention view's inbox with what it asks; A approves it there (after a note), X rejects one from
the sagas table; each is recorded as the decide_approval command and decided by an operator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import Static

from sagatui.model.events import EventKind
from sagatui.model.status import SagaStatus
from sagatui.store.queries import read_events
from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.dialogs import DecisionNote
from sagatui.tui.widgets.saga_tables import AttentionTable, SagaTable
from tests.recovery.helpers import undecided_pack
from tests.tui.conftest import lab_of, lab_ready, refresher_of, settled, wait_for
from tests.tui.test_dashboard import run_scenario, shown_text


async def test_approve_in_the_inbox_and_reject_in_the_sagas_table(make_app: Callable[..., SagaDashboard],
                                                                   tmp_path: Path) -> None:
    app = make_app(pack_path=undecided_pack(tmp_path))
    async with app.run_test(size=(140, 40)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "manager_approval")
        board = refresher_of(app).board
        await wait_for(pilot, lambda: len(board.waiting_approval()) == 2, "both sagas waiting for a decision")
        assert board.get("S-0001").status is SagaStatus.WAITING_APPROVAL
        assert "Keep a deposit over 100.00?" in board.get("S-0001").problem

        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Approve S-0001…", "Reject S-0001…", "Approve S-0002…", "Reject S-0002…"} <= set(titles)

        await pilot.press("a")
        inbox = app.main.query_one(AttentionTable)
        await wait_for(pilot, lambda: inbox.row_count == 2, "the inbox listing both")
        inbox.focus()
        inbox.move_cursor(row=0)
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, DecisionNote), "the decision dialog")
        await pilot.press(*"known customer", "enter")
        await wait_for(pilot, lambda: board.get("S-0001").status is SagaStatus.COMPLETED, "S-0001 approved, completed")

        await pilot.press("s")
        table = app.main.query_one(SagaTable)
        table.focus()
        table.move_cursor(row=table.saga_ids.index("S-0002"))
        await pilot.press("X")
        await wait_for(pilot, lambda: isinstance(app.screen, DecisionNote), "the decision dialog")
        await pilot.press("enter")
        await settled(pilot)
        await wait_for(pilot, lambda: board.get("S-0002").status is SagaStatus.COMPENSATED, "S-0002 refunded")

        lab = lab_of(app)
        assert lab is not None and app.session is not None
        decided = await read_events(app.session.store, lab.run_id, kinds=[EventKind.APPROVAL_DECIDED])
        assert [(e.saga_id, e.data["approved"], e.data["by"], e.data["note"]) for e in decided] == [
            ("S-0001", True, "operator", "known customer"), ("S-0002", False, "operator", "")]
        assert board.waiting_approval() == []


async def test_an_idle_paced_dashboard_keeps_counting_down(make_app: Callable[..., SagaDashboard],
                                                          tmp_path: Path) -> None:
    """At a speed, the clock jumps from timer to timer; while the sagas only wait for a manager nothing
    happens for minutes, yet the status line's clock and the inbox's time left move on."""
    app = make_app(pack_path=undecided_pack(tmp_path), speed=10.0)
    async with app.run_test(size=(140, 40)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "manager_approval")
        board = refresher_of(app).board
        await wait_for(pilot, lambda: len(board.waiting_approval()) == 2, "both sagas waiting for a decision")
        await pilot.press("a")
        inbox = app.main.query_one(AttentionTable)
        await wait_for(pilot, lambda: inbox.row_count == 2, "the inbox listing both")
        lab = lab_of(app)
        assert lab is not None
        clock_before = lab.clock.now()
        line = app.main.query_one("#status-line", Static)
        before, left_before = shown_text(line), [str(cell) for cell in inbox.get_row_at(0)]
        await pilot.pause(1.0)
        after, left_after = shown_text(line), [str(cell) for cell in inbox.get_row_at(0)]
        assert lab.clock.now() == clock_before  # nothing happened: the clock itself did not move
        assert _clock_of(after) > _clock_of(before) + 3  # ten clock seconds a real second, shown
        assert left_after != left_before, (left_before, left_after)


def _clock_of(status_line: str) -> float:
    return float(status_line.split(" t ", 1)[1].split("s", 1)[0])
