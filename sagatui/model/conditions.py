"""Conditions a pack writes on a step (`when:`): tests on the saga input, on earlier steps' results and
on earlier steps' outcomes, combined with all / any / not. Data, never code: values are read with the
same `{ref: ...}` JMESPath references as params (sagatui.model.param_refs), and `matches` runs a
regular expression with RE2, whose time is linear in the text whatever the pattern (no catastrophic
backtracking on hostile input).

    when: {field: need_car, equals: true}                          # a path in the saga input
    when: {ref: steps.classify.result.priority, in: [high, urgent]}
    when: {step: charge_payment, outcome: succeeded}               # succeeded, failed, skipped, compensated
    when: {all: [{ref: input.amount, greater_than: 100}, {not: {field: customer, matches: "@test\\.example$"}}]}

What a comparison does when the value is missing (no such field, or null): `not_equals` and `not_in`
hold, `exists: false` holds; every other operator does not (`equals`, `in`, `greater_than`,
`less_than`, `exists: true`, `contains`, `starts_with`, `matches`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

import re2
from pydantic import BeforeValidator, Discriminator, Field, Tag, TypeAdapter, field_validator, model_validator

from sagatui.model.definition_base import Definition
from sagatui.model.param_refs import Reference, compile_reference
from sagatui.model.status import StepStatus

OPERATORS = ("equals", "not_equals", "in", "not_in", "greater_than", "less_than", "exists", "contains",
             "starts_with", "matches")
_HOLD_WHEN_MISSING = frozenset({"not_equals", "not_in"})
MAX_PATTERN = 1000  # characters: a pattern is data someone wrote, not a program
Outcome = Literal["succeeded", "failed", "skipped", "compensated"]
_OUTCOME_STATUSES: dict[str, frozenset[StepStatus]] = {
    "succeeded": frozenset({StepStatus.SUCCEEDED}),
    "failed": frozenset({StepStatus.FAILED}),
    "skipped": frozenset({StepStatus.SKIPPED}),
    "compensated": frozenset({StepStatus.COMPENSATED}),
}
_MISSING = object()


@dataclass(frozen=True)
class SagaFacts:
    """What a condition reads: the saga's data (`{"input": ..., "steps": {name: {"result": ...}}}`, as
    references read it) and each step's status by name."""

    data: dict[str, Any]
    statuses: Mapping[str, StepStatus]


