"""SVG snapshots (pytest-textual-snapshot) of the main screen and a timeline: the virtual clock and a
fixed seed make the run, and so the screen, the same every time. After a deliberate change to the look,
rewrite them with `python -m pytest tests/tui/test_snapshots.py --snapshot-update` and look at the new
files in tests/tui/__snapshots__ before committing them; a mismatch writes snapshot_report.html."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.proof import ProofMatrix
from sagatui.tui.widgets.saga_tables import SagaTable
from tests.tui.conftest import lab_ready, open_timeline_of_first_saga, refresher_of, settled, wait_for
from tests.tui.test_compare import two_runs_compared
from tests.tui.test_dashboard import run_scenario
from tests.tui.test_prove import proved

SnapCompare = Callable[..., bool]


async def drawn_after_this(pilot: Pilot[None]) -> None:
    """Two ticks of the refresher after this point: the first draws what the lab holds now (the status
    line is drawn on a tick, after the store read it reports), the second sees the layout the first one
    caused (a table shown just now is drawn again at its real width). No notification is left over."""
    app = pilot.app
    assert isinstance(app, SagaDashboard)
    refresher = refresher_of(app)
    wanted = refresher.ticks + 2
    await wait_for(pilot, lambda: refresher.ticks >= wanted, "two ticks of the refresher")
    app.clear_notifications()


def scrolled_to_the_newest(table: SagaTable) -> bool:
    """The cursor is on the last row, the rows are scrolled to it and the scrollbar thumb is where they are
    (a table shown after being hidden scrolls once it is laid out, so this comes some frames later)."""
    return (table.row_count > 0 and table.cursor_row == table.row_count - 1 and table.scroll_y == table.max_scroll_y
            and table.vertical_scrollbar.position == table.scroll_y)


def test_main_screen_after_a_load_with_outages(make_app: Callable[..., SagaDashboard],
                                               snap_compare: SnapCompare) -> None:
    async def after_the_load(pilot: Pilot[None]) -> None:
        await lab_ready(pilot)
        await run_scenario(pilot, "load_with_outages")
        await settled(pilot)
        await pilot.press("s")
        app = pilot.app
        assert isinstance(app, SagaDashboard)
        table = app.main.query_one(SagaTable)
        await wait_for(pilot, lambda: scrolled_to_the_newest(table), "the sagas table to show the newest saga")
        await drawn_after_this(pilot)

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=after_the_load)


def test_timeline_of_a_compensated_saga(make_app: Callable[..., SagaDashboard], snap_compare: SnapCompare) -> None:
    async def on_the_timeline(pilot: Pilot[None]) -> None:
        await lab_ready(pilot)
        await run_scenario(pilot, "shipping_outage_after_payment")
        await settled(pilot)
        await open_timeline_of_first_saga(pilot)
        await drawn_after_this(pilot)

    assert snap_compare(make_app(), terminal_size=(100, 40), run_before=on_the_timeline)


def test_waterfall_of_a_saga_with_a_fallback(make_app: Callable[..., SagaDashboard],
                                             snap_compare: SnapCompare) -> None:
    """travel's primary_airline_down: the flight's backoff and its hop to the backup airline, beside the hotel
    and the car, then the charge and the itinerary; `w` from the list."""
    async def on_the_waterfall(pilot: Pilot[None]) -> None:
        await lab_ready(pilot)
        await run_scenario(pilot, "primary_airline_down")
        await settled(pilot)
        await open_timeline_of_first_saga(pilot)
        await pilot.press("w")
        await drawn_after_this(pilot)

    assert snap_compare(make_app("travel"), terminal_size=(100, 24), run_before=on_the_waterfall)


def test_metrics_view_after_a_load_with_outages(make_app: Callable[..., SagaDashboard],
                                                snap_compare: SnapCompare) -> None:
    """The charts over clock time: throughput, step latency, retries and rejections, and the breakers opening
    while payment and then the carrier are down."""
    async def on_the_metrics(pilot: Pilot[None]) -> None:
        await lab_ready(pilot)
        await run_scenario(pilot, "load_with_outages")
        await settled(pilot)
        await pilot.press("m")
        await drawn_after_this(pilot)

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=on_the_metrics)


def test_sagas_in_the_light_theme(make_app: Callable[..., SagaDashboard], snap_compare: SnapCompare) -> None:
    """sagatui-light: the switches, breaker states, saga statuses and the status line on a light background."""
    async def after_the_outage(pilot: Pilot[None]) -> None:
        await lab_ready(pilot)
        await run_scenario(pilot, "refund_gateway_down")
        await settled(pilot)
        await pilot.press("s")
        await drawn_after_this(pilot)

    assert snap_compare(make_app(theme="sagatui-light"), terminal_size=(120, 32), run_before=after_the_outage)


def test_two_runs_side_by_side(make_app: Callable[..., SagaDashboard], snap_compare: SnapCompare) -> None:
    """`d`: an order that went through (run 1) beside the same order with shipping down (run 2)."""
    async def compared(pilot: Pilot[None]) -> None:
        await lab_ready(pilot)
        await two_runs_compared(pilot)
        await drawn_after_this(pilot)

    assert snap_compare(make_app(), terminal_size=(110, 40), run_before=compared)


def test_proof_matrix_of_an_order(make_app: Callable[..., SagaDashboard], snap_compare: SnapCompare) -> None:
    """`P` on the order that went through: every case proved, the undo that fails for good highlighted (held,
    as it should be, awaiting an operator)."""
    async def proved_it(pilot: Pilot[None]) -> None:
        await lab_ready(pilot)
        await run_scenario(pilot, "successful_order")
        await settled(pilot)
        await pilot.press("s", "P")
        screen = await proved(pilot)
        undo = screen.query_one("#proof-undo", ProofMatrix)
        undo.focus()
        undo.move_cursor(row=undo.get_row_index("charge_payment"), column=undo.shapes.index("undo_fails"))
        await drawn_after_this(pilot)

    assert snap_compare(make_app(), terminal_size=(120, 42), run_before=proved_it)
