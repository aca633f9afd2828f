"""Bulkheads (resilience4j's, Polly's): at most `max_concurrent` calls in flight to a service, and up to
`max_queue` more waiting, first come first served, for a slot, each at most `queue_timeout` clock seconds.
A try that finds the queue full, or waits its time out, is refused (`bulkhead_full`) without reaching the
service; what it does next is its retry policy's (a fallback's, when the step has one).

A slot a call leaves goes straight to the first call waiting, so a call that arrives later cannot take it
first, and the order of the queue is the order the run's (deterministic) tasks reached it."""

from __future__ import annotations

import asyncio
from collections import deque

from sagatui.engine.clock import VirtualClock
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import EventKind
from sagatui.model.policies import BulkheadConfig


class Bulkhead:
    def __init__(self, name: str, config: BulkheadConfig, clock: VirtualClock) -> None:
        self.name = name
        self.config = config
        self._clock = clock
        self.in_flight = 0
        self._queue: deque[asyncio.Future[None]] = deque()
        self.rejected = 0  # tries refused, since the run (this process) began
        self.peak = 0  # the most calls ever in flight at once (never above max_concurrent)
        self._followed_queue = 0  # tries waiting in a recording played back (see follow)

    @property
    def queued(self) -> int:
        return len(self._queue) + self._followed_queue

    @property
    def has_room(self) -> bool:
        """A try arriving now would get a slot at once."""
        return self.in_flight < self.config.max_concurrent

    @property
    def can_queue(self) -> bool:
        """A try arriving now would wait for a slot (none is free, and the queue has a place)."""
        return not self.has_room and len(self._queue) < self.config.max_queue

    async def enter(self, within: float | None = None) -> None:
        """Take a slot for one call (give it back with `leave`): at once, or after waiting in the queue;
        ServiceError(BULKHEAD_FULL) when the queue is full too, or no slot came within `queue_timeout` (or
        `within`, what is left of the call's deadline, when that is sooner)."""
        if self.has_room:
            self._take()
            return
        if len(self._queue) >= self.config.max_queue:
            raise self._refused(f"bulkhead {self.name} is full: {self.in_flight} in flight, "
                                f"{len(self._queue)} waiting")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(waiter)
        wait = self.config.queue_timeout if within is None else max(0.0, min(self.config.queue_timeout, within))
        timeout = self._clock.timeout(wait)
        try:
            async with timeout:
                await waiter
        except BaseException as gave_up:  # the queue timeout, or the saga stopped (cancel, deadline)
            if waiter.done() and not waiter.cancelled():
                self.leave()  # handed a slot just as it gave up waiting: pass it on
            else:
                self._forget(waiter)
            if isinstance(gave_up, TimeoutError):
                raise self._refused(f"bulkhead {self.name} had no free slot within {wait:g}s") from None
            raise

    def leave(self) -> None:
        """A call that had a slot ended: the slot goes to the first try waiting, else back to the pool."""
        while self._queue:
            waiter = self._queue.popleft()
            if not waiter.done():
                waiter.set_result(None)  # in_flight stays: the slot changes hands
                return
        self.in_flight -= 1

    def follow(self, kind: EventKind, waited: bool = False) -> None:
        """Take what a recorded event says of this bulkhead (a recording played back, nothing called): a
        try queued, an intent (a call in flight; a queued try's, when some wait: a slot is free only
        when none do), an answer, a refusal after a wait (`waited`). A call a stopped saga left is never
        answered: the counts stay at 0 or above."""
        if kind is EventKind.BULKHEAD_QUEUED:
            self._followed_queue += 1
        elif kind in _INTENTS:
            self._followed_queue = max(0, self._followed_queue - 1)
            self._take()
        elif kind in _ANSWERS:
            self.in_flight = max(0, self.in_flight - 1)
        elif kind is EventKind.BULKHEAD_REJECTED:
            self.rejected += 1
            if waited:
                self._followed_queue = max(0, self._followed_queue - 1)

    def _take(self) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        if waiter in self._queue:
            self._queue.remove(waiter)
        waiter.cancel()

    def _refused(self, message: str) -> ServiceError:
        self.rejected += 1
        return ServiceError(ErrorKind.BULKHEAD_FULL, message)


_INTENTS = frozenset({EventKind.ATTEMPT_STARTED, EventKind.COMPENSATION_ATTEMPT_STARTED})
_ANSWERS = frozenset({EventKind.ATTEMPT_SUCCEEDED, EventKind.ATTEMPT_FAILED, EventKind.COMPENSATION_ATTEMPT})
