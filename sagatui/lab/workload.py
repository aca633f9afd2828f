"""A lab's workload: the sagas it starts (a scenario's inputs, a load generator's arrivals, sagas carried
on from a stopped run) and the sagas it keeps (needing attention, or still going)."""

from __future__ import annotations

import asyncio
import bisect
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sagatui.engine.approvals import DecidedBy, Decision
from sagatui.engine.clock import VirtualClock
from sagatui.engine.orchestrator import SagaEngine
from sagatui.engine.recorder import EventRecorder
from sagatui.engine.saga_state import ResumePoint, SagaRun, Stop
from sagatui.engine.seeds import random_stream
from sagatui.model.draws import realized
from sagatui.model.events import EventKind
from sagatui.model.saga_ids import saga_id_of, saga_number
from sagatui.model.status import SagaStatus
from sagatui.packs.model import Pack, Scenario, WeightedInput
from sagatui.sim.directory import ServiceDirectory

MIN_LOAD_RATE, MAX_LOAD_RATE = 0.25, 5000.0  # sagas per clock second a load may be scaled to
DEFAULT_LOAD_RATE = 10.0  # when no scenario has a workload to take a rate from


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
        number = saga_number(saga_id)
        index = bisect.bisect_right(self._firsts, number) - 1 if number is not None else -1
        return self._names[index] if index >= 0 else default


@dataclass(frozen=True)
class Load:
    """The load generator as it runs: sagas of `scenario` at `rate` per clock second."""

    scenario: str
    rate: float


