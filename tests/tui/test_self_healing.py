"""A saga that heals the service it needs (issue 16 item 6): its timeline shows, between the failed attempt
and the next, the diagnosis, the route it chose and the remedy, and the service is back online."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Static

from sagatui.tui.app import SagaDashboard
from tests.tui.conftest import lab_of, lab_ready, open_timeline_of_first_saga, settled
from tests.tui.test_dashboard import run_scenario, shown_text


async def test_the_timeline_shows_the_diagnosis_and_the_remedy_between_the_attempts(
        make_app: Callable[..., SagaDashboard]) -> None:
    app = make_app("resilience")
    async with app.run_test(size=(140, 40)) as pilot:
        await lab_ready(pilot)
        await run_scenario(pilot, "self_healing")
        await settled(pilot)
        lab = lab_of(app)
        assert lab is not None and lab.services.fault("settlement_api").mode == "online"
        await open_timeline_of_first_saga(pilot)
        text = shown_text(app.screen.query_one("#timeline", Static))
        for expected in ("settlement_api.diagnose after attempt 1",
                         "found mode=stuck healthy=false -> route 1: settlement_api.reset",
                         "cleared=true mode=online", "completed"):
            assert expected in text, text
        assert text.index("503 workers stuck") < text.index("diagnose") < text.index("cleared=true") \
            < text.index("attempt 2  ok")
        await pilot.press("w")  # the waterfall marks the remediation, and its legend says what ✚ is
        await pilot.pause(0.2)
        waterfall = shown_text(app.screen.query_one("#timeline", Static))
        assert "✚" in waterfall and "✚  remediation" in waterfall and "▥" not in waterfall, waterfall
