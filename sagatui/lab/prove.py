"""`sagatui prove`: break every step of a saga in every way, one case at a time, and check after each
that the world came back.

A run of the saga on its input with nothing broken (the baseline) names the failure points: every step it
called a service for (parallel members and for_each elements each on their own), in the order they were
first called, and the undo of each that has a compensation. Each case then runs the saga once more, on a
fresh world (a new run) with the same seed, with one point broken in one shape:

- a step **fails** before its effect (a permanent error), its **reply is lost** after its effect (every
  try: a timeout, maybe done), it **hangs** past its timeout, or the process is **killed** (a real
  SIGKILL of a child process) as its answer arrives and the run is resumed (sagatui.lab.recovery);
- an undo (reached by pausing the saga right after its step took effect, and cancelling it where it
  waits: the last step's undo is not reached so) **fails once** then
  succeeds, **fails for good**, has its **reply lost** once, or is **killed** as its answer arrives.

Each break is a recorded command (a fault scoped to the step's calls, a cancel) and the run of a case
is kept like any other; sagatui.lab.proof_verdict judges each case.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sagatui.lab import Lab
from sagatui.lab.commands import CancelSaga, DecideApproval, Pause, Resume, SetFault, StartSaga
from sagatui.lab.proof_report import CASE_SAGA
from sagatui.lab.proof_verdict import Baseline, CaseResult, judge
from sagatui.lab.proof_world import World
from sagatui.lab.recovery.resume import resume_run
from sagatui.model.definitions import StepDef, element_of, split_action
from sagatui.model.events import Event, EventKind
from sagatui.model.faults import FaultProfile
from sagatui.packs.loader import load_pack_text
from sagatui.packs.model import Pack
from sagatui.store.database import Store, remove_database
from sagatui.store.queries import read_events

Shape = Literal["fails", "reply_lost", "hangs", "killed", "undo_fails_once", "undo_fails", "undo_reply_lost",
                "undo_killed"]
FORWARD_SHAPES: tuple[Shape, ...] = ("fails", "reply_lost", "hangs", "killed")
UNDO_SHAPES: tuple[Shape, ...] = ("undo_fails_once", "undo_fails", "undo_reply_lost", "undo_killed")
SHAPES = FORWARD_SHAPES + UNDO_SHAPES
REPORT_FORMAT = "sagatui prove report 1"

_BREAKS: dict[Shape, FaultProfile] = {
    "fails": FaultProfile(mode="degraded", target="actions", error_rate=1.0, permanent_share=1.0),
    "reply_lost": FaultProfile(mode="lost_reply", target="actions", error_rate=1.0),
    "hangs": FaultProfile(mode="hang", target="actions"),
    "undo_fails_once": FaultProfile(mode="offline", target="compensations"),
    "undo_fails": FaultProfile(mode="degraded", target="compensations", error_rate=1.0, permanent_share=1.0),
    "undo_reply_lost": FaultProfile(mode="lost_reply", target="compensations", error_rate=1.0),
}
_ONCE: frozenset[Shape] = frozenset({"undo_fails_once", "undo_reply_lost"})  # the service mends after one try


class Case(BaseModel):
    """One failure point broken in one shape: `charge_payment:reply_lost`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    step: str
    shape: Shape

    @property
    def id(self) -> str:
        return f"{self.step}:{self.shape}"

    @property
    def undo(self) -> bool:
        return self.shape in UNDO_SHAPES

    @classmethod
    def parse(cls, text: str) -> Case:
        """`STEP:SHAPE`; ValueError otherwise."""
        step, colon, shape = text.rpartition(":")
        if not colon or not step or shape not in SHAPES:
            raise ValueError(f"a case is STEP:SHAPE, SHAPE one of {', '.join(SHAPES)}; not {text!r}")
        return cls(step=step, shape=shape)


class UnknownCase(ValueError):
    """A case asked for whose point the saga, with nothing broken, never comes to."""


@dataclass(frozen=True)
class Subject:
    """What is proved: saga `saga` of `pack` on `saga_input`, every case with `seed`."""

    pack: Pack
    pack_text: str
    source_name: str  # the pack's file, for messages (a killed case's child loads the pack from its text)
    saga: str
    saga_input: dict[str, Any]
    seed: int = 1


