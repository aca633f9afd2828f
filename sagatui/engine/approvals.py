"""Approval steps: a saga waits for an operator's decision instead of calling a service.

A step with `approval:` records `approval.requested` and the saga shows `waiting_approval` until a
decision comes (an operator's, a scenario's `decisions:`) or its timeout passes (then its `default` is
taken), recorded as `approval.decided`. Approved, the step succeeds (its result says so, for conditions
and references); rejected, it fails for good and the saga compensates what came before. An approval has
no effect of its own to undo.

The timeout is a person's time (`VirtualClock.call_at(for_people=True)`): on a virtual clock, a run with
nothing else to do holds there instead of jumping past it. A saga rebuilt after a stop goes on waiting
until the same clock time; a decision taken for it before it is carried on (`sagatui saga approve`) is
kept until it asks again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from sagatui.engine.clock import VirtualClock
from sagatui.engine.recorder import EventRecorder
from sagatui.engine.saga_state import SagaRun
from sagatui.model.definitions import Approval
from sagatui.model.events import EventKind
from sagatui.model.payloads import ApprovalDecided, ApprovalRequested
from sagatui.model.status import SagaStatus

DecidedBy = Literal["operator", "scenario", "timeout"]


@dataclass(frozen=True)
class Decision:
    approved: bool
    note: str = ""
    by: DecidedBy = "operator"


@dataclass(frozen=True)
class PendingApproval:
    """A saga waiting at an approval step: what it asks, and until when."""

    saga_id: str
    step: str
    prompt: str
    due_at: float
    default: Literal["approve", "reject"]


class Approvals:
    """The approval steps waiting in a run, by saga (a saga waits at one approval at a time)."""

    def __init__(self, clock: VirtualClock, recorder: EventRecorder) -> None:
        self._clock = clock
        self._recorder = recorder
        self._waiting: dict[str, tuple[PendingApproval, asyncio.Future[Decision]]] = {}
        self._decided_early: dict[str, Decision] = {}  # for sagas rebuilt waiting, not carried on yet

    @property
    def pending(self) -> list[PendingApproval]:
        """Every approval waiting for a decision, in the order they were asked."""
        return [pending for pending, _ in self._waiting.values()]

    async def wait(self, saga: SagaRun, step: str, approval: Approval, asked_at: float, resumed: bool) -> Decision:
        """Ask (recorded, unless `resumed`: asked before the process stopped, at `asked_at`) and wait for
        the decision, or the default at the timeout."""
        due_at = asked_at + approval.timeout
        if not resumed:
            self._recorder.emit(EventKind.APPROVAL_REQUESTED, saga_id=saga.saga_id, step=step,
                                payload=ApprovalRequested(prompt=approval.prompt, timeout=approval.timeout,
                                                          default=approval.default, due_at=due_at))
        saga.status = SagaStatus.WAITING_APPROVAL
        decision = self._decided_early.pop(saga.saga_id, None)
        if decision is None:
            future: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
            pending = PendingApproval(saga.saga_id, step, approval.prompt, due_at, approval.default)
            self._waiting[saga.saga_id] = pending, future
            timer = self._clock.call_at(due_at, lambda: self._decide(saga.saga_id, Decision(
                approval.default == "approve", f"no decision within {approval.timeout:g}s", "timeout")),
                for_people=True)
            try:
                decision = await future
            finally:
                timer.cancel()
                self._waiting.pop(saga.saga_id, None)
        saga.status = SagaStatus.RUNNING
        self._recorder.emit(EventKind.APPROVAL_DECIDED, saga_id=saga.saga_id, step=step,
                            payload=ApprovalDecided(approved=decision.approved, note=decision.note, by=decision.by))
        return decision

    def problem(self, saga_id: str, waiting: SagaRun | None = None) -> str | None:
        """Why saga `saga_id` cannot be decided now (None: it can): it must wait at an approval (here, or
        as `waiting`, rebuilt from a stopped run and not carried on yet)."""
        if saga_id in self._waiting:
            return None
        if waiting is not None and waiting.status is SagaStatus.WAITING_APPROVAL:
            return None if saga_id not in self._decided_early else f"saga {saga_id} is decided already"
        return f"saga {saga_id} is not waiting for an approval"

    def decide(self, saga_id: str, decision: Decision, waiting: SagaRun | None = None) -> bool:
        """Decide the approval saga `saga_id` waits at; False when it waits at none (see `problem`)."""
        if self.problem(saga_id, waiting) is not None:
            return False
        if saga_id in self._waiting:
            self._decide(saga_id, decision)
        else:
            self._decided_early[saga_id] = decision
        return True

    def _decide(self, saga_id: str, decision: Decision) -> None:
        waiting = self._waiting.get(saga_id)
        if waiting is not None and not waiting[1].done():
            waiting[1].set_result(decision)
