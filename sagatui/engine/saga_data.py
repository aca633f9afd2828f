"""The params a call is sent with: the saga input, then the step's params, each `{ref: ...}` looked up
in the saga's data so far (sagatui.model.param_refs). A step without references is sent
`{**input, **params}` as written, with no lookup, exactly as before references existed."""

from __future__ import annotations

from typing import Any

from sagatui.engine.saga_state import SagaRun
from sagatui.model.conditions import SagaFacts
from sagatui.model.definitions import ParallelGroup, StepDef, element_name
from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.model.param_refs import Reference


def forward_params(saga: SagaRun, step: StepDef) -> dict[str, Any]:
    """What the step's call gets; ServiceError (validation) when a reference finds nothing."""
    if not step.references:
        return {**saga.input, **step.params}
    return {**saga.input, **_resolved(step.params, "params", saga_data(saga, step))}


def compensation_params(saga: SagaRun, step: StepDef) -> dict[str, Any]:
    """What the step's compensation gets: the forward params, then `compensation_params` over them."""
    if not step.compensation_params and not step.references:
        return {**saga.input, **step.params}
    data = saga_data(saga, step)
    return {**saga.input, **_resolved(step.params, "params", data),
            **_resolved(step.compensation_params, "compensation_params", data)}


def saga_data(saga: SagaRun, step: StepDef | None = None) -> dict[str, Any]:
    """`{"input": ..., "steps": {name: {"result": ...}}}`: every step that succeeded (and may be under
    compensation now), every parallel group with a member that did, its result being its members'
    results by name, and every for_each step, its result the list of its elements' results that came.
    A partial result the step did not accept is not there: the step failed. For an element of a
    for_each, `item` and `index` too."""
    steps: dict[str, Any] = {name: {"result": record.result} for name, record in saga.steps.items()
                             if record.result and record.error is None and name not in saga.elements}
    for element in saga.definition.elements():
        if isinstance(element, ParallelGroup) and (answered := _group_result(saga, element)):
            steps[element.name] = {"result": answered}
    for name, items in saga.fan_outs.items():
        records = [saga.steps[element_name(name, index)] for index in range(len(items))]
        steps[name] = {"result": [record.result for record in records if record.result and record.error is None]}
    data: dict[str, Any] = {"input": saga.input, "steps": steps}
    if step is not None and (place := saga.elements.get(step.name)) is not None:
        data["item"], data["index"] = saga.fan_outs[place[0]][place[1]], place[1]
    return data


def _group_result(saga: SagaRun, group: ParallelGroup) -> dict[str, Any]:
    """A group's members' results by name (a nested group's as its own mapping), those that came."""
    answered: dict[str, Any] = {}
    for member in group.parallel:
        if isinstance(member, ParallelGroup):
            if inner := _group_result(saga, member):
                answered[member.name] = inner
        elif (record := saga.steps[member.name]).result and record.error is None:
            answered[member.name] = record.result
    return answered


def saga_output(saga: SagaRun) -> dict[str, Any]:
    """What a completed saga returns, as its definition's `output` says; a reference that finds nothing
    gives null (the saga completed: its output says what is missing, it does not fail it)."""
    data = saga_data(saga)
    output: dict[str, Any] = {}
    for name, value in saga.definition.output.items():
        if isinstance(value, Reference):
            try:
                value = value.find(data)
            except ValueError:
                value = None
        output[name] = value
    return output


def saga_facts(saga: SagaRun, step: StepDef | None = None) -> SagaFacts:
    """What a condition reads: the saga's data (as `step` sees it) and each step's status."""
    return SagaFacts(saga_data(saga, step), {name: record.status for name, record in saga.steps.items()})


def _resolved(params: dict[str, Any], field: str, data: dict[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, Reference):
            written = f"{field}.{name}: {{ref: {value.expression}}}"
            try:
                value = value.find(data)
            except ValueError as error:
                raise ServiceError(ErrorKind.VALIDATION, f"{written} failed: {error}", code="bad_reference") from None
            if value is None:
                raise ServiceError(ErrorKind.VALIDATION, f"{written} found nothing in the saga's data",
                                   code="missing_reference")
        resolved[name] = value
    return resolved
