"""Comparing runs in the dashboard (issue 19 items 3 and 4): `f` in a saga's timeline forks the run just
where that saga started with a service's fault changed (into <db>.forks.db, on a loop of its own) and
shows the run and its fork side by side; `d` on the board shows this run beside the one before it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from textual.widgets import OptionList, Static

from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.compare import CompareScreen
from sagatui.tui.screens.dialogs import FaultPicker, ServicePicker
from tests.tui.conftest import lab_of, lab_ready, open_timeline_of_first_saga, settled, wait_for
from tests.tui.test_dashboard import run_scenario, shown_text


async def _choose(pilot, screen_type: type, option: int) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, screen_type), screen_type.__name__)
    app.screen.query_one(OptionList).highlighted = option
    await pilot.press("enter")


async def test_a_fork_from_the_timeline_shows_what_the_changed_fault_did(make_app: Callable[..., SagaDashboard],
                                                                         tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "shipping_outage_after_payment")  # shipping offline: the saga compensates
        await settled(pilot)
        lab = lab_of(app)
        assert lab is not None
        services = list(lab.pack.services)
        await open_timeline_of_first_saga(pilot)
        await pilot.press("f")
        await _choose(pilot, ServicePicker, services.index("shipping"))
        await _choose(pilot, FaultPicker, 1)  # the first preset: offline (the pack's own, online, is 0)
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), "the comparison", timeout=120)
        first = app.screen
        assert isinstance(first, CompareScreen)
        assert first.diff.sagas == [] and first.diff.statuses == []  # offline again: every saga ends as it did
        assert first.diff.first is not None and first.diff.first.b is not None
        assert first.diff.first.b["kind"] == "command"  # the streams part where the fork says it forked
        await pilot.press("escape")

        await pilot.press("f")
        await _choose(pilot, ServicePicker, services.index("shipping"))
        await _choose(pilot, FaultPicker, 0)  # the pack's own profile: online
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen is not first,
                       "the second comparison", timeout=120)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        text = shown_text(screen.query_one("#comparison", Static))
        for expected in ("first divergence", "Sagas whose outcome changed", "S-0001", "compensated", "completed"):
            assert expected in text, text
        assert [(item.name, item.a, item.b) for item in screen.diff.sagas] == [("S-0001", "compensated", "completed")]
        await pilot.press("q")
    forks = tmp_path / "dashboard.forks.db"
    with sqlite3.connect(forks) as connection:  # the forks went beside the live database, not into it
        # a live session's fork stops where the session stood when it forked (as `sagatui fork` does)
        assert [status for (status,) in connection.execute("SELECT status FROM runs ORDER BY id")] == \
            ["interrupted"] * 2
    with sqlite3.connect(tmp_path / "dashboard.db") as connection:
        assert connection.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)


async def two_runs_compared(pilot) -> None:  # type: ignore[no-untyped-def]
    """From the first run's board: an order that went through (run 1), then, after `R`, the same order with
    shipping down (run 2), then `d`: the comparison on screen."""
    app = pilot.app
    await run_scenario(pilot, "successful_order")
    await settled(pilot)
    await pilot.press("R")
    await lab_ready(pilot)
    await run_scenario(pilot, "shipping_outage_after_payment")
    await settled(pilot)
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), "the comparison")


async def test_d_compares_this_run_with_the_one_before(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(140, 45)) as pilot:
        await lab_ready(pilot)
        await pilot.press("d")  # the first run: nothing before it, said, nothing opened
        await pilot.pause(0.2)
        assert not isinstance(app.screen, CompareScreen)
        await two_runs_compared(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        text = shown_text(screen.query_one("#comparison", Static))
        assert "run 1 of" in text and "run 2 of" in text and "first divergence" in text, text
        assert [(item.name, item.a, item.b) for item in screen.diff.sagas] == [("S-0001", "completed", "compensated")]
