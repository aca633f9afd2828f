"""The keys people bring (issue 19 items 6 and 7): vim's motion in every table, `/` to filter every list,
`y` to copy what is highlighted (OSC 52, through `App.copy_to_clipboard`), each driven as a user would."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from sagatui.model.status import SagaStatus
from sagatui.tui.actions import ACTIONS, Area
from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.timeline import TimelineScreen
from sagatui.tui.widgets.control_tables import ScenarioTable
from sagatui.tui.widgets.event_stream import EventStream
from sagatui.tui.widgets.filter_field import FilterInput
from sagatui.tui.widgets.keyed_table import KeyedTable
from sagatui.tui.widgets.saga_tables import SHOWN_SAGAS, STATUS_FILTERS, AttentionTable, SagaTable
from tests.tui.conftest import lab_ready, open_timeline_of_first_saga, refresher_of, settled, wait_for
from tests.tui.test_dashboard import cell, run_scenario


class Clipboard:
    """What the app was asked to copy, and what it told the user (both spied on the app instance)."""

    def __init__(self, app: SagaDashboard) -> None:
        self.copied: list[str] = []
        self.told: list[str] = []
        copy, notify = app.copy_to_clipboard, app.notify

        def copy_to_clipboard(text: str) -> None:
            self.copied.append(text)
            copy(text)  # OSC 52 to the (headless) driver, and App.clipboard

        def notified(message: str, **options: object) -> None:
            self.told.append(message)
            notify(message, **options)  # type: ignore[arg-type]

        app.copy_to_clipboard = copy_to_clipboard  # type: ignore[method-assign]
        app.notify = notified  # type: ignore[method-assign]


def half_page(table: KeyedTable) -> int:
    return (table.scrollable_content_region.height - table.header_height) // 2


async def type_filter(pilot: Pilot[None], text: str) -> None:
    """`/` on the focused list, the words, Enter."""
    await pilot.press("slash")
    field = pilot.app.focused
    assert isinstance(field, FilterInput) and field.display, "the filter field is open and has the focus"
    field.value = ""
    await pilot.press(*text, "enter")
    assert not field.display


async def test_vim_keys_filter_and_copy_in_the_sagas_table(make_app: Callable[..., SagaDashboard]) -> None:
    """After a 300-saga load the sagas table holds the newest 200: j k, g G, ctrl+d ctrl+u move its cursor
    (G follows again); `/` narrows it by words to the sagas holding them all, of every saga the board holds;
    `S` still cycles the status filter; `y` copies the highlighted saga's id."""
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "load_with_outages")
        await settled(pilot)
        await pilot.press("s")
        table = app.main.query_one(SagaTable)
        assert table.row_count == SHOWN_SAGAS and table.cursor_row == SHOWN_SAGAS - 1 and table.following
        half = half_page(table)
        assert half >= 3
        await pilot.press("g")
        assert table.cursor_row == 0 and not table.following
        await pilot.press("j", "j", "j")
        assert table.cursor_row == 3
        await pilot.press("k")
        assert table.cursor_row == 2
        await pilot.press("ctrl+d")
        assert table.cursor_row == 2 + half
        await pilot.press("ctrl+d")
        assert table.cursor_row == 2 + 2 * half
        await pilot.press("ctrl+u")
        assert table.cursor_row == 2 + half
        await pilot.press("ctrl+u", "ctrl+u")
        assert table.cursor_row == 0  # never above the first row
        await pilot.press("down", "pagedown")
        assert table.cursor_row > 1  # the arrows and PageDown still move it
        await pilot.press("G")
        assert table.cursor_row == SHOWN_SAGAS - 1 and table.following

        clipboard = Clipboard(app)
        await pilot.press("k", "y")
        highlighted = table.saga_ids[table.cursor_row]
        assert clipboard.copied == [highlighted] and app.clipboard == highlighted
        assert clipboard.told == [f"copied {highlighted}"]

        board = refresher_of(app).board
        compensated = [row.saga_id for row in board.rows(SagaStatus.COMPENSATED, 10_000)]
        assert 0 < len(compensated) < len([row for row in board.rows(None, 10_000)])
        await type_filter(pilot, "compensated")
        assert app.focused is table
        assert table.saga_ids == compensated[-SHOWN_SAGAS:] and table.following
        assert {cell(table, str(slot), "status") for slot in range(table.row_count)} == {"compensated"}
        assert "compensated" in str(app.main.query_one("#sagas").border_subtitle)
        one = compensated[0]
        await type_filter(pilot, f"{one.lower()} compensated")  # every word must hold, whatever the case
        assert table.saga_ids == [one]
        await pilot.press("y")
        assert clipboard.copied[-1] == one and clipboard.told[-1] == f"copied {one}"
        await type_filter(pilot, "no-such-saga")
        assert table.row_count == 0
        await pilot.press("y")
        assert clipboard.copied[-1] == one and "nothing copied" in clipboard.told[-1]
        await pilot.press("slash", "escape")  # Escape leaves the filter as it was
        assert app.focused is table and table.row_count == 0
        await type_filter(pilot, "")  # empty: every saga again
        assert table.row_count == SHOWN_SAGAS
        assert not app.main.query_one("#sagas").border_subtitle

        await pilot.press("S")  # the status cycle, on its own key now
        first = STATUS_FILTERS[1]
        assert first is not None and table.status_filter is first
        await wait_for(pilot, lambda: first.value in str(app.main.query_one("#sagas").border_title),
                       "the panel's title to say the status filter")  # the table's title, on the panel's border
        await pilot.press("q")


