"""The dashboard's hold on a lab: the store it writes to, the lab itself and the dashboard's
subscription to its events. Resetting swaps in a fresh lab (a new run) on the same store; earlier
runs stay in the database."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sagatui.engine.bus import Subscription
from sagatui.lab import Lab
from sagatui.model.events import Event
from sagatui.packs.model import Pack
from sagatui.store.database import Store

SUBSCRIPTION_CAPACITY = 200_000  # events the dashboard may fall behind by before the oldest are dropped


@dataclass(frozen=True)
class LabSettings:
    pack: Pack
    pack_text: str
    pack_path: Path | None
    db: Path
    seed: int = 1
    speed: float | None = 1.0  # None: virtual time, as fast as possible
    script: tuple[Event, ...] = ()  # watching a recording: its commands, applied where they were recorded


class LabSession:
    def __init__(self, settings: LabSettings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.lab: Lab | None = None
        self.subscription: Subscription | None = None

    @classmethod
    async def open(cls, settings: LabSettings) -> LabSession:
        """Open the store (raises StorageError) and a lab on it."""
        session = cls(settings, await Store.open(settings.db))
        await session._start_lab()
        return session

    async def _start_lab(self) -> None:
        settings = self.settings
        lab = Lab(settings.pack, settings.pack_text, self.store, seed=settings.seed, speed=settings.speed,
                  label="dashboard")
        self.subscription = lab.bus.subscribe(SUBSCRIPTION_CAPACITY)
        if settings.script:
            lab.follow_script(list(settings.script))
        await lab.open()
        self.lab = lab

    async def _stop_lab(self) -> None:
        if self.lab is not None:
            lab, self.lab = self.lab, None
            if self.subscription is not None:
                self.subscription.close()
            await lab.close()

    async def reset(self, pack: Pack | None = None, pack_text: str = "", pack_path: Path | None = None) -> None:
        """Stop the current run and start a new one, on another pack if one is given."""
        speed = self.lab.clock.speed if self.lab is not None else self.settings.speed
        await self._stop_lab()
        if pack is not None:
            self.settings = replace(self.settings, pack=pack, pack_text=pack_text, pack_path=pack_path)
        self.settings = replace(self.settings, speed=speed)
        await self._start_lab()

    async def close(self) -> None:
        """Stop the engine and make every event durable, then close the store."""
        await self._stop_lab()
        await self.store.close()
