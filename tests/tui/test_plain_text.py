"""The dashboard shows pack and operator text as plain text: markup in a name or a resolve note is shown
literally (it once crashed the app), and no escape sequence in it reaches the terminal."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from sagatui.lab.commands import Resolve
from sagatui.lab.session import LabSettings
from sagatui.model.status import SagaStatus
from sagatui.packs.loader import load_pack
from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.timeline import TimelineScreen
from sagatui.tui.widgets.control_tables import ScenarioTable
from tests.hostile_pack import HOSTILE_SCENARIO, RAW, write_hostile_pack
from tests.tui.conftest import lab_ready, refresher_of, settled, wait_for
from tests.tui.test_dashboard import shown_text

NOTE = "[/oops] refunded by hand \x1b]0;pwned\x07"
WIDE = (180, 45)  # every view on screen at once


def terminal_output(app: SagaDashboard) -> str:
    """What the app writes to the terminal for its whole screen, escape sequences and all."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def assert_nothing_raw(app: SagaDashboard) -> None:
    output = terminal_output(app)
    for raw in RAW:
        assert raw not in output


def palette_prompts(app: SagaDashboard) -> list[str]:
    if not isinstance(app.screen, CommandPalette):
        return []
    commands = app.screen.query_one(CommandList)
    return [str(commands.get_option_at_index(index).prompt) for index in range(commands.option_count)]


async def run_hostile_scenario(pilot: Pilot[None]) -> None:
    app = pilot.app
    table = app.main.query_one(ScenarioTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(HOSTILE_SCENARIO))
    await pilot.press("enter")


async def test_markup_and_escapes_in_pack_and_note_are_shown_as_plain_text(tmp_path: Path) -> None:
    path = write_hostile_pack(tmp_path)
    app = SagaDashboard(LabSettings(load_pack(path), path.read_text(encoding="utf-8"), path, tmp_path / "d.db", 7,
                                    None))
    async with app.run_test(size=WIDE) as pilot:
        await lab_ready(pilot)
        assert_nothing_raw(app)
        assert "shop [/x]" in shown_text(app.main.query_one("#status-line"))
        await pilot.press("ctrl+p", *"refund")  # the palette lists and searches the scenarios by name
        await wait_for(pilot, lambda: any(HOSTILE_SCENARIO in prompt for prompt in palette_prompts(app)),
                       "the palette's hit")
        assert_nothing_raw(app)
        await pilot.press("escape")

        await run_hostile_scenario(pilot)
        await settled(pilot)
        await wait_for(pilot, lambda: refresher_of(app).board.get("S-0001").status is SagaStatus.NEEDS_ATTENTION,
                       "the inbox")
        app.submit(Resolve(saga_id="S-0001", note=NOTE))  # what the note dialog sends
        await wait_for(pilot, lambda: refresher_of(app).board.get("S-0001").status is not SagaStatus.NEEDS_ATTENTION,
                       "the resolve")
        await settled(pilot)
        await pilot.pause()
        assert_nothing_raw(app)

        await pilot.press("s", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.timeline is not None
                       and app.screen.timeline.saga.status != SagaStatus.NEEDS_ATTENTION, "the timeline")
        await pilot.pause()
        timeline = shown_text(app.screen.query_one("#timeline"))
        assert "[/oops] refunded by hand ␛]0;pwned␇" in timeline
        assert_nothing_raw(app)
