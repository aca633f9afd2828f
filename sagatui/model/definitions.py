"""Saga definitions: steps, their resilience policies, breakers. Data only, read from packs."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from sagatui.model.conditions import Condition
from sagatui.model.definition_base import Definition
from sagatui.model.durations import Duration, PositiveDuration
from sagatui.model.errors import DEFAULT_RETRYABLE, ErrorKind
from sagatui.model.input_schema import InputSchema
from sagatui.model.param_refs import ParamValue, Reference, references_in

_ACTION = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


def _check_action(value: str) -> str:
    if not _ACTION.match(value):
        raise ValueError(f"{value!r} is not an action: write it as service.operation, e.g. payment.charge")
    return value


ActionRef = Annotated[str, Field(description="service.operation, e.g. payment.charge")]


def split_action(action: str) -> tuple[str, str]:
    service, operation = action.split(".", 1)
    return service, operation


DEFAULT_ATTEMPT_TIMEOUT = 30.0
"""Seconds an attempt of a step or of a compensation may take unless its policy says otherwise."""


def _backoff(initial_delay: float, multiplier: float, max_delay: float, retry_number: int) -> float:
    """`initial_delay * multiplier ** (retry_number - 1)`, capped at `max_delay`; a power too large
    for a float (10 ** 999 raises OverflowError) is past any cap."""
    try:
        return min(max_delay, initial_delay * multiplier ** (retry_number - 1))
    except OverflowError:
        return max_delay


class RetryPolicy(Definition):
    """How a step's action is retried. Delays grow by `multiplier` from `initial_delay` up to `max_delay`."""

    max_attempts: int = Field(3, ge=1, le=1000)
    initial_delay: Duration = 0.1
    multiplier: float = Field(2.0, ge=1.0, le=100.0)
    max_delay: Duration = 10.0
    jitter: Literal["none", "full", "equal"] = "none"
    retry_on: frozenset[ErrorKind] = DEFAULT_RETRYABLE
    # A hang must not hold a saga for hours by default: each attempt gets this long (null: no limit).
    attempt_timeout: PositiveDuration | None = DEFAULT_ATTEMPT_TIMEOUT
    deadline: PositiveDuration | None = None

    def backoff(self, retry_number: int) -> float:
        """The un-jittered delay before retry `retry_number` (1 = the first retry)."""
        return _backoff(self.initial_delay, self.multiplier, self.max_delay, retry_number)


class CompensationPolicy(Definition):
    """How a compensation is retried, and how long it may keep trying before it expires."""

    max_attempts: int = Field(10, ge=1, le=1000)
    initial_delay: Duration = 0.1
    multiplier: float = Field(2.0, ge=1.0, le=100.0)
    max_delay: Duration = 30.0
    jitter: Literal["none", "full", "equal"] = "none"
    attempt_timeout: PositiveDuration | None = DEFAULT_ATTEMPT_TIMEOUT  # the orra reference's 30 s
    ttl: Duration = 86400.0

    def backoff(self, retry_number: int) -> float:
        return _backoff(self.initial_delay, self.multiplier, self.max_delay, retry_number)


class BreakerConfig(Definition):
    """Circuit breaker settings (resilience4j/Polly semantics); defaults follow the resilience tutorial."""

    consecutive_failures: int | None = Field(5, ge=1, le=10_000)
    failure_rate: float | None = Field(None, gt=0, le=1)
    window_size: int = Field(10, ge=1, le=10_000)
    minimum_calls: int = Field(5, ge=1, le=10_000)
    slow_call_duration: PositiveDuration | None = None
    slow_call_rate: float | None = Field(None, gt=0, le=1)
    open_duration: Duration = 60.0
    half_open_probes: int = Field(1, ge=1, le=10_000)
    counts_as_failure: frozenset[ErrorKind] = frozenset(
        {ErrorKind.TRANSIENT, ErrorKind.TIMEOUT, ErrorKind.UNEXPECTED}
    )
    # Outcomes that count neither way (resilience4j's ignored exceptions): a 429 says the service is up
    # and asks the caller to slow down; it must not open the breaker on everyone.
    ignore: frozenset[ErrorKind] = frozenset({ErrorKind.RATE_LIMITED})


class Fallback(Definition):
    """An alternative provider for a step; its compensation defaults to the step's operation on it."""

    action: ActionRef
    compensation: ActionRef | None = None

    @field_validator("action", "compensation")
    @classmethod
    def _valid_action(cls, value: str | None) -> str | None:
        return value if value is None else _check_action(value)


class StepDef(Definition):
    name: str = Field(min_length=1)
    action: ActionRef
    compensation: ActionRef | None = None
    # Constants, or `{ref: <expression>}` read from the saga's data when the call is made (param_refs).
    params: dict[str, ParamValue] = Field(default_factory=dict)
    # What the compensation gets on top of `params`; may read this step's own result as well.
    compensation_params: dict[str, ParamValue] = Field(default_factory=dict)
    retry: RetryPolicy = RetryPolicy()
    compensation_retry: CompensationPolicy = CompensationPolicy()
    breaker: str | None = None
    fallbacks: tuple[Fallback, ...] = ()
    optional: bool = False
    accept_partial: bool = False
    when: Condition | None = None
    description: str = ""

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

    @cached_property
    def providers(self) -> tuple[Fallback, ...]:
        """The primary action followed by its fallbacks, each with the compensation that undoes it."""
        chain = [Fallback(action=self.action, compensation=self.compensation)]
        for fallback in self.fallbacks:
            compensation = fallback.compensation
            if compensation is None and self.compensation is not None:
                service, _ = split_action(fallback.action)
                compensation = f"{service}.{split_action(self.compensation)[1]}"
            chain.append(Fallback(action=fallback.action, compensation=compensation))
        return tuple(chain)


class ParallelGroup(Definition):
    """Steps that run concurrently; if one fails for good the rest are cancelled or allowed to finish."""

    name: str = Field(min_length=1)
    parallel: tuple[StepDef, ...] = Field(min_length=1)
    on_failure: Literal["cancel", "finish"] = "finish"
    description: str = ""


SagaElement = StepDef | ParallelGroup


class SagaDef(Definition):
    name: str = Field(min_length=1)
    description: str = ""
    input: InputSchema | None = None  # the fields its input must have; checked before the first step
    steps: tuple[SagaElement, ...] = Field(min_length=1)
    # What a completed saga returns: names -> constants or `{ref: ...}` (recorded on saga.completed).
    output: dict[str, ParamValue] = Field(default_factory=dict)

    def all_steps(self) -> list[StepDef]:
        """Every step, in definition order, parallel members flattened in place."""
        flat: list[StepDef] = []
        for element in self.steps:
            flat.extend(element.parallel if isinstance(element, ParallelGroup) else (element,))
        return flat

    @model_validator(mode="after")
    def _unique_step_names(self) -> SagaDef:
        seen: set[str] = set()
        for element in self.steps:
            names = [element.name] + ([s.name for s in element.parallel]
                                      if isinstance(element, ParallelGroup) else [])
            for name in names:
                if name in seen:
                    raise ValueError(f"duplicate step name {name!r} in saga {self.name!r}")
                seen.add(name)
        return self
