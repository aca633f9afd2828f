"""Deterministic simulation: random fault schedules per seed, saga properties checked per run."""

import pytest

from sagatui.cli import main
from sagatui.engine.orchestrator import SagaEngine
from sagatui.lab.fuzz import check_tables, draw_cancels, draw_schedule, fuzz_one
from sagatui.model.events import EventKind
from sagatui.model.status import CompensationOutcome
from sagatui.packs.bundled import read_pack
from sagatui.store.database import Store
from sagatui.store.queries import read_events

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


def test_the_operators_cancels_come_from_the_seed_too():
    drawn = [draw_cancels(LOAD.pack, "load_with_outages", seed) for seed in range(1, 21)]
    assert drawn == [draw_cancels(LOAD.pack, "load_with_outages", seed) for seed in range(1, 21)]
    assert any(drawn) and all(0 <= len(cancels) <= 3 for cancels in drawn)
    assert all(1 <= int(step.saga_id.removeprefix("S-")) <= 300 for cancels in drawn for step in cancels)


async def test_a_drawn_cancel_stops_its_saga_and_every_property_holds(store):
    """A cancel is sent only to a saga going forward then; the first seed that sends one is checked."""
    for seed in range(1, 30):
        outcome = await fuzz_one(LOAD.pack, LOAD.text, store, "load_with_outages", seed)
        assert outcome.ok, f"seed {seed}: {outcome.violations[:5]}"
        commands = await read_events(store, outcome.run_id, kinds=[EventKind.COMMAND])
        cancelled = {command.data["args"]["saga_id"] for command in commands if command.data["name"] == "cancel_saga"}
        if cancelled:
            break
    assert cancelled <= {step.saga_id for step in outcome.cancels}
    ended = {event.saga_id for event in await read_events(store, outcome.run_id, kinds=[EventKind.SAGA_CANCELLED])}
    assert ended == cancelled


async def test_every_approval_is_decided_so_a_pack_with_approvals_settles(store):
    source = read_pack("resilience")
    for seed in range(1, 6):
        outcome = await fuzz_one(source.pack, source.text, store, "manager_approval", seed)
        assert outcome.ok, outcome.violations[:5]
        events = await read_events(store, outcome.run_id, limit=None)
        asked = {e.saga_id for e in events if e.kind is EventKind.APPROVAL_REQUESTED}
        decided = {e.saga_id for e in events if e.kind is EventKind.APPROVAL_DECIDED}
        cancelled = {e.saga_id for e in events if e.kind is EventKind.SAGA_CANCELLED}
        assert asked and asked <= decided | cancelled  # nobody left waiting for a person
        assert events[-1].kind is EventKind.RUN_SETTLED


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