class Workload:
    """Starts and keeps a lab's sagas. `keep` holds each task as part of the run (the lab cancels and
    awaits them)."""

    def __init__(self, pack: Pack, seed: int, engine: SagaEngine, services: ServiceDirectory, clock: VirtualClock,
                 recorder: EventRecorder, keep: Callable[[asyncio.Future[Any]], None]) -> None:
        self._pack, self._seed, self._engine, self._services = pack, seed, engine, services
        self._clock, self._recorder, self._keep = clock, recorder, keep
        # By id: the sagas needing attention (an operator's retry or resolve looks them up) and those carried
        # on from a stopped run until they end. A saga that ended otherwise is dropped, here and in the
        # services' memory: it will make no more calls, and the database has it.
        self.sagas: dict[str, SagaRun] = {}
        self.scenarios = SagaScenarios()
        self.load: Load | None = None
        self._load_task: asyncio.Task[None] | None = None
        self.chosen_rate: float | None = None  # the rate a load starts at; None: its scenario's own
        self._count = 0

    # -- sagas -----------------------------------------------------------------------------------------------
    def adopt(self, sagas: Sequence[SagaRun]) -> None:
        """The sagas of a stopped run, as rebuilt from its events: new sagas are numbered after them."""
        self._count = len(sagas)
        for saga in sagas:
            if saga.status.terminal:
                self._ended(saga)
            else:
                self.sagas[saga.saga_id] = saga

    def continue_saga(self, saga: SagaRun, point: ResumePoint) -> None:
        """Carry on a saga rebuilt from a stopped run's events, from `point`; it ends like any other."""
        self.sagas[saga.saga_id] = saga
        self._keep(asyncio.ensure_future(self._continue(saga, point)))

    async def _continue(self, saga: SagaRun, point: ResumePoint) -> None:
        self._ended(await self._engine.continue_saga(saga, point))

    def start_saga(self, scenario_name: str, saga_input: dict[str, Any]) -> str:
        return self.start_saga_of(self._pack.scenarios[scenario_name].saga, saga_input, scenario_name)

    def start_saga_of(self, saga_name: str, saga_input: dict[str, Any], label: str) -> str:
        """Start saga `saga_name` on `saga_input` (its draws and placeholders filled in); `label` is what
        the saga table says started it (a scenario's name)."""
        self._count += 1
        number = self._count
        saga_id = saga_id_of(number)
        self.scenarios.add(number, label)
        drawn = realized(saga_input, random_stream(self._seed, f"input:{saga_id}"))
        self._keep(asyncio.ensure_future(self._run(saga_name, saga_id, fill_placeholders(drawn, saga_id, number))))
        return saga_id

    async def _start_at(self, at: float, scenario_name: str, saga_input: dict[str, Any]) -> None:
        """Start a timed input at clock time `at` after its scenario (the run waits for it to settle)."""
        await self._clock.sleep(at)
        self.start_saga(scenario_name, saga_input)

    async def _run(self, saga_name: str, saga_id: str, saga_input: dict[str, Any]) -> None:
        self._ended(await self._engine.run(saga_name, saga_id, saga_input))

    def _ended(self, saga: SagaRun) -> None:
        """Keep a saga that needs attention; forget one that will make no more calls."""
        if saga.status is SagaStatus.NEEDS_ATTENTION:
            self.sagas[saga.saga_id] = saga
        else:
            self.sagas.pop(saga.saga_id, None)
            self._services.forget(saga.saga_id)

    def retry_compensation(self, saga_id: str) -> None:
        self._keep(asyncio.ensure_future(self._retry(saga_id)))

    async def _retry(self, saga_id: str) -> None:
        saga = self.sagas.get(saga_id)
        if saga is not None and saga.status is SagaStatus.NEEDS_ATTENTION:
            await self._engine.retry_compensations(saga)
            self._ended(saga)

    def cancel_problem(self, saga_id: str) -> str | None:
        """Why saga `saga_id` cannot be cancelled now (None: it can)."""
        return self._engine.cancel_problem(saga_id, self.sagas.get(saga_id))

    def cancel(self, saga_id: str, note: str, scenario: str | None = None) -> None:
        """An operator's cancel of a saga going forward, or of one carried on from a stopped run (before
        it takes another step); `scenario` names the scenario whose `cancels:` scripted it."""
        self._engine.cancel(saga_id, note, self.sagas.get(saga_id), scenario)

    def decision_problem(self, saga_id: str) -> str | None:
        """Why saga `saga_id`'s approval cannot be decided now (None: it can)."""
        return self._engine.approvals.problem(saga_id, self.sagas.get(saga_id))

    def decide(self, saga_id: str, approve: bool, note: str, by: DecidedBy = "operator") -> None:
        """Decide the approval a saga waits at (one carried on from a stopped run too, before it asks again)."""
        self._engine.approvals.decide(saga_id, Decision(approve, note, by), self.sagas.get(saga_id))

    def resolve(self, saga_id: str, note: str) -> None:
        saga = self.sagas.get(saga_id)
        if saga is None or saga.status is not SagaStatus.NEEDS_ATTENTION:
            return
        # handled by hand: what its rollback was for is done (a completed saga's leftover undo, or the rollback)
        saga.status = (SagaStatus.CANCELLED if saga.stop is Stop.CANCELLED
                       else SagaStatus.COMPLETED if saga.failed_step is None and saga.stop is None
                       else SagaStatus.COMPENSATED)
        self._recorder.emit(EventKind.SAGA_RESOLVED, saga_id=saga_id, data={"note": note, "status": saga.status.value})
        self._ended(saga)

    # -- scenarios and load --------------------------------------------------------------------------------
    def launch(self, scenario_name: str) -> None:
        """Start a scenario: its fixed inputs now, or its workload over time, its fault schedule, its
        scheduled changes of the services' state and its scripted decisions and cancels."""
        scenario = self._pack.scenarios[scenario_name]
        source = f"scenario {scenario_name}"
        for change in scenario.faults:
            if change.at <= 0:  # before the first saga, not at the first quiet moment after it
                self._services.set_fault(change.service, change.profile, source=source)
            else:
                self._clock.call_later(change.at, partial(self._services.set_fault, change.service, change.profile,
                                                          source=source))
        for scheduled in scenario.changes:
            apply = partial(self._services.change, scheduled.service, scheduled.options, scheduled.restock,
                            source=source)
            if scheduled.at <= 0:
                apply()
            else:
                self._clock.call_later(scheduled.at, apply)
        for decision in scenario.decisions:
            self._clock.call_later(max(0.0, decision.at), partial(self.decide, decision.saga, decision.approve,
                                                                  decision.note, "scenario"))
        for cancel in scenario.cancels:
            self._clock.call_later(max(0.0, cancel.at), partial(self.cancel, cancel.saga, cancel.note, scenario_name))
        if scenario.workload is None:
            for timed in scenario.fixed_inputs():
                if timed.at <= 0:
                    self.start_saga(scenario_name, timed.input)
                else:
                    self._keep(asyncio.ensure_future(self._start_at(timed.at, scenario_name, timed.input)))
        else:
            self._keep(asyncio.ensure_future(self._arrivals(scenario_name, scenario, scenario.workload.rate,
                                                              scenario.workload.count)))

    def start_load(self, scenario_name: str, rate: float) -> None:
        self.stop_load()
        self.load = Load(scenario_name, rate)
        self._load_task = asyncio.ensure_future(self._arrivals(scenario_name, self._pack.scenarios[scenario_name],
                                                               rate, None))
        self._keep(self._load_task)

    def stop_load(self) -> None:
        if self._load_task is not None:
            self._load_task.cancel()
        self._load_task, self.load = None, None

    def follow_load(self, load: Load | None) -> None:
        """Playback: show the load a recording ran, without starting any saga."""
        self.load = load

    def load_scenario(self, wanted: str | None) -> str | None:
        """Where a load starts: the running load's scenario; else `wanted` when it has a workload; else the
        pack's first scenario that has one (None: the pack has none)."""
        if self.load is not None:
            return self.load.scenario
        workloads = [name for name, scenario in self._pack.scenarios.items() if scenario.workload is not None]
        return wanted if wanted in workloads else next(iter(workloads), None)

    def rate_for(self, scenario_name: str) -> float:
        """The rate a load of `scenario_name` starts at: the one last chosen, or the scenario's own."""
        workload = self._pack.scenarios[scenario_name].workload
        return self.chosen_rate or (workload.rate if workload is not None else DEFAULT_LOAD_RATE)

    def scaled_rate(self, factor: float, wanted: str | None) -> float:
        """The load rate times `factor`, within MIN_LOAD_RATE-MAX_LOAD_RATE; it becomes the chosen rate."""
        scenario = self.load_scenario(wanted)
        current = self.load.rate if self.load is not None else (
            self.rate_for(scenario) if scenario is not None else self.chosen_rate or DEFAULT_LOAD_RATE)
        self.chosen_rate = min(MAX_LOAD_RATE, max(MIN_LOAD_RATE, current * factor))
        return self.chosen_rate

    async def _arrivals(self, scenario_name: str, scenario: Scenario, rate: float, count: int | None) -> None:
        """Start sagas at `rate` per clock second (`count` of them, or until stopped)."""
        assert scenario.workload is not None
        variations = scenario.workload.variations
        weights = [v.weight for v in variations]
        chooser = random_stream(self._seed, f"workload:{scenario_name}:{self._count}")
        started = 0
        while count is None or started < count:
            self.start_saga(scenario_name, _choose(chooser, variations, weights).input)
            started += 1
            await self._clock.sleep(1.0 / rate)


def _choose(rng: random.Random, variations: Sequence[WeightedInput], weights: list[float]) -> WeightedInput:
    return rng.choices(variations, weights=weights, k=1)[0]
