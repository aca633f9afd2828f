"""The dashboard driven as a user would: keys, the real lab on the virtual clock, real SQLite."""

from __future__ import annotations

import gc
import io
import weakref
from collections.abc import Callable

from rich.console import Console
from textual.widget import Widget
from textual.widgets import Static

from sagatui.model.events import EventKind
from sagatui.model.status import SagaStatus
from sagatui.store.queries import read_events
from sagatui.tui.app import SagaDashboard
from sagatui.tui.badges import fault_label
from sagatui.tui.screens.dialogs import ResolveNote
from sagatui.tui.screens.timeline import TimelineScreen
from sagatui.tui.widgets.control_tables import BreakerTable, ScenarioTable, Switchboard
from sagatui.tui.widgets.event_stream import EventStream
from sagatui.tui.widgets.key_footer import KeyFooter
from sagatui.tui.widgets.keyed_table import KeyedTable
from sagatui.tui.widgets.resources import InvariantBadges
from sagatui.tui.widgets.saga_tables import AttentionTable, SagaTable
from tests.tui.conftest import lab_of, lab_ready, open_timeline_of_first_saga, refresher_of, settled, wait_for


def cell(table: KeyedTable, row: str, column: str) -> str:
    return str(table.get_cell(row, column))


def shown_text(static: Static) -> str:
    """What a Static shows, as plain text (its content may be any Rich renderable)."""
    console = Console(width=120, file=io.StringIO(), record=True)
    console.print(static.content)
    return console.export_text()


