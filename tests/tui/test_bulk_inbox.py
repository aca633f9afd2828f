"""Bulk actions in the dashboard's inbox: with fifty sagas needing attention, T asks first (the count, the
sagas) and escape sends nothing; N resolves every saga the inbox shows with one note, each recorded as its
own resolve command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sagatui.model.events import EventKind
from sagatui.store.queries import read_events
from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.dialogs import BulkRetryConfirm, ResolveNote
from sagatui.tui.widgets.saga_tables import AttentionTable
from tests.recovery.helpers import ORDERS, fifty_refunds_refused
from tests.tui.conftest import lab_of, lab_ready, refresher_of, settled, wait_for
from tests.tui.test_dashboard import run_scenario


async def test_resolve_every_saga_the_inbox_shows(make_app: Callable[..., SagaDashboard], tmp_path: Path) -> None:
    app = make_app(pack_path=fifty_refunds_refused(tmp_path))
    async with app.run_test(size=(140, 40)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "refund_gateway_down")
        await settled(pilot)
        board = refresher_of(app).board
        await wait_for(pilot, lambda: len(board.needing_attention()) == ORDERS, "fifty sagas needing attention")
        await pilot.press("a")
        inbox = app.main.query_one(AttentionTable)
        await wait_for(pilot, lambda: inbox.row_count == ORDERS, "the inbox listing them")
        inbox.focus()

        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkRetryConfirm), "the retry-all dialog")
        assert app.screen.query_one("#dialog").border_title == f"Retry {ORDERS} saga(s)"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, BulkRetryConfirm), "the dialog to close")

        await pilot.press("N")
        await wait_for(pilot, lambda: isinstance(app.screen, ResolveNote), "the resolve-all dialog")
        await pilot.press(*"refunded by hand", "enter")
        await wait_for(pilot, lambda: not board.needing_attention(), "every saga resolved")
        lab = lab_of(app)
        assert lab is not None and app.session is not None
        await settled(pilot)
        commands = await read_events(app.session.store, lab.run_id, kinds=[EventKind.COMMAND])
        names = [event.data["name"] for event in commands]
        assert names.count("resolve") == ORDERS and "retry_compensation" not in names
