"""The dashboard's bulkhead table (issue 16 item 7): beside the breakers, each service with a bulkhead shows
its calls in flight against the limit, its queue and its refusals, live while a load runs; a pack that
limits no service shows no such table. A refused try is its own line in the saga's timeline."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import DataTable, Static

from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.timeline import TimelineScreen
from sagatui.tui.widgets.control_tables import BulkheadTable
from sagatui.tui.widgets.saga_tables import SagaTable
from tests.tui.conftest import lab_of, lab_ready, settled, wait_for
from tests.tui.test_dashboard import run_scenario, shown_text


def _row(table: DataTable[object], key: str) -> list[str]:
    return [str(cell) for cell in table.get_row(key)]


async def test_the_bulkhead_table_shows_calls_in_flight_against_the_limit(
        make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app("resilience", speed=2.0)
    async with app.run_test(size=(160, 45)) as pilot:
        await lab_ready(pilot)
        table = app.main.query_one(BulkheadTable)
        assert table.display and table.row_count == 1
        await run_scenario(pilot, "bulkhead")
        seen: set[str] = set()

        def full_and_queued() -> bool:
            seen.add(_row(table, "quote_engine")[1])
            return _row(table, "quote_engine")[1] == "4/4" and _row(table, "quote_engine")[2] != "0/8"

        await wait_for(pilot, full_and_queued, "four calls in flight and tries waiting")
        await settled(pilot)
        lab = lab_of(app)
        assert lab is not None
        await wait_for(pilot, lambda: _row(table, "quote_engine")[1] == "0/4", "every slot given back")
        refused = lab.engine.bulkheads["quote_engine"].rejected
        assert refused > 0 and _row(table, "quote_engine") == ["quote_engine", "0/4", "0/8", str(refused)]
        assert all(int(cell.split("/")[0]) <= 4 for cell in seen)

        await pilot.press("s")
        sagas = app.main.query_one(SagaTable)
        sagas.focus()
        sagas.move_cursor(row=sagas.saga_ids.index("S-0013"))  # 4 in flight, 8 waiting: the 13th is refused
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None,
                       "the timeline")
        text = shown_text(app.screen.query_one("#timeline", Static))
        assert "bulkhead quote_engine is full: 4 in flight, 8 waiting" in text, text
        assert "retry" in text and "succeeded" in text


async def test_a_pack_without_bulkheads_shows_no_bulkhead_table(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app("ecommerce")
    async with app.run_test(size=(140, 40)) as pilot:
        await lab_ready(pilot)
        await pilot.pause()
        assert not app.main.query_one(BulkheadTable).display
