"""Checks of the params that read the saga's data (`{ref: steps.charge_payment.result.payment_id}`):
each reference reads only steps that have ended before its call is made, and only fields their
results have (sagatui.sim.catalog declares each operation's result), and only input fields the saga
declares when it declares its input. The expression itself was
checked when the step was read (sagatui.model.param_refs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sagatui.model.conditions import Condition, OutcomeTest, walk
from sagatui.model.definitions import ParallelGroup, SagaDef, StepDef, split_action
from sagatui.model.input_schema import InputSchema
from sagatui.model.param_refs import FieldChain, Reference, references_in
from sagatui.packs.errors import FieldPath, unknown_name
from sagatui.packs.validation_messages import Finding
from sagatui.sim.catalog import ServiceKind


@dataclass(frozen=True)
class _Position:
    """Where a step stands in its saga: what has ended before its call, and what has not."""

    step: StepDef
    group: ParallelGroup | None
    earlier: dict[str, StepDef | ParallelGroup]  # steps and groups that end before this step starts


def check_data_references(saga_name: str, saga: SagaDef, kinds: dict[str, ServiceKind]) -> list[Finding]:
    """Every reference in the saga's params and compensation params that cannot find what it names."""
    everything = {element.name for element in saga.steps} | {step.name for step in saga.all_steps()}
    findings: list[Finding] = []
    for path, position in _positions(saga_name, saga):
        for field, own_result in (("params", False), ("compensation_params", True)):
            for name, reference in references_in(getattr(position.step, field)):
                problem = _check_reference(reference, position, own_result, everything, kinds, saga.input)
                if problem:
                    findings.append(((*path, field, name), f"{{ref: {reference.expression}}}: {problem}"))
        if position.step.when is not None:
            findings.extend(_check_condition(position.step.when, (*path, "when"), position, everything, kinds,
                                             saga.input))
    findings.extend(_check_output(saga_name, saga, everything, kinds))
    return findings


def _check_output(saga_name: str, saga: SagaDef, everything: set[str],
                  kinds: dict[str, ServiceKind]) -> list[Finding]:
    """The output is read once the saga completed: it may read every step and group."""
    last = saga.all_steps()[-1]
    every: dict[str, StepDef | ParallelGroup] = {step.name: step for step in saga.all_steps()}
    every.update({element.name: element for element in saga.steps})
    position = _Position(last, None, every)
    findings: list[Finding] = []
    for name, reference in references_in(saga.output):
        problem = _check_reference(reference, position, False, everything, kinds, saga.input)
        if problem:
            findings.append((("sagas", saga_name, "output", name), f"{{ref: {reference.expression}}}: {problem}"))
    return findings


def _check_reference(reference: Reference, position: _Position, own_result: bool, everything: set[str],
                     kinds: dict[str, ServiceKind], schema: InputSchema | None) -> str | None:
    for chain in reference.chains():
        problem = _check_chain(chain, position, own_result, everything, kinds, schema)
        if problem:
            return problem
    return None


def _check_condition(condition: Condition, path: FieldPath, position: _Position, everything: set[str],
                     kinds: dict[str, ServiceKind], schema: InputSchema | None) -> list[Finding]:
    """A condition reads what a reference may read; an outcome test names a step that ended before."""
    findings: list[Finding] = []
    for inner, test in walk(condition):
        where: FieldPath = (*path, *inner)
        problem: str | None = None
        if isinstance(test, OutcomeTest):
            if not isinstance(position.earlier.get(test.step), StepDef):
                findings.append(((*where, "step"), _outcome_problem(test.step, position, everything)))
        elif test.ref is not None:
            problem = _check_reference(test.ref, position, False, everything, kinds, schema)
            if problem:
                findings.append(((*where, "ref"), f"{{ref: {test.ref.expression}}}: {problem}"))
        elif test.field is not None:
            problem = _check_input_field(tuple(test.field.split(".")), schema)
            if problem:
                findings.append(((*where, "field"), problem))
    return findings


def _outcome_problem(name: str, position: _Position, everything: set[str]) -> str:
    earlier = position.earlier.get(name)
    if isinstance(earlier, ParallelGroup):
        return f"{name} is a parallel group, which has no outcome of its own: test one of its members"
    return _not_before(name, position, False, everything)


def _positions(saga_name: str, saga: SagaDef) -> Iterator[tuple[FieldPath, _Position]]:
    earlier: dict[str, StepDef | ParallelGroup] = {}
    for index, element in enumerate(saga.steps):
        path: FieldPath = ("sagas", saga_name, "steps", index)
        if isinstance(element, ParallelGroup):
            for member_index, member in enumerate(element.parallel):
                yield (*path, "parallel", member_index), _Position(member, element, dict(earlier))
            earlier.update({member.name: member for member in element.parallel})
        else:
            yield path, _Position(element, None, dict(earlier))
        earlier[element.name] = element


def _check_chain(chain: FieldChain, position: _Position, own_result: bool, everything: set[str],
                 kinds: dict[str, ServiceKind], schema: InputSchema | None) -> str | None:
    if chain[0] == "input":
        return _check_input_field(chain[1:], schema)
    if len(chain) == 1:
        return None  # `steps` alone: every result so far
    name, rest = chain[1], chain[2:]
    source = position.earlier.get(name)
    if source is None and own_result and name == position.step.name:
        source = position.step
    if source is None:
        return _not_before(name, position, own_result, everything)
    if not rest:
        return None
    if rest[0] != "result":
        return f"steps.{name} has only `result` (steps.{name}.result...), not {rest[0]!r}"
    fields = rest[1:]
    if isinstance(source, ParallelGroup):
        if not fields:
            return None
        members = {member.name: member for member in source.parallel}
        member = members.get(fields[0])
        if member is None:
            return (f"the result of group {name} holds its members' results by name, and {fields[0]!r} is not "
                    f"one of its members ({', '.join(members)})")
        source, fields = member, fields[1:]
    return _check_result_field(source, fields, kinds)


def _check_input_field(fields: FieldChain, schema: InputSchema | None) -> str | None:
    """With an input declared, a reference reads only declared fields (undeclared, it reads anything)."""
    if schema is None or not fields or fields[0] in schema:
        return None
    return unknown_name("input field", fields[0], schema)


def _not_before(name: str, position: _Position, own_result: bool, everything: set[str]) -> str:
    step = position.step
    if name == step.name:
        return "a step's params cannot read its own result (it has none yet); its compensation_params can"
    if position.group is not None and name == position.group.name:
        return f"this step is a member of group {name}, whose result is whole only when every member has ended"
    if position.group is not None and name in {member.name for member in position.group.parallel}:
        return f"{name} runs at the same time as this step (both are in the parallel group {position.group.name})"
    if name in everything:
        return f"{name} runs after this step; a reference reads only steps that end before it"
    return unknown_name("step", name, everything)


def _check_result_field(step: StepDef, fields: FieldChain, kinds: dict[str, ServiceKind]) -> str | None:
    """A field read from a step's result must be one that some provider of the step answers with."""
    if not fields:
        return None
    answers: set[str] = set()
    for provider in step.providers:
        service, operation = split_action(provider.action)
        kind = kinds.get(service)
        if kind is None or operation not in kind.results:
            return None  # a broken service or action is reported where it is written
        answers |= kind.result_fields(operation)
    if fields[0] in answers:
        return None
    actions = ", ".join(provider.action for provider in step.providers)
    return f"the result of {step.name} ({actions}) has no field {fields[0]!r} (it has: {', '.join(sorted(answers))})"
