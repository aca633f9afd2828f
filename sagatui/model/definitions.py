"""Saga definitions: steps, their resilience policies, breakers. Data only, read from packs."""

from __future__ import annotations

import json
import re
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from sagatui.model.conditions import Comparison, Condition, SagaFacts, compiled_reference
from sagatui.model.definition_base import Definition
from sagatui.model.durations import PositiveDuration
from sagatui.model.errors import DEFAULT_RETRYABLE, ErrorKind
from sagatui.model.input_schema import InputSchema
from sagatui.model.param_refs import ParamValue, Reference, references_in
from sagatui.model.policies import CompensationPolicy, RetryPolicy

_ACTION = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


def _check_action(value: str) -> str:
    if not _ACTION.match(value):
        raise ValueError(f"{value!r} is not an action: write it as service.operation, e.g. payment.charge")
    return value


ActionRef = Annotated[str, Field(description="service.operation, e.g. payment.charge")]


def split_action(action: str) -> tuple[str, str]:
    service, operation = action.split(".", 1)
    return service, operation


MAX_ELEMENTS = 1000
"""The longest list a for_each takes (a longer one fails the step: a list is data, not a budget)."""

class Fallback(Definition):
    """An alternative provider for a step; its compensation defaults to the step's operation on it."""

    action: ActionRef
    compensation: ActionRef | None = None
    cost: float = Field(0.0, ge=0, le=1e12)  # what each call of it costs (any unit the pack keeps to)

    @field_validator("action", "compensation")
    @classmethod
    def _valid_action(cls, value: str | None) -> str | None:
        return value if value is None else _check_action(value)


REMEDIATE_ON = frozenset({ErrorKind.TRANSIENT, ErrorKind.TIMEOUT})


def _check_actions(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_check_action(value) for value in values)


class RemediationRoute(Definition):
    """One way a diagnosis can go: when `when` holds (it may read `diagnosis`, the diagnosis's result),
    call the remedies of `run`, in order. No `when`: always (a last route, for what the others leave)."""

    when: Condition | None = None
    run: Annotated[tuple[ActionRef, ...], AfterValidator(_check_actions)] = Field(min_length=1)


class Remediation(Definition):
    """Detect -> diagnose -> remediate -> retry (sagatui.engine.remediation): when an attempt fails with a
    kind in `errors` and the step will try again, first the `diagnose` operation, then the remedies of the first
    of its `routes` that holds; without a diagnosis, the remedies of `run`, every time."""

    errors: frozenset[ErrorKind] = REMEDIATE_ON
    diagnose: ActionRef | None = None
    routes: tuple[RemediationRoute, ...] = ()
    run: Annotated[tuple[ActionRef, ...], AfterValidator(_check_actions)] = ()

    @field_validator("diagnose")
    @classmethod
    def _valid_diagnose(cls, value: str | None) -> str | None:
        return value if value is None else _check_action(value)

    @field_validator("errors")
    @classmethod
    def _retried_kinds(cls, value: frozenset[ErrorKind]) -> frozenset[ErrorKind]:
        never = sorted(kind.value for kind in value - DEFAULT_RETRYABLE)
        if never:
            raise ValueError(f"{', '.join(never)} is never retried, so no attempt follows to remediate before: "
                             f"errors takes {', '.join(sorted(k.value for k in DEFAULT_RETRYABLE))}")
        if not value:
            raise ValueError("errors names no error kind: leave remediate out instead")
        return value

    @model_validator(mode="after")
    def _a_diagnosis_with_routes_or_remedies(self) -> Remediation:
        if self.diagnose is not None and not self.routes:
            raise ValueError("a diagnosis routes to remedies: give `routes` ([{when: ..., run: [...]}])")
        if self.diagnose is None and self.routes:
            raise ValueError("routes read a diagnosis's result: give `diagnose` (an operation), or `run` alone")
        if self.diagnose is not None and self.run:
            raise ValueError("with a diagnosis, the routes name the remedies: `run` goes under a route")
        if self.diagnose is None and not self.run:
            raise ValueError("give `run` (remedies to call) or `diagnose` with `routes`")
        return self

    @property
    def actions(self) -> tuple[str, ...]:
        """Every operation it may call: the diagnosis, then each route's remedies (or `run`)."""
        diagnose = (self.diagnose,) if self.diagnose is not None else ()
        return (*diagnose, *self.run, *(action for route in self.routes for action in route.run))


