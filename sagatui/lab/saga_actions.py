"""`sagatui saga cancel|approve|reject`: an operator's action on sagas a stopped run left going forward.

A live run is acted on from the dashboard that runs it (the sagas table's keys); this is for a run a crash,
Ctrl-C or a headless run waiting for people left unfinished. The run is reopened in this process (as
`resume` does), the action is recorded as the command the dashboard sends, and each saga named is carried
on: a cancelled one is stopped before it takes another step (a call it left open is not sent again: it
may have done its work, so it is undone), compensates and ends `cancelled`; an approved one goes on past
its approval step, a rejected one compensates what came before it. The run's other unfinished sagas stay
where they stand, for `sagatui resume`: the run is interrupted again, or settled once nothing is left.
An approved saga that reaches another approval waits there again (the run is left interrupted).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sagatui.code.app import App
from sagatui.lab.commands import CancelSaga, DecideApproval, RecordedCommand
from sagatui.lab.recovery.reopen import find_run, reopen_run
from sagatui.lab.recovery.world import restore_world
from sagatui.lab.run import WaitingForPeople
from sagatui.lab.workload import Workload
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import RunResumed
from sagatui.model.status import SagaStatus
from sagatui.store.database import Store
from sagatui.store.run_lock import run_in_use


class SagaAction(StrEnum):
    CANCEL = "cancel"
    APPROVE = "approve"
    REJECT = "reject"

    def command(self, saga_id: str, note: str) -> RecordedCommand:
        if self is SagaAction.CANCEL:
            return CancelSaga(saga_id=saga_id, note=note)
        return DecideApproval(saga_id=saga_id, approve=self is SagaAction.APPROVE, note=note)

    def problem(self, workload: Workload, saga_id: str) -> str | None:
        """Why saga `saga_id` cannot take this action now (None: it can)."""
        if self is SagaAction.CANCEL:
            return workload.cancel_problem(saga_id)
        return workload.decision_problem(saga_id)


class NotActionable(LookupError):
    """A saga named that cannot take the action: not in the run, ended already, rolling back, not waiting
    for an approval; or a live process runs the run."""


@dataclass(frozen=True)
class SagaActionReport:
    run_id: int
    statuses: dict[str, SagaStatus]  # where each saga named stands once it ended or waits again
    left: int  # the run's other sagas still unfinished (the run is interrupted again)

    @property
    def needing_attention(self) -> list[str]:
        return [saga_id for saga_id, status in self.statuses.items() if status is SagaStatus.NEEDS_ATTENTION]

    @property
    def waiting(self) -> list[str]:
        """The sagas named that wait at (another) approval step."""
        return [saga_id for saga_id, status in self.statuses.items() if status is SagaStatus.WAITING_APPROVAL]


async def act_on_sagas(store: Store, run_id: int, action: SagaAction, saga_ids: Sequence[str], note: str = "", *,
                       on_event: Callable[[Event], None] | None = None, code: App | None = None,
                       ) -> SagaActionReport:
    """Take `action` on the sagas `saga_ids` of the stopped run `run_id` and carry them on until they end
    or wait for people again. NotActionable (nothing written) when one cannot take it; NoSuchRun;
    StorageError."""
    run = await find_run(store, run_id)
    if run_in_use(store.path, run.id):
        raise NotActionable(f"run {run.id} is being run by another process: {action} its sagas in that dashboard")
    reopened = await reopen_run(store, run, on_event=on_event, code=code)
    lab = reopened.lab
    wanted = list(dict.fromkeys(saga_ids))
    try:
        for saga_id in wanted:
            rebuilt = reopened.sagas.get(saga_id)
            if rebuilt is None:
                raise NotActionable(f"run {run.id} has no saga {saga_id}")
            if rebuilt.saga.status.terminal:
                raise NotActionable(f"saga {saga_id} already ended ({rebuilt.saga.status}): nothing to {action}")
            if (problem := action.problem(lab.workload, saga_id)) is not None:
                raise NotActionable(problem)
        lab.recorder.emit(EventKind.RUN_RESUMED,
                          payload=RunResumed(after_seq=lab.recorder.next_seq - 1, sagas=wanted, resent=[]))
        restore_world(lab, reopened.events)
        for saga_id in wanted:
            lab.apply(action.command(saga_id, note))
            lab.workload.continue_saga(reopened.sagas[saga_id].saga, reopened.sagas[saga_id].point)
        waiting = False
        try:
            await lab.settle()
        except WaitingForPeople:
            waiting = True  # an approved saga reached another approval: it waits there, the run is interrupted
        except asyncio.CancelledError:
            await lab.interrupt()
            raise
        left = sum(1 for saga_id, rebuilt in reopened.sagas.items()
                   if saga_id not in wanted and not rebuilt.saga.status.terminal)
        if left or waiting:
            await lab.interrupt()
        else:
            await lab.conclude()
    finally:
        await lab.close()
    return SagaActionReport(run.id, {saga_id: reopened.sagas[saga_id].saga.status for saga_id in wanted}, left)
