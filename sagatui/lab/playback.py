"""Playing a recorded run back: its stored events, at their clock times, into a lab that runs nothing.

Nothing is re-executed: no saga starts and no service is called. Each recorded event is written to the
lab's (scratch) store with the row writes it carries, so the resource tables and invariants are those
of the recorded run at that moment, and published on the lab's bus, so every panel follows as it did
live. The simulated world the panels show is set from the events themselves: a service's fault profile
from `fault.changed` (its options from `service.changed`), a breaker's state from `breaker.transition`,
the load generator from the load commands. The lab's clock paces the playback, so pausing, stepping and
changing speed work as they do on a live run; a recording made by another sagatui version plays the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pydantic import ValidationError

from sagatui.lab.commands import StartLoad, StopLoad, parse_recorded
from sagatui.lab.run import Lab
from sagatui.lab.workload import Load
from sagatui.model.effects import RowWrite
from sagatui.model.events import Event, EventKind, row_writes
from sagatui.model.payloads import BreakerTransition, BulkheadRejected, FaultChanged, ServiceChanged

_SAME_MOMENT = 1e-9  # clock seconds: now + (t - now) can miss t by a rounding error; still t's moment


class Playback:
    """Plays `events` (one run's, in seq order) into `lab`, which must not have been opened."""

    def __init__(self, lab: Lab, events: Sequence[Event]) -> None:
        self.lab = lab
        self.events = list(events)
        self.played = 0  # events played so far
        self.finished = asyncio.Event()

    async def start(self) -> None:
        """Open the lab's run (nothing recorded of its own) and start playing."""
        await self.lab.open_for_playback()
        self.lab.keep(asyncio.ensure_future(self._play()))

    async def _play(self) -> None:
        clock = self.lab.clock
        for event in self.events:
            if event.time > clock.now() + _SAME_MOMENT:
                await clock.sleep(event.time - clock.now())
            self.play(event)
        self.finished.set()

    def play(self, event: Event) -> None:
        writes = [RowWrite(table, key, values) for table, key, values in row_writes(event)]
        self._follow_world(event)
        self.lab.play_recorded(event, writes)
        self.played += 1

    def _follow_world(self, event: Event) -> None:
        lab = self.lab
        if (event.kind is EventKind.FAULT_CHANGED and event.service is not None
                and lab.services.has_service(event.service)):
            lab.services.restore_fault(event.service, event.payload_as(FaultChanged).profile, None)
        elif event.kind is EventKind.SERVICE_CHANGED and event.service in lab.services.services:
            lab.services.restore_options(event.service, event.payload_as(ServiceChanged).options)
        elif event.service in lab.engine.bulkheads:
            waited = event.kind is EventKind.BULKHEAD_REJECTED and event.payload_as(BulkheadRejected).waited is not None
            lab.engine.bulkheads[event.service].follow(event.kind, waited)
        elif event.kind is EventKind.BREAKER_TRANSITION:
            transition = event.payload_as(BreakerTransition)  # the breaker's name is no longer in `service`
            lab.breakers.get(transition.breaker).follow(transition.to_state)
        elif event.kind is EventKind.COMMAND:
            try:
                command = parse_recorded(event.data)
            except ValidationError:
                return  # a command this version does not know: the events it led to still play
            match command:
                case StartLoad(scenario=scenario, rate=rate):
                    lab.workload.follow_load(Load(scenario, rate))
                case StopLoad():
                    lab.workload.follow_load(None)