class Proof(BaseModel):
    """The matrix: each failure point by each shape, with each case's result."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format: str = REPORT_FORMAT
    saga: str
    input: dict[str, Any]
    seed: int
    baseline: str  # how the saga ends with nothing broken
    steps: list[str]  # the forward failure points, in the order the baseline first called them
    undos: list[str]  # the steps whose undo is a failure point
    cases: list[CaseResult]

    @property
    def failed(self) -> list[CaseResult]:
        return [case for case in self.cases if not case.ok]

    def result(self, step: str, shape: Shape) -> CaseResult | None:
        return next((case for case in self.cases if case.step == step and case.shape == shape), None)


def _definition(pack: Pack, saga: str, step: str) -> StepDef | None:
    base = element_of(step)
    return next((defined for defined in pack.sagas[saga].all_steps() if defined.name == base), None)


def _undoable(pack: Pack, saga: str, step: str) -> bool:
    defined = _definition(pack, saga, step)
    return defined is not None and any(provider.compensation for provider in defined.providers)


async def prove(subject: Subject, db: Path, *, cases: Sequence[Case] | None = None, jobs: int = 1,
                kept: bool = True, on_case: Callable[[CaseResult], None] = lambda _: None,
                on_plan: Callable[[Proof], None] = lambda _: None) -> Proof:
    """Run the baseline (in `db`), then every case (or only `cases`), each in a database of its own beside
    it (`<db>-<n>.db`, run 1 there: its result names it unless `kept` is False, for scratch files), in
    `jobs` worker processes when more than one: the results are the same for any number. `on_case` sees
    each result in case order as soon as it and every case before it have ended; `on_plan` the matrix once
    the baseline named its failure points, before any case ran (no case in it yet)."""
    async with await Store.open(db) as store:
        start = await World.read(store, await _untouched_run(subject, store))
        baseline_run, events = await _run(subject, store, None)
        baseline = Baseline(start, events, await World.read(store, baseline_run))
    steps = list(dict.fromkeys(e.step for e in events if e.kind is EventKind.ATTEMPT_STARTED and e.step))
    undos = [step for step in steps if _undoable(subject.pack, subject.saga, step)]
    if cases is not None and (unknown := [c.id for c in cases if c.step not in (undos if c.undo else steps)]):
        raise UnknownCase(f"saga {subject.saga}, with nothing broken, never comes to {', '.join(unknown)} (the "
                          f"steps it calls: {', '.join(steps) or 'none'}; those it can undo: "
                          f"{', '.join(undos) or 'none'})")
    wanted = list(dict.fromkeys(cases)) if cases is not None else (
        [Case(step=step, shape=shape) for step in steps for shape in FORWARD_SHAPES]
        + [Case(step=step, shape=shape) for step in undos for shape in UNDO_SHAPES])
    plan = Proof(saga=subject.saga, input=subject.saga_input, seed=subject.seed, baseline=baseline.status_name,
                 steps=steps, undos=undos, cases=[])
    on_plan(plan)
    where = [db.with_name(f"{db.stem}-{number}{db.suffix}") for number in range(1, len(wanted) + 1)]
    results: list[CaseResult] = []

    def ended(result: CaseResult) -> None:
        results.append(result if kept else result.model_copy(update={"kept": None}))
        on_case(results[-1])

    if jobs <= 1 or len(wanted) <= 1:
        for case, case_db in zip(wanted, where, strict=True):
            ended(await run_case(subject, case, case_db, baseline))
    else:
        await _in_workers(subject, list(zip(wanted, where, strict=True)), baseline, jobs, ended)
    return plan.model_copy(update={"cases": results})


async def run_case(subject: Subject, case: Case, db: Path, baseline: Baseline) -> CaseResult:
    """One case, its run the first of a fresh database `db`, judged against `baseline`."""
    remove_database(db)
    if case.shape in ("killed", "undo_killed"):
        return await _killed_case(subject, case, db, baseline)
    async with await Store.open(db) as store:
        run_id, events = await _run(subject, store, case)
        return await judge(subject.pack, case, store, run_id, events, baseline, kept=db)


async def _in_workers(subject: Subject, work: list[tuple[Case, Path]], baseline: Baseline, jobs: int,
                      ended: Callable[[CaseResult], None]) -> None:
    """The cases over `jobs` spawned worker processes (each loads the pack from its text), their results
    passed on in case order. A worker ignores Ctrl-C (it reaches the whole process group): the parent stops
    them, the cases in flight writing only their own scratch files."""
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(work)), mp_context=context,
                             initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN)) as pool:
        futures = [loop.run_in_executor(pool, _case_in_worker, subject.pack_text, subject.source_name,
                                        subject.saga, subject.saga_input, subject.seed, case, db, baseline)
                   for case, db in work]
        try:
            for future in futures:
                ended(await future)
        except BaseException:
            for future in futures:
                future.cancel()
            raise


@functools.lru_cache(maxsize=4)
def _pack_of(pack_text: str, source_name: str) -> Pack:
    return load_pack_text(pack_text, source_name)


def _case_in_worker(pack_text: str, source_name: str, saga: str, saga_input: dict[str, Any], seed: int, case: Case,
                    db: Path, baseline: Baseline) -> CaseResult:
    subject = Subject(_pack_of(pack_text, source_name), pack_text, source_name, saga, saga_input, seed)
    return asyncio.run(run_case(subject, case, db, baseline))


async def _untouched_run(subject: Subject, store: Store) -> int:
    """A run in which no saga starts: the world every case starts from."""
    async with Lab(subject.pack, subject.pack_text, store, seed=subject.seed, label="prove: the world before") as lab:
        await lab.conclude()
    return lab.run_id


async def _run(subject: Subject, store: Store, case: Case | None, *,
               die_at: Callable[[Event], bool] = lambda _: False) -> tuple[int, list[Event]]:
    """One run of the saga with `case`'s break (none: the baseline); its run id and events."""
    label = f"prove {subject.saga}" + (f" {case.id}" if case else " baseline")
    lab = Lab(subject.pack, subject.pack_text, store, seed=subject.seed, label=label)
    events: list[Event] = []
    lab.bus.add_listener(events.append)
    lab.bus.add_listener(lambda event: _approve(lab, event))

    def die_there(event: Event) -> None:
        if die_at(event):
            os.kill(os.getpid(), signal.SIGKILL)

    lab.bus.add_listener(die_there)
    async with lab:
        if case is not None:
            _break(lab, subject, case)
        lab.apply(StartSaga(saga=subject.saga, input=subject.saga_input))
        await lab.conclude()
    return lab.run_id, events


