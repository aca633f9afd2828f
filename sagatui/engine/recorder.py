"""Turns happenings into numbered, timed events and hands them to the sink and the bus."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sagatui.engine.bus import EventBus
from sagatui.engine.clock import VirtualClock
from sagatui.engine.ports import EventSink
from sagatui.model.effects import RowWrite
from sagatui.model.errors import ErrorKind
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import EventPayload


class EventRecorder:
    """The single writer of a run's sequence numbers: gapless, in emission order."""

    def __init__(
        self,
        run_id: int,
        clock: VirtualClock,
        sink: EventSink | None = None,
        bus: EventBus | None = None,
        next_seq: int = 1,
    ) -> None:
        self.run_id = run_id
        self.clock = clock
        self.sink = sink
        self.bus = bus
        self.next_seq = next_seq

    def emit(
        self,
        kind: EventKind,
        *,
        saga_id: str | None = None,
        step: str | None = None,
        service: str | None = None,
        operation: str | None = None,
        attempt: int | None = None,
        error_kind: ErrorKind | None = None,
        message: str | None = None,
        data: dict[str, Any] | None = None,
        payload: EventPayload | None = None,
        effects: Sequence[RowWrite] = (),
    ) -> Event:
        """Number, time and hand on one event. Its data is `payload` (the kind's model, see
        sagatui.model.payloads) as stored, or `data` as given (a command's, or a caller not typed yet)."""
        if payload is not None:
            data = payload.as_data()
        event = Event(
            run_id=self.run_id,
            seq=self.next_seq,
            time=self.clock.now(),
            kind=kind,
            saga_id=saga_id,
            step=step,
            service=service,
            operation=operation,
            attempt=attempt,
            error_kind=error_kind,
            message=message,
            data=data or {},
        )
        self.next_seq += 1
        if self.sink is not None:
            self.sink.append(event, effects)
        if self.bus is not None:
            self.bus.publish(event)
        return event

    def replay(self, event: Event, effects: Sequence[RowWrite] = ()) -> None:
        """Playback: hand on an event recorded by another run, numbered as it was there; the sequence goes
        on after it."""
        self.next_seq = event.seq + 1
        if self.sink is not None:
            self.sink.append(event, effects)
        if self.bus is not None:
            self.bus.publish(event)

    async def durable(self, event: Event) -> None:
        if self.sink is not None:
            await self.sink.durable(event.seq)