async def run_scenario(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    """Pick the scenario in the picker and press Enter, as a user does."""
    app = pilot.app
    await pilot.press("c")
    table = app.main.query_one(ScenarioTable)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.press("enter")


async def test_outage_opens_the_breaker_and_sagas_compensate(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        await pilot.press("2")  # payment goes offline
        switchboard = app.main.query_one(Switchboard)
        await wait_for(pilot, lambda: "offline" in cell(switchboard, "payment", "profile"), "the switch to flip")
        assert cell(switchboard, "payment", "switch").strip() == "OFF"
        for _ in range(2):  # two sagas of three failed charges each: past the breaker's five in a row
            await run_scenario(pilot, "successful_order")
        breakers = app.main.query_one(BreakerTable)
        await wait_for(pilot, lambda: cell(breakers, "payment_gateway", "trips") != "0", "the breaker to trip")
        await settled(pilot)
        await pilot.press("e")
        log = app.main.query_one(EventStream).log_widget
        assert any("breaker.transition" in line and "closed -> open" in line for line in log.lines)
        await pilot.press("s")
        sagas = app.main.query_one(SagaTable)
        assert sagas.saga_ids == ["S-0001", "S-0002"]
        assert [cell(sagas, slot, "status") for slot in ("0", "1")] == ["compensated", "compensated"]


async def test_a_hidden_view_is_drawn_when_it_is_shown(make_app: Callable[..., SagaDashboard]) -> None:
    """Views off screen are not drawn (under a flood that cost more than the engine); showing one draws it
    from everything the panels absorbed meanwhile."""
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "payment_declined")  # from the scenarios view: sagas and events are hidden
        await settled(pilot)
        await wait_for(pilot, lambda: refresher_of(app).events_absorbed == lab_of(app).recorder.next_seq - 1,
                       "the panels to drain")
        sagas, log = app.main.query_one(SagaTable), app.main.query_one(EventStream).log_widget
        assert (sagas.row_count, log.line_count) == (0, 0)
        await pilot.press("s")
        assert sagas.saga_ids == ["S-0001"] and cell(sagas, "0", "status") == "compensated"
        await pilot.press("e")
        assert log.line_count == refresher_of(app).events_absorbed > 5
        assert "saga.compensated S-0001" in log.lines[-1]


async def test_rollbacks_put_every_resource_back(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        for name in ("payment_declined", "shipping_outage_after_payment", "partial_reservation"):
            await run_scenario(pilot, name)
        await settled(pilot)
        await pilot.press("r")  # its tables are read from the store in a worker once the view is shown
        await wait_for(pilot, lambda: app.main.view_on_screen("resources") and refresher_of(app).store_caught_up,
                       "the resource tables")
        stock = app.main.query_one("#stock-table", KeyedTable)
        assert stock.row_count == 5
        for row in stock.ordered_rows:
            initial, available, reserved, shipped = (cell(stock, row.key.value or "", column)
                                                     for column in ("initial", "available", "reserved", "shipped"))
            assert (available, reserved, shipped) == (initial, "0", "0"), row.key.value
        activity = app.main.query_one("#activity-table", KeyedTable)
        assert cell(activity, "payments/payment/refunded", "rows") == "1"
        assert "payments/payment/charged" not in [row.key.value for row in activity.ordered_rows]
        badges = shown_text(app.main.query_one(InvariantBadges))
        assert badges.count("✓") == 4, badges


async def test_enter_on_a_saga_opens_its_timeline(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "shipping_outage_after_payment")
        await settled(pilot)
        await open_timeline_of_first_saga(pilot)
        text = shown_text(app.screen.query_one("#timeline", Static))
        for expected in ("S-0001", "compensated", "Forward", "retry", "Compensation", "undo",
                         "saga failed at create_shipment", "charge_payment", "reserve_inventory"):
            assert expected in text, expected
        assert text.index("payment.refund") < text.index("inventory.release")  # newest step undone first
        await pilot.press("escape")
        assert not isinstance(app.screen, TimelineScreen)


async def test_a_saga_needing_attention_is_retried_then_resolved(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        for _ in range(2):
            await run_scenario(pilot, "refund_gateway_down")
        await settled(pilot)
        # the charges nobody could refund are held, awaiting an operator: never a green badge
        await pilot.press("r")
        await wait_for(pilot, lambda: "held" in shown_text(app.main.query_one(InvariantBadges)), "the badges")
        badges = shown_text(app.main.query_one(InvariantBadges))
        assert "nothing leaked: 2 held" in badges and "charges refunded: 2 held" in badges, badges
        assert "✓ nothing leaked" not in badges and "PAY-000001" in badges
        refresher = refresher_of(app)
        assert refresher.held_invariants == ["nothing_leaked", "charges_refunded"] and refresher.broken_invariants == []
        await pilot.press("a")
        inbox = app.main.query_one(AttentionTable)
        assert [row.key.value for row in inbox.ordered_rows] == ["S-0001", "S-0002"]
        assert "charge_payment: failed" in cell(inbox, "S-0001", "problem")

        await pilot.press("2")  # the refund gateway is back (the scenario broke only compensations)
        await wait_for(pilot, lambda: cell(app.main.query_one(Switchboard), "payment", "switch").strip() == "ON",
                       "the gateway to come back")
        inbox.focus()
        await pilot.press("t")  # retry the undo of S-0001
        await wait_for(pilot, lambda: inbox.row_count == 1, "the retried saga to leave the inbox")
        await wait_for(pilot, lambda: refresher_of(app).board.get("S-0001").status is not SagaStatus.COMPENSATING,
                       "the retried undo to end")
        assert refresher_of(app).board.get("S-0001").status is SagaStatus.COMPENSATED

        await pilot.press("n")  # resolve S-0002 by hand, with a note
        await wait_for(pilot, lambda: isinstance(app.screen, ResolveNote), "the note dialog")
        await pilot.press(*"refunded by hand", "enter")
        await wait_for(pilot, lambda: inbox.row_count == 0, "the inbox to empty")
        await settled(pilot)
        assert lab_of(app) is not None and app.session is not None
        resolved = await read_events(app.session.store, lab_of(app).run_id, kinds=[EventKind.SAGA_RESOLVED])
        assert [(event.saga_id, event.data["note"]) for event in resolved] == [("S-0002", "refunded by hand")]
        # its charge is still unrefunded: the badges hold, marked as accepted after a resolve, not red
        await pilot.press("r")
        await wait_for(pilot, lambda: "resolved" in shown_text(app.main.query_one(InvariantBadges)), "the badges")
        badges = shown_text(app.main.query_one(InvariantBadges))
        assert "✗" not in badges and "nothing leaked (1 resolved)" in badges, badges
        assert refresher_of(app).broken_invariants == []


async def test_quitting_closes_the_lab_and_leaves_every_event_committed(
    make_app: Callable[..., SagaDashboard],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "successful_order")
        lab = lab_of(app)
        assert lab is not None
        await pilot.press("q")
        await wait_for(pilot, lambda: app.session is None, "the lab to close")
    assert lab.writer.committed_seq == lab.recorder.next_seq - 1


async def test_clicking_a_service_switch_toggles_it(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        switchboard = app.main.query_one(Switchboard)
        name_column, switch_column = switchboard.ordered_columns[:2]
        x = 1 + name_column.get_render_width(switchboard) + switch_column.get_render_width(switchboard) // 2
        y = 1 + 1 + 2  # border, header, then the third service: shipping
        await pilot.click(Switchboard, offset=(x, y))
        await wait_for(pilot, lambda: cell(switchboard, "shipping", "switch").strip() == "OFF", "the switch off")
        await pilot.click(Switchboard, offset=(x, y))
        await wait_for(pilot, lambda: cell(switchboard, "shipping", "switch").strip() == "ON", "the switch on")
        lab = lab_of(app)
        assert lab is not None and lab.services.fault("shipping") == lab.pack.services["shipping"].fault


async def test_at_80_columns_long_names_give_way_to_profiles_and_breaker_counts(
    make_app: Callable[..., SagaDashboard],
) -> None:
    app = make_app("travel")  # service names up to 15 characters
    async with app.run_test(size=(80, 24)) as pilot:
        await lab_ready(pilot)
        await pilot.press("1")
        switchboard = app.main.query_one(Switchboard)
        await wait_for(pilot, lambda: cell(switchboard, "airline_primary", "profile") == "offline", "the switch")
        lab = lab_of(app)
        assert lab is not None
        assert [cell(switchboard, name, "profile") for name in lab.pack.services] == [
            fault_label(lab.services.fault(name)) for name in lab.pack.services]  # e.g. online +300ms, whole
        assert cell(switchboard, "airline_primary", "service") == "1 airlin…"
        assert cell(switchboard, "payment", "service") == "7 payment"
        shown = sum(column.get_render_width(switchboard) for column in switchboard.columns.values())
        assert shown <= switchboard.scrollable_content_region.width  # no column cut at the edge
        breakers = app.main.query_one(BreakerTable)
        assert cell(breakers, "airline_primary", "breaker").endswith("…")
        assert cell(breakers, "payment", "breaker") == "payment"
        shown = sum(column.get_render_width(breakers) for column in breakers.columns.values())
        assert shown - breakers.cell_padding <= breakers.scrollable_content_region.width  # trips whole (its blank
        # right padding may fall past the edge)
        await pilot.resize_terminal(160, 50)
        await wait_for(pilot, lambda: cell(switchboard, "airline_primary", "service") == "1 airline_primary",
                       "the whole names back")
        await wait_for(pilot, lambda: cell(breakers, "airline_primary", "breaker") == "airline_primary",
                       "the whole breaker names back")
        await pilot.resize_terminal(80, 24)  # and narrow again: the columns shrink back
        await wait_for(pilot, lambda: cell(breakers, "airline_primary", "breaker").endswith("…"), "names cut again")
        await pilot.pause()
        for table in (switchboard, breakers):
            shown = sum(column.get_render_width(table) for column in table.columns.values())
            assert shown - table.cell_padding <= table.scrollable_content_region.width, table.id


async def test_at_80_columns_the_sagas_scenario_gives_way(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "successful_order")
        await settled(pilot)
        await pilot.press("s")
        sagas = app.main.query_one(SagaTable)
        await wait_for(pilot, lambda: sagas.row_count == 1, "the saga's row")
        assert cell(sagas, "0", "scenario").endswith("…") and "successful_order".startswith(
            cell(sagas, "0", "scenario")[:-1])
        shown = sum(column.get_render_width(sagas) for column in sagas.columns.values())
        assert shown - sagas.cell_padding <= sagas.scrollable_content_region.width  # no column cut (but blank padding)
        await pilot.resize_terminal(120, 40)
        await wait_for(pilot, lambda: cell(sagas, "0", "scenario") == "successful_order", "the whole name back")


async def test_at_80_columns_the_highlighted_scenario_is_described_whole(
    make_app: Callable[..., SagaDashboard],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await lab_ready(pilot)
        table = app.main.query_one(ScenarioTable)
        about = app.main.query_one("#scenario-about", Static)
        assert lab_of(app) is not None
        scenarios = lab_of(app).pack.scenarios
        await wait_for(pilot, lambda: cell(table, "successful_order", "about").endswith("…"), "the column to give way")
        shown = sum(column.get_render_width(table) for column in table.columns.values())
        assert shown <= table.scrollable_content_region.width  # no sideways scrolling
        await pilot.press("down", "down")
        await wait_for(pilot, lambda: "payment_declined" in shown_text(about), "the highlighted scenario described")
        text = " ".join(shown_text(about).split())
        assert text == f"payment_declined · 1 saga: {scenarios['payment_declined'].description}"


async def test_switching_views_does_not_pile_up_footer_keys(make_app: Callable[..., SagaDashboard]) -> None:
    """Each view switch rebuilds the footer; the keys it removed must be freed, not kept in memory."""
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        footer = app.main.query_one(KeyFooter)
        keys: weakref.WeakSet[Widget] = weakref.WeakSet()  # every key the footer showed, while it lives
        built = 0
        for view in "serma" * 4:
            await pilot.press(view)
            await pilot.pause(0.02)
            shown = set(footer.query("FooterKey"))
            built += len(shown - set(keys))
            keys.update(shown)
        await pilot.pause(0.2)
        gc.collect()
        on_show = len(footer.query("FooterKey"))
        assert built > 10 * on_show  # the keys were rebuilt many times over
        assert len(keys) <= 2 * on_show, f"{len(keys)} keys alive for {on_show} on show"


async def test_a_run_that_fails_off_the_sagas_path_says_so_on_the_status_line(
    make_app: Callable[..., SagaDashboard],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 32)) as pilot:
        await lab_ready(pilot)
        await pilot.press("l")  # the load generator
        assert lab_of(app) is not None
        await wait_for(pilot, lambda: lab_of(app) is not None and lab_of(app).workload.load is not None, "the load")

        def broken() -> None:
            raise RuntimeError("a timer went wrong")

        lab_of(app).clock.call_later(0.05, broken)
        line = app.main.query_one("#status-line", Static)
        await wait_for(pilot, lambda: "run stopped: RuntimeError: a timer went wrong" in shown_text(line),
                       "the status line")
        assert lab_of(app).workload.load is None  # the run stopped taking sagas


async def test_the_picker_starts_on_the_packs_default_scenario(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app("orchestration")  # its default, every_desk, is not its first scenario
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        table = app.main.query_one(ScenarioTable)
        await wait_for(pilot, lambda: table.selected_key == "every_desk", "the cursor on the default scenario")
        await pilot.press("c", "enter")
        await wait_for(pilot, lambda: lab_of(app) is not None and lab_of(app).metrics.started == 5,
                       "the default scenario's five tickets")