def _break(lab: Lab, subject: Subject, case: Case) -> None:
    """Set `case`'s fault on its step's service (its calls only, over the service's own profile), and for an
    undo the cancel that reaches it: right after the step took effect, the saga is held before its next
    call and cancelled where it waits (so undoes it)."""
    service = _service_of(subject, case.step)
    profile = _BREAKS.get(case.shape)
    if profile is not None:
        own = subject.pack.services[service].fault  # every other call of the service still gets it
        scoped = profile.model_copy(update={"steps": (case.step,), "otherwise": own})
        lab.apply(SetFault(service=service, profile=scoped))
    if not case.undo:
        return
    note = f"prove: cancelled after {case.step} took effect"

    def on_event(event: Event) -> None:
        if event.saga_id != CASE_SAGA or event.step != case.step:
            return
        if event.kind is EventKind.STEP_SUCCEEDED and lab.workload.cancel_problem(CASE_SAGA) is None:
            # Held before its next call at once (with services that answer instantly no quiet moment
            # comes before the saga ends), then cancelled where it waits, as an operator would; the next
            # step has started, its call not gone out (applied from inside the engine's step, the pause is
            # recorded where a replay cannot apply it: a kept undo case's run does not replay).
            lab.apply(Pause())
            lab.submit(CancelSaga(saga_id=CASE_SAGA, note=note))
            lab.submit(Resume())
        elif event.kind is EventKind.COMPENSATION_ATTEMPT and case.shape in _ONCE and event.error_kind is not None:
            lab.submit(SetFault(service=service, profile=subject.pack.services[service].fault))

    lab.bus.add_listener(on_event)


