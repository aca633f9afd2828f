"""Same pack + seed + recorded inputs => the same event stream, event for event."""

import asyncio
from pathlib import Path

import pytest

from sagatui.lab import Lab
from sagatui.lab.commands import (
    CancelSaga,
    Command,
    Pause,
    Resume,
    SetFault,
    StartLoad,
    StartScenario,
    StopLoad,
    ToggleLoad,
    TogglePause,
    ToggleService,
    parse_recorded,
)
from sagatui.lab.headless import run_scenario
from sagatui.lab.replay import Recording, recording_from_session, recording_from_store, replay, write_session
from sagatui.model.events import EventKind
from sagatui.model.faults import FaultProfile
from sagatui.packs.bundled import bundled_pack_names, read_pack
from sagatui.store.database import Store
from sagatui.testing import areplay_session

SCENARIOS = [(name, scenario) for name in bundled_pack_names() for scenario in read_pack(name).pack.scenarios]


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "runs.db")
    yield store
    await store.close()


async def record(store: Store, pack_name: str, scenario: str, seed: int = 1) -> Recording:
    source = read_pack(pack_name)
    report = await run_scenario(source.pack, source.text, store, scenario, seed=seed)
    return await recording_from_store(store, report.run_id)


@pytest.mark.parametrize(("pack_name", "scenario"), SCENARIOS)
async def test_every_bundled_scenario_replays_identically(store, pack_name, scenario):
    recording = await record(store, pack_name, scenario)
    result = await replay(recording)
    assert result.identical, result.divergence.describe()
    assert len(result.events) == len(recording.events) > 3


async def test_a_changed_pack_is_caught_at_the_first_divergence(store):
    recording = await record(store, "ecommerce", "payment_outage")
    changed_text = recording.pack_text.replace("max_attempts: 3", "max_attempts: 2", 1)
    assert changed_text != recording.pack_text
    changed = Recording(recording.pack_name, changed_text, recording.seed, recording.events, "changed pack")
    result = await replay(changed)
    assert not result.identical
    divergence = result.divergence
    assert 0 < divergence.index < len(recording.events)
    assert recording.events[divergence.index].comparable() == divergence.expected
    assert divergence.got is not None and divergence.got != divergence.expected
    assert "first divergence at event index" in divergence.describe()


async def test_a_different_seed_diverges(store):
    recording = await record(store, "resilience", "retry_with_backoff")
    reseeded = Recording(recording.pack_name, recording.pack_text, recording.seed + 1, recording.events, "reseeded")
    assert not (await replay(reseeded)).identical


async def test_interactive_commands_are_replayed_at_their_place(store):
    """Outages toggled and scenarios started by hand, as the dashboard does, on a paced clock."""
    recording = await by_hand(store, StartLoad(scenario="load_with_outages", rate=20), 2,
                              SetFault(service="payment", profile=FaultProfile(mode="offline")), 3,
                              SetFault(service="payment", profile=FaultProfile()), StopLoad(), 1)
    assert len(recording.commands) == 4
    result = await replay(recording)
    assert result.identical, result.divergence.describe()


async def test_two_presses_before_a_quiet_moment_do_what_was_pressed(store):
    """A switch pressed twice, the pause key twice, the load key twice, each pair before the lab's next
    quiet moment: each press is resolved after the one before it (off then on again; paused then going
    again; load on then off), recorded as what it did, and replayed so."""
    recording = await by_hand(store, StartScenario(scenario="successful_order"), 0.5,
                              ToggleService(service="payment"), ToggleService(service="payment"), 0.5,
                              TogglePause(), TogglePause(), 0.5,
                              ToggleLoad(), ToggleLoad(), 1)
    done = [parse_recorded(event.data) for event in recording.commands]
    configured = read_pack("ecommerce").pack.services["payment"].fault
    assert done[1:] == [SetFault(service="payment", profile=FaultProfile(mode="offline")),
                        SetFault(service="payment", profile=configured), Pause(), Resume(),
                        StartLoad(scenario="load_with_outages", rate=20), StopLoad()]
    changes = [event.message for event in recording.events
               if event.kind is EventKind.FAULT_CHANGED and event.service == "payment"]
    assert changes == [configured.label(), "offline", configured.label()]  # as configured at start, then the presses
    assert (await replay(recording)).identical


async def by_hand(store: Store, *moves: Command | float) -> Recording:
    """A paced ecommerce lab driven as the dashboard drives it: each move a command, submitted at once
    after the one before, or a pause of so many clock seconds; the run as recorded."""
    source = read_pack("ecommerce")
    async with Lab(source.pack, source.text, store, seed=5, speed=50.0) as lab:
        for move in moves:
            if isinstance(move, float | int):
                await lab.clock.sleep(move)
            else:
                lab.submit(move)
    return await recording_from_store(store, lab.run_id)


async def test_exported_session_replays_through_the_testing_helper(store, tmp_path):
    recording = await record(store, "payments", "carrier_failing")
    session = tmp_path / "carrier.json"
    write_session(recording, session)
    loaded = recording_from_session(session)
    assert [e.comparable() for e in loaded.events] == [e.comparable() for e in recording.events]
    result = await areplay_session(session)
    assert result.identical


