"""Deterministic simulation: many seeds, each with a random fault schedule drawn from it, each run
checked against the properties every saga run must keep, whatever broke.

An operator takes part too: each seed draws cancels of sagas going forward (`fuzz:cancels`), and every
approval a saga asks for is decided, approved or rejected, after a drawn while (`fuzz:approval:<saga>:<step>`),
so a pack with approval steps never leaves the run waiting for people.

A failing seed reproduces exactly: the schedule, the workload and every random choice come from it,
and the schedule is applied as recorded user commands, so the run's database replays too.
"""

from __future__ import annotations

import asyncio
import random
import shlex
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sagatui.code.app import App
from sagatui.engine.seeds import random_stream
from sagatui.lab import Lab
from sagatui.lab.commands import CancelSaga, DecideApproval, SetFault
from sagatui.model.definitions import StepDef, split_action
from sagatui.model.events import Event, EventKind, row_writes
from sagatui.model.faults import FaultProfile
from sagatui.model.payloads import BreakerTransition, SagaStarted, StepFailed
from sagatui.model.policies import BreakerConfig
from sagatui.model.saga_ids import saga_id_of
from sagatui.model.status import BreakerState, SagaStatus
from sagatui.packs.model import Pack
from sagatui.store.database import Store
from sagatui.store.queries import resource_rows


@dataclass(frozen=True)
class FaultStep:
    at: float
    service: str
    profile: FaultProfile


@dataclass(frozen=True)
class CancelStep:
    """At clock time `at`, an operator cancels `saga_id` (nothing, if it is not going forward then)."""

    at: float
    saga_id: str


