"""The sagas the dashboard shows, folded from the event stream.

The lab keeps no saga that ended (nor those in flight in a form to show); the table shows both, so the dashboard
folds saga, step and compensation events itself. Memory stays flat under load: in-flight sagas are
kept (the engine bounds them), and of the settled ones only the newest are kept; the store has the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sagatui.event_lines import names
from sagatui.model.events import Event, EventKind
from sagatui.model.payloads import ApprovalRequested, CompensationEnded
from sagatui.model.status import CompensationOutcome, SagaStatus


@dataclass
class SagaRow:
    saga_id: str
    scenario: str
    status: SagaStatus
    started: float
    step: str | None = None
    undoing: bool = False  # `step` is being compensated
    attempts: int = 0
    ended: float | None = None
    problem: str = ""  # why it needs an operator: the compensation that did not complete, or what it asks
    due: float | None = None  # waiting for a decision: the clock time its approval's default is taken

    def age(self, now: float) -> float:
        """Clock seconds since it started; frozen once it has ended."""
        return (self.ended if self.ended is not None else now) - self.started


class SagaBoard:
    def __init__(self, scenario_of: Callable[[str], str], keep_settled: int = 500, keep_attention: int = 1000) -> None:
        self._scenario_of = scenario_of
        self._keep_settled = keep_settled
        self._keep_attention = keep_attention
        self._rows: dict[str, SagaRow] = {}  # in start order
        self._settled: dict[str, None] = {}  # settled, not needing attention, oldest first
        self._attention: dict[str, None] = {}
        self._waiting: dict[str, None] = {}  # waiting for an operator's decision, oldest first
        self.counts: Counter[SagaStatus] = Counter()  # every saga of the run, evicted ones included
        self.version = 0  # bumped on every change, so readers redraw only when needed

    def get(self, saga_id: str) -> SagaRow | None:
        return self._rows.get(saga_id)

    def add(self, event: Event) -> None:
        saga_id = event.saga_id
        if saga_id is None:
            return
        if event.kind is EventKind.SAGA_STARTED:
            self._rows[saga_id] = SagaRow(saga_id, self._scenario_of(saga_id), SagaStatus.RUNNING, event.time)
            self.counts[SagaStatus.RUNNING] += 1
            self.version += 1
            return
        row = self._rows.get(saga_id)
        if row is None:
            return  # evicted long ago
        match event.kind:
            case EventKind.STEP_STARTED:
                row.step, row.undoing = event.step, False
            case EventKind.ATTEMPT_STARTED:
                row.attempts += 1
            case EventKind.APPROVAL_REQUESTED:
                asked = event.payload_as(ApprovalRequested)
                self._move(row, SagaStatus.WAITING_APPROVAL)
                verdict = "approved" if asked.default == "approve" else "rejected"
                row.problem = f"{event.step}: {asked.prompt or 'approve?'} (else {verdict})"
                row.due = asked.due_at
            case EventKind.APPROVAL_DECIDED:
                self._move(row, SagaStatus.RUNNING)
                row.problem, row.due = "", None
            case EventKind.SAGA_COMPENSATING:
                self._move(row, SagaStatus.COMPENSATING)
            case EventKind.COMPENSATION_STARTED:
                self._move(row, SagaStatus.COMPENSATING)
                row.step, row.undoing, row.ended = event.step, True, None
            case EventKind.COMPENSATION_ENDED:
                ended = event.payload_as(CompensationEnded)
                if ended.outcome is CompensationOutcome.COMPLETED:
                    return
                reason = ended.reason or names(ended.not_undone or [])
                row.problem = f"{event.step}: {ended.outcome.value}" + (f" ({reason})" if reason else "")
            case kind if kind.ends_saga:
                status = event.saga_status
                assert status is not None
                self._move(row, status)
                row.ended = event.time
                if kind is EventKind.SAGA_COMPENSATED:
                    row.problem = ""
            case _:
                return
        self.version += 1

    def _move(self, row: SagaRow, status: SagaStatus) -> None:
        if row.status is status:
            return
        self.counts[row.status] -= 1
        self.counts[status] += 1
        self._settled.pop(row.saga_id, None)
        self._attention.pop(row.saga_id, None)
        self._waiting.pop(row.saga_id, None)
        row.status = status
        if status is SagaStatus.WAITING_APPROVAL:
            self._waiting[row.saga_id] = None
        elif status is SagaStatus.NEEDS_ATTENTION:
            self._attention[row.saga_id] = None
            self._evict(self._attention, self._keep_attention)
        elif status.terminal:
            self._settled[row.saga_id] = None
            self._evict(self._settled, self._keep_settled)

    def _evict(self, settled: dict[str, None], keep: int) -> None:
        while len(settled) > keep:
            oldest = next(iter(settled))
            del settled[oldest]
            del self._rows[oldest]

    def rows(self, status: SagaStatus | None = None, limit: int = 200) -> list[SagaRow]:
        """The newest `limit` sagas (of `status`, if given), oldest first."""
        chosen: list[SagaRow] = []
        for row in reversed(self._rows.values()):
            if status is None or row.status is status:
                chosen.append(row)
                if len(chosen) == limit:
                    break
        chosen.reverse()
        return chosen

    def needing_attention(self) -> list[SagaRow]:
        return [self._rows[saga_id] for saga_id in self._attention]

    @property
    def for_an_operator(self) -> int:
        """How many sagas wait for an operator: needing attention or a decision (the inbox's count)."""
        return len(self._attention) + len(self._waiting)

    def waiting_approval(self) -> list[SagaRow]:
        """The sagas waiting for an operator's decision, the longest waiting first."""
        return [self._rows[saga_id] for saga_id in self._waiting]

    @property
    def in_flight(self) -> int:
        return (self.counts[SagaStatus.RUNNING] + self.counts[SagaStatus.WAITING_APPROVAL]
                + self.counts[SagaStatus.COMPENSATING])
