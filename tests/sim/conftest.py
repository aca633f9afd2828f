"""A run wired for service tests: a real store in tmp_path, the group-commit writer, a started
virtual clock and a service directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sagatui.engine.clock import VirtualClock
from sagatui.engine.recorder import EventRecorder
from sagatui.model.calls import Call, CompensationContext
from sagatui.model.events import Event, EventKind
from sagatui.model.faults import ONLINE, FaultProfile
from sagatui.sim.directory import ServiceDirectory
from sagatui.store.database import Store
from sagatui.store.queries import read_events, resource_rows
from sagatui.store.writer import EventWriter

SEED = 11


@dataclass
class Lab:
    store: Store
    writer: EventWriter
    recorder: EventRecorder
    clock: VirtualClock
    directory: ServiceDirectory

    @property
    def run_id(self) -> int:
        return self.recorder.run_id

    def add(self, name: str, kind: str, fault: FaultProfile = ONLINE, **options: Any) -> None:
        self.directory.add(name, kind, options, fault)

    def call(self, service: str, operation: str, saga: str = "s1", step: str = "step", attempt: int = 1,
             undo: bool = False, key: str | None = None, **params: Any) -> Call:
        context = CompensationContext(saga, step, None, "", {}) if undo else None
        default_key = f"{saga}:{step}" + (":undo" if undo else "")
        return Call(saga, step, service, operation, key or default_key, params, attempt, context)

    async def invoke(self, service: str, operation: str, **kwargs: Any) -> dict[str, Any]:
        return await self.directory.invoke(self.call(service, operation, **kwargs))

    async def rows(self, table: str, service: str | None = None) -> list[dict[str, Any]]:
        await self.writer.flush()
        return await resource_rows(self.store, self.run_id, table, service=service)

    async def events(self, *kinds: EventKind) -> list[Event]:
        await self.writer.flush()
        return await read_events(self.store, self.run_id, kinds=kinds or None, limit=None)


async def open_lab(path: Path, seed: int = SEED) -> Lab:
    store = await Store.open(path)
    run_id = await store.create_run(pack_name="test", pack_text="", seed=seed, clock_mode="virtual")
    clock = VirtualClock()
    clock.start()
    writer = await EventWriter.start(store, run_id, clock)
    recorder = EventRecorder(run_id, clock, writer)
    return Lab(store, writer, recorder, clock, ServiceDirectory(clock, recorder, seed))


async def close_lab(lab: Lab) -> None:
    await lab.writer.close()
    await lab.clock.stop()
    await lab.store.close()


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    opened = await open_lab(tmp_path / "sim.db")
    yield opened
    await close_lab(opened)