def _regex(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False  # a bad pattern is the pack's error, said once, not logged to stderr
    return re2.compile(pattern, options)


def compiled_reference(value: Any) -> Reference | None:
    return value if value is None or isinstance(value, Reference) else compile_reference(value)


class Comparison(Definition):
    """One value, read from the input (`field`, a dotted path) or by a reference (`ref`), and exactly one
    operator."""

    field: str | None = None
    ref: Annotated[Any, BeforeValidator(compiled_reference)] = None  # a Reference, compiled as the pack loads
    equals: Any = None
    not_equals: Any = None
    in_: list[Any] | None = Field(None, alias="in")
    not_in: list[Any] | None = None
    greater_than: float | None = None
    less_than: float | None = None
    exists: bool | None = None
    contains: Any = None
    starts_with: str | None = None
    matches: str | None = Field(None, max_length=MAX_PATTERN)

    @field_validator("matches")
    @classmethod
    def _valid_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                _regex(value)
            except re2.error as error:
                reason = error.args[0].decode(errors="replace") if error.args and isinstance(error.args[0], bytes) \
                    else str(error)
                raise ValueError(f"{value!r} is not a regular expression RE2 takes: {reason}") from None
        return value

    @model_validator(mode="after")
    def _one_source_one_operator(self) -> Comparison:
        if (self.field is None) == (self.ref is None):
            raise ValueError("a comparison reads one value: give `field` (a path in the input) or `ref`")
        if len(self.operators) != 1:
            raise ValueError(f"a comparison needs exactly one of {', '.join(OPERATORS)}")
        return self

    @property
    def operators(self) -> list[str]:
        return [name for name in OPERATORS if getattr(self, "in_" if name == "in" else name) is not None]

    @cached_property
    def _pattern(self) -> Any:
        return _regex(self.matches) if self.matches is not None else None

    def value(self, facts: SagaFacts) -> Any:
        """The value compared; _MISSING when there is none (no such field, or null)."""
        if self.ref is not None:
            found = self.ref.find(facts.data)
            return _MISSING if found is None else found
        value: Any = facts.data.get("input", {})
        for part in (self.field or "").split("."):
            if not isinstance(value, dict) or value.get(part) is None:
                return _MISSING
            value = value[part]
        return value

    def found(self, facts: SagaFacts) -> Any:
        """The value compared, or None when there is none (a function that cannot take what it was
        given finds nothing)."""
        try:
            value = self.value(facts)
        except ValueError:
            return None
        return None if value is _MISSING else value

    def holds(self, facts: SagaFacts) -> bool:
        (operator,) = self.operators
        try:
            value = self.value(facts)
        except ValueError:
            value = _MISSING  # a function that cannot take what it was given finds nothing
        if value is _MISSING:
            return operator in _HOLD_WHEN_MISSING or (operator == "exists" and self.exists is False)
        return _compare(operator, value, self)

    def explain(self) -> str:
        (operator,) = self.operators
        operand = getattr(self, "in_" if operator == "in" else operator)
        source = f"input.{self.field}" if self.field is not None else (self.ref.expression if self.ref else "")
        return f"{source} {operator} {json.dumps(operand, ensure_ascii=False, default=str)}"


def _compare(operator: str, value: Any, test: Comparison) -> bool:
    match operator:
        case "equals":
            return bool(value == test.equals)
        case "not_equals":
            return bool(value != test.not_equals)
        case "in":
            return value in (test.in_ or [])
        case "not_in":
            return value not in (test.not_in or [])
        case "greater_than" | "less_than":
            if not isinstance(value, int | float) or isinstance(value, bool):
                return False
            return value > (test.greater_than or 0) if operator == "greater_than" else value < (test.less_than or 0)
        case "exists":
            return test.exists is True
        case "contains":
            if isinstance(value, str):
                return isinstance(test.contains, str) and test.contains in value
            return isinstance(value, list | dict) and test.contains in value
        case "starts_with":
            return isinstance(value, str) and value.startswith(test.starts_with or "")
        case "matches":
            return isinstance(value, str) and test._pattern.search(value) is not None
    raise AssertionError(operator)  # pragma: no cover


class OutcomeTest(Definition):
    """An earlier step's outcome: `{step: charge_payment, outcome: succeeded}` (or a list of outcomes)."""

    step: str = Field(min_length=1)
    outcome: Outcome | tuple[Outcome, ...]

    def holds(self, facts: SagaFacts) -> bool:
        status = facts.statuses.get(self.step)
        wanted = (self.outcome,) if isinstance(self.outcome, str) else self.outcome
        return any(status in _OUTCOME_STATUSES[outcome] for outcome in wanted)

    def explain(self) -> str:
        wanted = self.outcome if isinstance(self.outcome, str) else " or ".join(self.outcome)
        return f"step {self.step} {wanted}"


class AllOf(Definition):
    all: tuple[Condition, ...] = Field(min_length=1)

    def holds(self, facts: SagaFacts) -> bool:
        return all(condition.holds(facts) for condition in self.all)

    def explain(self) -> str:
        return "all of (" + "; ".join(condition.explain() for condition in self.all) + ")"


class AnyOf(Definition):
    any: tuple[Condition, ...] = Field(min_length=1)

    def holds(self, facts: SagaFacts) -> bool:
        return any(condition.holds(facts) for condition in self.any)

    def explain(self) -> str:
        return "any of (" + "; ".join(condition.explain() for condition in self.any) + ")"


class NotOf(Definition):
    not_: Condition = Field(alias="not")

    def holds(self, facts: SagaFacts) -> bool:
        return not self.not_.holds(facts)

    def explain(self) -> str:
        return f"not ({self.not_.explain()})"


def _kind(value: Any) -> str:
    """Which model a written condition is, by its keys (so an error names that model's fields only)."""
    if isinstance(value, dict):
        for key, kind in (("all", "all_of"), ("any", "any_of"), ("not", "not_of"), ("step", "outcome_test")):
            if key in value:
                return kind
    elif isinstance(value, AllOf | AnyOf | NotOf | OutcomeTest):
        return {AllOf: "all_of", AnyOf: "any_of", NotOf: "not_of", OutcomeTest: "outcome_test"}[type(value)]
    return "comparison"


Condition = Annotated[
    Annotated[Comparison, Tag("comparison")] | Annotated[OutcomeTest, Tag("outcome_test")]
    | Annotated[AllOf, Tag("all_of")] | Annotated[AnyOf, Tag("any_of")] | Annotated[NotOf, Tag("not_of")],
    Discriminator(_kind),
]
for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()


def walk(condition: Condition, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...],
                                                                                  Comparison | OutcomeTest]]:
    """Every comparison and outcome test in the condition, with its path inside it (`("all", 1, "not")`)."""
    if isinstance(condition, AllOf | AnyOf):
        key = "all" if isinstance(condition, AllOf) else "any"
        for index, part in enumerate(getattr(condition, key)):
            yield from walk(part, (*path, key, index))
    elif isinstance(condition, NotOf):
        yield from walk(condition.not_, (*path, "not"))
    else:
        yield path, condition


def dumped(condition: Condition) -> dict[str, Any]:
    """The condition as the pack wrote it (a reference as `{ref: ...}`'s text)."""
    if isinstance(condition, Comparison):
        written = condition.model_dump(by_alias=True, exclude_none=True, exclude={"ref"})
        if condition.ref is not None:
            written = {"ref": condition.ref.expression, **written}
        return written
    if isinstance(condition, AllOf):
        return {"all": [dumped(part) for part in condition.all]}
    if isinstance(condition, AnyOf):
        return {"any": [dumped(part) for part in condition.any]}
    if isinstance(condition, NotOf):
        return {"not": dumped(condition.not_)}
    return condition.model_dump(exclude_none=True)


def explain_written(written: dict[str, Any]) -> str:
    """A condition as a recording holds it, told as a reader reads it (as JSON if it no longer loads)."""
    try:
        return _ADAPTER.validate_python(written).explain()
    except ValueError:
        return json.dumps(written, sort_keys=True, default=str)


_ADAPTER: TypeAdapter[Condition] = TypeAdapter(Condition)
