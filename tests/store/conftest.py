"""A store in tmp_path with one run, its writer and a recorder on a started virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sagatui.engine.clock import VirtualClock
from sagatui.engine.recorder import EventRecorder
from sagatui.store.database import Store
from sagatui.store.writer import EventWriter


@dataclass
class Run:
    store: Store
    writer: EventWriter
    recorder: EventRecorder
    clock: VirtualClock

    @property
    def id(self) -> int:
        return self.recorder.run_id


async def start_run(store: Store, clock: VirtualClock) -> Run:
    run_id = await store.create_run(pack_name="test", pack_text="name: test", seed=1, clock_mode="virtual")
    writer = await EventWriter.start(store, run_id, clock)
    return Run(store, writer, EventRecorder(run_id, clock, writer), clock)


@pytest.fixture
async def clock() -> AsyncIterator[VirtualClock]:
    started = VirtualClock()
    started.start()
    yield started
    await started.stop()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "store.db")
    yield opened
    await opened.close()


@pytest.fixture
async def run(store: Store, clock: VirtualClock) -> AsyncIterator[Run]:
    started = await start_run(store, clock)
    yield started
    await started.writer.close()
