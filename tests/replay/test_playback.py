"""Playback (what `replay --watch` shows): a recording's events played into a scratch run, re-executing
nothing, leave exactly the recorded stream, resource tables and invariants."""

from pathlib import Path

import pytest

from sagatui.lab import Lab
from sagatui.lab.playback import Playback
from sagatui.packs.loader import load_pack_text
from sagatui.store.database import Store
from sagatui.store.invariants import check_invariants
from sagatui.store.queries import read_events, resource_rows
from tests.replay.test_replay import SCENARIOS, record


async def tables(store: Store, run_id: int) -> dict[str, list[dict]]:
    return {table: [{k: v for k, v in row.items() if k != "run_id"}
                    for row in await resource_rows(store, run_id, table)] for table in store.tables}


@pytest.mark.parametrize(("pack_name", "scenario"), SCENARIOS)
async def test_every_bundled_scenario_plays_back_to_the_recorded_tables(tmp_path: Path, pack_name, scenario):
    async with (await Store.open(tmp_path / "recorded.db") as recorded_store,
                await Store.open(tmp_path / "played.db") as scratch):
        recording = await record(recorded_store, pack_name, scenario)
        lab = Lab(load_pack_text(recording.pack_text, recording.source), recording.pack_text, scratch,
                  seed=recording.seed)
        sagas_called: list[str] = []
        playback = Playback(lab, recording.events)
        await playback.start()
        lab.services.invoke = lambda call: sagas_called.append(call.saga_id)  # nothing may be called
        await playback.finished.wait()
        await lab.close()

        assert sagas_called == []
        played = await read_events(scratch, lab.run_id, limit=None)
        assert [e.comparable() for e in played] == [e.comparable() for e in recording.events]
        original_run = recording.events[0].run_id
        assert await tables(scratch, lab.run_id) == await tables(recorded_store, original_run)
        assert ([r.as_dict() for r in await check_invariants(scratch, lab.run_id)]
                == [r.as_dict() for r in await check_invariants(recorded_store, original_run)])
        assert lab.metrics.as_dict() == recording.events[-1].data["metrics"]  # as run.settled recorded it
