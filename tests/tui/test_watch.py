"""`sagatui replay --watch`: a recorded run's events played into the dashboard, with pause and step."""

from __future__ import annotations

from pathlib import Path

from sagatui.lab.headless import run_scenario
from sagatui.lab.replay import Recording, recording_from_store
from sagatui.lab.session import LabSettings
from sagatui.packs.bundled import read_pack
from sagatui.packs.loader import load_pack_text
from sagatui.store import queries
from sagatui.store.database import Store
from sagatui.store.invariants import check_invariants
from sagatui.tui.watch import WatchDashboard
from tests.tui.conftest import lab_of, lab_ready, refresher_of, wait_for


async def record(tmp_path: Path, pack: str, scenario: str) -> tuple[Recording, dict[str, list[dict]]]:
    """A headless run's recording, and its resource tables at the end."""
    source = read_pack(pack)
    async with await Store.open(tmp_path / "recorded.db") as store:
        report = await run_scenario(source.pack, source.text, store, scenario, seed=4)
        tables = {table: await queries.resource_rows(store, report.run_id, table) for table in store.tables}
        return await recording_from_store(store, report.run_id), tables


def watcher(tmp_path: Path, recording: Recording, speed: float | None) -> WatchDashboard:
    settings = LabSettings(load_pack_text(recording.pack_text, recording.source), recording.pack_text, None,
                           tmp_path / "watch.db", recording.seed, speed, recorded=tuple(recording.events))
    return WatchDashboard(settings, recording)


def without_run_id(rows: list[dict]) -> list[dict]:
    return [{name: value for name, value in row.items() if name != "run_id"} for row in rows]


async def test_watching_plays_the_recorded_events_into_the_panels(tmp_path: Path) -> None:
    recording, recorded_tables = await record(tmp_path, "ecommerce", "shipping_outage_after_payment")
    app = watcher(tmp_path, recording, speed=None)
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        await wait_for(pilot, lambda: app.played == len(recording.events), "the recording to play")
        await pilot.press("2")  # read-only: no outage toggled
        await pilot.pause(0.1)
        lab, session = lab_of(app), app.session
        assert lab is not None and session is not None
        assert lab.services.fault("shipping").mode == "offline"  # as the recorded fault.changed left it
        assert refresher_of(app).board.get("S-0001").status == "compensated"
        assert lab.metrics.started == sum(1 for e in recording.events if e.kind.value == "saga.started")
        await lab.writer.flush()
        # nothing re-executed, yet the scratch store holds the recorded stream and the recorded tables
        played = await queries.read_events(session.store, lab.run_id, limit=None)
        assert [e.comparable() for e in played] == [e.comparable() for e in recording.events]
        for table, rows in recorded_tables.items():
            assert without_run_id(await queries.resource_rows(session.store, lab.run_id, table)) == \
                without_run_id(rows), table
        assert all(result.ok for result in await check_invariants(session.store, lab.run_id))
        await wait_for(pilot, lambda: app._told_end, "the end of the recording to be told")


async def test_a_breaker_opened_in_the_recording_shows_open_with_its_countdown(tmp_path: Path) -> None:
    recording, _ = await record(tmp_path, "resilience", "breaker_cycle")
    opened = next(e for e in recording.events if e.kind.value == "breaker.transition" and e.data["to"] == "open")
    app = watcher(tmp_path, recording, speed=0.01)  # so slow that only steps move it
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        await pilot.press("space")
        lab = lab_of(app)
        assert lab is not None
        while app.played < opened.seq:
            await pilot.press("n")
            await pilot.pause(0.02)
        breaker = lab.breakers.get(opened.data["breaker"])
        assert breaker.state.value == "open" and breaker.half_open_at is not None
        assert breaker.half_open_at > lab.clock.now()


async def test_pause_and_step_move_one_moment_at_a_time(tmp_path: Path) -> None:
    recording, _ = await record(tmp_path, "payments", "carrier_failing")
    app = watcher(tmp_path, recording, speed=0.01)  # so slow that only steps move it
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        await pilot.press("space")
        await wait_for(pilot, lambda: lab_of(app).clock.paused, "the pause")
        before, played = lab_of(app).clock.now(), app.played
        await pilot.press("n")
        await wait_for(pilot, lambda: lab_of(app).clock.now() > before, "one step")
        after_one = lab_of(app).clock.now()
        await pilot.pause(0.2)
        assert lab_of(app).clock.now() == after_one  # held again after the step
        assert app.played > played
        assert all(e.time <= after_one for e in recording.events[:app.played])
        assert recording.events[app.played].time > after_one  # exactly the events up to that moment
