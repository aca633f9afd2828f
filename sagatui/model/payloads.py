"""The payload of each event kind that carries data, as a typed model.

An event stores its payload as `data` (JSON in the database and in exported sessions); a reader gets it
back typed through `Event.payload_as(Model)`, an emitter passes `payload=Model(...)` to the recorder.
`as_data()` gives the stored form: the JSON field names (`from`, `to`), and no key for an optional
field left unset, so events keep the bytes they had when their data was written by hand.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from sagatui.model.conditions import explain_written
from sagatui.model.durations import format_duration
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.faults import FaultProfile
from sagatui.model.status import BreakerState, CompensationOutcome, SagaStatus


class EventPayload(BaseModel):
    """Base of every payload: frozen, and a key it does not name is an error (a misspelt emitter)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def as_data(self) -> dict[str, Any]:
        """The payload as an event stores it."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# -- run ------------------------------------------------------------------------------------------------
class RunStarted(EventPayload):
    pack: str
    seed: int


class RunSettled(EventPayload):
    metrics: dict[str, Any]  # RunMetrics.as_dict() at the last saga's end
    invariants: list[dict[str, Any]]  # each InvariantResult.as_dict()


class RunInterrupted(EventPayload):
    unfinished: int  # sagas left in flight


class RunResumed(EventPayload):
    after_seq: int  # the last event of the stopped process
    sagas: list[str]  # the sagas carried on
    resent: list[str]  # idempotency keys of the calls sent again


# -- saga -----------------------------------------------------------------------------------------------
class SagaStarted(EventPayload):
    saga: str  # the definition's name
    input: dict[str, Any]


class SagaEnded(EventPayload):
    """saga.completed, .failed, .compensated, .needs_attention: the engine ended the saga."""

    status: SagaStatus
    duration: float  # clock seconds since it started
    not_undone: list[str] | None = None  # failed: the steps with an effect but no compensation
    output: dict[str, Any] | None = None  # completed: what its definition's `output` says it returns


class SagaCompensating(EventPayload):
    to_undo: list[str]  # newest first


class SagaStopping(EventPayload):
    """saga.cancel_requested (an operator's cancel) and saga.deadline_passed: the saga goes no further
    forward; the step under way is abandoned (a call in flight may have done its work) and what the saga
    did is undone."""

    note: str = ""  # cancel: the operator's note
    scenario: str | None = None  # cancel: the scenario whose `cancels:` scripted it (None: an operator's command)
    deadline: float | None = None  # deadline_passed: the saga's deadline, clock seconds from its start


class ApprovalRequested(EventPayload):
    """An approval step waits for an operator's decision, until `due_at` (clock time), then takes `default`."""

    prompt: str
    timeout: float
    default: Literal["approve", "reject"]
    due_at: float

    def summary(self) -> str:
        asked = f"asks: {self.prompt}; " if self.prompt else "waits for an operator's decision; "
        return f"{asked}{'approved' if self.default == 'approve' else 'rejected'} if none within " \
               f"{format_duration(self.timeout)}"


class ApprovalDecided(EventPayload):
    """How an approval step was decided: by an operator (`sagatui saga approve|reject`, the dashboard), by a
    scenario's `decisions:`, or by its timeout (its default)."""

    approved: bool
    note: str = ""
    by: Literal["operator", "scenario", "timeout"]

    def summary(self) -> str:
        verdict = "approved" if self.approved else "rejected"
        who = {"operator": "by an operator", "scenario": "by the scenario",
               "timeout": "by default: no decision in time"}
        return f"{verdict} {who[self.by]}" + (f": {self.note}" if self.note else "")


class SagaResolved(EventPayload):
    """An operator marked a saga that needed attention as handled."""

    note: str
    status: SagaStatus  # completed (its leftover undo was optional), compensated, or cancelled


# -- step and its calls ---------------------------------------------------------------------------------
class StepStarted(EventPayload):
    params: dict[str, Any] | None = None  # what its `{ref: ...}` params read (none for constant params)


class StepSkipped(EventPayload):
    reason: str  # condition, or branch
    condition: dict[str, Any] | None = None  # the step's `when`, as the pack wrote it
    switch: str | None = None  # reason branch: the switch whose chosen branch it is not on

    def why(self) -> str:
        """`condition not met: steps.classify.result.priority equals 'high'`, `not on route's chosen branch`."""
        if self.reason == "branch":
            return f"not on the branch {self.switch} chose"
        if self.reason != "condition" or self.condition is None:
            return self.reason
        return f"condition not met: {explain_written(self.condition)}"


class ForEachExpanded(EventPayload):
    """for_each.expanded (step: the for_each step): the list it goes over; its elements run as `step[i]`."""

    over: str  # the field or reference, as written
    items: list[Any]

    def summary(self) -> str:
        return f"{len(self.items)} element(s) of {self.over}"


class BranchChosen(EventPayload):
    """branch.chosen (step: the switch): the value it routed on and the branch that runs."""

    on: str  # the field or reference, as written
    value: Any = None  # null when it found nothing
    case: int | None = None  # index of the case taken; none: the default branch
    branch: str  # the case's label (`'billing'`, `in ['outage', 'bug']`) or `default`

    def summary(self) -> str:
        return f"{self.on} = {json.dumps(self.value, ensure_ascii=False, default=str)} -> {self.branch}"


class StepSucceeded(EventPayload):
    result: dict[str, Any]


class StepFailed(EventPayload):
    optional: bool
    may_have_effect: bool  # it succeeded or timed out: its compensation runs
    quorum: str | None = None  # a member of this quorum group: the group's decision, not this, fails the saga


class QuorumDecided(EventPayload):
    """group.quorum (step: the group): once every member of a group with `min_successes` ended, or too
    many failed for the rest to make it, whether enough succeeded."""

    min_successes: int  # the successes it needed (fewer than the group's when conditions skipped members)
    met: bool
    succeeded: list[str]
    failed: list[str]  # in definition order; the saga fails at the first when the quorum is missed

    def summary(self) -> str:
        """`2 of 3 succeeded (at least 2 needed): a, b; failed: c`"""
        ran = len(self.succeeded) + len(self.failed)
        failed = f"; failed: {', '.join(self.failed)}" if self.failed else ""
        return (f"{len(self.succeeded)} of {ran} succeeded (at least {self.min_successes} needed): "
                f"{', '.join(self.succeeded) or 'none'}{failed}")


class CallOutcome(EventPayload):
    """attempt.succeeded, attempt.failed and compensation.attempt: how one call ended."""

    duration: float
    code: str | None = None  # the service's error code
    retry_after: float | None = None  # a 429's retry-after, seconds
    exception: str | None = None  # an unexpected error's repr


class RetryScheduled(EventPayload):
    """retry.scheduled and compensation.retry_scheduled."""

    delay: float  # clock seconds until the attempt named in `attempt`
    policy: ErrorKind | None = None  # the by_error policy the delay and budget came from, if one did


class FallbackUsed(EventPayload):
    from_action: str = Field(alias="from")
    to_action: str = Field(alias="to")
    reason: str  # why the previous provider was left ("" when there was no error)


# -- breaker --------------------------------------------------------------------------------------------
class BreakerTransition(EventPayload):
    """A breaker changed state; why is the event's `message`."""

    breaker: str
    from_state: BreakerState = Field(alias="from")
    to_state: BreakerState = Field(alias="to")


class BreakerRejected(EventPayload):
    """An open breaker turned a try away; the event's `service` is the one the call was for."""

    breaker: str
    undo: bool | None = None  # True: a compensation's try, not a step's


class BulkheadQueued(EventPayload):
    """A try found every slot of its service's bulkhead taken and waits for one (`ahead` tries before it)."""

    bulkhead: str
    in_flight: int
    ahead: int
    undo: bool | None = None  # True: a compensation's try, not a step's


class BulkheadRejected(EventPayload):
    """A service's bulkhead turned a try away (queue full, or no slot within its queue timeout)."""

    bulkhead: str
    in_flight: int
    queued: int
    waited: float | None = None  # seconds it waited in the queue first (none: refused at once, the queue full)
    undo: bool | None = None


class RemediationStarted(EventPayload):
    """A diagnosis or a remedy is about to be called, after the failed attempt the event names (its intent)."""

    role: Literal["diagnose", "remedy"]


class RemediationEnded(EventPayload):
    """A diagnosis or a remedy answered (`result`) or failed (the event's error); a diagnosis says which
    route its result chose (`route`, none: no route held) and so which remedies follow."""

    role: Literal["diagnose", "remedy"]
    duration: float
    result: dict[str, Any] | None = None
    route: int | None = None
    remedies: list[str] | None = None  # a diagnosis's: the remedies its route names (empty: none)

    def summary(self) -> str:
        """`found mode=stuck healthy=false -> route 1: settlement_api.reset`, `cleared=true mode=online`."""
        found = " ".join(f"{name}={value if isinstance(value, str) else json.dumps(value)}"
                         for name, value in (self.result or {}).items())
        if self.role == "remedy":
            return found
        if self.route is None:
            return f"found {found} -> no route holds: nothing to remedy"
        return f"found {found} -> route {self.route + 1}: {', '.join(self.remedies or ())}"


# -- compensation ---------------------------------------------------------------------------------------
class CompensationStarted(EventPayload):
    context: dict[str, Any]  # CompensationContext.as_dict(): why the undo runs, the forward result


class CompensationEnded(EventPayload):
    """How an undo ended. `attempt` on the event counts its tries; `calls` and `rejected` tell apart
    the tries that reached the service and those an open breaker refused."""

    outcome: CompensationOutcome
    reason: str | None = None  # the last error a call returned (or why it never ran)
    error_kind: ErrorKind | None = None
    calls: int | None = None
    rejected: int | None = None
    then: str | None = None  # what refused the tries after `reason` (an open breaker)
    undone: list[str] | None = None  # partial: what was undone
    not_undone: list[str] | None = None  # partial: what was not
    result: dict[str, Any] | None = None  # completed: the service's answer

    def tries(self, attempts: int) -> str:
        """`5 attempt(s)`, or `5 call(s) and 5 refused by the breaker` when an open breaker turned tries away."""
        rejected = self.rejected or 0
        if not rejected:
            return f"{attempts} attempt(s)"
        calls = self.calls if self.calls is not None else attempts - rejected
        return f"{calls} call(s) and {rejected} refused by the breaker"

    def why(self) -> str:
        """The last error a call returned, then what refused the tries after it (an open breaker)."""
        reason = self.reason or ""
        return f"last error: {reason}; then {self.then}" if self.then else reason


class CompensationSkipped(EventPayload):
    reason: str


# -- the simulated world --------------------------------------------------------------------------------
class ServiceEffect(EventPayload):
    """Rows a service's call (or its setup) wrote: the log alone says what each effect changed."""

    key: str | None = None  # the call's idempotency key (none for setup)
    result: dict[str, Any] | None = None  # the call's answer (none for setup)
    writes: list[tuple[str, dict[str, Any], dict[str, Any]]]  # (table, row key, values set)


class CodeAnswered(EventPayload):
    """code.answered: what a real call of the user's own code (sagatui.code) answered, at the clock time of the
    event. Replay feeds it back to the same call instead of calling again."""

    key: str  # the call's idempotency key
    result: dict[str, Any] | None = None  # the answer (none: it failed)
    error_kind: ErrorKind | None = None  # how it failed
    message: str | None = None
    code: str | None = None
    retry_after: float | None = None
    exception: str | None = None  # an unexpected error's traceback

    def error(self) -> ServiceError | None:
        """The failure it recorded, as raised again."""
        if self.error_kind is None:
            return None
        return ServiceError(self.error_kind, self.message or "", code=self.code, retry_after=self.retry_after,
                            detail=self.exception)

    @classmethod
    def of(cls, key: str, answer: dict[str, Any] | ServiceError) -> CodeAnswered:
        if isinstance(answer, ServiceError):
            return cls(key=key, error_kind=answer.kind, message=answer.message, code=answer.code,
                       retry_after=answer.retry_after, exception=answer.detail)
        return cls(key=key, result=answer)


class FaultChanged(EventPayload):
    profile: FaultProfile
    previous: str  # the label of the profile it replaced
    source: str  # user, pack, scenario <name>, reopened, ...

    @field_serializer("profile")
    def _every_field(self, profile: FaultProfile) -> dict[str, Any]:
        # Every field, unset ones (`revert_after: null`) included, as the profile dumps itself.
        return profile.model_dump(mode="json")


class ServiceChanged(EventPayload):
    """A scheduled change of a service's state (a scenario's `changes:`): the options it set, the units it
    restocked, and the rows that changed with them (committed with this event)."""

    options: dict[str, Any] = Field(default_factory=dict)  # the options set, as validated (the rest kept)
    restock: dict[str, int] = Field(default_factory=dict)  # inventory: SKU -> units added
    writes: list[tuple[str, dict[str, Any], dict[str, Any]]] = Field(default_factory=list)  # as ServiceEffect's
    source: str  # scenario <name>

    def summary(self) -> str:
        """`declined_cards=["4242-4242-4242-4242"]`, `restock WIDGET +5`, `capacity=3; restock ...`"""
        parts = [f"{name}={json.dumps(value, ensure_ascii=False, default=str)}" for name, value in self.options.items()]
        if self.restock:
            parts.append("restock " + ", ".join(f"{sku} +{units}" for sku, units in self.restock.items()))
        return "; ".join(parts)
