"""ctrl+k on the sagas table cancels the highlighted running saga, after asking (with an optional note):
it undoes what it did and ends cancelled, recorded as the cancel_saga command. A saga that is not running
is refused with a notice; the dashboard goes on."""

from __future__ import annotations

from collections.abc import Callable

from sagatui.model.events import EventKind
from sagatui.model.status import SagaStatus
from sagatui.store.queries import read_events
from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.dialogs import CancelConfirm
from sagatui.tui.widgets.saga_tables import SagaTable
from tests.tui.conftest import lab_of, lab_ready, refresher_of, settled, wait_for
from tests.tui.test_dashboard import run_scenario


async def test_ctrl_k_cancels_the_highlighted_saga(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        await pilot.press("p")  # hold every saga before its next call
        await run_scenario(pilot, "successful_order")
        await wait_for(pilot, lambda: refresher_of(app).board.get("S-0001") is not None, "the saga on the board")
        await pilot.press("s")
        table = app.main.query_one(SagaTable)
        table.focus()
        await wait_for(pilot, lambda: table.selected_key is not None and table.saga_of(table.selected_key) == "S-0001",
                       "the saga highlighted")
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(app.screen, CancelConfirm), "the cancel dialog")
        await pilot.press(*"customer withdrew", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, CancelConfirm), "the dialog to close")
        await pilot.press("p")  # let it go: its undo runs
        await settled(pilot)
        await wait_for(pilot, lambda: refresher_of(app).board.get("S-0001").status is SagaStatus.CANCELLED,
                       "the saga cancelled")
        lab = lab_of(app)
        assert lab is not None and app.session is not None
        events = await read_events(app.session.store, lab.run_id, saga_id="S-0001")
        kinds = [event.kind for event in events]
        assert EventKind.SAGA_CANCEL_REQUESTED in kinds and kinds[-1] is EventKind.SAGA_CANCELLED
        requested = next(event for event in events if event.kind is EventKind.SAGA_CANCEL_REQUESTED)
        assert requested.data["note"] == "customer withdrew"
        assert EventKind.STEP_SUCCEEDED not in kinds  # held before its first call: it did nothing more

        # ended now: cancelling it again is refused with a notice, and the dashboard goes on
        table.focus()
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(app.screen, CancelConfirm), "the cancel dialog")
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("not going forward" in str(n.message) for n in app._notifications),
                       "the refusal")
        commands = await read_events(app.session.store, lab.run_id, kinds=[EventKind.COMMAND])
        assert [event.data["name"] for event in commands].count("cancel_saga") == 1
