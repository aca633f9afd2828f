"""A session recorded through the dashboard (driven by the pilot, outages toggled) replays headless,
event for event."""

from __future__ import annotations

from collections.abc import Callable

from sagatui.lab.replay import recording_from_store, replay
from sagatui.tui.app import SagaDashboard
from tests.tui.conftest import lab_of, lab_ready, settled, wait_for
from tests.tui.test_dashboard import run_scenario


async def test_a_dashboard_session_replays_identically(make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app(speed=20.0)  # paced, as a user sees it (x20 so the test is quick)
    async with app.run_test(size=(120, 40)) as pilot:
        await lab_ready(pilot)
        lab = lab_of(app)
        assert lab is not None
        await run_scenario(pilot, "successful_order")
        await pilot.press("2")  # payment offline
        await wait_for(pilot, lambda: lab.services.fault("payment").mode == "offline", "the outage")
        await run_scenario(pilot, "payment_declined")
        await run_scenario(pilot, "successful_order")
        await pilot.press("2")  # payment back online
        await wait_for(pilot, lambda: lab.services.fault("payment").mode != "offline", "the repair")
        await run_scenario(pilot, "shipping_outage_after_payment")
        await settled(pilot)
        store, run_id = app.session.store, lab.run_id
        await lab.writer.flush()
        recording = await recording_from_store(store, run_id)
    names = [command.data["name"] for command in recording.commands]
    assert names.count("set_fault") == 2 and names.count("start_scenario") == 4
    result = await replay(recording)
    assert result.identical, result.divergence.describe()
    assert len(result.events) == len(recording.events)
