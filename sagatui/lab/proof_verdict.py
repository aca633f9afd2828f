"""Judging one case of `sagatui prove` (sagatui.lab.prove): the checks, in the order a cell of the matrix
names the first one broken.

- terminal: the saga reached a terminal status;
- outcome: the status the break must end in: rolled back (compensated, failed, cancelled) or gone on past
  an optional step for a forward break; needing attention when an undo failed for good (never
  compensated: that would say an unrefunded charge was given back); killed and resumed, what the run
  never killed ended in;
- effect twice: no idempotency key had its effect applied twice;
- undo order: compensations only of steps that took effect, each once, newest first, and every such step
  undone (the fuzz properties of the event stream);
- world: rolled back, the rows no saga owns are as they were before the saga and the saga holds nothing
  but what its pack declares to stay (`effect_stays`); needing attention, what it holds is listed as held;
  killed and resumed, the world is the run never killed's;
- log: the row writes of the event log fold into exactly the tables;
- invariant: the run's invariants (sagatui.store.invariants) hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from sagatui.lab.fuzz import check_stream, check_tables
from sagatui.lab.proof_world import World
from sagatui.model.definitions import element_of
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import CompensationEnded, SagaStarted, ServiceEffect, StepFailed
from sagatui.model.status import CompensationOutcome, SagaStatus
from sagatui.packs.model import Pack
from sagatui.store.database import Store
from sagatui.store.invariants import check_invariants

if TYPE_CHECKING:
    from sagatui.lab.prove import Case

CHECKS = ("terminal", "outcome", "effect twice", "undo order", "world", "log", "invariant")
ROLLED_BACK = frozenset({SagaStatus.COMPENSATED, SagaStatus.FAILED, SagaStatus.CANCELLED})
WENT_ON = frozenset({SagaStatus.COMPLETED, SagaStatus.COMPLETED_PARTIAL})


class CaseResult(BaseModel):
    """How one case ended, and the first check it broke (None: it passed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    step: str
    shape: str
    reached: bool = True  # False: the run never came to the point (an undo the saga never needs)
    status: SagaStatus | None = None
    broken: str | None = None  # one of CHECKS
    problems: list[str] = []  # every check's problems, the broken one's first
    held: list[str] = []  # what the saga, needing attention, still holds: awaiting an operator
    stays: list[str] = []  # what its pack declares to stay (a sent email), with the reason
    run_id: int | None = None  # the case's run, in its own database (`kept`)
    kept: str | None = None  # the case's own database (None: scratch, not kept)
    note: str | None = None  # a killed case that ended otherwise than the run never killed, and how

    @property
    def ok(self) -> bool:
        return self.broken is None

    @property
    def id(self) -> str:
        return f"{self.step}:{self.shape}"

    @classmethod
    def unreached(cls, case: Case, why: str) -> CaseResult:
        return cls(step=case.step, shape=case.shape, reached=False, problems=[why])


@dataclass(frozen=True)
class Baseline:
    """The world before the saga, and the saga run with nothing broken: how it ended, what it left."""

    start: World
    events: list[Event]
    end: World

    @property
    def status(self) -> SagaStatus | None:
        return _status(self.events)

    @property
    def status_name(self) -> str:
        return self.status.value if self.status else "not terminal"


def _status(events: list[Event]) -> SagaStatus | None:
    return next((status for event in reversed(events) if (status := event.saga_status) is not None), None)


async def judge(pack: Pack, case: Case, store: Store, run_id: int, events: list[Event], baseline: Baseline, *,
                kept: Path | None = None) -> CaseResult:
    """Check one case's run: every check's problems, and the first check broken."""
    if case.undo and not any(e.kind is EventKind.COMPENSATION_STARTED and e.step == case.step for e in events):
        return CaseResult.unreached(case, f"the saga never undid {case.step}: it had ended before the cancel")
    status = _status(events)
    world = await World.read(store, run_id)
    saga = pack.sagas[next(e.payload_as(SagaStarted).saga for e in events if e.kind is EventKind.SAGA_STARTED)]
    stays_for = {step.name: step.effect_stays for step in saga.all_steps() if step.effect_stays}
    stays = [h for h in world.holdings if element_of(h.step) in stays_for]
    holding = [h for h in world.holdings if h not in stays]
    found: dict[str, list[str]] = {name: [] for name in CHECKS}
    if status is None or not status.terminal:
        found["terminal"].append(f"the saga ended {status.value if status else 'never'}")
    found["outcome"] = _outcome(case, status, events)
    found["effect twice"] = _effects_twice(events)
    found["undo order"] = check_stream(pack, events)
    held: list[str] = []
    note = None
    if case.shape == "killed" and status is not None and status is not baseline.status:
        # The answer died with the process: the resumed saga knows only that the call may have been done,
        # and may rightly end otherwise (then judged as any saga that ends so).
        note = f"killed and resumed, it ended {status.value}; never killed, {baseline.status_name}"
    if case.shape == "killed" and note is None:
        found["world"] = world.same_as(baseline.end)
    elif status in ROLLED_BACK:
        found["world"] = world.shared_changes(baseline.start) + [f"{h} still held" for h in holding]
    elif status is SagaStatus.NEEDS_ATTENTION:
        # held: what a step whose undo did not complete (or had none to run) still holds; anything else
        # an undo that completed left behind is a leak
        undone = set(_left_undone(events))
        held = [str(h) for h in holding if h.step in undone]
        found["world"] = [f"{h} still held, though its undo completed" for h in holding if h.step not in undone]
    elif status in WENT_ON and not _succeeded(events, case.step):
        found["world"] = [f"{h}: {case.step} failed and the saga went on, but its effect stays" for h in holding
                          if h.step == case.step]
    found["log"] = await check_tables(store, run_id, events)
    found["invariant"] = [f"{result.name}: {'; '.join(result.details)}"
                          for result in await check_invariants(store, run_id) if result.details]
    broken = next((name for name in CHECKS if found[name]), None)
    told = _rolled_back_or_broke(status, case, events)
    problems = [line for name in ([broken] if broken else []) + [n for n in CHECKS if n != broken]
                for line in found[name]]
    return CaseResult(step=case.step, shape=case.shape, run_id=run_id, status=status, broken=broken,
                      problems=problems, held=held, note=note,
                      stays=[f"{h} ({stays_for[element_of(h.step)]})" for h in stays if told],
                      kept=str(kept) if kept is not None else None)


def _rolled_back_or_broke(status: SagaStatus | None, case: Case, events: list[Event]) -> bool:
    """Whether what stays is worth telling: after a rollback, or a broken step the saga went on past (a
    completed saga's sent email is only what it did)."""
    return status not in WENT_ON or not _succeeded(events, case.step)


def _succeeded(events: list[Event], step: str) -> bool:
    return any(e.kind is EventKind.STEP_SUCCEEDED and e.step == step for e in events)


def _outcome(case: Case, status: SagaStatus | None, events: list[Event]) -> list[str]:
    """Whether the saga ended as the break demands. Needing attention is right where something could not
    be undone: an undo that did not complete, or a step that may have taken effect with nothing to undo
    it (its reply lost); never when every undo went through."""
    if status is None or not status.terminal:
        return []  # terminal says it
    said = status.value.replace("_", " ")
    if case.shape == "undo_fails":
        if status is not SagaStatus.NEEDS_ATTENTION:
            return [f"the undo of {case.step} failed for good, yet the saga ended {said}, not needs attention"]
    elif status is SagaStatus.NEEDS_ATTENTION and not _left_undone(events):
        return [f"every undo went through, yet the saga ended {said}"]
    elif case.undo and status in WENT_ON:
        return [f"the saga was cancelled, yet it ended {said}"]
    elif not case.undo and case.shape != "killed" and status in WENT_ON and not _went_past(events, case.step):
        return [f"{case.step} was broken ({case.shape}), yet it never failed and the saga ended {said}"]
    return []


def _went_past(events: list[Event], step: str) -> bool:
    """The broken step failed and the saga went on past it (optional, a quorum's member), or a fallback
    provider took over."""
    return any(e.step == step and e.kind in (EventKind.STEP_FAILED, EventKind.FALLBACK_USED) for e in events)


def _left_undone(events: list[Event]) -> list[str]:
    """The steps whose effect (maybe) stays for want of an undo: one that ended otherwise than completed,
    or none to run."""
    ended = [e.step for e in events if e.kind is EventKind.COMPENSATION_ENDED and e.step
             and e.payload_as(CompensationEnded).outcome is not CompensationOutcome.COMPLETED]
    maybe = {e.step for e in events if e.kind is EventKind.STEP_FAILED and e.payload_as(StepFailed).may_have_effect}
    skipped = [e.step for e in events if e.kind is EventKind.COMPENSATION_SKIPPED and e.step in maybe]
    return [step for step in ended + skipped if step]


def _effects_twice(events: list[Event]) -> list[str]:
    seen: dict[str, int] = {}
    for event in events:
        if event.kind is EventKind.SERVICE_EFFECT and (key := event.payload_as(ServiceEffect).key) is not None:
            seen[key] = seen.get(key, 0) + 1
    return [f"the effect of {key} was applied {count} times" for key, count in seen.items() if count > 1]

