"""Where a lab's commands are taken in and carried out.

Live, a submitted command waits for the clock's next quiet moment; every command queued since the last
one is then applied in order. A command that says what the user pressed (a switch, the load key) is
resolved against the lab as it stands after the commands before it, and what it resolved to is what is
recorded, as a `command` event, and carried out. Replaying, the recorded commands are applied instead,
each at its own seq and clock time. A fork (sagatui.lab.fork) follows such a script up to its fork point,
then commands due at a moment: once an event is recorded, or at a clock time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sagatui.lab.commands import (
    CancelSaga,
    Command,
    DecideApproval,
    Forked,
    Isolate,
    Pause,
    RecordedCommand,
    ResetBreaker,
    Resolve,
    Resume,
    RetryCompensation,
    ScaleLoad,
    SetFault,
    StartLoad,
    StartSaga,
    StartScenario,
    StopLoad,
    ToggleLoad,
    TogglePause,
    ToggleService,
    parse_recorded,
    toggled,
)
from sagatui.model.events import Event, EventKind

if TYPE_CHECKING:
    from sagatui.lab.run import Lab


class InvalidCommand(ValueError):
    """A command that names what the lab does not have (a service, a breaker, a scenario)."""


@dataclass(frozen=True)
class Moment:
    """When a command of a fork is due: at the first quiet moment once event `after_seq` is recorded, or
    at clock time `time` (before the timers due then)."""

    after_seq: int | None = None
    time: float | None = None


class CommandDesk:
    def __init__(self, lab: Lab) -> None:
        self._lab = lab
        self._queue: list[Command] = []
        self._script: deque[tuple[Event, RecordedCommand]] = deque()
        self._timed: deque[tuple[Moment, RecordedCommand]] = deque()
        self.script_done = asyncio.Event()

    def submit(self, command: Command) -> None:
        """Queue `command`; it takes effect at the clock's next quiet moment. InvalidCommand when it names
        something the lab's pack lacks."""
        problem = self._problem(command)
        if problem:
            raise InvalidCommand(problem)
        self._queue.append(command)
        self._lab.clock.poke()

    def follow_script(self, commands: Iterable[Event], then: Iterable[tuple[Moment, RecordedCommand]] = ()) -> None:
        """Replay: apply these recorded `command` events where they were recorded (same seq, same clock
        time) instead of live input; then (a fork) the commands `then`, each at its moment, in order."""
        self._script = deque((event, parse_recorded(event.data)) for event in commands)
        self._timed = deque(then)

    async def on_quiet_moment(self) -> bool:
        """The clock's idle hook: whether anything was applied. Nothing once the run made its last mark
        (run.settled, run.interrupted: the clock is frozen): a command still queued then (a fault change
        due as the last saga ended) would otherwise land after that mark, while the run closes, or not,
        by the disk's speed."""
        if self._lab.clock.frozen:
            return False
        if self._script:
            return self._apply_scripted()
        if self._timed:
            return self._apply_timed()
        if not self._queue:
            return False
        pending, self._queue = self._queue, []
        self._lab.clock.catch_up()  # while real calls are out, real time has passed: the command comes now
        for command in pending:
            self.apply(command)
        return True

    def _apply_scripted(self) -> bool:
        """Apply the recorded commands due at this quiet moment: each at its seq and time, and, as live
        input applies every command queued since the last quiet moment in one go, those that followed
        it in the recording at the same moment too (two keys pressed between quiet moments)."""
        lab, applied = self._lab, False
        while self._script:
            event, command = self._script[0]
            if event.seq != lab.recorder.next_seq:
                break
            due = lab.clock.next_due()
            if due is not None and due < event.time:
                break  # a timer fired before the command in the recording
            lab.clock.advance_to(event.time)
            self._script.popleft()
            self.apply(command)
            applied = True
        if not self._script and not self._timed:
            self.script_done.set()
        return applied

    def _apply_timed(self) -> bool:
        lab, applied = self._lab, False
        while self._timed:
            moment, command = self._timed[0]
            if moment.after_seq is not None and lab.recorder.next_seq <= moment.after_seq:
                break
            if moment.time is not None and lab.clock.now() < moment.time:
                due = lab.clock.next_due()
                if due is not None and due < moment.time:
                    break  # what is due before the moment happens first
                lab.clock.advance_to(moment.time)
            self._timed.popleft()
            self.apply(command)
            applied = True
        if not self._timed:
            self.script_done.set()
        return applied

    def apply(self, command: Command) -> Event | None:
        """Resolve, record and carry out `command` now; the `command` event, or None when it changes
        nothing in the run (a load rate chosen while no load runs)."""
        resolved = self._resolve(command)
        if resolved is None:
            return None
        lab, workload = self._lab, self._lab.workload
        event = lab.recorder.emit(EventKind.COMMAND, data=resolved.recorded())
        match resolved:
            case StartScenario(scenario=scenario):
                workload.launch(scenario)
            case StartSaga(saga=saga, input=saga_input):
                workload.start_saga_of(saga, saga_input, saga)
            case StartLoad(scenario=scenario, rate=rate):
                workload.start_load(scenario, rate)
            case StopLoad():
                workload.stop_load()
            case SetFault(service=service, profile=profile):
                lab.services.set_fault(service, profile, source="user")
            case Pause():
                lab.engine.pause()
                lab.clock.set_paused(True)
            case Resume():
                lab.engine.resume()
                lab.clock.set_paused(False)
            case Isolate(breaker=breaker):
                lab.breakers.get(breaker).isolate()
            case ResetBreaker(breaker=breaker):
                lab.breakers.get(breaker).reset()
            case RetryCompensation(saga_id=saga_id):
                workload.retry_compensation(saga_id)
            case Resolve(saga_id=saga_id, note=note):
                workload.resolve(saga_id, note)
            case CancelSaga(saga_id=saga_id, note=note):
                workload.cancel(saga_id, note)
            case DecideApproval(saga_id=saga_id, approve=approve, note=note):
                workload.decide(saga_id, approve, note)
            case Forked():
                pass  # the record is the point
        return event

    def _resolve(self, command: Command) -> RecordedCommand | None:
        """What a press means now; a concrete command stands for itself."""
        lab, workload = self._lab, self._lab.workload
        match command:
            case ToggleService(service=service):
                return SetFault(service=service,
                                profile=toggled(lab.services.fault(service), lab.pack.services[service].fault))
            case TogglePause():
                return Resume() if lab.engine.paused else Pause()
            case ToggleLoad(scenario=wanted):
                if workload.load is not None:
                    return StopLoad()
                scenario = workload.load_scenario(wanted)
                return StartLoad(scenario=scenario, rate=workload.rate_for(scenario)) if scenario else None
            case ScaleLoad(factor=factor, scenario=wanted):
                rate = workload.scaled_rate(factor, wanted)
                load = workload.load
                return StartLoad(scenario=load.scenario, rate=rate) if load is not None else None
            case CancelSaga(saga_id=saga_id) if workload.cancel_problem(saga_id) is not None:
                return None  # it ended, or began its rollback, since the cancel was sent: nothing to do
            case DecideApproval(saga_id=saga_id) if workload.decision_problem(saga_id) is not None:
                return None  # decided meanwhile (its timeout, another operator): nothing to do
        return command

    def _problem(self, command: Command) -> str | None:
        pack = self._lab.pack
        match command:
            case SetFault(service=service) | ToggleService(service=service) if service not in pack.services:
                return f"{pack.name} has no service {service!r}"
            case StartScenario(scenario=scenario) | StartLoad(scenario=scenario) if scenario not in pack.scenarios:
                return f"{pack.name} has no scenario {scenario!r}"
            case StartSaga(saga=saga) if saga not in pack.sagas:
                return f"{pack.name} has no saga {saga!r}"
            case StartLoad(scenario=scenario) if pack.scenarios[scenario].workload is None:
                return f"scenario {scenario!r} has no workload to load"
            case Isolate(breaker=breaker) | ResetBreaker(breaker=breaker) if (
                    breaker not in self._lab.view.breaker_names):
                return f"{pack.name} has no breaker {breaker!r}"
            case CancelSaga(saga_id=saga_id):
                return self._lab.workload.cancel_problem(saga_id)
            case DecideApproval(saga_id=saga_id):
                return self._lab.workload.decision_problem(saga_id)
        return None
