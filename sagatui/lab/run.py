"""The lab: one run of a pack (pack + store + services + engine + clock + seed), from open to close.

Headless runs, the dashboard and replay all drive a Lab. Everything a user does goes through
`submit(command)` (sagatui.lab.commands): the command is queued, applied at the clock's next quiet
moment, and recorded as a `command` event, so a replay that applies the same commands at the same
places in the stream reproduces the run event for event. What the UIs read of a lab is its `view`
(sagatui.lab.view).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sagatui import __version__
from sagatui.code.app import App, RunEnd
from sagatui.code.service import RunContext
from sagatui.engine.approvals import PendingApproval
from sagatui.engine.breaker import BreakerBoard, record_transitions
from sagatui.engine.bus import EventBus
from sagatui.engine.clock import VirtualClock
from sagatui.engine.metrics import RunMetrics
from sagatui.engine.orchestrator import SagaEngine
from sagatui.engine.recorder import EventRecorder
from sagatui.engine.saga_state import SagaRun
from sagatui.lab.command_desk import CommandDesk, Moment
from sagatui.lab.commands import Command, RecordedCommand, StartScenario
from sagatui.lab.lifespan import HeldLifespan
from sagatui.lab.view import LabView
from sagatui.lab.workload import Workload
from sagatui.model.calls import Call
from sagatui.model.effects import RowWrite
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.events import Event, EventKind
from sagatui.packs.model import Pack
from sagatui.packs.references import CODE_KIND
from sagatui.sim.directory import Perform, ServiceDirectory
from sagatui.store.database import Store
from sagatui.store.errors import StorageError
from sagatui.store.invariants import InvariantResult, check_invariants
from sagatui.store.queries import sagas as saga_rows
from sagatui.store.run_lock import claim_run, release_run
from sagatui.store.writer import EventWriter

if TYPE_CHECKING:
    from sagatui.lab.recorded_answers import RecordedAnswers

_ABANDONED_WAIT = 5.0  # seconds the user's abandoned calls get to clean up as the run closes


async def _not_loaded(call: Call) -> dict[str, Any]:
    raise ServiceError(ErrorKind.VALIDATION, f"{call.service} is the user's own code, not loaded here")


def pack_hash(pack_text: str) -> str:
    return hashlib.sha256(pack_text.encode()).hexdigest()


class Pacing:
    """How fast a lab's clock goes, and holding it still: not part of the run (the same events come out
    at any speed), so set directly, not as commands."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock

    def set_speed(self, speed: float | None) -> None:
        self._clock.set_speed(speed)

    def hold(self, held: bool) -> None:
        """Hold the clock still, or let it go again (watching a recording: play/pause)."""
        self._clock.set_paused(held)

    def step(self) -> None:
        """Held: let time jump once, to the next moment, and hold again."""
        if not self._clock.paused:
            self._clock.set_paused(True)
        self._clock.step()


class WaitingForPeople(Exception):
    """Virtual time holds: sagas wait for approvals and nothing else can happen before their timeouts."""

    def __init__(self, pending: list[PendingApproval]) -> None:
        waiting = ", ".join(f"{approval.saga_id} at {approval.step}" for approval in pending)
        super().__init__(f"waiting for an operator's decision: {waiting}")
        self.pending = pending