def _service_of(subject: Subject, step: str) -> str:
    defined = _definition(subject.pack, subject.saga, step)
    assert defined is not None and defined.action is not None, f"{step} calls no service"
    return split_action(defined.action)[0]


def _approve(lab: Lab, event: Event) -> None:
    """Every approval a case's saga asks for is given, a moment later: the breaks are the services'."""
    if event.kind is EventKind.APPROVAL_REQUESTED and event.saga_id is not None:
        saga_id = event.saga_id

        def decide() -> None:
            if lab.workload.decision_problem(saga_id) is None:
                lab.submit(DecideApproval(saga_id=saga_id, approve=True, note="prove"))

        lab.clock.call_later(0.1, decide)


# -- killed: a real SIGKILL of a child process, then the real resume --------------------------------------
def _dies_at(case: Case) -> Callable[[Event], bool]:
    """The moment a killed case dies: as its step's (its undo's) first answer arrives, before anything
    after it is recorded: the effect happened, whether its record is durable the disk decides."""
    # (a step its deadline ends before any answer dies as it fails)
    kinds = {EventKind.COMPENSATION_ATTEMPT} if case.undo else {EventKind.ATTEMPT_SUCCEEDED, EventKind.ATTEMPT_FAILED,
                                                                EventKind.STEP_SUCCEEDED, EventKind.STEP_FAILED}
    return lambda event: event.kind in kinds and event.saga_id == CASE_SAGA and event.step == case.step


def _child(pack_text: str, source_name: str, saga: str, saga_input: dict[str, Any], seed: int, case: Case,
           db: Path) -> None:
    """A killed case's process: run the case until it dies at its moment (or, never reaching it, ends)."""
    subject = Subject(load_pack_text(pack_text, source_name), pack_text, source_name, saga, saga_input, seed)

    async def run() -> None:
        async with await Store.open(db) as store:
            await _run(subject, store, case, die_at=_dies_at(case))

    asyncio.run(run())


async def _killed_case(subject: Subject, case: Case, db: Path, baseline: Baseline) -> CaseResult:
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_child, name=f"sagatui-prove {case.id}", args=(
        subject.pack_text, subject.source_name, subject.saga, subject.saga_input, subject.seed, case, db))
    child.start()
    await asyncio.get_running_loop().run_in_executor(None, child.join)
    if child.exitcode == 0:
        return CaseResult.unreached(case, f"the saga ended before its {'undo' if case.undo else 'step'} of "
                                          f"{case.step} answered: nothing to kill it at")
    if child.exitcode != -signal.SIGKILL:
        return CaseResult(step=case.step, shape=case.shape, broken="terminal", kept=str(db),
                          problems=[f"the case's process ended with exit code {child.exitcode}, not killed"])
    async with await Store.open(db) as store:
        await resume_run(store, 1, operator=lambda lab: functools.partial(_approve, lab))  # as `sagatui resume`
        events = await read_events(store, 1)
        return await judge(subject.pack, case, store, 1, events, baseline, kept=db)


def saga_database(db: Path, saga: str) -> Path:
    """Where saga `saga`'s proof is kept when several sagas are proved into `db`: one database each beside it
    (prove.db -> prove-order.db, its cases prove-order-1.db, ...)."""
    return db.with_name(f"{db.stem}-{saga}{db.suffix}")


def first_input(pack: Pack, scenario: str) -> dict[str, Any] | None:
    """A scenario's first input (a timed input's, a workload's first variation's); None if it has none."""
    chosen = pack.scenarios[scenario]
    if chosen.inputs:
        first = chosen.inputs[0]
        return first if isinstance(first, dict) else first.input
    return chosen.workload.variations[0].input if chosen.workload else None


def sagas_to_prove(pack: Pack) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every saga some scenario runs, in the order of the pack's sagas, with the first scenario that gives it
    an input, and that input."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, scenario in pack.scenarios.items():
        saga_input = first_input(pack, name)
        if saga_input is not None and scenario.saga not in found:
            found[scenario.saga] = (name, saga_input)
    return {saga: found[saga] for saga in pack.sagas if saga in found}
