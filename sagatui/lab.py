"""The lab: wires one run (pack + store + services + engine + clock + seed) and takes commands.

Headless runs, the dashboard and replay all drive a Lab. Everything a user does goes through
`command()`: the command is queued, applied at the clock's next quiet moment, and recorded as a
`command` event, so a replay that applies the same commands at the same places in the stream
reproduces the run event for event.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import json
import random
from collections import deque
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sagatui import __version__
from sagatui.engine.breaker import BreakerBoard, record_transitions
from sagatui.engine.bus import EventBus
from sagatui.engine.clock import VirtualClock
from sagatui.engine.metrics import RunMetrics
from sagatui.engine.orchestrator import ResumePoint, SagaEngine, SagaRun
from sagatui.engine.recorder import EventRecorder
from sagatui.engine.seeds import random_stream
from sagatui.model.events import Event, EventKind
from sagatui.model.faults import FaultProfile
from sagatui.model.status import SagaStatus
from sagatui.packs.model import Pack, Scenario
from sagatui.sim.directory import ServiceDirectory
from sagatui.store.database import Store
from sagatui.store.errors import StorageError
from sagatui.store.invariants import InvariantResult, check_invariants
from sagatui.store.run_lock import claim_run, release_run
from sagatui.store.writer import EventWriter

COMMANDS = (
    "start_scenario", "start_load", "stop_load", "set_fault", "pause", "resume",
    "isolate", "reset_breaker", "retry_compensation", "resolve",
)


def pack_hash(pack_text: str) -> str:
    return hashlib.sha256(pack_text.encode()).hexdigest()


def fill_placeholders(value: Any, saga_id: str, number: int) -> Any:
    """Inputs may say `{saga_id}` or `{n}` in strings (unique usernames, order ids): data, not code."""
    if isinstance(value, str):
        return value.replace("{saga_id}", saga_id).replace("{n}", str(number))
    if isinstance(value, dict):
        return {key: fill_placeholders(item, saga_id, number) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(item, saga_id, number) for item in value]
    return value


class SagaScenarios:
    """Which scenario started each saga (the dashboard's saga table shows it), in memory that grows with
    the switches between scenarios, not with the sagas: a load starts thousands in a row, so each run of
    consecutive saga numbers from one scenario is kept as its first number."""

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._names: list[str] = []

    def add(self, number: int, scenario: str) -> None:
        """Saga `number` (numbers only grow) was started by `scenario`."""
        if not self._names or self._names[-1] != scenario:
            self._firsts.append(number)
            self._names.append(scenario)

    def get(self, saga_id: str, default: str = "") -> str:
        """The scenario of a saga this lab started, or `default` (a saga of a stopped run, reopened)."""
        number = _saga_number(saga_id)
        index = bisect.bisect_right(self._firsts, number) - 1 if number is not None else -1
        return self._names[index] if index >= 0 else default


def _saga_id(number: int) -> str:
    return f"S-{number:04d}"


def _saga_number(saga_id: str) -> int | None:
    prefix, _, digits = saga_id.partition("-")
    return int(digits) if prefix == "S" and digits.isdigit() else None


@dataclass
class LoadGenerator:
    scenario: str
    rate: float
    task: asyncio.Task[None] | None = None


@dataclass
class Lab:
    """One run of a pack. Create, `await lab.open()`, drive it, `await lab.close()`."""

    pack: Pack
    pack_text: str
    store: Store
    seed: int = 1
    speed: float | None = None
    bus: EventBus = field(default_factory=EventBus)
    label: str | None = None

    run_id: int = 0
    clock: VirtualClock = field(init=False)
    recorder: EventRecorder = field(init=False)
    engine: SagaEngine = field(init=False)
    services: ServiceDirectory = field(init=False)
    breakers: BreakerBoard = field(init=False)
    writer: EventWriter = field(init=False)
    # By id: the sagas needing attention (an operator's retry or resolve looks them up) and those carried
    # on from a stopped run until they end. A saga that ended otherwise is dropped, here and in the
    # services' memory: it will make no more calls, and the database has it.
    sagas: dict[str, SagaRun] = field(default_factory=dict)
    saga_scenarios: SagaScenarios = field(default_factory=SagaScenarios)
    metrics: RunMetrics = field(default_factory=RunMetrics)
    load: LoadGenerator | None = None
    _tasks: dict[asyncio.Future[Any], None] = field(default_factory=dict)  # insertion-ordered: determinism
    _commands: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _script: deque[Event] = field(default_factory=deque)
    script_finished: asyncio.Event = field(default_factory=asyncio.Event)
    _saga_count: int = 0
    # What made the run fail off the sagas' own path (a storage error, a timer callback or a listener that
    # raised, a saga task that died): the run stops, `conclude` interrupts it and raises this.
    failure: BaseException | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> int:
        await self.open_silent()
        self.recorder.emit(EventKind.RUN_STARTED, data={"pack": self.pack.name, "seed": self.seed})
        self.services.start()
        self.clock.poke()  # a script's first command may be due now: look at this quiet moment again
        return self.run_id

    async def open_silent(self) -> int:
        """Create the run and wire the lab with nothing started and nothing recorded: `open` goes on from
        here; playback (sagatui.playback) writes a recording's own events into it instead."""
        self.run_id = await self.store.create_run(
            pack_name=self.pack.name, pack_text=self.pack_text, seed=self.seed,
            clock_mode="virtual" if self.speed is None else f"paced x{self.speed:g}",
            scenario=self.label, settings={"version": __version__, "pack_hash": pack_hash(self.pack_text)},
        )
        claim_run(self.store.path, self.run_id)
        await self._wire(0.0)
        return self.run_id

    async def reopen(self, run_id: int, clock_time: float, sagas: Iterable[SagaRun] = ()) -> None:
        """Continue a stored run after its last committed event (resume, or an operator's action outside a
        live session; see sagatui.recovery): the clock from `clock_time`, the sequence after the last
        committed seq, the services rebuilt from their committed rows, and the run's `sagas` as rebuilt
        from its events (new sagas are numbered after them). The caller holds the run's lock (claim_run,
        taken before it read the run: see sagatui.recovery.reopen); `close` releases it."""
        self.run_id = run_id
        await self._wire(clock_time)
        await self.services.restore(self.store, run_id)
        rebuilt = list(sagas)
        self._saga_count = len(rebuilt)
        for saga in rebuilt:
            if saga.status.terminal:
                self._ended(saga)
            else:
                self.sagas[saga.saga_id] = saga

    def continue_saga(self, saga: SagaRun, point: ResumePoint) -> None:
        """Carry on a saga rebuilt from a stopped run's events, from `point`; it ends like any other."""
        self.sagas[saga.saga_id] = saga
        self.keep(asyncio.ensure_future(self._continue_saga(saga, point)))

    async def _continue_saga(self, saga: SagaRun, point: ResumePoint) -> None:
        self._ended(await self.engine.continue_saga(saga, point))

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
            self.services.add(name, service.kind, service.options, service.fault)
        self.engine = SagaEngine(
            sagas=self.pack.sagas, services=self.services, breakers=self.breakers, clock=self.clock,
            recorder=self.recorder, seed=self.seed,
            service_breakers={name: svc.breaker for name, svc in self.pack.services.items() if svc.breaker},
        )
        self.clock.add_idle_hook(self._apply_commands)

    async def close(self) -> None:
        """Stop taking work, let in-flight sagas end, and make every event durable with the clock held: a
        timer still pending (the fault schedule's next change, in a resumed run that did not restart its
        workload) would otherwise fire while the writer closes, after run.settled."""
        self.stop_load()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with self.clock.io():
            await self.writer.close()
        await self.clock.stop()
        release_run(self.store.path, self.run_id)

    async def conclude(self) -> list[InvariantResult]:
        """End a run that ran to completion: wait for every saga, check the invariants on the durable
        tables, and record `run.settled` with the metrics and the invariant report. Cancelled while
        waiting (Ctrl-C), it interrupts the run instead."""
        try:
            await self.settle()
        except asyncio.CancelledError:
            await self.interrupt()
            raise
        if self.failure is not None:
            failure = self.failure
            with suppress(StorageError):  # without its log the run cannot record more: the failure tells
                await self.interrupt()
            raise failure
        with self.clock.io():  # and still held through the invariant check: run.settled is at the last saga's end
            await self._flush_holding_time()
            invariants = await check_invariants(self.store, self.run_id)
            self.recorder.emit(EventKind.RUN_SETTLED, data={
                "metrics": self.metrics.as_dict(), "invariants": [result.as_dict() for result in invariants]})
            self.clock.freeze()
        return invariants

    async def interrupt(self) -> None:
        """Stop a run before it settled: no new sagas; sagas in flight stop where they stand (a call whose
        answer never came stays an intent without a result, which `sagatui resume` sends again); the run
        is recorded as interrupted and every event made durable."""
        self.stop_load()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.recorder.emit(EventKind.RUN_INTERRUPTED, data={"unfinished": self.metrics.in_flight})
        self.clock.freeze()
        await self._flush_holding_time()

    async def _flush_holding_time(self) -> None:
        """Make every event durable with the clock held: while the commit is in flight the clock would see
        a quiet moment, and a timer still pending (an open breaker's cooldown) would fire or not by the
        disk's speed, after the run's last mark (run.settled, run.interrupted) or not."""
        with self.clock.io():
            await self.writer.flush()

    # -- starting sagas --------------------------------------------------------------------------------
    def start_saga(self, scenario_name: str, saga_input: dict[str, Any]) -> str:
        scenario = self.pack.scenarios[scenario_name]
        self._saga_count += 1
        number = self._saga_count
        saga_id = _saga_id(number)
        self.saga_scenarios.add(number, scenario_name)
        task = asyncio.ensure_future(self._run_saga(scenario.saga, saga_id,
                                                    fill_placeholders(saga_input, saga_id, number)))
        self.keep(task)
        return saga_id

    async def _run_saga(self, saga_name: str, saga_id: str, saga_input: dict[str, Any]) -> None:
        self._ended(await self.engine.run(saga_name, saga_id, saga_input))

    def _ended(self, saga: SagaRun) -> None:
        """Keep a saga that needs attention; forget one that will make no more calls."""
        if saga.status is SagaStatus.NEEDS_ATTENTION:
            self.sagas[saga.saga_id] = saga
        else:
            self.sagas.pop(saga.saga_id, None)
            self.services.forget(saga.saga_id)

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
        self.stop_load()
        for other in list(self._tasks):
            other.cancel()

    def launch(self, scenario_name: str) -> None:
        """Start a scenario: its fixed inputs now, or its workload over time, and its fault schedule."""
        scenario = self.pack.scenarios[scenario_name]
        source = f"scenario {scenario_name}"
        for change in scenario.faults:
            if change.at <= 0:  # before the first saga, not at the first quiet moment after it
                self.services.set_fault(change.service, change.profile, source=source)
            else:
                self.clock.call_later(change.at, lambda c=change: self.services.set_fault(
                    c.service, c.profile, source=source))
        if scenario.workload is None:
            for saga_input in scenario.inputs:
                self.start_saga(scenario_name, saga_input)
        else:
            self.keep(asyncio.ensure_future(self._arrivals(scenario_name, scenario, scenario.workload.rate,
                                                             scenario.workload.count)))

    async def _arrivals(self, scenario_name: str, scenario: Scenario, rate: float, count: int | None) -> None:
        """Start sagas at `rate` per clock second (`count` of them, or until stopped)."""
        assert scenario.workload is not None
        variations = scenario.workload.variations
        weights = [v.weight for v in variations]
        chooser = random_stream(self.seed, f"workload:{scenario_name}:{self._saga_count}")
        started = 0
        while count is None or started < count:
            self.start_saga(scenario_name, _choose(chooser, variations, weights).input)
            started += 1
            await self.clock.sleep(1.0 / rate)

    async def settle(self) -> None:
        """Wait until every saga started so far (and any still to arrive) has ended."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- commands -----------------------------------------------------------------------------------
    def command(self, name: str, **args: Any) -> None:
        """Queue a user command; it takes effect at the clock's next quiet moment."""
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}")
        self._commands.append((name, args))
        self.clock.poke()

    def follow_script(self, commands: list[Event]) -> None:
        """Replay: apply these recorded `command` events where they were recorded (same seq, same clock
        time) instead of live input."""
        self._script = deque(commands)

    def _apply_scripted(self) -> bool:
        """Apply the recorded commands due at this quiet moment: each at its seq and time, and, as live
        input applies every command queued since the last quiet moment in one go, those that followed
        it in the recording at the same moment too (two keys pressed between quiet moments)."""
        applied = False
        while self._script:
            command = self._script[0]
            if command.seq != self.recorder.next_seq:
                break
            due = self.clock.next_due()
            if due is not None and due < command.time:
                break  # a timer fired before the command in the recording
            self.clock.advance_to(command.time)
            self._script.popleft()
            self.apply(command.data["name"], command.data["args"])
            applied = True
        if not self._script:
            self.script_finished.set()
        return applied

    async def _apply_commands(self) -> bool:
        if self._script:
            return self._apply_scripted()
        if not self._commands:
            return False
        pending, self._commands = self._commands, []
        for name, args in pending:
            self.apply(name, args)
        return True

    def apply(self, name: str, args: dict[str, Any]) -> Event:
        """Record a command and carry it out (replay calls this at the recorded place)."""
        event = self.recorder.emit(EventKind.COMMAND, data={"name": name, "args": _jsonable(args)})
        match name:
            case "start_scenario":
                self.launch(args["scenario"])
            case "start_load":
                self.stop_load()
                scenario = self.pack.scenarios[args["scenario"]]
                self.load = LoadGenerator(args["scenario"], float(args["rate"]))
                self.load.task = asyncio.ensure_future(self._arrivals(args["scenario"], scenario, self.load.rate, None))
                self.keep(self.load.task)
            case "stop_load":
                self.stop_load()
            case "set_fault":
                profile = args["profile"]
                self.services.set_fault(args["service"], profile if isinstance(profile, FaultProfile)
                                        else FaultProfile.model_validate(profile), source="user")
            case "pause":
                self.engine.pause()
                self.clock.set_paused(True)
            case "resume":
                self.engine.resume()
                self.clock.set_paused(False)
            case "isolate":
                self.breakers.get(args["breaker"]).isolate()
            case "reset_breaker":
                self.breakers.get(args["breaker"]).reset()
            case "retry_compensation":
                self.keep(asyncio.ensure_future(self._retry_compensation(args["saga_id"])))
            case "resolve":
                self._resolve(args["saga_id"], args.get("note", ""))
        return event

    def stop_load(self) -> None:
        if self.load is not None and self.load.task is not None:
            self.load.task.cancel()
        self.load = None

    async def _retry_compensation(self, saga_id: str) -> None:
        saga = self.sagas.get(saga_id)
        if saga is not None and saga.status is SagaStatus.NEEDS_ATTENTION:
            await self.engine.retry_compensations(saga)
            self._ended(saga)

    def _resolve(self, saga_id: str, note: str) -> None:
        saga = self.sagas.get(saga_id)
        if saga is None or saga.status is not SagaStatus.NEEDS_ATTENTION:
            return
        # handled by hand: what its rollback was for is done (a completed saga's leftover undo, or the rollback)
        saga.status = SagaStatus.COMPLETED if saga.failed_step is None else SagaStatus.COMPENSATED
        self.recorder.emit(EventKind.SAGA_RESOLVED, saga_id=saga_id, data={"note": note, "status": saga.status.value})
        self._ended(saga)


def _choose(rng: random.Random, variations: Any, weights: list[float]) -> Any:
    return rng.choices(variations, weights=weights, k=1)[0]


def _jsonable(args: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(args, default=lambda v: v.model_dump(mode="json")))