class Lab:
    """One run of a pack: `async with Lab(...) as lab:` opens a new run and closes it at the end (or
    `await lab.open()` ... `await lab.close()`). `reopen` carries on a stored run instead, and
    `open_for_playback` opens one that a recording's events are written into."""

    def __init__(self, pack: Pack, pack_text: str, store: Store, *, seed: int = 1, speed: float | None = None,
                 bus: EventBus | None = None, label: str | None = None, code: App | None = None,
                 answers: RecordedAnswers | None = None) -> None:
        self.pack, self.pack_text, self.store = pack, pack_text, store
        self.code = code  # the user's own services, invariants and lifespan (sagatui.code), for a pack of them
        self.answers = answers  # replaying: what the user's calls answered in the recording (none is made)
        self._lifespan: HeldLifespan | None = None  # the App's, around the run
        self._reopened = False
        self.seed, self.speed, self.label = seed, speed, label
        self.bus = bus if bus is not None else EventBus()
        self.run_id = 0
        self.metrics = RunMetrics()
        self.view = LabView(self)
        # What made the run fail off the sagas' own path (a storage error, a timer callback or a listener that
        # raised, a saga task that died): the run stops, `conclude` interrupts it and raises this.
        self.failure: BaseException | None = None
        self._tasks: dict[asyncio.Future[Any], None] = {}  # insertion-ordered: determinism
        self._wired = False
        self.desk = CommandDesk(self)  # before the run is open: a replay hands it its script first
        # the run's parts, made by `_wire` once the run exists
        self.clock: VirtualClock
        self.writer: EventWriter
        self.recorder: EventRecorder
        self.breakers: BreakerBoard
        self.services: ServiceDirectory
        self.engine: SagaEngine
        self.workload: Workload
        self.pacing: Pacing

    # -- lifecycle -------------------------------------------------------------------------------
    async def __aenter__(self) -> Lab:
        """A lab not opened yet opens a new run; one opened already (reopened, playback) is only held.

        A stop (Ctrl-C, SIGTERM: a cancellation) while the run is being created lets it be created, then
        records it as interrupted, as does a failure once it exists (the App's lifespan raising): a run row
        is never left `running` with nobody running it."""
        if not self._wired:
            opening = asyncio.ensure_future(self.open())
            stopped: asyncio.CancelledError | None = None
            while not opening.done():
                try:
                    await asyncio.shield(opening)
                except asyncio.CancelledError as cancelled:  # a second stop waits for the run too
                    stopped = cancelled
                except Exception:  # read below, once the run is left as it should be
                    pass
            failed = not opening.cancelled() and opening.exception() is not None
            if stopped is not None or failed:
                if self._wired:  # the run exists: it is left interrupted, never `running` with nobody running it
                    with suppress(Exception):
                        await self.interrupt()
                    with suppress(Exception):
                        await self.close()
                if stopped is not None:
                    raise stopped
            opening.result()  # the run could not be created: say why
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()

    async def open(self) -> int:
        await self._create_run()
        self.recorder.emit(EventKind.RUN_STARTED, data={"pack": self.pack.name, "seed": self.seed})
        self.services.start()
        self.clock.poke()  # a script's first command may be due now: look at this quiet moment again
        return self.run_id

    async def open_for_playback(self) -> int:
        """Create the run and wire the lab with nothing started and nothing recorded: a recording's own
        events are written into it (`play_recorded`, sagatui.lab.playback)."""
        return await self._create_run()

    async def _create_run(self) -> int:
        self.run_id = await self.store.create_run(
            pack_name=self.pack.name, pack_text=self.pack_text, seed=self.seed,
            clock_mode="virtual" if self.speed is None else f"paced x{self.speed:g}",
            scenario=self.label, settings={"version": __version__, "pack_hash": pack_hash(self.pack_text),
                                           **({"code": self.code.target} if self.code is not None else {})},
        )
        claim_run(self.store.path, self.run_id)
        await self._wire(0.0)
        return self.run_id

    async def reopen(self, run_id: int, clock_time: float, sagas: Iterable[SagaRun] = ()) -> None:
        """Continue a stored run after its last committed event (resume, or an operator's action outside a
        live session; see sagatui.lab.recovery): the clock from `clock_time`, the sequence after the last
        committed seq, the services rebuilt from their committed rows, and the run's `sagas` as rebuilt
        from its events (new sagas are numbered after them). The caller holds the run's lock (claim_run,
        taken before it read the run: see sagatui.lab.recovery.reopen); `close` releases it."""
        self.run_id = run_id
        self._reopened = True
        await self._wire(clock_time)
        await self.services.restore(self.store, run_id)
        self.workload.adopt(list(sagas))

    async def _wire(self, clock_time: float) -> None:
        self.clock = VirtualClock(start=clock_time, speed=self.speed)
        self.clock.on_error = self.bus.on_listener_error = self.fail
        self.clock.start()
        self.writer = await EventWriter.start(self.store, self.run_id, self.clock)
        self.recorder = EventRecorder(self.run_id, self.clock, self.writer, self.bus,
                                      next_seq=self.writer.committed_seq + 1)
        self.bus.add_listener(self.metrics.add)
        self.breakers = BreakerBoard(self.clock, record_transitions(self.recorder), dict(self.pack.breakers))
        self.services = ServiceDirectory(self.clock, self.recorder, self.seed)
        for name, service in self.pack.services.items():
            if service.kind == CODE_KIND and self.answers is not None:
                self.services.add_code(name, self.answers.performer(), service.fault, replayed=True)
            elif service.kind == CODE_KIND:
                self.services.add_code(name, self._own_code(name), service.fault)
            else:
                self.services.add(name, service.kind, service.options, service.fault)
        self.engine = SagaEngine(
            sagas=self.pack.sagas, services=self.services, breakers=self.breakers, clock=self.clock,
            recorder=self.recorder, seed=self.seed,
            service_breakers={name: svc.breaker for name, svc in self.pack.services.items() if svc.breaker},
            bulkheads={name: svc.bulkhead for name, svc in self.pack.services.items() if svc.bulkhead},
        )
        self.workload = Workload(self.pack, self.seed, self.engine, self.services, self.clock, self.recorder,
                                 self.keep)
        self.pacing = Pacing(self.clock)
        self.clock.add_idle_hook(self.desk.on_quiet_moment)
        if self.answers is not None:
            self.clock.add_idle_hook(self.answers.hook(self.clock, self.recorder))
        self._wired = True
        if self.code is not None and self.answers is None:
            with self.clock.io():  # the user's servers start, their database opens: no time passes meanwhile
                self._lifespan = await HeldLifespan.enter(self.code.around(self.run_context),
                                                          f"{self.code.target} (run {self.run_id})", self.fail)

    @property
    def run_context(self) -> RunContext:
        """The run as the user's code sees it, with what the App's lifespan yielded."""
        return RunContext(self.run_id, Path(self.store.path), self._reopened,
                          self._lifespan.state if self._lifespan is not None else None)

    def _own_code(self, name: str) -> Perform:
        """The real call of the user's service `name` in this run (a lab given no code plays a recording back:
        nothing is called)."""
        if self.code is None:
            return _not_loaded
        if name not in self.code.services:
            raise ValueError(f"{name} is the user's own code, and this lab was given none of that name")
        service = self.code.services[name]
        return lambda call: service.perform(call, self.run_context)

    async def close(self) -> None:
        """Stop taking work, let in-flight sagas end, and make every event durable with the clock held: a
        timer still pending (the fault schedule's next change, in a resumed run that did not restart its
        workload) would otherwise fire while the writer closes, after run.settled."""
        if not self._wired:
            return
        await self._stop_tasks()
        try:
            with self.clock.io():
                await self.writer.close()
                if self.clock.abandoned:  # real calls given up on finish their own cleanup before the lifespan ends
                    await asyncio.wait(set(self.clock.abandoned), timeout=_ABANDONED_WAIT)
                if self._lifespan is not None:
                    await self._lifespan.close()
        finally:
            await self.clock.stop()
            release_run(self.store.path, self.run_id)

    async def conclude(self) -> list[InvariantResult]:
        """End a run that ran to completion: wait for every saga, check the invariants on the durable
        tables, and record `run.settled` with the metrics and the invariant report. Cancelled before that
        mark (Ctrl-C while waiting, or while the invariants are checked), it interrupts the run instead."""
        try:
            await self.settle()
        except (asyncio.CancelledError, WaitingForPeople):
            await self.interrupt()  # left resumable: an operator's decision carries it on
            raise
        if self.failure is not None:
            failure = self.failure
            with suppress(StorageError):  # without its log the run cannot record more: the failure tells
                await self.interrupt()
            raise failure
        with self.clock.io():  # and still held through the invariant check: run.settled is at the last saga's end
            try:
                await self._flush_holding_time()
                invariants = await check_invariants(self.store, self.run_id)
                invariants += await self.own_invariants()
            except asyncio.CancelledError:  # every saga ended, but the run never made its mark: not settled
                await self.interrupt()
                raise
            self.recorder.emit(EventKind.RUN_SETTLED, data={
                "metrics": self.metrics.as_dict(), "invariants": [result.as_dict() for result in invariants]})
            self.clock.freeze()
        return invariants

    async def own_invariants(self) -> list[InvariantResult]:
        """The App's own invariants on the run as it stands (none for a pack); replaying, as recorded."""
        if self.code is None:
            return []
        if self.answers is not None:
            return self.answers.invariants(list(self.code.invariants))
        return await self.code.check_invariants(RunEnd(self.run_context, await saga_rows(self.store, self.run_id,
                                                                                     limit=-1)))

    async def interrupt(self) -> None:
        """Stop a run before it settled: no new sagas; sagas in flight stop where they stand (a call whose
        answer never came stays an intent without a result, which `sagatui resume` sends again); the run
        is recorded as interrupted and every event made durable."""
        await self._stop_tasks()
        self.recorder.emit(EventKind.RUN_INTERRUPTED, data={"unfinished": self.metrics.in_flight})
        self.clock.freeze()
        await self._flush_holding_time()

    async def _stop_tasks(self) -> None:
        self.workload.stop_load()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _flush_holding_time(self) -> None:
        """Make every event durable with the clock held: while the commit is in flight the clock would see
        a quiet moment, and a timer still pending (an open breaker's cooldown) would fire or not by the
        disk's speed, after the run's last mark (run.settled, run.interrupted) or not."""
        with self.clock.io():
            await self.writer.flush()

    async def settle(self) -> None:
        """Wait until every saga started so far (and any still to arrive) has ended. WaitingForPeople when
        virtual time holds at an approval's timeout with nothing else to do (sagatui.engine.approvals)."""
        while self._tasks:
            ended: asyncio.Future[Any] = asyncio.gather(*list(self._tasks), return_exceptions=True)
            held: asyncio.Future[Any] = asyncio.ensure_future(self.clock.wait_held_for_people())
            try:
                await asyncio.wait({ended, held}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                held.cancel()
            if not ended.done():  # never cancelled: that would cancel the sagas; they end with the run
                raise WaitingForPeople(self.engine.approvals.pending)

    @property
    def busy(self) -> bool:
        """Sagas are in flight or the load generator runs: closing now interrupts the run."""
        return bool(self.metrics.in_flight) or self.workload.load is not None

    # -- the run's tasks -------------------------------------------------------------------------------
    def keep(self, task: asyncio.Future[Any]) -> None:
        """Hold `task` as part of this run: `close` cancels it, `settle` waits for it."""
        self._tasks[task] = None
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Future[Any]) -> None:
        self._tasks.pop(task, None)
        if not task.cancelled() and (error := task.exception()) is not None:
            self.fail(error)

    def fail(self, error: BaseException) -> None:
        """Something the run needs broke (its log, a timer, a reader of its events, a saga's task): stop
        now, not after the workload has run out; the sagas stop where they stand, resumable."""
        if self.failure is None:
            self.failure = error
        self.workload.stop_load()
        for other in list(self._tasks):
            other.cancel()

    # -- commands -----------------------------------------------------------------------------------
    def submit(self, command: Command) -> None:
        """Queue a user command; it takes effect at the clock's next quiet moment (InvalidCommand when it
        names what the pack lacks)."""
        self.desk.submit(command)

    def apply(self, command: Command) -> Event | None:
        """Carry out `command` now, recorded (a headless run's scenario, an operator's action)."""
        return self.desk.apply(command)

    def start_scenario(self, scenario: str) -> None:
        self.apply(StartScenario(scenario=scenario))

    def follow_script(self, commands: Iterable[Event], then: Iterable[tuple[Moment, RecordedCommand]] = ()) -> None:
        """Replay: apply these recorded `command` events where they were recorded instead of live input;
        a fork's own commands `then`, each at its moment."""
        self.desk.follow_script(commands, then)

    @property
    def script_finished(self) -> asyncio.Event:
        return self.desk.script_done

    # -- playback ------------------------------------------------------------------------------------
    def play_recorded(self, event: Event, writes: Sequence[RowWrite]) -> None:
        """Playback: write a recorded event of another run into this one as it was, with its row writes,
        and show it; the run's sequence goes on after it."""
        self.recorder.replay(dataclasses.replace(event, run_id=self.run_id), writes)
