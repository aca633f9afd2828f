"""Watching a recorded run in the dashboard, with play / pause / step / speed.

The recording's events are played back (sagatui.lab.playback) into a scratch database at their clock
times on a paced clock: nothing is re-executed, so what is on screen is the recorded run itself, from
any sagatui version. Every panel follows, the resource tables and invariants included (each event
brings the row writes it recorded). The session is read-only: the keys that would change the run
(outages, scenarios, load, breakers, rollbacks) only say so.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sagatui.exit_codes import ExitCode
from sagatui.lab.commands import Command
from sagatui.lab.recorded_answers import code_stand_ins
from sagatui.lab.replay import Recording
from sagatui.lab.session import LabSettings
from sagatui.packs.loader import load_pack_text
from sagatui.plain_text import plain
from sagatui.tui.actions import Area, bindings
from sagatui.tui.app import SagaDashboard
from sagatui.tui.refresher import TICK


class WatchDashboard(SagaDashboard):
    BINDINGS = bindings(Area.WATCHING)
    KEY_AREAS = tuple(Area)

    def __init__(self, settings: LabSettings, recording: Recording) -> None:
        super().__init__(settings)
        self.recording = recording
        self._told_end = False

    @property
    def played(self) -> int:
        """Events of the recording played so far."""
        playback = self.session.playback if self.session is not None else None
        return playback.played if playback is not None else 0

    async def on_mount(self) -> None:
        """Runs before the dashboard's own mount handler (Textual calls both, the subclass's first)."""
        self.set_interval(TICK, self._tell_end)

    def _follow_new_lab(self) -> None:
        super()._follow_new_lab()
        self.title = plain(f"sagatui · watching {self.recording.source}")
        self.notify(f"watching {self.recording.source}: space play/pause, n step, x speed", timeout=6)

    def _tell_end(self) -> None:
        playback = self.session.playback if self.session is not None else None
        if playback is not None and playback.finished.is_set() and not self._told_end:
            self._told_end = True
            self.notify(f"end of the recording: {self.played:,} events played", timeout=10)

    def submit(self, command: Command) -> None:
        """A recording is watched, not changed."""
        self._not_available(command.name)

    def _not_available(self, what: str) -> None:
        self.notify(f"watching a recording: {what.replace('_', ' ')} is not available", severity="warning",
                    timeout=3)

    def action_pause(self) -> None:
        self.action_play_pause()

    def action_play_pause(self) -> None:
        if self.refresher is not None:
            view = self.refresher.view
            self.refresher.pacing.hold(not view.clock_held)
            self.notify("paused" if view.clock_held else "playing", timeout=2)

    def action_step(self) -> None:
        if self.refresher is not None:
            self.refresher.pacing.step()

    async def action_reset(self) -> None:
        self._not_available("reset")

    def action_open_pack(self) -> None:
        self._not_available("open_pack")


def watch_recording(recording: Recording, speed: float | None = 1.0) -> int:
    """Open the dashboard on a recording; returns the exit code."""
    pack = load_pack_text(recording.pack_text, recording.source, code=code_stand_ins(recording.pack_text))
    with tempfile.TemporaryDirectory() as scratch:
        settings = LabSettings(pack, recording.pack_text, None, Path(scratch) / "watch.db", recording.seed, speed,
                               recorded=tuple(recording.events))
        app = WatchDashboard(settings, recording)
        app.run()
    return app.return_code or ExitCode.OK
