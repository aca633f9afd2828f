"""`sagatui replay --watch`: a recorded run played into the dashboard, with pause and step."""

from __future__ import annotations

from pathlib import Path

from sagatui.headless import run_scenario
from sagatui.packs.bundled import read_pack
from sagatui.packs.loader import load_pack_text
from sagatui.replay import recording_from_store
from sagatui.store.database import Store
from sagatui.tui.session import LabSettings
from sagatui.tui.watch import WatchDashboard
from tests.tui.conftest import lab_ready, wait_for


async def record(tmp_path: Path, pack: str, scenario: str):
    source = read_pack(pack)
    store = await Store.open(tmp_path / "recorded.db")
    try:
        report = await run_scenario(source.pack, source.text, store, scenario, seed=4)
        return await recording_from_store(store, report.run_id)
    finally:
        await store.close()


def watcher(tmp_path: Path, recording, speed: float | None) -> WatchDashboard:
    settings = LabSettings(load_pack_text(recording.pack_text, recording.source), recording.pack_text, None,
                           tmp_path / "watch.db", recording.seed, speed, script=tuple(recording.commands))
    return WatchDashboard(settings, recording)


async def test_watching_plays_the_recorded_events_into_the_panels(tmp_path: Path) -> None:
    recording = await record(tmp_path, "ecommerce", "shipping_outage_after_payment")
    app = watcher(tmp_path, recording, speed=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        # every recorded event but the final run.settled (a watched run is not concluded) comes again
        await wait_for(pilot, lambda: app.checked >= len(recording.events) - 1, "the recording to play")
        assert app.divergence is None
        await pilot.press("2")  # read-only: no outage toggled
        await pilot.pause(0.1)
        assert app.lab.services.fault("shipping").mode == "offline"
        assert app.board.get("S-0001").status == "compensated"


async def test_pause_and_step_move_one_moment_at_a_time(tmp_path: Path) -> None:
    recording = await record(tmp_path, "payments", "carrier_failing")
    app = watcher(tmp_path, recording, speed=0.01)  # so slow that only steps move it
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        await pilot.press("space")
        await wait_for(pilot, lambda: app.lab.clock.paused, "the pause")
        before = app.lab.clock.now()
        await pilot.press("n")
        await wait_for(pilot, lambda: app.lab.clock.now() > before, "one step")
        after_one = app.lab.clock.now()
        await pilot.pause(0.2)
        assert app.lab.clock.now() == after_one  # held again after the step
        assert app.divergence is None
