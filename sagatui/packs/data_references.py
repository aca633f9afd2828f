"""Checks of the params that read the saga's data (`{ref: steps.charge_payment.result.payment_id}`):
each reference reads only steps that have ended before its call is made, and only fields their
results have (sagatui.sim.catalog declares each operation's result), and only input fields the saga
declares when it declares its input. The expression itself was
checked when the step was read (sagatui.model.param_refs)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from sagatui.model.conditions import Condition, OutcomeTest, walk
from sagatui.model.definitions import (
    ParallelGroup,
    SagaDef,
    SagaElement,
    StepDef,
    Switch,
    ValueSource,
    element_steps,
    split_action,
)
from sagatui.model.input_schema import InputSchema
from sagatui.model.param_refs import FieldChain, Reference, references_in
from sagatui.packs.errors import FieldPath, unknown_name
from sagatui.packs.validation_messages import Finding
from sagatui.sim.catalog import ServiceKind
from sagatui.sim.maintenance import DIAGNOSIS_FIELDS


@dataclass(frozen=True)
class _Position:
    """Where a step (or a switch, `step` None) stands in its saga: what has ended before its call, and what
    has not."""

    step: StepDef | None
    group: ParallelGroup | None
    earlier: dict[str, StepDef | ParallelGroup]  # steps and groups that end before this step starts
    elsewhere: dict[str, str] = field(default_factory=dict)  # steps on other branches -> their switch
    diagnosis: bool = False  # a remediation route's condition: `diagnosis` is there


def check_data_references(saga_name: str, saga: SagaDef, kinds: dict[str, ServiceKind]) -> list[Finding]:
    """Every reference in the saga's params and compensation params that cannot find what it names."""
    everything = {element.name for element in saga.steps} | {step.name for step in saga.all_steps()}
    everything |= {element.name for element in saga.elements()}
    findings: list[Finding] = []
    switches: list[tuple[FieldPath, Switch, _Position]] = []
    for path, position in step_positions(saga_name, saga, switches):
        step = position.step
        assert step is not None
        for params, own_result in (("params", False), ("compensation_params", True)):
            for name, reference in references_in(getattr(step, params)):
                problem = _check_reference(reference, position, own_result, everything, kinds, saga.input)
                if problem:
                    findings.append(((*path, params, name), f"{{ref: {reference.expression}}}: {problem}"))
        if step.for_each is not None:
            reader = _Position(None, position.group, position.earlier, position.elsewhere)
            findings.extend(_check_source(step.for_each, (*path, "for_each"), reader, everything, kinds, saga.input))
        if step.when is not None:
            findings.extend(_check_condition(step.when, (*path, "when"), position, everything, kinds,
                                             saga.input))
        if step.remediate is not None:
            diagnosing = replace(position, diagnosis=True)
            for number, route in enumerate(step.remediate.routes):
                if route.when is not None:
                    findings.extend(_check_condition(route.when, (*path, "remediate", "routes", number, "when"),
                                                     diagnosing, everything, kinds, saga.input))
    for path, switch, position in switches:
        findings.extend(_check_source(switch.switch, (*path, "switch"), position, everything, kinds, saga.input))
    findings.extend(_check_output(saga_name, saga, everything, kinds))
    return findings


def _check_source(source: ValueSource, path: FieldPath, position: _Position, everything: set[str],
                  kinds: dict[str, ServiceKind], schema: InputSchema | None) -> list[Finding]:
    """The value a switch or a for_each reads: from what ended before it."""
    if source.ref is not None:
        problem = _check_reference(source.ref, position, False, everything, kinds, schema)
        return [((*path, "ref"), f"{{ref: {source.ref.expression}}}: {problem}")] if problem else []
    problem = _check_input_field(tuple((source.field or "").split(".")), schema)
    return [((*path, "field"), problem)] if problem else []


def _check_output(saga_name: str, saga: SagaDef, everything: set[str],
                  kinds: dict[str, ServiceKind]) -> list[Finding]:
    """The output is read once the saga completed: it may read every step and group."""
    every: dict[str, StepDef | ParallelGroup] = {step.name: step for step in saga.all_steps()}
    every.update({element.name: element for element in saga.elements()})
    position = _Position(None, None, every)
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


def step_positions(saga_name: str, saga: SagaDef, switches: list[tuple[FieldPath, Switch, _Position]] | None = None,
                   ) -> Iterator[tuple[FieldPath, _Position]]:
    """Every step of the saga with its field path and its position; each switch with its own position is
    added to `switches`."""
    yield from _walk(saga.steps, ("sagas", saga_name, "steps"), {}, {}, switches if switches is not None else [])