@dataclass
class FuzzOutcome:
    seed: int
    run_id: int
    sagas: int
    schedule: list[FaultStep]
    violations: list[str] = field(default_factory=list)
    cancels: list[CancelStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def draw_schedule(pack: Pack, scenario: str, seed: int) -> list[FaultStep]:
    """1-6 fault changes on random services at random clock times within the scenario's span."""
    rng = random_stream(seed, "fuzz:schedule")
    workload = pack.scenarios[scenario].workload
    span = workload.count / workload.rate if workload else 10.0
    services = list(pack.services)
    steps = [FaultStep(round(rng.uniform(0, span), 3), rng.choice(services), _random_profile(rng, span))
             for _ in range(rng.randint(1, 6))]
    return sorted(steps, key=lambda step: step.at)


def draw_cancels(pack: Pack, scenario: str, seed: int) -> list[CancelStep]:
    """0-3 cancels of sagas the scenario starts, at random clock times within its span."""
    rng = random_stream(seed, "fuzz:cancels")
    chosen = pack.scenarios[scenario]
    workload = chosen.workload
    span = workload.count / workload.rate if workload else 10.0
    count = workload.count if workload else len(chosen.inputs)
    steps = [CancelStep(round(rng.uniform(0, span), 3), saga_id_of(rng.randint(1, max(1, count))))
             for _ in range(rng.randint(0, 3))]
    return sorted(steps, key=lambda step: step.at)


def _random_profile(rng: random.Random, span: float) -> FaultProfile:
    mode = rng.choice(["offline", "degraded", "latency", "hang", "rate_limit", "flapping", "lost_reply", "online"])
    return FaultProfile(
        mode=mode,
        target=rng.choice(["actions", "compensations", "both"]),
        error_rate=round(rng.uniform(0.1, 0.9), 2),
        permanent_share=round(rng.uniform(0, 0.5), 2),
        latency=round(rng.uniform(0, 0.5), 3) if mode == "latency" else 0.0,
        rate=round(rng.uniform(1, 20), 1),
        burst=rng.randint(1, 10),
        period=round(rng.uniform(1, 5), 2),
        duty=round(rng.uniform(0.2, 0.8), 2),
        revert_after=round(rng.uniform(0.5, max(1.0, span / 2)), 3) if rng.random() < 0.7 else None,
    )


def reproduce_seed(pack: str, scenario: str, seed: int) -> str:
    """The command that fuzzes `seed` of `scenario` alone again (`pack` as the user named it: a pack, or code)."""
    return f"sagatui fuzz {shlex.quote(pack)} --scenario {shlex.quote(scenario)} --runs 1 --start-seed {seed}"


async def fuzz_one(pack: Pack, pack_text: str, store: Store, scenario: str, seed: int,
                   code: App | None = None) -> FuzzOutcome:
    """One seed: its drawn fault schedule and cancels over the scenario, then every check (the invariants,
    the App's own among them, when `code` is the user's)."""
    schedule, cancels = draw_schedule(pack, scenario, seed), draw_cancels(pack, scenario, seed)
    lab = Lab(pack, pack_text, store, seed=seed, label=f"fuzz {scenario} seed {seed}", code=code)
    events: list[Event] = []
    lab.bus.add_listener(events.append)
    lab.bus.add_listener(lambda event: _decide_later(lab, seed, event))
    async with lab:
        lab.start_scenario(scenario)
        drivers = [asyncio.ensure_future(_apply_schedule(lab, schedule)),
                   asyncio.ensure_future(_apply_cancels(lab, cancels))]
        invariants = await lab.conclude()
        for driver in drivers:
            driver.cancel()
        # what a saga needing attention still holds is no violation: the run says so, held for an operator
        violations = [f"invariant {r.name}: {'; '.join(r.details)}" for r in invariants if r.details]
        violations += check_stream(pack, events)
        violations += await check_tables(store, lab.run_id, events)
    sagas = sum(1 for event in events if event.kind is EventKind.SAGA_STARTED)
    return FuzzOutcome(seed, lab.run_id, sagas, schedule, violations, cancels)


async def _apply_schedule(lab: Lab, schedule: list[FaultStep]) -> None:
    for step in schedule:
        await lab.clock.sleep(step.at - lab.clock.now())
        lab.submit(SetFault(service=step.service, profile=step.profile))


async def _apply_cancels(lab: Lab, cancels: list[CancelStep]) -> None:
    for step in cancels:
        await lab.clock.sleep(step.at - lab.clock.now())
        if lab.workload.cancel_problem(step.saga_id) is None:
            lab.submit(CancelSaga(saga_id=step.saga_id, note="fuzz"))


def _decide_later(lab: Lab, seed: int, event: Event) -> None:
    """An approval asked for is decided by a drawn operator, after a drawn while, either way."""
    if event.kind is not EventKind.APPROVAL_REQUESTED or event.saga_id is None:
        return
    saga_id = event.saga_id
    rng = random_stream(seed, f"fuzz:approval:{saga_id}:{event.step}")
    delay, approve = round(rng.uniform(0.1, 5.0), 3), rng.random() < 0.6

    def decide() -> None:
        if lab.workload.decision_problem(saga_id) is None:
            lab.submit(DecideApproval(saga_id=saga_id, approve=approve, note="fuzz"))

    lab.clock.call_later(delay, decide)


# -- properties of the event stream ------------------------------------------------------------------
def check_stream(pack: Pack, events: list[Event]) -> list[str]:
    """Properties of one run's events; each problem as a line naming the saga and step."""
    return (_terminal(events) + _compensations(events) + compensation_coverage(events) + _breakers(pack, events)
            + _attempts(pack, events))


def _terminal(events: list[Event]) -> list[str]:
    started = {e.saga_id for e in events if e.kind is EventKind.SAGA_STARTED}
    ended = {e.saga_id for e in events if e.saga_id and e.kind.ends_saga}
    return [f"saga {saga_id} never reached a terminal status" for saga_id in sorted(started - ended, key=str)]


def _compensations(events: list[Event]) -> list[str]:
    """Compensations ran only for steps that may have had an effect, at most once, newest first."""
    effects: dict[str, list[str]] = defaultdict(list)
    undone: dict[str, list[str]] = defaultdict(list)
    for event in events:
        if event.saga_id is None or event.step is None:
            continue
        if event.kind is EventKind.STEP_SUCCEEDED or (
                event.kind is EventKind.STEP_FAILED and event.payload_as(StepFailed).may_have_effect):
            effects[event.saga_id].append(event.step)
        elif event.kind is EventKind.COMPENSATION_STARTED:
            undone[event.saga_id].append(event.step)
    problems = []
    for saga_id, steps in undone.items():
        twice = [step for step, n in Counter(steps).items() if n > 1]
        if twice:
            problems.append(f"saga {saga_id}: compensation ran more than once for {', '.join(twice)}")
        stray = [step for step in steps if step not in effects[saga_id]]
        if stray:
            problems.append(f"saga {saga_id}: compensated {', '.join(stray)}, which never took effect")
        expected = [step for step in reversed(effects[saga_id]) if step in steps]
        if not twice and steps != expected:
            problems.append(f"saga {saga_id}: compensations ran in order {steps}, expected {expected}")
    return problems


def compensation_coverage(events: list[Event]) -> list[str]:
    """A compensated saga undid every step, group member and for_each element that took effect (or
    said it had nothing to undo it with); a saga that went on undid none that succeeded."""
    effects: dict[str, list[str]] = defaultdict(list)
    succeeded: dict[str, set[str]] = defaultdict(set)
    settled: dict[str, set[str]] = defaultdict(set)
    ended: dict[str, SagaStatus] = {}
    for event in events:
        if event.saga_id is None:
            continue
        if event.kind is EventKind.STEP_SUCCEEDED and event.step and event.service:  # an approval has no effect
            effects[event.saga_id].append(event.step)
            succeeded[event.saga_id].add(event.step)
        elif event.kind is EventKind.STEP_FAILED and event.step and event.payload_as(StepFailed).may_have_effect:
            effects[event.saga_id].append(event.step)
        elif event.kind in (EventKind.COMPENSATION_STARTED, EventKind.COMPENSATION_SKIPPED) and event.step:
            settled[event.saga_id].add(event.step)
        elif (status := event.saga_status) is not None:
            ended[event.saga_id] = status
    problems = []
    for saga_id, status in ended.items():
        if status is SagaStatus.COMPENSATED and (left := [s for s in effects[saga_id] if s not in settled[saga_id]]):
            problems.append(f"saga {saga_id}: compensated, but {', '.join(left)} took effect and was not undone")
        went_on = status in (SagaStatus.COMPLETED, SagaStatus.COMPLETED_PARTIAL)
        if went_on and (undone := sorted(settled[saga_id] & succeeded[saga_id])):
            problems.append(f"saga {saga_id}: {status.value}, but undid {', '.join(undone)}, which succeeded")
    return problems


def _step_definitions(pack: Pack, events: list[Event]) -> Callable[[Event], StepDef | None]:
    """The definition of the step an event belongs to (via the saga its saga_id started as)."""
    sagas_of = {e.saga_id: e.payload_as(SagaStarted).saga for e in events if e.kind is EventKind.SAGA_STARTED}
    steps: dict[tuple[str | None, str | None], StepDef] = {
        (saga.name, step.name): step for saga in pack.sagas.values() for step in saga.all_steps()}
    return lambda event: steps.get((sagas_of.get(event.saga_id), event.step))


def _breaker_of(pack: Pack, events: list[Event]) -> Callable[[Event], str]:
    """The breaker an attempt went through, by the engine's rule (a step's own breaker for its
    primary action, else the service's breaker, else the service's name)."""
    step_of = _step_definitions(pack, events)

    def breaker(event: Event) -> str:
        step = step_of(event)
        service = event.service or ""
        if step is not None and step.breaker and step.action and split_action(step.action)[0] == service:
            return step.breaker
        configured = pack.services.get(service)
        return configured.breaker if configured is not None and configured.breaker else service

    return breaker


def _breakers(pack: Pack, events: list[Event]) -> list[str]:
    """No call went through an open breaker, and a half-open one let through only its probes. A probe's slot
    comes back when its try ended in a kind the breaker ignores, or never ended (its step stopped): the
    engine gives such a slot back (CircuitBreaker.record, abandon)."""
    state: dict[str, BreakerState] = {}
    used: Counter[str] = Counter()  # probes that ended and counted
    out: dict[str, set[tuple[str | None, str | None, int | None]]] = defaultdict(set)  # probes not ended yet
    breaker_of = _breaker_of(pack, events)
    problems = []
    for event in events:
        if event.kind is EventKind.BREAKER_TRANSITION:
            transition = event.payload_as(BreakerTransition)
            state[transition.breaker] = transition.to_state
            used[transition.breaker] = 0
            out[transition.breaker].clear()
        elif event.kind is EventKind.ATTEMPT_STARTED:
            name = breaker_of(event)
            current = state.get(name, BreakerState.CLOSED)
            if current in (BreakerState.OPEN, BreakerState.ISOLATED):
                problems.append(f"seq {event.seq}: {event.saga_id} {event.step} called {event.service} "
                                f"through breaker {name} while {current.value}")
            elif current is BreakerState.HALF_OPEN:
                out[name].add((event.saga_id, event.step, event.attempt))
                allowed = _config(pack, name).half_open_probes
                if used[name] + len(out[name]) > allowed:
                    problems.append(f"seq {event.seq}: breaker {name} let {used[name] + len(out[name])} calls "
                                    f"through half-open (probes allowed: {allowed})")
        elif event.kind in (EventKind.ATTEMPT_SUCCEEDED, EventKind.ATTEMPT_FAILED):
            name = breaker_of(event)
            probe = (event.saga_id, event.step, event.attempt)
            if probe in out[name]:
                out[name].discard(probe)
                if event.error_kind is None or event.error_kind not in _config(pack, name).ignore:
                    used[name] += 1
        elif event.kind in (EventKind.STEP_SUCCEEDED, EventKind.STEP_FAILED) or event.kind.ends_saga:
            for probes in out.values():  # a try its step left unended was abandoned
                for probe in [probe for probe in probes if probe[0] == event.saga_id
                              and (event.step is None or probe[1] == event.step)]:
                    probes.discard(probe)
    return problems


def _config(pack: Pack, breaker: str) -> BreakerConfig:
    return pack.breakers.get(breaker) or BreakerConfig()


def _attempts(pack: Pack, events: list[Event]) -> list[str]:
    """No provider of a step was tried more often than the step's retry policy allows."""
    step_of = _step_definitions(pack, events)
    tries: dict[tuple[Any, ...], list[Event]] = defaultdict(list)
    for event in events:
        if event.kind is EventKind.ATTEMPT_STARTED:
            tries[(event.saga_id, event.step, event.service, event.operation)].append(event)
    problems = []
    for (saga_id, step, service, operation), attempts in tries.items():
        definition = step_of(attempts[0])
        if definition is None:
            continue
        retry = definition.retry
        # each kind under by_error keeps its own count of failed tries beside the policy's own
        allowed = retry.max_attempts + sum(retry.for_kind(kind).max_attempts - 1 for kind in retry.by_error)
        if len(attempts) > allowed:
            problems.append(f"saga {saga_id}: step {step} tried {service}.{operation} {len(attempts)} times "
                            f"(max_attempts {retry.max_attempts}"
                            f"{', with by_error ' + str(allowed) if retry.by_error else ''})")
    return problems


# -- the resource tables against the event log -----------------------------------------------------------
async def check_tables(store: Store, run_id: int, events: list[Event]) -> list[str]:
    """Folding the row writes recorded in `service.effect` and `service.changed` events gives exactly the
    tables' rows."""
    implied: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = defaultdict(dict)
    for event in events:
        for table, written_key, values in row_writes(event):
            row_key = tuple(sorted(written_key.items()))
            implied[table].setdefault(row_key, dict(written_key)).update(values)
    problems = []
    for table, rows in implied.items():
        stored = {}
        for stored_row in await resource_rows(store, run_id, table):
            stored_row.pop("run_id", None)
            stored[tuple(sorted((name, stored_row[name]) for name, _ in next(iter(rows))))] = stored_row
        for key, values in rows.items():
            row = stored.get(key)
            actual = None if row is None else {name: row.get(name) for name in values}
            if actual != values:
                problems.append(f"table {table} row {dict(key)}: the events imply {values}, the table has {actual}")
                break
        if len(stored) != len(rows):
            problems.append(f"table {table}: {len(stored)} rows stored, the events imply {len(rows)}")
    return problems
