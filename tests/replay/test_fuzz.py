"""Deterministic simulation: random fault schedules per seed, saga properties checked per run."""

import pytest

from sagatui.cli import main
from sagatui.engine.orchestrator import SagaEngine
from sagatui.lab.fuzz import check_tables, draw_schedule, fuzz_one
from sagatui.model.status import CompensationOutcome
from sagatui.packs.bundled import read_pack
from sagatui.store.database import Store

LOAD = read_pack("ecommerce")
SEEDS_PER_CHUNK = 10
EVERYDAY_CHUNKS = 2  # seeds 1-20 run in every suite; the other 180 are marked slow and .ci/run runs them
CHUNKS = [chunk if chunk < EVERYDAY_CHUNKS else pytest.param(chunk, marks=pytest.mark.slow) for chunk in range(20)]


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "fuzz.db")
    yield store
    await store.close()


def test_the_schedule_comes_from_the_seed():
    first = draw_schedule(LOAD.pack, "load_with_outages", 7)
    assert first == draw_schedule(LOAD.pack, "load_with_outages", 7)
    assert first != draw_schedule(LOAD.pack, "load_with_outages", 8)
    assert all(step.service in LOAD.pack.services for step in first)


@pytest.mark.parametrize("chunk", CHUNKS)
async def test_two_hundred_seeds_of_the_ecommerce_load_keep_every_property(store, chunk):
    for seed in range(chunk * SEEDS_PER_CHUNK + 1, (chunk + 1) * SEEDS_PER_CHUNK + 1):
        outcome = await fuzz_one(LOAD.pack, LOAD.text, store, "load_with_outages", seed)
        assert outcome.sagas == 300
        assert outcome.ok, f"seed {seed}: {outcome.violations[:5]}"


async def test_a_compensation_that_runs_twice_is_found(store, monkeypatch):
    original = SagaEngine.compensate_step

    async def twice(self, saga, record, restart_ttl=False):
        await original(self, saga, record, restart_ttl)
        return await original(self, saga, record, restart_ttl)

    monkeypatch.setattr(SagaEngine, "compensate_step", twice)
    outcome = await fuzz_one(LOAD.pack, LOAD.text, store, "load_with_outages", 3)
    assert not outcome.ok
    assert any("compensation ran more than once" in violation for violation in outcome.violations)


def test_the_cli_prints_the_failing_seed_and_how_to_reproduce_it(monkeypatch, capsys):
    original = SagaEngine.compensate_step

    async def twice(self, saga, record, restart_ttl=False):
        await original(self, saga, record, restart_ttl)
        return await original(self, saga, record, restart_ttl)

    monkeypatch.setattr(SagaEngine, "compensate_step", twice)
    code = main(["fuzz", "ecommerce", "--scenario", "payment_declined", "--runs", "2", "--start-seed", "40",
                 "--jobs", "1"])  # in this process, where the failure is planted
    out = capsys.readouterr().out
    assert code == 1
    assert "seed 40: FAIL" in out and "seed 41: FAIL" in out
    assert "reproduce: sagatui fuzz ecommerce --scenario payment_declined --runs 1 --start-seed 40" in out


async def test_tables_that_disagree_with_the_event_log_are_found(store):
    outcome = await fuzz_one(LOAD.pack, LOAD.text, store, "payment_declined", 1)
    assert outcome.ok
    await store.writer_db.run(lambda connection: connection.execute(
        "UPDATE stock SET available = available + 1 WHERE run_id = ?", (outcome.run_id,)))
    from sagatui.store.queries import read_events

    events = await read_events(store, outcome.run_id, limit=None)
    problems = await check_tables(store, outcome.run_id, events)
    assert any(problem.startswith("table stock") for problem in problems)


async def test_an_effect_left_undone_in_a_compensated_saga_is_found(store, monkeypatch):
    original = SagaEngine.compensate_step

    async def forgets_the_charge(self, saga, record, restart_ttl=False):
        if record.definition.name == "charge_payment":
            record.compensation = CompensationOutcome.COMPLETED  # says undone, never called
            return record.compensation
        return await original(self, saga, record, restart_ttl)

    monkeypatch.setattr(SagaEngine, "compensate_step", forgets_the_charge)
    outcome = await fuzz_one(LOAD.pack, LOAD.text, store, "shipping_outage_after_payment", 1)
    assert any("charge_payment took effect and was not undone" in violation for violation in outcome.violations), \
        outcome.violations
