"""Proving a saga from the dashboard (issue 20 item 5): `P` on a saga proves its definition on its input
(into <db>.proofs.db, on a loop of its own) and shows the failure matrix as it fills in; enter on a case
opens the timeline of that case's saga, read from its run."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Static

from sagatui.lab.prove import FORWARD_SHAPES, UNDO_SHAPES
from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens import proof as proof_screen
from sagatui.tui.screens.proof import ProofMatrix, ProofScreen
from sagatui.tui.screens.timeline import TimelineScreen
from tests.tui.conftest import lab_ready, open_timeline_of_first_saga, settled, wait_for
from tests.tui.test_dashboard import run_scenario, shown_text

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "proofs" / "refund_does_nothing.yaml"
ORDER = ["reserve_inventory", "charge_payment", "create_shipment", "send_confirmation"]
LEAKS = {  # tests/cli/test_prove.py: the cases where the charge took effect and the saga was rolled back
    "charge_payment:reply_lost", "create_shipment:fails", "create_shipment:reply_lost", "create_shipment:hangs",
    "charge_payment:undo_fails_once", "charge_payment:undo_reply_lost", "charge_payment:undo_killed",
    "create_shipment:undo_fails_once", "create_shipment:undo_reply_lost", "create_shipment:undo_killed",
    "create_shipment:undo_fails"}  # the shipment's undo failing leaves it held; the charge its undo left is a leak


def cells(matrix: ProofMatrix) -> dict[str, str]:
    """Case id -> what its cell shows."""
    return {f"{row.value}:{shape}": str(matrix.get_cell(str(row.value), shape)) for row in matrix.rows
            for shape in matrix.shapes}


async def proved(pilot) -> ProofScreen:  # type: ignore[no-untyped-def]
    """The proof screen, once every case ended; it appeared before, and filled in case by case."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ProofScreen), "the proof screen")
    screen = app.screen
    assert isinstance(screen, ProofScreen)
    seen: set[int] = set()

    def finished() -> bool:
        seen.add(len(screen.proof.cases) if screen.proof else -1)
        return screen.finished or screen.failure is not None

    await wait_for(pilot, finished, "the proof to end", timeout=300)
    assert screen.failure is None, screen.failure
    assert any(0 < count < screen.total for count in seen), seen  # it showed cases as they ended
    return screen


async def open_case(pilot, screen: ProofScreen, matrix_id: str, step: str, shape: str) -> TimelineScreen:  # type: ignore[no-untyped-def]
    matrix = screen.query_one(matrix_id, ProofMatrix)
    matrix.focus()
    matrix.move_cursor(row=matrix.get_row_index(step), column=matrix.shapes.index(shape))  # type: ignore[arg-type]
    await pilot.press("enter")
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen), f"the timeline of {step}:{shape}")
    timeline = app.screen
    assert isinstance(timeline, TimelineScreen) and timeline.timeline is not None
    return timeline


async def test_p_proves_the_selected_saga_and_enter_opens_a_case(make_app: Callable[..., SagaDashboard],
                                                                 tmp_path: Path) -> None:
    app = make_app(pack_path=BROKEN)
    async with app.run_test(size=(140, 50)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "successful_order")
        await settled(pilot)
        await pilot.press("s", "P")
        screen = await proved(pilot)
        forward, undo = screen.query_one("#proof-forward", ProofMatrix), screen.query_one("#proof-undo", ProofMatrix)
        assert [row.value for row in forward.rows] == ORDER and forward.shapes == FORWARD_SHAPES
        assert [row.value for row in undo.rows] == ORDER[:3] and undo.shapes == UNDO_SHAPES  # the email has no undo
        shown = cells(forward) | cells(undo)
        assert {case for case, text in shown.items() if text.startswith("✗")} == LEAKS
        assert all(shown[case] == "✗ world" for case in LEAKS)
        assert shown["charge_payment:undo_fails"] == "✓ held" and shown["reserve_inventory:fails"] == "✓"
        assert "28 cases, 11 failed" in shown_text(screen.query_one("#proof-progress", Static))
        assert "with nothing broken it ends completed" in shown_text(screen.query_one("#proof-head", Static))

        timeline = await open_case(pilot, screen, "#proof-forward", "create_shipment", "fails")
        assert not timeline.live and timeline.timeline is not None
        assert timeline.timeline.saga.status == "compensated"  # the refund that does nothing: the charge stays
        assert timeline.check_action("fork", ()) is False and timeline.check_action("prove", ()) is False
        await pilot.press("escape")
        assert app.screen is screen
        details = shown_text(screen.query_one("#proof-case", Static))
        assert "✗ broke world; the saga ended compensated" in details and "still held" in details
        assert "--case create_shipment:fails --db prove.db" in details

        killed = await open_case(pilot, screen, "#proof-undo", "charge_payment", "undo_killed")  # its own database
        assert killed.timeline is not None and killed.timeline.saga.status == "cancelled"
        assert "dashboard.proofs-" in str(killed.query_one("#timeline-scroll").border_title)
        await pilot.press("escape", "escape")
        assert not isinstance(app.screen, ProofScreen)
        await pilot.press("q")
    with sqlite3.connect(tmp_path / "dashboard.db") as live:  # the proof never wrote where the live run does
        assert live.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)
    with sqlite3.connect(tmp_path / "dashboard.proofs.db") as proofs:  # the world before and the baseline
        assert proofs.execute("SELECT COUNT(*) FROM runs").fetchone() == (2,)
    assert len(list(tmp_path.glob("dashboard.proofs-*.db"))) == 28  # each case in a database of its own


async def test_p_in_a_timeline_proves_its_saga_and_closing_stops_the_proof(make_app: Callable[..., SagaDashboard],
                                                                           tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "shipping_outage_after_payment")
        await settled(pilot)
        await open_timeline_of_first_saga(pilot)
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ProofScreen), "the proof screen")
        screen = app.screen
        assert isinstance(screen, ProofScreen) and screen.subject.saga == "order"
        assert screen.subject.saga_input["items"] == {"MOUSE-001": 1}  # the saga's own input, not the first scenario's
        await wait_for(pilot, lambda: screen.proof is not None, "the baseline")
        await pilot.press("escape")
        assert isinstance(app.screen, TimelineScreen) and app.screen.live

        def stopped() -> bool:
            if not proof_screen._ONE_PROOF_AT_A_TIME.acquire(blocking=False):
                return False
            proof_screen._ONE_PROOF_AT_A_TIME.release()
            return True

        await wait_for(pilot, stopped, "the proof to stop", timeout=120)
        assert not screen.finished
        await pilot.press("q")
    # stopped after the case under way, long before the 28 cases (each in a database of its own)
    assert len(list(tmp_path.glob("dashboard.proofs-*.db"))) < 28
