"""Watching a recorded run in the dashboard, with play / pause / step / speed.

The recording's commands are applied where they were recorded, into a scratch database, on a paced
clock: because runs are deterministic this reproduces the recorded stream event for event, and
every panel (resource tables and invariants included) shows the run as it was at each moment.
Each event is checked against the recording as it arrives; the first difference is reported, so
what is on screen is never silently something else. The session is read-only: the keys that would
change the run (outages, scenarios, load, breakers, rollbacks) only say so.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from textual.binding import Binding

from sagatui.exit_codes import ExitCode
from sagatui.model.events import Event
from sagatui.packs.loader import load_pack_text
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
        self.checked = 0  # events compared with the recording so far
        self.divergence: str | None = None
        self._watching: object = None

    def _tick(self) -> None:
        lab = self.lab
        if lab is not None and self._watching is not lab:
            self._watching = lab  # the lab is opened by the dashboard's own mount handler
            lab.bus.add_listener(self._compare)
            self.title = f"sagatui · watching {self.recording.source}"
            self.notify(f"watching {self.recording.source}: space play/pause, n step, x speed", timeout=6)
        super()._tick()

    def _compare(self, event: Event) -> None:
        """Check each event against the recorded one of the same seq (the run's opening events come
        before the dashboard listens; the stream from the first command on is what is checked)."""
        expected = self.recording.events
        if self.divergence is not None:
            return
        self.checked = event.seq
        if event.seq > len(expected):
            if self.lab is not None:
                self.lab.clock.set_paused(True)
            self.notify("end of the recording", timeout=6)
            self.divergence = ""
        elif expected[event.seq - 1].comparable() != event.comparable():
            self.divergence = (f"this sagatui diverges from the recording at event {event.seq - 1}: "
                               f"expected {expected[event.seq - 1].kind.value}, got {event.kind.value}")
            self.notify(self.divergence, severity="error", timeout=30)

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
                               script=tuple(recording.commands))
        app = WatchDashboard(settings, recording)
        app.run()
    return ExitCode.OK if not app.divergence else ExitCode.EXPECTATION_FAILED