class ValueSource(Definition):
    """A value a switch routes on or a for_each goes over: a field of the input (`field`, a dotted path) or a
    reference (`ref`)."""

    field: str | None = None
    ref: Annotated[Any, BeforeValidator(compiled_reference)] = None  # a Reference, compiled as the pack loads

    @model_validator(mode="after")
    def _one_source(self) -> ValueSource:
        if (self.field is None) == (self.ref is None):
            raise ValueError("give `field` (a path in the input) or `ref`, one of the two")
        return self

    def written(self) -> str:
        return f"input.{self.field}" if self.field is not None else self.ref.expression

    def comparison(self, operator: str, operand: Any) -> Comparison:
        """A comparison of this value: `comparison("equals", "billing")`."""
        source = {"field": self.field} if self.field is not None else {"ref": self.ref}
        return Comparison.model_validate({**source, operator: operand})

    @cached_property
    def _reading(self) -> Comparison:
        return self.comparison("exists", True)

    def read(self, facts: SagaFacts) -> Any:
        """The value, or None when there is none."""
        return self._reading.found(facts)


class Approval(Definition):
    """A step that waits for an operator's decision instead of calling a service: approved, the saga goes
    on; rejected, it compensates what came before. With no decision within `timeout`, `default` is taken."""

    timeout: PositiveDuration = 3600.0
    default: Literal["approve", "reject"] = "reject"
    prompt: str = ""  # what the approver is asked (the dashboard and `sagatui saga` show it)


class StepDef(Definition):
    name: str = Field(min_length=1)
    action: ActionRef | None = None  # service.operation; none for an approval step
    approval: Approval | None = None  # a step that waits for an operator's decision instead of an action
    compensation: ActionRef | None = None
    # Constants, or `{ref: <expression>}` read from the saga's data when the call is made (param_refs).
    params: dict[str, ParamValue] = Field(default_factory=dict)
    # What the compensation gets on top of `params`; may read this step's own result as well.
    compensation_params: dict[str, ParamValue] = Field(default_factory=dict)
    retry: RetryPolicy = RetryPolicy()
    compensation_retry: CompensationPolicy = CompensationPolicy()
    breaker: str | None = None
    fallbacks: tuple[Fallback, ...] = ()
    cost: float = Field(0.0, ge=0, le=1e12)  # what each call of the action costs; a fallback says its own
    # The error kinds that send the step to its next provider (None: any but validation, permanent and
    # unexpected); `safe_to_repeat` lets it fall over even after a timeout (a read: no work to undo).
    fallback_on: frozenset[ErrorKind] | None = None
    safe_to_repeat: bool = False
    optional: bool = False
    # Why the step's effect stays after the saga is rolled back (`an email cannot be unsent`): `prove`
    # accepts what it leaves and shows the reason.
    effect_stays: str | None = Field(None, min_length=1)
    accept_partial: bool = False
    when: Condition | None = None
    remediate: Remediation | None = None  # what to call between a failed attempt and the next
    # Repeat the step for each element of a list: `book_seat[0]`, `book_seat[1]`, ... each its own call,
    # result and compensation; its params may read `item` (the element) and `index`.
    for_each: ValueSource | None = None
    concurrency: int = Field(5, ge=1, le=MAX_ELEMENTS)  # elements of a for_each under way at once
    description: str = ""

    def element(self, index: int) -> StepDef:
        """The step for one element of its for_each: the same step, named `name[index]`."""
        return self.model_copy(update={"name": element_name(self.name, index), "for_each": None})

    @field_validator("action", "compensation")
    @classmethod
    def _valid_action(cls, value: str | None) -> str | None:
        return value if value is None else _check_action(value)

    @field_validator("fallbacks", mode="before")
    @classmethod
    def _fallback_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [{"action": item} if isinstance(item, str) else item for item in value]
        return value

    @cached_property
    def references(self) -> tuple[tuple[str, Reference], ...]:
        """The params that read the saga's data (empty for most steps: then params are sent as written)."""
        return references_in(self.params)

    @model_validator(mode="after")
    def _an_action_or_an_approval(self) -> StepDef:
        if (self.action is None) == (self.approval is None):
            raise ValueError("a step needs an `action` (service.operation) or an `approval`, exactly one")
        if self.approval is not None:
            given = [key for key in ("compensation", "fallbacks", "for_each", "params") if getattr(self, key)]
            if given:
                raise ValueError(f"an approval step calls no service: it takes no {', '.join(given)}")
        return self

    @cached_property
    def providers(self) -> tuple[Fallback, ...]:
        """The primary action followed by its fallbacks, each with the compensation that undoes it (none
        for an approval step)."""
        if self.action is None:
            return ()
        chain = [Fallback(action=self.action, compensation=self.compensation, cost=self.cost)]
        for fallback in self.fallbacks:
            compensation = fallback.compensation
            if compensation is None and self.compensation is not None:
                service, _ = split_action(fallback.action)
                compensation = f"{service}.{split_action(self.compensation)[1]}"
            chain.append(Fallback(action=fallback.action, compensation=compensation, cost=fallback.cost))
        return tuple(chain)


