"""A user's service: operations that are their own async functions, called by the engine as it calls a
simulated service's (through the fault profile, breaker, bulkhead, retries and timeouts of the run).

    payments = Service("payments", errors={CardDeclined: "permanent", httpx.ConnectError: "transient"})

    @payments.operation
    async def charge(ctx: CallContext, amount: float, card: str) -> dict:
        ...

    @charge.undo
    async def refund(ctx: CallContext, amount: float, card: str) -> dict:
        ...  # ctx.compensation: why the saga rolls back, and what charge answered

An operation gets the step's params (over the saga's input, as a simulated service does) as keyword
arguments, those it names (all of them when it takes **params), and answers a JSON mapping (its result, which
later steps read as `steps.<name>.result`). What it raises says how it failed: a sagatui error
(sagatui.code.errors), or an exception type the service maps to an error kind; anything else is
`unexpected` (no retry, the saga rolls back), with its traceback kept in the log.
"""

from __future__ import annotations

import inspect
import json
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints, is_typeddict, overload

from sagatui.model.calls import Call, CompensationContext, step_key
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.faults import FaultProfile
from sagatui.model.policies import BulkheadConfig

OperationFunction = Callable[..., Awaitable[Mapping[str, Any] | None]]
ErrorMap = Mapping[type[BaseException], ErrorKind | str]


@dataclass(frozen=True)
class RunContext:
    """The run a call belongs to: a service whose own state outlives one run scopes its records by it."""

    run_id: int
    database: Path  # the sagatui database the run is kept in
    resumed: bool = False  # carried on after a stop (`sagatui resume`, an operator's action): not a new run
    state: Any = field(default=None, compare=False)  # what the App's lifespan yielded (None before it has)


@dataclass(frozen=True)
class CallContext:
    """What an operation learns of the call beside its params."""

    run: RunContext
    saga_id: str
    step: str
    attempt: int  # 1 for the first try; the same key comes again with each retry and after a resume
    idempotency_key: str  # the same for every try of this step's call (and of its undo's): dedupe on it
    compensation: CompensationContext | None = None  # set when the call undoes a step

    @property
    def step_key(self) -> str:
        """The key the step's forward call carries (on every try): what an undo finds the forward's effect by
        when the forward's reply was lost and `forward_result` is empty."""
        return step_key(self.saga_id, self.step)

    @property
    def forward_result(self) -> dict[str, Any]:
        """What the step being undone answered ({} when it never answered: a lost reply, a timeout)."""
        return self.compensation.forward_result if self.compensation is not None else {}


class Operation:
    """One operation of a service: the user's async function, callable as it is in their own tests."""

    def __init__(self, service: Service, name: str, function: OperationFunction) -> None:
        if not inspect.iscoroutinefunction(function):
            raise TypeError(f"{service.name}.{name}: an operation is an async function (async def)")
        self.service = service
        self.name = name
        self.function = function
        self.undone_by: str | None = None
        self._signature = inspect.signature(function)
        parameters = list(self._signature.parameters.values())[1:]  # after the context
        takes_any = any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters)
        self._takes: frozenset[str] | None = None if takes_any else frozenset(
            parameter.name for parameter in parameters
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY))
        returned = _return_type(function)
        self.result_type = returned if returned is not None and is_typeddict(returned) else None

    @property
    def action(self) -> str:
        """How a step names it: `payments.charge`."""
        return f"{self.service.name}.{self.name}"

    def undo(self, function: OperationFunction) -> Operation:
        """Decorate the async function that undoes this operation (its compensation), an operation too."""
        undoing = self.service.operation(function)
        self.undone_by = undoing.name
        return undoing

    async def __call__(self, ctx: CallContext, **params: Any) -> Mapping[str, Any] | None:
        return await self.function(ctx, **params)

    async def perform(self, call: Call, run: RunContext) -> dict[str, Any]:
        """Call the function with the call's params; its answer, or the ServiceError that tells its failure."""
        ctx = CallContext(run, call.saga_id, call.step, call.attempt, call.idempotency_key, call.compensation)
        params = call.params if self._takes is None else {
            name: value for name, value in call.params.items() if name in self._takes}
        try:
            self._signature.bind(ctx, **params)
        except TypeError as wrong:
            raise ServiceError(ErrorKind.VALIDATION, f"{self.action}: {wrong}", code="bad_params") from None
        try:
            answer = await self.function(ctx, **params)
        except ServiceError:
            raise
        except Exception as raised:
            raise self.service.classify(raised) from raised
        return _result(self.action, answer)


