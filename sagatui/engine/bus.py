"""In-process fan-out of events to live readers (dashboard, printer), never blocking the engine.

Each subscription holds a bounded buffer; when a reader falls behind, its oldest events are dropped
and counted, so it can re-read them from the store. The store is not a bus reader: it gets every
event through the sink, so a slow dashboard can never lose an event for the log.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from sagatui.model.events import Event


class Subscription:
    def __init__(self, bus: EventBus, capacity: int) -> None:
        self._bus = bus
        self._buffer: deque[Event] = deque()
        self.capacity = capacity
        self.dropped = 0

    def _offer(self, event: Event) -> None:
        if len(self._buffer) >= self.capacity:
            self._buffer.popleft()
            self.dropped += 1
        self._buffer.append(event)

    @property
    def pending(self) -> int:
        """Events published and not drained yet."""
        return len(self._buffer)

    def drain(self, limit: int | None = None) -> list[Event]:
        """Take what is buffered now (at most `limit`), without waiting."""
        count = len(self._buffer) if limit is None else min(limit, len(self._buffer))
        return [self._buffer.popleft() for _ in range(count)]

    def close(self) -> None:
        self._bus.unsubscribe(self)


class EventBus:
    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Callable[[Event], None]] = []
        # Told when a listener raises (the printer's stdout went away): that listener is dropped and the
        # run fails, while the event, already given to the log, stays. With no one to tell, it raises.
        self.on_listener_error: Callable[[BaseException], None] | None = None

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Call `listener` synchronously with every event: for cheap folds such as run metrics."""
        self._listeners.append(listener)

    def subscribe(self, capacity: int = 50_000) -> Subscription:
        subscription = Subscription(self, capacity)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def publish(self, event: Event) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except (Exception, SystemExit) as error:  # SystemExit: rich's Console on a broken pipe
                if self.on_listener_error is None:
                    raise
                self._listeners = [other for other in self._listeners if other is not listener]
                self.on_listener_error(error)
        for subscription in self._subscriptions:
            subscription._offer(event)