class ParallelGroup(Definition):
    """Steps that run concurrently; if one fails for good the rest are cancelled or allowed to finish.
    With `min_successes`, a quorum: the saga goes on when at least that many members succeed (ending
    completed_partial if some failed) and rolls back when too few can."""

    name: str = Field(min_length=1)
    parallel: tuple[StepDef | ParallelGroup, ...] = Field(min_length=1)  # a member may be a group itself
    on_failure: Literal["cancel", "finish"] = "finish"
    min_successes: int | None = Field(None, ge=1)
    description: str = ""

    @model_validator(mode="after")
    def _quorum_within_the_group(self) -> ParallelGroup:
        if self.min_successes is not None and self.min_successes > len(self.parallel):
            raise ValueError(f"min_successes {self.min_successes} is more than the group's "
                             f"{len(self.parallel)} members")
        if any(isinstance(member, StepDef) and member.approval is not None for member in self.parallel):
            raise ValueError("an approval step cannot be a member of a parallel group: a saga waits for one "
                             "decision at a time (put it before or after the group)")
        return self


BranchElement = StepDef | ParallelGroup


class SwitchCase(Definition):
    """One branch of a switch: taken when the switched value equals `equals`, or is one of `in`."""

    equals: Any = None
    in_: list[Any] | None = Field(None, alias="in")
    steps: tuple[BranchElement, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_test(self) -> SwitchCase:
        if (self.equals is None) == (self.in_ is None):
            raise ValueError("a case needs exactly one of `equals` (a value) or `in` (a list of values)")
        return self

    def label(self) -> str:
        """`'billing'`, or `in ['outage', 'bug']`, as the timeline names the branch."""
        return json.dumps(self.equals, ensure_ascii=False) if self.in_ is None else \
            f"in {json.dumps(self.in_, ensure_ascii=False)}"


class Switch(Definition):
    """Routing: exactly one branch runs, the first case the value fits, else `default` (which may be
    empty: then nothing runs). The other branches' steps are skipped."""

    name: str = Field(min_length=1)
    switch: ValueSource
    cases: tuple[SwitchCase, ...] = Field(min_length=1)
    default: tuple[BranchElement, ...] = ()
    description: str = ""

    @cached_property
    def _tests(self) -> tuple[Comparison, ...]:
        return tuple(self.switch.comparison("equals", case.equals) if case.in_ is None
                     else self.switch.comparison("in", case.in_) for case in self.cases)

    def choose(self, facts: SagaFacts) -> tuple[Any, int | None]:
        """The value switched on (None when missing) and the index of the case it fits (None: default)."""
        return self.switch.read(facts), next((index for index, test in enumerate(self._tests) if test.holds(facts)),
                                             None)

    def branch(self, case: int | None) -> tuple[BranchElement, ...]:
        return self.default if case is None else self.cases[case].steps

    def branches(self) -> list[tuple[BranchElement, ...]]:
        return [case.steps for case in self.cases] + [self.default]

    def label(self, case: int | None) -> str:
        return "default" if case is None else self.cases[case].label()


SagaElement = StepDef | ParallelGroup | Switch


def element_name(step: str, index: int) -> str:
    """The name of element `index` of a for_each step: `book_seat[2]`."""
    return f"{step}[{index}]"


def element_of(name: str) -> str:
    """The step a for_each element's name belongs to (`book_seat[2]` -> `book_seat`); any other step's name
    as it is."""
    return name.split("[", 1)[0]


def element_steps(element: SagaElement) -> list[StepDef]:
    """The steps an element holds: itself, a group's members, every branch's steps of a switch."""
    if isinstance(element, ParallelGroup):
        return [step for member in element.parallel for step in element_steps(member)]
    if isinstance(element, Switch):
        return [step for branch in element.branches() for inner in branch for step in element_steps(inner)]
    return [element]


class SagaDef(Definition):
    name: str = Field(min_length=1)
    description: str = ""
    input: InputSchema | None = None  # the fields its input must have; checked before the first step
    steps: tuple[SagaElement, ...] = Field(min_length=1)
    # What a completed saga returns: names -> constants or `{ref: ...}` (recorded on saga.completed).
    output: dict[str, ParamValue] = Field(default_factory=dict)
    # Clock seconds from its start by which it must have ended going forward: once they pass, the step under
    # way is abandoned (as a timeout: it may have done its work) and the saga compensates.
    deadline: PositiveDuration | None = None

    def all_steps(self) -> list[StepDef]:
        """Every step, in definition order, parallel members and switch branches flattened in place. Not
        cached: `model_copy(update=...)` would carry a cache over to a saga with other steps."""
        return [step for element in self.steps for step in element_steps(element)]

    def elements(self) -> list[StepDef | ParallelGroup]:
        """Every step and group, in definition order, the elements of switch branches in place."""
        return [inner for element in self.steps for inner in _unswitched(element)]

    def steps_under(self, name: str) -> list[str]:
        """The steps an element named `name` holds: the step itself, or every step of a group."""
        element = next((element for element in self.elements() if element.name == name), None)
        return [step.name for step in element_steps(element)] if element is not None else [name]

    @model_validator(mode="after")
    def _unique_step_names(self) -> SagaDef:
        names = [step.name for step in self.all_steps()]
        names += [element.name for element in self.elements() if isinstance(element, ParallelGroup)]
        names += [element.name for element in self.steps if isinstance(element, Switch)]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ValueError(f"duplicate step name {name!r} in saga {self.name!r}")
            seen.add(name)
        return self


def _unswitched(element: SagaElement) -> list[StepDef | ParallelGroup]:
    """The element with the groups nested in it, or a switch's branches' elements (and theirs)."""
    if isinstance(element, Switch):
        return [nested for branch in element.branches() for inner in branch for nested in _unswitched(inner)]
    if isinstance(element, ParallelGroup):
        return [element, *(nested for member in element.parallel if isinstance(member, ParallelGroup)
                           for nested in _unswitched(member))]
    return [element]
