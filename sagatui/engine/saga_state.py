"""What the engine knows of one saga while it runs, and where a stopped one stood: the state that
`sagatui.lab.recovery` rebuilds from a run's events and the engine carries on from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sagatui.model.definitions import Fallback, SagaDef, StepDef, element_name
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.status import CompensationOutcome, SagaStatus, StepStatus

SIBLING_FAILED = "cancelled: another member of its group failed"
SAGA_STOPPED = "the saga was stopped"  # the cancel message of a saga's task that an operator or its deadline stopped


class Stop(StrEnum):
    """Why a saga goes no further forward (before it failed or completed of its own accord)."""

    CANCELLED = "cancelled"  # an operator's cancel: it ends `cancelled` once what it did is undone
    DEADLINE = "deadline"  # its deadline passed: the step under way times out and the saga compensates


@dataclass(frozen=True)
class QuorumOutcome:
    """A quorum group's decision: whether enough members succeeded, and which failed."""

    met: bool
    failed: list[str]


@dataclass
class StepRecord:
    """What the engine knows of one step of one saga."""

    definition: StepDef
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    provider: Fallback | None = None  # the provider that did (or may have done) the work
    result: dict[str, Any] = field(default_factory=dict)
    error: ServiceError | None = None
    compensation: CompensationOutcome | None = None


@dataclass
class SagaRun:
    saga_id: str
    definition: SagaDef
    input: dict[str, Any]
    started_at: float
    status: SagaStatus = SagaStatus.PENDING
    steps: dict[str, StepRecord] = field(default_factory=dict)
    effects: list[str] = field(default_factory=list)  # steps that may have had an effect, in order
    failed_step: str | None = None
    failed_at: float | None = None
    ended_at: float | None = None
    # Parallel members cancelled because a sibling failed (not by a shutdown, which leaves them for resume).
    # A flag, not the cancel message: two cancels in one loop iteration keep only one message.
    abandoned: set[str] = field(default_factory=set)
    input_error: ServiceError | None = None  # the input did not fit the saga's schema: no step ran
    quorums: dict[str, QuorumOutcome] = field(default_factory=dict)  # decided quorum groups
    branches: dict[str, int | None] = field(default_factory=dict)  # decided switches -> case taken (None: default)
    fan_outs: dict[str, list[Any]] = field(default_factory=dict)  # for_each steps expanded -> their list
    elements: dict[str, tuple[str, int]] = field(default_factory=dict)  # `step[i]` -> (its for_each step, i)
    stop: Stop | None = None  # cancelled, or past its deadline: it goes no further forward

    def stop_error(self) -> ServiceError:
        """What the step under way when the saga was stopped ends with."""
        if self.stop is Stop.DEADLINE:
            return ServiceError(ErrorKind.TIMEOUT, f"the saga's deadline ({self.definition.deadline:g}s) passed",
                                code="saga_deadline")
        return ServiceError(ErrorKind.CANCELLED, "cancelled by an operator", code="cancelled")

    def expand(self, step: StepDef, items: list[Any]) -> list[StepDef]:
        """Give a for_each step one record per element of its list; the elements' steps, in order."""
        self.fan_outs[step.name] = list(items)
        elements = [step.element(index) for index in range(len(items))]
        for index, element in enumerate(elements):
            self.steps.setdefault(element.name, StepRecord(element))
            self.elements[element.name] = (step.name, index)
        return elements

    def element_steps(self, step: StepDef) -> list[StepDef]:
        """The elements of an expanded for_each step, in order."""
        return [self.steps[element_name(step.name, index)].definition for index in range(len(self.fan_outs[step.name]))]

    @property
    def partial(self) -> bool:
        """Some quorum group went on without every member: a completion is completed_partial."""
        return any(outcome.met and outcome.failed for outcome in self.quorums.values())

    def decide_quorum(self, group: str, met: bool, failed: list[str]) -> None:
        self.quorums[group] = QuorumOutcome(met, list(failed))

    @property
    def error(self) -> ServiceError | None:
        return self.steps[self.failed_step].error if self.failed_step else self.input_error

    def first_to_fail(self, failed: list[str]) -> str:
        """Of a quorum group's failed members (steps, or groups nested in it), the step the saga fails at
        when the quorum is missed: the first that failed of its own accord, not one cancelled because the
        quorum was lost."""
        steps = [step for name in failed for step in self.definition.steps_under(name)
                 if step in self.steps and self.steps[step].status is StepStatus.FAILED]
        return next((name for name in steps if (error := self.steps[name].error) is not None
                     and error.message != SIBLING_FAILED), steps[0] if steps else failed[0])

    def rollback_order(self) -> list[str]:
        """The steps to undo, newest first: every step that may have had an effect when the saga failed;
        when it completes, only the optional steps that failed but may have done their work. A stopped
        saga undoes every step that may have had an effect, as a failed one does."""
        if self.failed_step is None and self.stop is None:
            return [name for name in reversed(self.effects) if self.steps[name].error is not None]
        return list(reversed(self.effects))


@dataclass(frozen=True)
class InterruptedCall:
    """A call (a step's, or its compensation's) that a stopped process left open, as its events tell.

    `attempt` is the number of the attempt to make next. With `resend`, that attempt's intent is durable
    but no answer is: it is sent again under the same number and idempotency key, so a service that did
    the work answers with its recorded result instead of doing it twice. Otherwise `last_error` is how
    the attempt before it failed, and the policy decides whether there is another."""

    provider: int = 0  # index into the step's providers (forward calls)
    attempt: int = 1
    resend: bool = False
    last_error: ServiceError | None = None
    step_started_at: float = 0.0  # a step's retry deadline counts from here
    retry_at: float | None = None  # the clock time the retry it was waiting for was due (its backoff kept)


@dataclass(frozen=True)
class ResumePoint:
    """Where a saga rebuilt from its events stood when its process stopped."""

    calls: Mapping[str, InterruptedCall] = field(default_factory=dict)  # steps' forward calls, by step
    undos: Mapping[str, InterruptedCall] = field(default_factory=dict)  # compensations under way, by step
    undone: int = 0  # rollback steps already settled (compensated or skipped), newest first