class Service:
    """A service whose operations are the user's async functions. `errors` maps exception types to the error
    kind each means (the first type an exception is an instance of decides); `fault`, `breaker` and `bulkhead`
    are what a pack's service may say (its starting fault, a named breaker, a limit on calls in flight)."""

    def __init__(self, name: str, *, errors: ErrorMap | None = None, description: str = "",
                 fault: FaultProfile | Mapping[str, Any] | None = None, breaker: str | None = None,
                 bulkhead: BulkheadConfig | Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.description = description
        self.errors = {error: ErrorKind(kind) for error, kind in (errors or {}).items()}
        self.fault = FaultProfile.model_validate(fault) if isinstance(fault, Mapping) else fault
        self.breaker = breaker
        self.bulkhead = BulkheadConfig.model_validate(bulkhead) if isinstance(bulkhead, Mapping) else bulkhead
        self.operations: dict[str, Operation] = {}

    @overload
    def operation(self, function: OperationFunction) -> Operation: ...

    @overload
    def operation(self, function: None = None, *, name: str | None = None,
                  undo: str | None = None) -> Callable[[OperationFunction], Operation]: ...

    def operation(self, function: OperationFunction | None = None, *, name: str | None = None,
                  undo: str | None = None) -> Operation | Callable[[OperationFunction], Operation]:
        """Decorate an async function as an operation (named as the function, or `name`); `undo` names the
        operation that undoes it, or decorate that one with `@<operation>.undo`."""
        def register(function: OperationFunction) -> Operation:
            operation = Operation(self, name or function.__name__, function)
            if operation.name in self.operations:
                raise ValueError(f"{self.name} has an operation {operation.name!r} already")
            operation.undone_by = undo
            self.operations[operation.name] = operation
            return operation

        return register if function is None else register(function)

    def classify(self, raised: Exception) -> ServiceError:
        """The ServiceError an exception of an operation means: by the first mapped type it is an instance
        of; any other is `unexpected`, with its traceback."""
        for error_type, kind in self.errors.items():
            if isinstance(raised, error_type):  # a failure the user expects: its kind says all
                return ServiceError(kind, f"{type(raised).__name__}: {raised}", code=type(raised).__name__,
                                    retry_after=_retry_after(raised))
        detail = "".join(traceback.format_exception(raised)).rstrip()
        return ServiceError(ErrorKind.UNEXPECTED, f"{type(raised).__name__}: {raised}", detail=detail)

    def undo_of(self) -> dict[str, str | None]:
        """Each operation -> the operation that undoes it (None: nothing to undo), as the catalog says it."""
        return {name: operation.undone_by for name, operation in self.operations.items()}

    async def perform(self, call: Call, run: RunContext) -> dict[str, Any]:
        operation = self.operations.get(call.operation)
        if operation is None:
            raise ServiceError(ErrorKind.VALIDATION, f"{self.name} has no operation {call.operation!r}")
        return await operation.perform(call, run)


def _retry_after(raised: BaseException) -> float | None:
    """A mapped exception's own `retry_after` (seconds), when it carries one."""
    value = getattr(raised, "retry_after", None)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _return_type(function: OperationFunction) -> Any:
    try:
        return get_type_hints(function).get("return")
    except Exception:  # an annotation that does not resolve says nothing about the result's fields
        return None


def _result(action: str, answer: object) -> dict[str, Any]:
    """The operation's answer as the log keeps it: a JSON object (None is an empty one)."""
    if answer is None:
        return {}
    if not isinstance(answer, Mapping):
        raise ServiceError(ErrorKind.UNEXPECTED, f"{action} answered {type(answer).__name__}, not a mapping "
                                                 f"(a dict of JSON values)")
    try:  # as the log keeps it (a tuple is a list, a key is text): the same a resume or a replay reads back
        result: dict[str, Any] = json.loads(json.dumps(dict(answer)))
    except (TypeError, ValueError) as wrong:
        raise ServiceError(ErrorKind.UNEXPECTED, f"{action} answered what JSON cannot keep: {wrong}") from None
    return result
