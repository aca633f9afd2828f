"""Resuming runs that a crash (or Ctrl-C) left unfinished: `sagatui resume`, and the dashboard on start.

Each unfinished saga goes on from where its events leave it: a call whose intent is durable but whose
answer is not is sent again with the same idempotency key (a service that did the work answers from its
record, so nothing happens twice), then the saga runs forward or compensates as its state says;
compensations that completed are never run again. The run then settles with its invariant report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sagatui.code.app import App
from sagatui.lab import Lab
from sagatui.lab.recovery.reopen import ReopenedRun, RunMovedOn, find_run, reopen_run
from sagatui.lab.recovery.world import restore_world
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import RunResumed
from sagatui.model.status import InvariantState, SagaStatus
from sagatui.store.database import Store
from sagatui.store.invariants import InvariantResult, check_invariants
from sagatui.store.queries import RunInfo, runs_by_status, saga_counts
from sagatui.store.run_lock import run_in_use

UNFINISHED = ("running", "interrupted")
"""Run statuses that `resume` picks up: never settled (a crash leaves `running`)."""


@dataclass
class ResumeReport:
    run: RunInfo
    resumed: list[str]  # saga ids carried on
    resent: list[str]  # idempotency keys of calls with a durable intent and no answer, sent again
    statuses: dict[str, int]  # every saga of the run, by status, once it settled
    invariants: list[InvariantResult]

    @property
    def ok(self) -> bool:
        """Every saga terminal and no invariant broken. What sagas needing attention still hold is reported
        `held` (awaiting an operator: `sagatui attention list`), which is not a failure of the resume."""
        return (all(SagaStatus(status).terminal for status in self.statuses)
                and all(result.state is not InvariantState.FAIL for result in self.invariants))


@dataclass(frozen=True)
class UnfinishedRun:
    run: RunInfo
    sagas_left: int  # sagas it left running or compensating


async def unfinished_runs(store: Store) -> list[RunInfo]:
    """Runs a crash or an interruption left unfinished, oldest first: what `resume` would carry on
    (not those a live process is still writing)."""
    return [run for run in await runs_by_status(store, UNFINISHED) if not run_in_use(store.path, run.id)]


async def runs_with_sagas_left(store: Store) -> list[UnfinishedRun]:
    """The unfinished runs that left sagas to carry on, with how many, oldest first: what the dashboard
    offers to resume on start. (A dashboard quit with nothing in flight leaves its run unfinished too,
    with nothing to carry on; `resume` would only settle it.)"""
    offered = []
    for run in await unfinished_runs(store):
        left = sum(count for status, count in (await saga_counts(store, run.id)).items()
                   if not SagaStatus(status).terminal)
        if left:
            offered.append(UnfinishedRun(run, left))
    return offered


async def resume_run(
    store: Store, run_id: int, *, speed: float | None = None, on_event: Callable[[Event], None] | None = None,
    operator: Callable[[Lab], Callable[[Event], None]] | None = None, code: App | None = None,
) -> ResumeReport:
    """Carry on every unfinished saga of a run and settle it. A settled run (also one another process
    settled since it was looked up) is only checked: nothing is written. Raises NoSuchRun, StorageError
    (also when a live process still writes the run); cancelled (Ctrl-C), the run is recorded as interrupted.
    `operator`, given the reopened lab, returns a listener of its events that may act on it (`prove`'s
    cases approve what their sagas ask for). `code`: the user's services of a run of their own code."""
    run = await find_run(store, run_id)
    try:
        if run.status not in UNFINISHED:
            raise RunMovedOn(run)
        reopened = await reopen_run(store, run, speed=speed, on_event=on_event, statuses=UNFINISHED, code=code)
    except RunMovedOn as settled:
        return ResumeReport(settled.run, [], [], await saga_counts(store, run_id),
                            await check_invariants(store, run_id))
    if operator is not None:
        reopened.lab.bus.add_listener(operator(reopened.lab))
    try:
        resumed, resent = carry_on(reopened)
        invariants = await reopened.lab.conclude()
    finally:
        await reopened.lab.close()
    return ResumeReport(run, resumed, resent, await saga_counts(store, run_id), invariants)


def carry_on(reopened: ReopenedRun) -> tuple[list[str], list[str]]:
    """Record `run.resumed`, put the world back, and set every unfinished saga going again in the reopened
    lab, which stays live: the dashboard watches it go on, resume_run settles it. Returns the ids of the
    sagas carried on and the idempotency keys of the calls sent again."""
    lab = reopened.lab
    unfinished = [rebuilt for rebuilt in reopened.sagas.values() if not rebuilt.saga.status.terminal]
    resumed = [rebuilt.saga.saga_id for rebuilt in unfinished]
    resent = [key for rebuilt in unfinished for key in rebuilt.resent]
    lab.recorder.emit(EventKind.RUN_RESUMED,
                      payload=RunResumed(after_seq=lab.recorder.next_seq - 1, sagas=resumed, resent=resent))
    restore_world(lab, reopened.events)
    for rebuilt in unfinished:
        lab.workload.continue_saga(rebuilt.saga, rebuilt.point)
    return resumed, resent


async def leave_run(lab: Lab, *, settle: bool = False) -> None:
    """Close a live session's lab (the dashboard quit or reset) so that its run can be carried on later:
    while sagas are in flight or the load generator runs, the run is interrupted (they stop where they
    stand; `resume`, or the dashboard's next start, carries them on). Idle, it is settled first when
    `settle` says so (a resumed run that ran nothing but what was carried on, ended as `resume_run` ends
    one); otherwise it stays open, as an interactive session leaves its run."""
    try:
        if lab.busy:
            await lab.interrupt()
        elif settle:
            await lab.conclude()
    finally:
        await lab.close()
