"""The one clock of a run: virtual time that jumps to the next timer, optionally paced to real time.

Time only moves at a quiet moment: no other task is ready to run and no I/O call is in flight.
At such a moment the idle hooks run first (the store releases durability waiters, the lab applies
queued user commands); only when none of them did anything does time jump to the earliest timer.
Because everything that can change the run happens at those moments, in a fixed order, the same
inputs give the same event stream whether the run is paced (speed 1 = real time, 10 = ten times
faster) or unpaced (speed None: a 60 s breaker cooldown passes in microseconds).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any, TypeVar

IdleHook = Callable[[], Awaitable[bool]]
T = TypeVar("T")
ErrorHandler = Callable[[BaseException], None]
_COMPACT_AFTER = 256  # cancelled timers in the heap before it may be compacted


class UnsupportedEventLoop(RuntimeError):
    """The running event loop cannot be watched for quiet moments (not asyncio's own loop: uvloop, say)."""


def _ready_queue(loop: asyncio.AbstractEventLoop) -> deque[object]:
    """The loop's queue of callbacks ready to run: empty means a quiet moment. asyncio offers no public
    way to ask, so the clock reads the standard loop's queue and refuses any loop that has none, rather
    than guess (a guess moves time at other moments, and the same seed would give another stream)."""
    ready = getattr(loop, "_ready", None)
    if not isinstance(ready, deque):
        raise UnsupportedEventLoop(
            f"sagatui's clock needs asyncio's standard event loop to see quiet moments; "
            f"this one is {type(loop).__module__}.{type(loop).__qualname__}")
    return ready


class TimerHandle:
    __slots__ = ("_clock", "callback", "cancelled", "for_people", "when")

    def __init__(self, when: float, callback: Callable[[], None], clock: VirtualClock | None = None,
                 for_people: bool = False) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False
        self._clock = clock
        self.for_people = for_people  # a person's time to decide: virtual time does not jump to it

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            if self._clock is not None:
                self._clock._timer_cancelled()


class ClockTimeout:
    """`async with clock.timeout(s)`: raises TimeoutError when `s` clock seconds pass (asyncio.timeout
    semantics, but on the run's clock)."""

    def __init__(self, clock: VirtualClock, delay: float | None) -> None:
        self._clock = clock
        self._delay = delay
        self._handle: TimerHandle | None = None
        self._expired = False
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0

    async def __aenter__(self) -> ClockTimeout:
        self._task = asyncio.current_task()
        assert self._task is not None, "clock.timeout() must be used inside a task"
        self._cancelling = self._task.cancelling()
        if self._delay is not None:
            self._handle = self._clock.call_later(self._delay, self._expire)
        return self

    def _expire(self) -> None:
        assert self._task is not None
        self._expired = True
        self._task.cancel()

    @property
    def expired(self) -> bool:
        return self._expired

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._expired:
            assert self._task is not None
            if self._task.uncancel() <= self._cancelling and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc


class VirtualClock:
    """Clock-time seconds since the run began. Call `start()` inside the event loop before use."""

    def __init__(self, start: float = 0.0, speed: float | None = None) -> None:
        self._now = start
        self.speed = speed
        self._timers: list[tuple[float, int, TimerHandle]] = []
        self._cancelled = 0  # cancelled timers still in the heap
        self._order = itertools.count()
        self._io_in_flight = 0
        self._real_calls = 0  # a user's real calls in flight: time then goes at real time (call_real)
        self._stretch: tuple[float, float] | None = None  # (real, clock) time real time began passing at
        self._arrivals: list[tuple[asyncio.Future[Any], asyncio.Future[None]]] = []  # real calls out
        self.abandoned: set[asyncio.Future[Any]] = set()  # real calls given up on, still cleaning up
        self._idle_hooks: list[IdleHook] = []
        self._wake: asyncio.Event | None = None
        self._io_done: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None
        self._advancer: asyncio.Task[None] | None = None
        self._loop_ready: deque[object] = deque()
        self.paused = False
        self._steps = 0  # jumps allowed while paused (step())
        self.frozen = False  # the run made its last mark: time never moves again
        self.on_error: ErrorHandler | None = None  # told when a timer callback raises
        self._held: asyncio.Event | None = None  # set while virtual time waits for people (see call_at)

    # -- reading and waiting -------------------------------------------------------------------
    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self.call_at(self._now + max(0.0, delay), callback)

    def call_at(self, when: float, callback: Callable[[], None], *, for_people: bool = False) -> TimerHandle:
        """Call `callback` at clock time `when` (now, if that has passed): a time kept across a restart
        stays the same float, where `call_later(when - now)` could move it by a rounding error.

        `for_people`: the time a person has to act (an approval's timeout). Virtual time (no speed) never
        jumps to such a timer: with nothing else to do before it, the clock holds (`held_for_people`)
        until something comes from outside; at a speed, it comes in its time like any other."""
        handle = TimerHandle(max(self._now, when), callback, self, for_people)
        heapq.heappush(self._timers, (handle.when, next(self._order), handle))
        self._poke()
        return handle

    async def sleep(self, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)
            return
        woken, handle = self._alarm(self._now + delay)  # no coroutine in between: every latency passes here
        try:
            await woken
        finally:
            handle.cancel()

    async def sleep_until(self, when: float) -> None:
        """Return at clock time `when` (at once, if that has passed): a time read from a log comes back as
        the same float, where `sleep(when - now())` could miss it by a rounding error."""
        woken, handle = self._alarm(when)
        try:
            await woken
        finally:
            handle.cancel()

    def _alarm(self, when: float) -> tuple[asyncio.Future[None], TimerHandle]:
        """A future set at clock time `when`, and its timer."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        return future, self.call_at(when, wake)

    def timeout(self, delay: float | None) -> ClockTimeout:
        return ClockTimeout(self, delay)

    @contextmanager
    def io(self) -> Iterator[None]:
        """Mark an I/O call in flight: time will not move until it returns."""
        self._io_in_flight += 1
        try:
            yield
        finally:
            self._io_in_flight -= 1
            if self._io_in_flight == 0 and self._io_done is not None:
                self._io_done.set()

    async def call_real(self, call: Callable[[], Awaitable[T]]) -> T:
        """Make a user's real call (their own code, doing real I/O). While one is in flight, clock time never
        jumps: it goes at real time, so an attempt timeout or a deadline on the call fires when it would in
        production (the call is then cancelled), and the call's duration is the real one. With none in
        flight, time jumps again.

        Its answer is taken in at a quiet moment, as a command is: clock time then moves to the real time
        it came (never past a timer due before). Clock time thus moves only at marks a replay can put back
        (sagatui.lab.recorded_answers): timers firing, answers taken in."""
        task = asyncio.ensure_future(call())
        arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self._real_calls:
            self._stretch = (time.monotonic(), self._now)
        self._real_calls += 1
        self._arrivals.append((task, arrived))
        task.add_done_callback(lambda _: self._poke())
        self._poke()
        try:
            await arrived
        except BaseException:
            task.cancel()  # the caller gave up on it (its timeout, the saga stopped): the call is abandoned
            self.abandoned.add(task)  # its own cleanup runs on: the run waits for it before it closes
            task.add_done_callback(self._forget_abandoned)
            raise
        finally:
            self._arrivals = [(other, waiting) for other, waiting in self._arrivals if waiting is not arrived]
            self._real_calls -= 1
            if not self._real_calls:
                self._stretch = None
        return task.result()

    def _forget_abandoned(self, task: asyncio.Future[Any]) -> None:
        self.abandoned.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: what an abandoned call raised afterwards is nobody's any more

    def catch_up(self) -> None:
        """Something arrives from outside while real calls are out (a user's command): it happens now, so clock
        time first moves to the real time passed (never past a timer due before)."""
        if self._stretch is not None and not self.paused and not self.frozen:
            self._catch_up()

    def _take_answer(self) -> bool:
        """At a quiet moment: take in the answer of the first real call that has one (True), clock time moved
        to when it came."""
        for task, arrived in self._arrivals:
            if task.done() and not arrived.done():
                self._catch_up()
                arrived.set_result(None)
                return True
        return False

    def next_due(self) -> float | None:
        """When the earliest pending timer fires (None: no timer pending)."""
        return self._next_due()

    def advance_to(self, when: float) -> None:
        """Move time forward without firing timers (replay puts a user command back at its time).
        Never past a pending timer: that timer would have fired first."""
        due = self._next_due()
        if due is not None and when > due:
            raise ValueError(f"cannot advance to {when}: a timer is due at {due}")
        self._now = max(self._now, when)

    async def wait_idle(self) -> None:
        """Return once nothing can happen any more without outside input: no task ready, no I/O,
        no hook with work, no timer pending (or the clock is paused)."""
        assert self._idle is not None, "start() the clock first"
        self._poke()  # an idle moment from before this call does not count: look again
        await self._idle.wait()

    @property
    def held_for_people(self) -> bool:
        """Virtual time holds: the next thing due is a person's time to act, and nothing else can happen."""
        return self._held is not None and self._held.is_set()

    async def wait_held_for_people(self) -> None:
        """Return once virtual time holds for people (see `call_at`)."""
        assert self._held is not None, "start() the clock first"
        await self._held.wait()

    def add_idle_hook(self, hook: IdleHook) -> None:
        """`hook()` runs at each quiet moment; it returns True when it changed something."""
        self._idle_hooks.append(hook)

    def poke(self) -> None:
        """Tell a paced clock that something arrived from outside (a user command)."""
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()
        if self._idle is not None:
            self._idle.clear()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        if self._advancer is None:
            self._loop_ready = _ready_queue(asyncio.get_running_loop())
            self._wake = asyncio.Event()
            self._io_done = asyncio.Event()
            self._idle = asyncio.Event()
            self._held = asyncio.Event()
            self._advancer = asyncio.get_running_loop().create_task(self._advance_forever(), name="clock")

    async def stop(self) -> None:
        if self._advancer is not None:
            self._advancer.cancel()
            with suppress(asyncio.CancelledError):
                await self._advancer
            self._advancer = None

    def freeze(self) -> None:
        """Hold time for good: no timer fires any more (idle hooks still run, so durability waiters are
        released). A run freezes its clock at its last mark (run.settled, run.interrupted), so nothing a
        pending timer would do (an open breaker's cooldown) can follow that mark while the run closes."""
        self.frozen = True
        self._poke()

    def set_paused(self, paused: bool) -> None:
        if self._stretch is not None and paused != self.paused:
            if paused:
                self._catch_up()  # real time counts up to the pause...
            else:
                self._stretch = (time.monotonic(), self._now)  # ...and again from where it stood
        self.paused = paused
        self._poke()

    def step(self) -> None:
        """While paused, let time jump once (to the next timer) and hold again: watching a recording
        one moment at a time."""
        if self._real_calls:
            return  # a real call is out: time goes at real time, it cannot jump to a moment
        self._steps += 1
        self._poke()

    def set_speed(self, speed: float | None) -> None:
        self.speed = speed
        self._poke()

    # -- the advancer -------------------------------------------------------------------------------
    async def _settle(self) -> None:
        """Return at a quiet moment: nothing else ready to run, no I/O in flight."""
        assert self._io_done is not None
        while True:
            await asyncio.sleep(0)
            if self._io_in_flight:
                self._io_done.clear()
                await self._io_done.wait()
                continue
            if not self._loop_ready:
                return

    async def _run_idle_hooks(self) -> bool:
        """Run the hooks in order until one changes something. A later hook (user commands) thus acts
        only at a moment the earlier ones (durability waiters) left alone: where a command lands never
        depends on whether sagas happened to be waiting for the disk."""
        for hook in self._idle_hooks:
            try:
                if await hook():
                    return True
            except Exception as error:  # as a timer callback's: the run fails loudly, the clock goes on
                self._failed(error)
        return False

    def _timer_cancelled(self) -> None:
        """Cancelled timers stay in the heap until they reach its top. Every attempt has a timeout timer,
        nearly always cancelled long before it is due (30 s by default): once they are most of the heap,
        drop them, so each push and pop stays cheap."""
        self._cancelled += 1
        if self._cancelled > _COMPACT_AFTER and 2 * self._cancelled > len(self._timers):
            self._timers = [entry for entry in self._timers if not entry[2].cancelled]
            heapq.heapify(self._timers)
            self._cancelled = 0

    def _next_due(self) -> float | None:
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
            self._cancelled -= 1
        return self._timers[0][0] if self._timers else None

    async def _wait_for_wake(self, real_seconds: float | None) -> bool:
        """Wait until poked (True) or until `real_seconds` pass (False)."""
        assert self._wake is not None
        self._wake.clear()
        try:
            async with asyncio.timeout(real_seconds):
                await self._wake.wait()
        except TimeoutError:
            return False
        return True

    async def _advance_forever(self) -> None:
        while True:
            await self._settle()
            if await self._run_idle_hooks():
                continue
            due = None if self.frozen else self._next_due()
            if self._arrivals and not self.paused and not self.frozen and self._take_answer():
                continue
            if self._real_calls and not self.paused and not self.frozen:
                await self._pass_real_time(due)
                continue
            if due is not None and self.speed is None and self._timers[0][2].for_people:
                assert self._idle is not None and self._held is not None
                self._idle.set()
                self._held.set()  # nothing to do but wait for people: virtual time does not jump their time
                await self._wait_for_wake(None)
                self._held.clear()
                self._idle.clear()
                continue
            if due is not None and self.paused and self._steps:
                self._steps -= 1
                self._fire_due(due)
                continue
            if due is None or self.paused:
                assert self._idle is not None
                self._idle.set()
                await self._wait_for_wake(None)
                self._idle.clear()
                continue
            if self.speed is not None and due > self._now:
                started_real, started_now = time.monotonic(), self._now
                if await self._wait_for_wake((due - self._now) / self.speed):
                    elapsed = (time.monotonic() - started_real) * (self.speed or 1.0)
                    self._now = min(due, max(self._now, started_now + elapsed))
                    continue
            self._fire_due(due)

    async def _pass_real_time(self, due: float | None) -> None:
        """A real call is in flight: let real time pass until an answer comes (taken in at the next quiet
        moment) or the next timer is due, which then fires (a timeout on the call too)."""
        if due is not None:
            passed = self._real_now()
            if passed >= due or not await self._wait_for_wake(due - passed):
                self._fire_due(due)
            return
        await self._wait_for_wake(None)

    def _catch_up(self) -> None:
        """Clock time where the real time passed since real calls went out puts it, never past the next
        timer (which fires first, at its own time)."""
        if self._stretch is None or self.frozen:
            return  # no real call out; or the run made its last mark
        now, due = self._real_now(), self._next_due()
        self._now = max(self._now, now if due is None else min(now, due))

    def _real_now(self) -> float:
        """The clock time the real time passed since real calls went out comes to."""
        assert self._stretch is not None
        started_real, started_now = self._stretch
        return started_now + (time.monotonic() - started_real)

    def _fire_due(self, due: float) -> None:
        self._now = max(self._now, due)
        while self._timers and self._timers[0][0] <= self._now:
            _, _, handle = heapq.heappop(self._timers)
            if handle.cancelled:
                self._cancelled -= 1
                continue
            handle._clock = None  # out of the heap: a cancel() after it fired counts nothing
            self._call(handle.callback)

    def _call(self, callback: Callable[[], None]) -> None:
        """A callback that raises must not end the clock (every saga waiting on it would hang): time
        freezes, and `on_error` (the run) is told, so it fails loudly. With no one to tell, it raises."""
        try:
            callback()
        except Exception as error:
            self._failed(error)

    def _failed(self, error: Exception) -> None:
        """Freeze time and tell `on_error` (the run); with no one to tell, raise (from the except block)."""
        if self.on_error is None:
            raise error
        self.frozen = True
        self.on_error(error)