async def test_vim_keys_and_filter_in_the_scenarios_table(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        await pilot.press("c")
        table = app.main.query_one(ScenarioTable)
        assert app.focused is table and table.row_count >= 8
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        expected = max(0, table.row_count - 1 - half_page(table))  # the height as the key finds it
        await pilot.press("ctrl+u")
        assert table.cursor_row == expected
        await pilot.press("ctrl+d")
        assert table.cursor_row == table.row_count - 1

        scenarios = refresher_of(app).view.pack.scenarios
        await type_filter(pilot, "OUTAGE")  # whatever the case
        assert [row.key.value for row in table.ordered_rows] == [
            name for name, scenario in scenarios.items() if "outage" in f"{name} {scenario.description}".lower()]
        assert 1 < table.row_count < len(scenarios)
        await type_filter(pilot, "outage carrier")  # every word, in any cell: here the description's
        assert [row.key.value for row in table.ordered_rows] == ["shipping_outage_after_payment",
                                                                 "load_with_outages"]
        await pilot.press("g", "enter")  # Enter still runs the highlighted one
        await settled(pilot)
        assert [row.scenario for row in refresher_of(app).board.rows()] == ["shipping_outage_after_payment"]
        await type_filter(pilot, "")
        assert table.row_count >= 8


async def test_filter_and_copy_in_the_attention_table(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        for _ in range(2):
            await run_scenario(pilot, "refund_gateway_down")
        await settled(pilot)
        await pilot.press("a")
        table = app.main.query_one(AttentionTable)
        await wait_for(pilot, lambda: table.row_count == 2, "two sagas needing attention")
        assert app.focused is table
        await type_filter(pilot, "s-0002")
        assert [row.key.value for row in table.ordered_rows] == ["S-0002"]
        clipboard = Clipboard(app)
        await pilot.press("y")
        assert clipboard.copied == ["S-0002"] and clipboard.told == ["copied S-0002"]
        await type_filter(pilot, "")
        assert table.row_count == 2
        await pilot.press("g", "j", "y")
        assert clipboard.copied[-1] == "S-0002"
        await pilot.press("k", "y")
        assert clipboard.copied[-1] == "S-0001"


async def test_filter_and_copy_in_the_events_view(make_app: Callable[..., SagaDashboard]) -> None:
    """The events' `/` is the same field as the tables'; `y` copies the event on the log's last line on screen,
    as `sagatui events --format jsonl` writes it."""
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "payment_declined")
        await settled(pilot)
        await pilot.press("e")
        stream = app.main.query_one(EventStream)
        log = stream.log_widget
        await wait_for(pilot, lambda: log.line_count > 5, "the log")
        everything = log.line_count
        await type_filter(pilot, "saga")
        assert 0 < log.line_count < everything and all(" saga." in line for line in log.lines)
        assert app.focused is log
        clipboard = Clipboard(app)
        await pilot.press("y")
        copied = json.loads(clipboard.copied[-1])
        assert copied["kind"] == "saga.compensated" and copied["saga_id"] == "S-0001"
        newest = stream.event_on_screen
        assert newest is not None and clipboard.copied == [newest.json_text()]
        assert clipboard.told == [f"copied event {newest.seq} as JSON"]
        await pilot.press("slash")
        assert isinstance(app.focused, FilterInput)
        await pilot.press(*" nonsense", "enter")  # an unknown word: told, and the field stays open
        assert app.focused is not log and "nonsense" in clipboard.told[-1]
        await pilot.press("escape")
        assert app.focused is log and 0 < log.line_count < everything


async def test_y_copies_the_timeline_as_text(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "shipping_outage_after_payment")
        await settled(pilot)
        await open_timeline_of_first_saga(pilot)
        assert isinstance(app.screen, TimelineScreen)
        clipboard = Clipboard(app)
        for view in ("list", "waterfall"):  # the list either way
            await pilot.press("y")
            text = clipboard.copied[-1]
            lines = text.splitlines()
            assert lines[0].startswith("S-0001  compensated")
            assert "Compensation (newest step first)" in lines and any("payment.refund" in line for line in lines)
            assert "\x1b" not in text and all(line == line.rstrip() for line in lines)
            assert clipboard.told[-1] == f"copied the timeline of S-0001 ({len(lines)} lines)", view
            await pilot.press("w")


@pytest.mark.parametrize("key", ["j", "k", "g", "G", "ctrl+d", "ctrl+u"])
def test_the_motion_keys_clash_with_no_other_key(key: str) -> None:
    """A table's keys win over the board's while it has the focus: none of them may take a key another area
    of the board binds (the dialogs and the help are screens of their own)."""
    board = {Area.EVERYWHERE, Area.MAIN, Area.SWITCHBOARD, Area.BREAKERS, Area.SCENARIOS, Area.SAGAS,
             Area.ATTENTION, Area.WATCHING}
    taken = {bound for action in ACTIONS if action.area in board for bound in action.keys.split(",")}
    assert key not in taken
