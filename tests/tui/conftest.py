"""Driving the real dashboard: a lab on the virtual clock, a fixed seed, real SQLite in tmp_path."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from sagatui.lab.run import Lab
from sagatui.lab.session import LabSettings
from sagatui.packs.loader import load_pack
from sagatui.tui.app import SagaDashboard
from sagatui.tui.refresher import Refresher
from sagatui.tui.screens.timeline import TimelineScreen
from sagatui.tui.widgets.control_tables import ScenarioTable

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., SagaDashboard]:
    def make(pack: str = "ecommerce", *, seed: int = 7, speed: float | None = None, theme: str | None = None,
             keymap: dict[str, str] | None = None, pack_path: Path | None = None) -> SagaDashboard:
        path = pack_path or SCENARIOS / f"{pack}.yaml"
        app = SagaDashboard(LabSettings(load_pack(path), path.read_text(encoding="utf-8"), path,
                                        tmp_path / "dashboard.db", seed, speed), theme=theme, keymap=keymap)
        # A view switch slides the tabs' underline, and the pilot waits for every animation after each key:
        # with none, each switch is drawn at once in its final state (and a snapshot cannot catch a slide).
        app.animation_level = "none"
        return app

    return make


async def wait_for(pilot: Pilot[None], condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Poll `condition` while the app runs: a live app may never go idle, so `pilot.pause()` alone
    cannot be trusted to settle it. `timeout` (wall seconds) only bounds a hang: it is no speed
    assertion, so it is generous (a 300-saga load took over 15 s on a machine shared with 5 processes)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def lab_of(app: SagaDashboard) -> Lab | None:
    """The dashboard's lab itself (a test may look inside; the dashboard reads only its view)."""
    return app.session.lab if app.session is not None else None


def refresher_of(app: SagaDashboard) -> Refresher:
    """What keeps the board current for the open lab (its board, invariants, events absorbed)."""
    assert app.refresher is not None, "no lab open"
    return app.refresher


async def lab_ready(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, SagaDashboard)
    await wait_for(pilot, lambda: lab_of(app) is not None and app.main.query_one(ScenarioTable).row_count, "the lab")


async def settled(pilot: Pilot[None]) -> None:
    """Every saga started has ended, every event is committed and drained into the panels, and the panels
    show the store as it is."""
    app = pilot.app
    assert isinstance(app, SagaDashboard)

    def done() -> bool:
        lab, session, refresher = lab_of(app), app.session, app.refresher
        return (lab is not None and session is not None and refresher is not None and lab.metrics.started > 0
                and lab.metrics.in_flight == 0 and lab.writer.committed_seq == lab.recorder.next_seq - 1
                and refresher.store_caught_up
                and session.undrained == 0)  # and the panels were given every event (the next tick drains them)

    await wait_for(pilot, done, "the run to settle and the panels to catch up", timeout=180.0)


async def open_timeline_of_first_saga(pilot: Pilot[None]) -> None:
    """From the board: the sagas view, Enter on the first saga, and wait for its timeline to load."""
    app = pilot.app
    await pilot.press("s", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None,
                   "the timeline")