async def test_testing_helper_shows_a_readable_diff(store, tmp_path):
    recording = await record(store, "ecommerce", "payment_outage")
    edited_text = recording.pack_text.replace("initial_delay: 200ms", "initial_delay: 300ms")
    assert edited_text != recording.pack_text
    broken = Recording(recording.pack_name, edited_text, recording.seed, recording.events, "edited")
    session = tmp_path / "edited.json"
    write_session(broken, session)
    with pytest.raises(AssertionError, match="first divergence at event index"):
        await areplay_session(session)


SESSIONS = sorted((Path(__file__).parent.parent / "sessions").glob("*.json"))


@pytest.mark.parametrize("session", SESSIONS, ids=[s.stem for s in SESSIONS])
async def test_committed_sessions_still_replay(session):
    await areplay_session(session)


def test_replay_covers_what_one_process_produced():
    from sagatui.lab.replay import replayable
    from sagatui.model.events import Event, EventKind

    def stream(*kinds: EventKind) -> list[Event]:
        return [Event(run_id=1, seq=n, time=0.0, kind=kind) for n, kind in enumerate(kinds, start=1)]

    settled = stream(EventKind.RUN_STARTED, EventKind.RUN_SETTLED, EventKind.COMMAND, EventKind.SAGA_RESOLVED)
    assert [e.kind for e in replayable(settled)] == [EventKind.RUN_STARTED, EventKind.RUN_SETTLED]
    crashed = stream(EventKind.RUN_STARTED, EventKind.SAGA_STARTED, EventKind.RUN_RESUMED, EventKind.RUN_SETTLED)
    assert [e.kind for e in replayable(crashed)] == [EventKind.RUN_STARTED, EventKind.SAGA_STARTED]


@pytest.mark.parametrize("commit_seconds", [0.0, 0.02])
async def test_a_run_settles_at_the_moment_its_last_saga_ended_however_slow_the_disk(
    store, monkeypatch, commit_seconds
):
    """refund_gateway_down ends with a timer still pending: the payment breaker's cooldown, due at 11.3 s,
    when the last saga ended at 9.4 s. The final commit must not let the clock reach it, or the stream
    would end with or without a breaker transition (and settle at either time) by how fast the disk was."""
    import time

    from sagatui.store import writer

    transaction = writer._transaction

    def slow(connection, statements):
        time.sleep(commit_seconds)
        return transaction(connection, statements)

    monkeypatch.setattr(writer, "_transaction", slow)
    recording = await record(store, "ecommerce", "refund_gateway_down")
    *before, settled = recording.events
    assert (before[-1].kind.value, settled.kind.value) == ("saga.needs_attention", "run.settled")
    assert settled.time == max(event.time for event in before) == 9.4


async def test_commands_given_in_one_quiet_moment_replay_identically(store):
    """Key mashing: `l` then `+` (and an outage toggle) before the engine's next quiet moment."""
    recording = await by_hand(store, StartLoad(scenario="load_with_outages", rate=20),
                              StartLoad(scenario="load_with_outages", rate=40),
                              SetFault(service="payment", profile=FaultProfile(mode="offline")), 1,
                              SetFault(service="payment", profile=FaultProfile()), StopLoad(), 1)
    assert len(recording.commands) == 5
    result = await replay(recording)
    assert result.identical, result.divergence.describe()


async def test_a_command_that_breaks_when_applied_fails_the_run_instead_of_stopping_the_clock(store):
    """A command that raises while it is applied (here: a breaker command the desk let through) must not
    end the clock's task, which would leave every waiter hanging: the run fails with the error."""
    source = read_pack("ecommerce")
    lab = Lab(source.pack, source.text, store, seed=5)
    await lab.open()
    try:
        lab.desk.apply = lambda command: (_ for _ in ()).throw(RuntimeError("broken command"))  # type: ignore[method-assign]
        lab.submit(StartScenario(scenario="successful_order"))
        await asyncio.wait_for(lab.clock.wait_idle(), 30)  # it hung here when the clock's task died
        assert isinstance(lab.failure, RuntimeError)
        with pytest.raises(RuntimeError, match="broken command"):
            await lab.conclude()
    finally:
        await lab.close()


async def test_a_cancel_is_replayed_at_its_place(store):
    """A saga cancelled mid-run (as ctrl+k does) is cancelled again by the replay, at the same moment."""
    source = read_pack("ecommerce")
    async with Lab(source.pack, source.text, store, seed=5, speed=50.0) as lab:
        lab.submit(StartLoad(scenario="load_with_outages", rate=20))
        await lab.clock.sleep(1.5)
        going = [saga_id for saga_id in (f"S-{n:04d}" for n in range(1, 40))
                 if lab.workload.cancel_problem(saga_id) is None]
        assert going, "sagas in flight to cancel"
        for saga_id in going[:2]:
            lab.submit(CancelSaga(saga_id=saga_id, note="by hand"))
        await lab.clock.sleep(0.5)
        lab.submit(StopLoad())
        await lab.clock.sleep(1)
    recording = await recording_from_store(store, lab.run_id)
    cancelled = [event.saga_id for event in recording.events if event.kind is EventKind.SAGA_CANCELLED]
    assert cancelled and set(cancelled) <= set(going[:2])
    result = await replay(recording)
    assert result.identical, result.divergence.describe()
