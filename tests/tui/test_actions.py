"""Keys, help and palette come from one table (sagatui.tui.actions): no class binds a key the table does
not hold, and every action is in the help and in the palette."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode

import sagatui.tui
from sagatui.tui.actions import ACTIONS, Area, Target, UserAction, bindings
from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.help import help_rows
from sagatui.tui.screens.main import MainScreen
from sagatui.tui.watch import WatchDashboard
from tests.tui.conftest import lab_ready, open_timeline_of_first_saga, refresher_of, wait_for
from tests.tui.test_dashboard import run_scenario


def _key(binding: Binding) -> tuple[str, str, str, str | None]:
    return binding.key, binding.action, binding.description, binding.tooltip


def bound_here() -> dict[str, list[Binding]]:
    """Class name -> the bindings it declares itself, for every DOM class of sagatui.tui."""
    found: dict[str, list[Binding]] = {}
    for module in pkgutil.walk_packages(sagatui.tui.__path__, "sagatui.tui."):
        for name, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == module.name and "BINDINGS" in cls.__dict__:
                found[name] = [binding for binding in cls.__dict__["BINDINGS"] if isinstance(binding, Binding)]
    return found


def test_every_binding_of_every_class_is_in_the_actions_table() -> None:
    declared = bound_here()
    assert {"SagaDashboard", "MainScreen", "Switchboard", "TimelineScreen", "HelpScreen"} <= set(declared)
    for owner, owned in declared.items():
        areas = [area for area in Area if owner in area.owners]
        assert areas, f"{owner} binds keys, but no area of the actions table is its"
        from_table = {_key(binding) for area in areas for binding in bindings(area)}
        assert {_key(binding) for binding in owned} == from_table, f"{owner} binds keys the table does not hold"


def test_every_action_is_in_the_help() -> None:
    rows = help_rows(Area, lambda binding: binding.key)
    for action in ACTIONS:
        assert (action.tooltip or action.description) in [what for _, what in rows[action.area.title]], action


def palette_titles(app: App[None]) -> list[str]:
    return [command.title for command in app.get_system_commands(app.screen)]


def in_palette(action: UserAction, titles: list[str]) -> bool:
    if action.target is None:
        return action.palette in titles
    prefix, _, suffix = action.palette.partition("{}")
    return any(title.startswith(prefix) and title.endswith(suffix) for title in titles)


def assert_in_palette(app: App[None], areas: set[Area], absent: frozenset[Target] = frozenset()) -> None:
    """Every action of `areas` is offered (those for a kind of target the lab has none of, `absent`, aside)."""
    titles = palette_titles(app)
    for action in ACTIONS:
        if action.area in areas and action.target not in absent:
            assert in_palette(action, titles), action


async def test_every_action_is_in_the_palette_where_its_keys_work(make_app: Callable[..., SagaDashboard]) -> None:
    """On the main board (wide, so every panel is on screen) once a saga needs attention, every action of
    the app and the board is offered, a targeted one for each target; on the help and the timeline, theirs."""
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await lab_ready(pilot)
        assert isinstance(app.screen, MainScreen) and app.screen.is_wide
        await run_scenario(pilot, "refund_gateway_down")
        await wait_for(pilot, lambda: refresher_of(app).board.needing_attention(), "a saga needing attention")
        assert_in_palette(app, {Area.EVERYWHERE, Area.MAIN, Area.SWITCHBOARD, Area.BREAKERS, Area.SCENARIOS,
                                Area.SAGAS, Area.EVENTS, Area.EVENT_LOG, Area.ATTENTION},
                          absent=frozenset({Target.WAITING_APPROVAL}))  # tests/tui/test_approvals.py has them
        titles = palette_titles(app)
        assert "Theme" in titles and [title for title in titles if title == "Quit"] == ["Quit"]  # Textual's, ours
        assert "Play or pause the recording" not in titles  # watching only
        await pilot.press("question_mark")
        assert_in_palette(app, {Area.EVERYWHERE, Area.HELP})
        await pilot.press("escape")
        await open_timeline_of_first_saga(pilot)
        assert_in_palette(app, {Area.EVERYWHERE, Area.TIMELINE})
        await pilot.press("escape", "q")


def test_the_watch_app_has_its_own_keys_in_the_help() -> None:
    assert Area.WATCHING in WatchDashboard.KEY_AREAS and Area.WATCHING not in SagaDashboard.KEY_AREAS
