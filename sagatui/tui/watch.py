"""Watching a recorded run in the dashboard, with play / pause / step / speed.

The recording's events are played back (sagatui.playback) into a scratch database at their clock
times on a paced clock: nothing is re-executed, so what is on screen is the recorded run itself, from
any sagatui version. Every panel follows, the resource tables and invariants included (each event
brings the row writes it recorded). The session is read-only: the keys that would change the run
(outages, scenarios, load, breakers, rollbacks) only say so.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from textual.binding import Binding

from sagatui.exit_codes import ExitCode
from sagatui.packs.loader import load_pack_text
from sagatui.plain_text import plain
from sagatui.replay import Recording
from sagatui.tui.app import SagaDashboard
from sagatui.tui.session import LabSettings


class WatchDashboard(SagaDashboard):
    BINDINGS = [
        *SagaDashboard.BINDINGS,
        Binding("space", "play_pause", "Play/pause", tooltip="play or pause the recording"),
        Binding("n", "step", "Step", tooltip="paused: move to the next moment of the recording"),
    ]

    def __init__(self, settings: LabSettings, recording: Recording) -> None:
        super().__init__(settings)
        self.recording = recording
        self._watching: object = None
        self._told_end = False

    @property
    def played(self) -> int:
        """Events of the recording played so far."""
        playback = self.session.playback if self.session is not None else None
        return playback.played if playback is not None else 0

    def _tick(self) -> None:
        lab, session = self.lab, self.session
        if lab is not None and self._watching is not lab:
            self._watching = lab  # the lab is opened by the dashboard's own mount handler
            self.title = plain(f"sagatui · watching {self.recording.source}")
            self.notify(f"watching {self.recording.source}: space play/pause, n step, x speed", timeout=6)
        if (session is not None and session.playback is not None and session.playback.finished.is_set()
                and not self._told_end):
            self._told_end = True
            self.notify(f"end of the recording: {self.played:,} events played", timeout=10)
        super()._tick()

    def send(self, name: str, **args: Any) -> None:
        """A recording is watched, not changed."""
        self.notify(f"watching a recording: {name.replace('_', ' ')} is not available", severity="warning",
                    timeout=3)

    def action_pause(self) -> None:
        self.action_play_pause()

    def action_play_pause(self) -> None:
        lab = self.lab
        if lab is not None:
            lab.clock.set_paused(not lab.clock.paused)
            self.notify("paused" if lab.clock.paused else "playing", timeout=2)

    def action_step(self) -> None:
        lab = self.lab
        if lab is None:
            return
        if not lab.clock.paused:
            lab.clock.set_paused(True)
        lab.clock.step()

    async def action_reset(self) -> None:
        self.send("reset")

    def action_open_pack(self) -> None:
        self.send("open_pack")


def watch_recording(recording: Recording, speed: float | None = 1.0) -> int:
    """Open the dashboard on a recording; returns the exit code."""
    pack = load_pack_text(recording.pack_text, recording.source)
    with tempfile.TemporaryDirectory() as scratch:
        settings = LabSettings(pack, recording.pack_text, None, Path(scratch) / "watch.db", recording.seed, speed,
                               recorded=tuple(recording.events))
        app = WatchDashboard(settings, recording)
        app.run()
    return app.return_code or ExitCode.OK
