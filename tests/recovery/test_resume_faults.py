"""A resumed run's services fault as they would have without the stop: a rate limiter's token bucket holds
what the calls before the stop left in it, a flapping service keeps the phase it had since its profile
was switched on, and the fault schedule's changes still due come when the scenario says. From the stop
on, the resumed run refuses the same attempts at the same moments as a run that was never stopped."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sagatui.lab import Lab
from sagatui.lab.recovery.resume import resume_run
from sagatui.lab.recovery.world import restore_world
from sagatui.model.calls import Call
from sagatui.model.errors import ServiceError
from sagatui.model.events import Event, EventKind
from sagatui.model.faults import FaultProfile
from sagatui.packs.loader import load_pack_text
from sagatui.store.database import Store
from sagatui.store.queries import read_events

PACK = """
name: trust
services:
  partner:
    kind: orders
    fault: {mode: rate_limit, rate: 2, burst: 3}
    breaker: patient
  carrier:
    kind: shipping
    breaker: patient
breakers:
  patient: {consecutive_failures: 10000}
sagas:
  deliver:
    steps:
      - name: push
        action: partner.create
        retry: {max_attempts: 60, initial_delay: 300ms, multiplier: 1}
      - name: ship
        action: carrier.create_shipment
        retry: {max_attempts: 60, initial_delay: 700ms, multiplier: 1}
scenarios:
  busy:
    saga: deliver
    inputs: [INPUTS]
    faults:
      - {at: 1.3s, service: carrier, profile: {mode: flapping, period: 4s, duty: 0.5}}
      - {at: 7.9s, service: carrier, profile: {mode: flapping, period: 3s, duty: 0.3}}
""".replace("INPUTS", ", ".join(f"{{customer: c{number}, region: domestic}}" for number in range(16)))

STOP_AT = 4.05  # the partner's bucket is empty and the carrier is down: both must be remembered
ATTEMPT_ENDS = (EventKind.ATTEMPT_SUCCEEDED, EventKind.ATTEMPT_FAILED)


async def run_busy(db: Path, stop_at: float | None) -> list[Event]:
    """Run the scenario to its end, or until `stop_at` on its clock (stopped as Ctrl-C stops it); its events."""
    async with await Store.open(db) as store:
        async with Lab(load_pack_text(PACK, "trust.yaml"), PACK, store, seed=7) as lab:
            lab.start_scenario("busy")
            concluding = asyncio.ensure_future(lab.conclude())
            if stop_at is not None:
                lab.clock.call_later(stop_at, concluding.cancel)
            await asyncio.gather(concluding, return_exceptions=True)
        return await read_events(store, lab.run_id, limit=None)


def attempts_after(events: list[Event], moment: float) -> list[tuple[float, str | None, str | None, int | None, str]]:
    """Each attempt that ended after `moment`: when, which saga and step, its number, how it ended."""
    return [(event.time, event.saga_id, event.step, event.attempt, str(event.data.get("code", "ok")))
            for event in events if event.kind in ATTEMPT_ENDS and event.time > moment]


async def test_a_resumed_run_refuses_the_attempts_an_unstopped_run_refuses(tmp_path: Path) -> None:
    whole = await run_busy(tmp_path / "whole.db", None)
    assert all(event.time != STOP_AT for event in whole), "the stop must fall between two moments of the run"
    refused = {code for *_, code in attempts_after(whole, STOP_AT)}
    assert {"429", "503", "ok"} <= refused, "after the stop, both faults still refuse calls"

    stopped_db = tmp_path / "stopped.db"
    stopped = await run_busy(stopped_db, STOP_AT)
    assert stopped[-1].kind is EventKind.RUN_INTERRUPTED
    assert [event.comparable() for event in stopped[:-1]] == [event.comparable() for event in whole
                                                              if event.time < STOP_AT]

    async with await Store.open(stopped_db) as store:
        report = await resume_run(store, 1)
        resumed = await read_events(store, 1, limit=None)
    assert report.ok and report.resent == []
    assert attempts_after(resumed, STOP_AT) == attempts_after(whole, STOP_AT)
    changes = [(event.time, event.message) for event in resumed if event.kind is EventKind.FAULT_CHANGED]
    assert changes == [(event.time, event.message) for event in whole if event.kind is EventKind.FAULT_CHANGED]


async def test_a_call_an_earlier_resume_sent_again_took_its_token_too(tmp_path: Path) -> None:
    """Killed twice: the call the first resume sent again (under the intent recorded before the first
    kill, so no new `attempt.started`) reached the service as well, at the moment `run.resumed` says."""
    limited = FaultProfile(mode="rate_limit", rate=0.1, burst=2)
    log = [Event(run_id=1, seq=1, time=0.0, kind=EventKind.FAULT_CHANGED, service="partner",
                 data={"profile": limited.model_dump(mode="json"), "previous": "online", "source": "user"}),
           Event(run_id=1, seq=2, time=0.0, kind=EventKind.ATTEMPT_STARTED, saga_id="S-0001", step="push",
                 service="partner", operation="create", attempt=1),
           Event(run_id=1, seq=3, time=1.0, kind=EventKind.RUN_RESUMED,
                 data={"after_seq": 2, "sagas": ["S-0001"], "resent": ["S-0001:push"]})]
    async with (await Store.open(tmp_path / "twice.db") as store,
                Lab(load_pack_text(PACK, "trust.yaml"), PACK, store, seed=7) as lab):
        await lab.clock.sleep(1.0)
        restore_world(lab, log)
        call = Call("S-0002", "push", "partner", "create", "S-0002:push", {}, 1)
        try:
            await lab.services.invoke(call)
            refused = None
        except ServiceError as error:
            refused = error.code
    assert refused == "429"  # two calls took both tokens; a tenth of one came back since