def _walk(elements: Sequence[SagaElement], base: FieldPath, earlier: dict[str, StepDef | ParallelGroup],
          elsewhere: dict[str, str], switches: list[tuple[FieldPath, Switch, _Position]],
          ) -> Iterator[tuple[FieldPath, _Position]]:
    """The positions of `elements`, in order; `earlier` grows with what ends as they run."""
    for index, element in enumerate(elements):
        path: FieldPath = (*base, index)
        if isinstance(element, Switch):
            switches.append((path, element, _Position(None, None, dict(earlier), dict(elsewhere))))
            branches = [((*path, "cases", number, "steps"), case.steps) for number, case in enumerate(element.cases)]
            branches.append(((*path, "default"), element.default))
            after = dict(earlier)
            for branch_path, branch in branches:
                others = {step.name: element.name for other_path, other in branches if other_path != branch_path
                          for inner in other for step in element_steps(inner)}
                inner_earlier = dict(earlier)
                yield from _walk(branch, branch_path, inner_earlier, {**elsewhere, **others}, switches)
                after.update(inner_earlier)
            earlier.update(after)
        elif isinstance(element, ParallelGroup):
            yield from _walk_group(element, path, element, earlier, elsewhere)
            earlier.update({step.name: step for step in element_steps(element)})
            earlier.update({group.name: group for group in _groups_in(element)})
        else:
            yield path, _Position(element, None, dict(earlier), dict(elsewhere))
            earlier[element.name] = element


def _walk_group(group: ParallelGroup, path: FieldPath, outermost: ParallelGroup,
                earlier: dict[str, StepDef | ParallelGroup], elsewhere: dict[str, str],
                ) -> Iterator[tuple[FieldPath, _Position]]:
    """The members of a group, and of the groups nested in it: all read only what ended before the
    outermost group began."""
    for index, member in enumerate(group.parallel):
        where: FieldPath = (*path, "parallel", index)
        if isinstance(member, ParallelGroup):
            yield from _walk_group(member, where, outermost, earlier, elsewhere)
        else:
            yield where, _Position(member, outermost, dict(earlier), dict(elsewhere))


def _groups_in(group: ParallelGroup) -> list[ParallelGroup]:
    return [group, *(inner for member in group.parallel if isinstance(member, ParallelGroup)
                     for inner in _groups_in(member))]


def _check_chain(chain: FieldChain, position: _Position, own_result: bool, everything: set[str],
                 kinds: dict[str, ServiceKind], schema: InputSchema | None) -> str | None:
    if chain[0] == "input":
        return _check_input_field(chain[1:], schema)
    if chain[0] == "diagnosis":
        if not position.diagnosis:
            return "`diagnosis` is there only in a remediation route's `when` (the diagnosis's result)"
        if len(chain) > 1 and chain[1] not in DIAGNOSIS_FIELDS:
            return f"a diagnosis has {', '.join(sorted(DIAGNOSIS_FIELDS))}, not {chain[1]!r}"
        return None
    if chain[0] in ("item", "index"):
        if position.step is None or position.step.for_each is None:
            return f"`{chain[0]}` is there only in a step with for_each (its element, and the element's number)"
        return None  # an element's shape is the list's: not declared
    if len(chain) == 1:
        return None  # `steps` alone: every result so far
    name, rest = chain[1], chain[2:]
    source = position.earlier.get(name)
    if source is None and own_result and position.step is not None and name == position.step.name:
        source = position.step
    if source is None:
        return _not_before(name, position, own_result, everything)
    if not rest:
        return None
    if rest[0] != "result":
        return f"steps.{name} has only `result` (steps.{name}.result...), not {rest[0]!r}"
    fields = rest[1:]
    if isinstance(source, StepDef) and source.for_each is not None:
        return None  # a list of its elements' results: `[0].seat`, `[*].seat` read past the names
    if isinstance(source, ParallelGroup):
        if not fields:
            return None
        while isinstance(source, ParallelGroup) and fields:
            members = {member.name: member for member in source.parallel}
            member = members.get(fields[0])
            if member is None:
                return (f"the result of group {source.name} holds its members' results by name, and {fields[0]!r} "
                        f"is not one of its members ({', '.join(members)})")
            source, fields = member, fields[1:]
        if isinstance(source, ParallelGroup):
            return None
    return _check_result_field(source, fields, kinds)


def _check_input_field(fields: FieldChain, schema: InputSchema | None) -> str | None:
    """With an input declared, a reference reads only declared fields (undeclared, it reads anything)."""
    if schema is None or not fields or fields[0] in schema:
        return None
    return unknown_name("input field", fields[0], schema)


def _not_before(name: str, position: _Position, own_result: bool, everything: set[str]) -> str:
    step = position.step
    if step is not None and name == step.name:
        return "a step's params cannot read its own result (it has none yet); its compensation_params can"
    if name in position.elsewhere:
        return f"{name} is on another branch of switch {position.elsewhere[name]}: the two never both run"
    if position.group is not None and name in {group.name for group in _groups_in(position.group)}:
        return f"this step is a member of group {name}, whose result is whole only when every member has ended"
    if position.group is not None and name in {step.name for step in element_steps(position.group)}:
        return f"{name} runs at the same time as this step (both are in the parallel group {position.group.name})"
    if name in everything:
        where = "this step" if step is not None else "this switch"
        return f"{name} runs after {where}; a reference reads only steps that end before it"
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
