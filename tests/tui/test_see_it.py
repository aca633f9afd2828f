"""What the metrics view, the themes and the help show: the charts fill after a run (and say so before),
priced calls show their cost, the light theme colours every role legibly and applies at once, and the help
and the titles name the keys as the config file moved them."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from textual.binding import Binding
from textual.color import Color
from textual.theme import BUILTIN_THEMES, Theme
from textual.widgets import Static

from sagatui.model.events import Event, EventKind
from sagatui.model.status import BreakerState
from sagatui.tui.actions import Area
from sagatui.tui.app import SagaDashboard
from sagatui.tui.rate_history import RateHistory
from sagatui.tui.screens.dialogs import PackPicker
from sagatui.tui.screens.help import HelpScreen, help_rows
from sagatui.tui.themes import LIGHT
from sagatui.tui.tones import LEGIBLE, ROLES, Tones, contrast
from sagatui.tui.widgets.charts import BreakerStrip, LineChart
from sagatui.tui.widgets.metrics import MetricsPanel
from sagatui.tui.widgets.quiet_static import QuietStatic
from sagatui.tui.widgets.saga_tables import SagaTable
from tests.tui.conftest import lab_ready, refresher_of, settled, wait_for
from tests.tui.test_dashboard import run_scenario, shown_text

_seq = iter(range(1, 1_000_000))


def event(kind: EventKind, time: float, saga_id: str | None = "S-0001", **fields: Any) -> Event:
    return Event(run_id=1, seq=next(_seq), time=time, kind=kind, saga_id=saga_id, **fields)


def transition(time: float, to: BreakerState, source: BreakerState = BreakerState.CLOSED) -> Event:
    return event(EventKind.BREAKER_TRANSITION, time, saga_id=None,
                 data={"breaker": "payment", "from": source.value, "to": to.value})


def test_step_latencies_are_kept_as_percentiles_once_their_second_is_over() -> None:
    history = RateHistory()
    for number, took in enumerate((0.1, 0.2, 0.3, 0.4), start=1):
        saga = f"S-{number:04d}"
        history.add(event(EventKind.SAGA_STARTED, 0.0, saga))
        history.add(event(EventKind.STEP_STARTED, 0.0, saga, step="charge"))
        history.add(event(EventKind.STEP_SUCCEEDED, took, saga, step="charge"))
    history.add(event(EventKind.STEP_STARTED, 0.5, "S-0005", step="charge"))
    history.add(event(EventKind.SAGA_FAILED, 0.6, "S-0005"))  # its step under way is forgotten with it
    history.add(event(EventKind.RETRY_SCHEDULED, 2.5))
    first, quiet, last = history.buckets
    assert (first.started, first.latencies, first.p50, first.p95) == (4, [], 0.2, 0.4)  # closed: percentiles only
    assert quiet.latency(0.5) is None and last.retries == 1
    history.add(event(EventKind.STEP_SUCCEEDED, 2.7, "S-0005", step="charge"))
    assert last.latency(0.5) is None


def test_a_breaker_shows_its_worst_state_of_each_second_and_keeps_it_through_quiet_ones() -> None:
    history = RateHistory()
    history.add(transition(1.2, BreakerState.OPEN))
    history.add(transition(1.8, BreakerState.HALF_OPEN, BreakerState.OPEN))
    history.add(event(EventKind.BREAKER_REJECTED, 3.1))
    history.add(transition(4.5, BreakerState.CLOSED, BreakerState.HALF_OPEN))
    states = [bucket.breakers.get("payment", BreakerState.CLOSED) for bucket in history.buckets]
    assert states == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.HALF_OPEN, BreakerState.HALF_OPEN]
    assert [bucket.rejected for bucket in history.buckets] == [0, 0, 1, 0]


@pytest.mark.parametrize("theme", [LIGHT, BUILTIN_THEMES["textual-light"], BUILTIN_THEMES["textual-dark"],
                                   BUILTIN_THEMES["solarized-light"]], ids=lambda theme: theme.name)
def test_every_role_is_legible_on_the_theme(theme: Theme) -> None:
    variables = {**theme.to_color_system().generate(), **theme.variables}
    tones = Tones(variables)
    for role in ROLES:
        assert contrast(tones.text[role], tones.surface) >= LEGIBLE, role
        fore, _, back = tones.style(f"on {role}").split()
        assert contrast(Color.parse(fore), Color.parse(back)) >= LEGIBLE, role


def chart_text(app: SagaDashboard, chart_id: str) -> str:
    chart = app.main.query_one(f"#{chart_id}")
    console = Console(width=80, file=io.StringIO(), record=True)
    target = chart if isinstance(chart, BreakerStrip) else chart.children[1]
    console.print(target.render())
    return console.export_text()


async def test_the_charts_fill_after_a_run_and_say_so_before(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app("resilience")
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: "no sagas yet" in chart_text(app, "throughput-chart"), "an empty chart")
        assert "no calls yet" in chart_text(app, "breaker-chart")
        await run_scenario(pilot, "breaker_cycle")
        await settled(pilot)
        await pilot.press("m")
        charts = [app.main.query_one(f"#{name}", LineChart) for name in ("throughput-chart", "latency-chart",
                                                                             "retries-chart")]
        await wait_for(pilot, lambda: all(chart.has_data for chart in charts), "the charts to fill")
        strip = app.main.query_one(BreakerStrip)
        states = strip.states["card_breaker"]  # open for 3s, then closed again after its probe
        assert BreakerState.OPEN in states and states[-1] is BreakerState.CLOSED
        assert set(strip.states["retries_only"]) == {BreakerState.CLOSED}
        assert "card_breaker" in chart_text(app, "breaker-chart")
        refresher = refresher_of(app)
        assert sum(bucket.started for bucket in refresher.history.buckets) == refresher.view.metrics.started
        title = shown_text(charts[0].query_one(QuietStatic))
        assert "started" in title and "compensated" in title


async def test_the_metrics_view_shows_what_the_calls_cost(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app("resilience")
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "fallback_chain")
        await settled(pilot)
        await pilot.press("m")
        metrics = refresher_of(app).view.metrics
        assert metrics.cost and metrics.fallback_cost
        totals = app.main.query_one(MetricsPanel).query_one("#totals", QuietStatic)
        wanted = f"cost {metrics.cost:g}  of retries {metrics.retry_cost:g}  of fallbacks {metrics.fallback_cost:g}"
        await wait_for(pilot, lambda: wanted in shown_text(totals), "the cost in the totals")


async def test_the_light_theme_colours_the_board_and_applies_at_once(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app(theme="sagatui-light")
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        assert app.current_theme is LIGHT and not app.current_theme.dark
        await run_scenario(pilot, "successful_order")
        await settled(pilot)
        await pilot.press("s")
        table = app.main.query_one(SagaTable)
        light_ok = Tones({**LIGHT.to_color_system().generate(), **LIGHT.variables}).colour("ok")

        def status_colour() -> str:
            return str(table.get_cell("0", "status").style) if table.row_count else ""

        await wait_for(pilot, lambda: status_colour() == light_ok, "the light theme's ok colour")
        app.theme = "textual-dark"
        dark_ok = Tones(BUILTIN_THEMES["textual-dark"].to_color_system().generate()).colour("ok")
        await wait_for(pilot, lambda: status_colour() == dark_ok, "the board drawn again in the dark theme")


async def test_the_help_and_the_titles_name_the_keys_the_config_file_moved(
    make_app: Callable[..., SagaDashboard]
) -> None:
    keymap = {"everywhere.help": "f1", "main.view_sagas": "v", "breakers.isolate": "I"}
    rows = help_rows([Area.MAIN], lambda binding: binding.key, keymap)["Main board"]
    assert ("v", "Sagas view") in rows and ("s", "Sagas view") not in rows
    app = make_app(keymap=keymap)
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        assert "I isolate" in str(app.main.query_one("#breakers").border_title)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        listed = shown_text(app.screen.query_one("#help", Static))
        assert "f1" in listed and " v " in listed and "Sagas view" in listed
        keys = {key for key, what in help_rows(app.KEY_AREAS, app.get_key_display, keymap)["Everywhere"]}
        assert "f1" in keys and "?" not in keys


async def test_a_dialog_names_the_key_that_closes_it_as_the_config_file_moved_it(
    make_app: Callable[..., SagaDashboard]
) -> None:
    app = make_app(keymap={"dialogs.dismiss": "ctrl+g"})
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        await pilot.press("o")  # open a pack: a list dialog
        await wait_for(pilot, lambda: isinstance(app.screen, PackPicker), "the pack picker")
        subtitle = str(app.screen.query_one("#dialog").border_subtitle)
        assert "esc" not in subtitle and app.get_key_display(Binding("ctrl+g", "")) in subtitle, subtitle
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: not isinstance(app.screen, PackPicker), "the picker closed by the moved key")
