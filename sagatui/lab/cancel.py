"""`sagatui saga cancel`: an operator's cancel of sagas a stopped run left going forward.

A live run is cancelled from the dashboard that runs it (the sagas table's cancel key); this is for a run a
crash or Ctrl-C left unfinished. The run is reopened in this process (as `resume` does), the cancel is
recorded as the command the dashboard sends, each saga named is stopped before it takes another step
(a call it left open is not sent again: it may have done its work, so it is undone) and compensates, and
ends `cancelled`. The run's other unfinished sagas stay where they stand, for `sagatui resume`: the run
is interrupted again, or settled once nothing is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sagatui.lab.commands import CancelSaga
from sagatui.lab.recovery.reopen import find_run, reopen_run
from sagatui.lab.recovery.world import restore_world
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import RunResumed
from sagatui.model.status import SagaStatus
from sagatui.store.database import Store
from sagatui.store.run_lock import run_in_use


class NotCancellable(LookupError):
    """A saga named that cannot be cancelled: not in the run, ended already, rolling back; or a live
    process runs the run."""


@dataclass(frozen=True)
class CancelReport:
    run_id: int
    statuses: dict[str, SagaStatus]  # how each saga cancelled ended (cancelled; needs_attention if an undo failed)
    left: int  # the run's other sagas still unfinished (the run is interrupted again)


async def cancel_sagas(store: Store, run_id: int, saga_ids: Sequence[str], note: str = "", *,
                       on_event: Callable[[Event], None] | None = None) -> CancelReport:
    """Cancel the sagas `saga_ids` of the stopped run `run_id` and let them compensate. NotCancellable
    (nothing written) when one cannot be; NoSuchRun; StorageError."""
    run = await find_run(store, run_id)
    if run_in_use(store.path, run.id):
        raise NotCancellable(f"run {run.id} is being run by another process: cancel its sagas in that dashboard")
    reopened = await reopen_run(store, run, on_event=on_event)
    lab = reopened.lab
    try:
        wanted = list(dict.fromkeys(saga_ids))
        for saga_id in wanted:
            rebuilt = reopened.sagas.get(saga_id)
            if rebuilt is None:
                raise NotCancellable(f"run {run.id} has no saga {saga_id}")
            if rebuilt.saga.status.terminal:
                raise NotCancellable(f"saga {saga_id} already ended ({rebuilt.saga.status}): nothing to cancel")
            if (problem := lab.workload.cancel_problem(saga_id)) is not None:
                raise NotCancellable(problem)
        lab.recorder.emit(EventKind.RUN_RESUMED,
                          payload=RunResumed(after_seq=lab.recorder.next_seq - 1, sagas=wanted, resent=[]))
        restore_world(lab, reopened.events)
        for saga_id in wanted:
            lab.apply(CancelSaga(saga_id=saga_id, note=note))
            lab.workload.continue_saga(reopened.sagas[saga_id].saga, reopened.sagas[saga_id].point)
        try:
            await lab.settle()
        except asyncio.CancelledError:
            await lab.interrupt()
            raise
        left = sum(1 for saga_id, rebuilt in reopened.sagas.items()
                   if saga_id not in wanted and not rebuilt.saga.status.terminal)
        if left:
            await lab.interrupt()
        else:
            await lab.conclude()
    finally:
        await lab.close()
    return CancelReport(run.id, {saga_id: reopened.sagas[saga_id].saga.status for saga_id in wanted}, left)
