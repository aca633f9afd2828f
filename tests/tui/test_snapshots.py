"""SVG snapshots of the main screen and a timeline: the virtual clock and a fixed seed make the run,
and so the screen, the same every time. After a deliberate change to the look, rewrite them with
SAGATUI_UPDATE_SNAPSHOTS=1 and look at the new files before committing them."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sagatui.tui.app import SagaDashboard
from tests.tui.conftest import lab_ready, open_timeline_of_first_saga, settled
from tests.tui.test_dashboard import run_scenario

SNAPSHOTS = Path(__file__).parent / "snapshots"


async def assert_snapshot(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    app.clear_notifications()
    await app.workers.wait_for_complete()
    await pilot.pause(0.2)
    svg = app.export_screenshot(title=name)
    expected = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("SAGATUI_UPDATE_SNAPSHOTS") == "1":
        expected.write_text(svg, encoding="utf-8")
        return
    actual = expected.with_suffix(".actual.svg")
    if not expected.exists() or expected.read_text(encoding="utf-8") != svg:
        actual.write_text(svg, encoding="utf-8")
        raise AssertionError(f"{name}: the screen differs from {expected}; see {actual}")
    actual.unlink(missing_ok=True)


async def test_main_screen_after_a_load_with_outages(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "load_with_outages")
        await settled(pilot)
        await pilot.press("s")
        await assert_snapshot(pilot, "main_sagas")
        await pilot.press("q")


async def test_timeline_of_a_compensated_saga(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "shipping_outage_after_payment")
        await settled(pilot)
        await open_timeline_of_first_saga(pilot)
        await assert_snapshot(pilot, "timeline_compensated")
        await pilot.press("q")
