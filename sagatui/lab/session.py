"""The dashboard's hold on a lab: the store it writes to, the lab itself and the dashboard's
subscription to its events. The lab is a new run, or an unfinished run carried on (`resume`).
Resetting swaps in a fresh lab (a new run) on the same store; earlier runs stay in the database."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sagatui.code.app import App
from sagatui.engine.bus import Subscription
from sagatui.lab.commands import Command
from sagatui.lab.playback import Playback
from sagatui.lab.recovery.reopen import reopen_run
from sagatui.lab.recovery.resume import UNFINISHED, carry_on, leave_run
from sagatui.lab.run import Lab, Pacing
from sagatui.lab.view import LabView
from sagatui.model.events import Event
from sagatui.packs.model import Pack
from sagatui.store.database import Store
from sagatui.store.queries import RunInfo

SUBSCRIPTION_CAPACITY = 200_000  # events the dashboard may fall behind by before the oldest are dropped


@dataclass(frozen=True)
class LabSettings:
    pack: Pack
    pack_text: str
    pack_path: Path | None
    db: Path
    seed: int = 1
    speed: float | None = 1.0  # None: virtual time, as fast as possible
    recorded: tuple[Event, ...] = ()  # watching a recording: its events, played back (sagatui.lab.playback)
    code: App | None = None  # the user's own services behind the pack (sagatui.code)


@dataclass(frozen=True)
class Resumed:
    run_id: int
    sagas: list[str]  # ids of the sagas carried on
    resent: list[str]  # idempotency keys of the calls sent again


class LabSession:
    def __init__(self, settings: LabSettings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.lab: Lab | None = None
        self.subscription: Subscription | None = None
        self._backlog: list[Event] = []  # a resumed run's events from before, for the panels
        self._sagas_when_resumed: int | None = None  # sagas a resumed run had started; None: a new run
        self.playback: Playback | None = None  # watching a recording

    @classmethod
    async def open(cls, settings: LabSettings) -> LabSession:
        """Open the store (raises StorageError); then `start()` a new run or `resume()` an unfinished one."""
        return cls(settings, await Store.open(settings.db))

    async def start(self) -> None:
        """A new run of the settings' pack, or, watching a recording, a run its events are played into."""
        settings = self.settings
        lab = Lab(settings.pack, settings.pack_text, self.store, seed=settings.seed, speed=settings.speed,
                  label="dashboard", code=settings.code)
        self.subscription = lab.bus.subscribe(SUBSCRIPTION_CAPACITY)
        if settings.recorded:
            self.playback = Playback(lab, settings.recorded)
            await self.playback.start()
        else:
            await lab.open()
        self.lab = lab

    async def resume(self, run: RunInfo) -> Resumed:
        """Carry on an unfinished run in this session, live: its sagas go on forward or compensate as
        `sagatui resume` would, and the panels follow, starting from the events it had. The session takes
        the run's own pack. StorageError if another process writes the run; RunMovedOn if another process
        settled it since it was offered."""
        reopened = await reopen_run(self.store, run, speed=self.settings.speed, statuses=UNFINISHED,
                                    code=self.settings.code)
        lab = reopened.lab
        self.subscription = lab.bus.subscribe(SUBSCRIPTION_CAPACITY)
        sagas, resent = carry_on(reopened)
        self._backlog = reopened.events
        self._sagas_when_resumed = lab.metrics.started
        if lab.pack_text != self.settings.pack_text:
            self.settings = replace(self.settings, pack=lab.pack, pack_text=lab.pack_text, pack_path=None)
        self.lab = lab
        return Resumed(run.id, sagas, resent)

    @property
    def view(self) -> LabView | None:
        """What the dashboard reads of the lab (None while none is open: before the first, resetting)."""
        return self.lab.view if self.lab is not None else None

    def submit(self, command: Command) -> None:
        """A user command to the lab, applied at its clock's next quiet moment (see sagatui.lab.run)."""
        if self.lab is not None:
            self.lab.submit(command)

    @property
    def pacing(self) -> Pacing | None:
        return self.lab.pacing if self.lab is not None else None

    @property
    def undrained(self) -> int:
        """Events the panels have not been given yet."""
        return len(self._backlog) + (self.subscription.pending if self.subscription is not None else 0)

    def drain(self) -> list[Event]:
        """The events the panels have not seen yet: first, for a resumed run, those it had before."""
        backlog, self._backlog = self._backlog, []
        return backlog + (self.subscription.drain() if self.subscription is not None else [])

    async def _stop_lab(self) -> None:
        """Leave the run resumable: interrupted if sagas are still in flight; a resumed run that ran only
        what it carried on is settled once that has ended."""
        if self.lab is not None:
            lab, self.lab = self.lab, None
            if self.subscription is not None:
                self.subscription.close()
            settle = self._sagas_when_resumed == lab.metrics.started
            self._backlog, self._sagas_when_resumed = [], None
            if self.playback is not None:
                self.playback = None
                await lab.close()  # a scratch run: nothing to leave resumable
            else:
                await leave_run(lab, settle=settle)

    async def reset(self, pack: Pack | None = None, pack_text: str = "", pack_path: Path | None = None) -> None:
        """Stop the current run and start a new one, on another pack if one is given."""
        speed = self.lab.view.speed if self.lab is not None else self.settings.speed
        await self._stop_lab()
        if pack is not None:  # another pack: data, with none of the user's code behind it
            self.settings = replace(self.settings, pack=pack, pack_text=pack_text, pack_path=pack_path, code=None)
        self.settings = replace(self.settings, speed=speed)
        await self.start()

    async def close(self) -> None:
        """Stop the engine and make every event durable (see `_stop_lab`), then close the store."""
        await self._stop_lab()
        await self.store.close()
