"""Checks a schema cannot make alone: a name written in one part of a pack must exist in another
(services and their operations, breakers, sagas, steps), and service options must suit the kind.

Each section is validated item by item here, so the references of the valid items are still
checked when another item is broken, and one run reports as much as it can."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sagatui.model.definitions import Remediation, SagaDef, StepDef, split_action
from sagatui.model.draws import DRAW_KEY, Draw, draws_in, is_draw
from sagatui.model.faults import FaultProfile
from sagatui.model.input_schema import InputSchema, input_problems
from sagatui.model.saga_ids import saga_id_of
from sagatui.packs.data_references import check_data_references, step_positions
from sagatui.packs.errors import FieldPath, unknown_name
from sagatui.packs.model import Scenario, ServiceChange, ServiceDef, TimedInput
from sagatui.packs.validation_messages import Finding, explain
from sagatui.sim.catalog import SERVICE_KINDS, ServiceKind
from sagatui.sim.maintenance import DIAGNOSES, MAINTENANCE_RESULTS, REMEDIES

ModelT = TypeVar("ModelT", bound=BaseModel)
_ELEMENT = re.compile(r"\[\d+\]$")  # `book_seat[2]`: an element of a for_each step


CODE_KIND = "code"
"""A service of this kind is the user's Python service of the same name (sagatui.code): its operations come
from the module sagatui was pointed at, never from the pack."""


def check_references(data: Any, code: Mapping[str, ServiceKind] | None = None) -> list[Finding]:
    """Every broken reference in the pack's raw data (already parsed from YAML); `code`: the user's Python
    services, by name."""
    if not isinstance(data, dict):
        return []
    names = _Names(data)
    findings: list[Finding] = []
    kinds: dict[str, ServiceKind] = {}
    services = dict(_valid_items(data, "services", ServiceDef))
    for name, service in services.items():
        findings += _check_service(name, service, names, kinds, code or {})
    sagas = dict(_valid_items(data, "sagas", SagaDef))
    for name, saga in sagas.items():
        findings += _check_saga(name, saga, names, kinds)
    for name, scenario in _valid_items(data, "scenarios", Scenario):
        findings += _check_scenario(name, scenario, names, sagas, kinds)
        for index, change in enumerate(scenario.changes):
            findings += _check_change(("scenarios", name, "changes", index), change, names, services, kinds)
    default = data.get("default_scenario")
    if isinstance(default, str) and names.scenarios is not None and default not in names.scenarios:
        findings.append((("default_scenario",), unknown_name("scenario", default, names.scenarios)))
    return findings


class _Names:
    """The names each section declares; None for a section too broken to tell (then not checked)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.services = _keys(data.get("services"))
        self.breakers = _keys(data.get("breakers", {}))
        self.sagas = _keys(data.get("sagas"))
        self.scenarios = _keys(data.get("scenarios"))


def _keys(section: Any) -> set[str] | None:
    return set(section) if isinstance(section, dict) else None


def _valid_items(data: dict[str, Any], section: str, model: type[ModelT]) -> Iterator[tuple[str, ModelT]]:
    items = data.get(section)
    if not isinstance(items, dict):
        return
    for name, item in items.items():
        try:
            yield name, model.model_validate(item)
        except ValidationError:
            continue  # reported by the validation of the whole pack


def _check_service(name: str, service: ServiceDef, names: _Names, kinds: dict[str, ServiceKind],
                   code: Mapping[str, ServiceKind]) -> list[Finding]:
    path: FieldPath = ("services", name)
    findings: list[Finding] = []
    kind = SERVICE_KINDS.get(service.kind)
    if service.kind == CODE_KIND:
        if name not in code:
            findings.append(((*path, "kind"), f"{name} is the user's own code (kind: code), which a pack never "
                                              f"names: run the Python module that declares it (sagatui run "
                                              f"MODULE:APP)"))
        else:
            kinds[name] = code[name]
            if service.options:
                findings.append(((*path, "options"), "the user's own code takes no options here"))
    elif kind is None:
        findings.append(((*path, "kind"), unknown_name("service kind", service.kind, SERVICE_KINDS)))
    else:
        kinds[name] = kind
        try:
            kind.options.model_validate(service.options)
        except ValidationError as error:
            findings += explain(error, service.options, kind.options, prefix=(*path, "options"))
    findings += _check_fault_operations((*path, "fault"), name, service.fault, kinds)
    if service.breaker is not None and names.breakers is not None and service.breaker not in names.breakers:
        findings.append(((*path, "breaker"), unknown_name("breaker", service.breaker, names.breakers)))
    return findings


def _steps_with_paths(name: str, saga: SagaDef) -> Iterator[tuple[FieldPath, StepDef]]:
    for path, position in step_positions(name, saga):
        assert position.step is not None
        yield path, position.step


def _check_saga(name: str, saga: SagaDef, names: _Names, kinds: dict[str, ServiceKind]) -> list[Finding]:
    findings: list[Finding] = []
    for path, step in _steps_with_paths(name, saga):
        if step.action is not None:  # an approval step calls no service
            findings += _check_provider(path, step.action, step.compensation, names, kinds)
        for index, fallback in enumerate(step.fallbacks):
            findings += _check_provider((*path, "fallbacks", index), fallback.action, fallback.compensation, names,
                                        kinds)
        findings += _check_derived_compensations(path, step, kinds)
        if step.remediate is not None:
            findings += _check_remediation((*path, "remediate"), step, step.remediate, names)
        if step.breaker is not None and names.breakers is not None and step.breaker not in names.breakers:
            findings.append(((*path, "breaker"), unknown_name("breaker", step.breaker, names.breakers)))
    return findings + check_data_references(name, saga, kinds)


def _check_provider(path: FieldPath, action: str, compensation: str | None, names: _Names,
                    kinds: dict[str, ServiceKind]) -> list[Finding]:
    """A step's (or fallback's) action and compensation exist, and the compensation undoes the action
    on the service the action changed: `inventory.reserve` is never undone by `orders.cancel`."""
    findings = [finding for finding in [_check_action((*path, "action"), action, names, kinds)] if finding]
    if compensation is None:
        return findings
    service = split_action(action)[0]
    known = names.services is None or service in names.services  # a misspelt service is reported once
    if known and split_action(compensation)[0] != service:
        return [*findings, ((*path, "compensation"),
                            f"{compensation} cannot undo {action}: a compensation must be an operation of {service}, "
                            f"the service whose action it undoes")]
    finding = _check_action((*path, "compensation"), compensation, names, kinds)
    return [*findings, finding] if finding else findings


def _check_action(path: FieldPath, action: str, names: _Names, kinds: dict[str, ServiceKind]) -> Finding | None:
    service, operation = split_action(action)
    if names.services is not None and service not in names.services:
        return path, f"{action}: {unknown_name('service', service, names.services)}"
    kind = kinds.get(service)
    if kind is None or operation in kind.all_operations:
        return None  # a broken service is reported where it is defined
    return path, f"{action} is not an operation of service {service} ({service} has: {_operations(kind)})"


def _check_remediation(path: FieldPath, step: StepDef, remediation: Remediation, names: _Names) -> list[Finding]:
    """A diagnosis is a service's `diagnose`, a remedy one of its remedies (sagatui.sim.maintenance), on the
    pack's services; and the errors it waits for are ones the step retries (else no attempt follows)."""
    written: list[tuple[FieldPath, str, tuple[str, ...]]] = []
    if remediation.diagnose is not None:
        written.append(((*path, "diagnose"), remediation.diagnose, DIAGNOSES))
    written += [((*path, "run", index), action, REMEDIES) for index, action in enumerate(remediation.run)]
    written += [((*path, "routes", number, "run", index), action, REMEDIES)
                for number, route in enumerate(remediation.routes) for index, action in enumerate(route.run)]
    findings: list[Finding] = []
    for where, action, allowed in written:
        service, operation = split_action(action)
        if names.services is not None and service not in names.services:
            findings.append((where, f"{action}: {unknown_name('service', service, names.services)}"))
        elif operation not in allowed:
            role = "a diagnosis calls" if allowed is DIAGNOSES else "a remedy is"
            findings.append((where, f"{action}: {role} {' or '.join(allowed)}, not {operation!r} "
                                    f"(sagatui's maintenance operations: {', '.join(MAINTENANCE_RESULTS)})"))
    never = sorted(kind.value for kind in remediation.errors - step.retry.retryable)
    if never:
        findings.append(((*path, "errors"), f"the step does not retry {', '.join(never)} (its retry_on and by_error), "
                                            f"so no attempt follows to remediate before"))
    return findings


def _check_fault_operations(path: FieldPath, service: str, profile: FaultProfile,
                            kinds: dict[str, ServiceKind]) -> list[Finding]:
    """A fault aimed at operations names operations the service has."""
    kind = kinds.get(service)
    if kind is None:
        return []  # an unknown service or kind is reported where it is written
    return [((*path, "operations", index), f"{operation!r} is not an operation of service {service} ({service} "
                                            f"has: {_operations(kind)})")
            for index, operation in enumerate(profile.operations or ()) if operation not in kind.all_operations]


def _operations(kind: ServiceKind) -> str:
    return ", ".join(sorted(kind.all_operations))


def _check_derived_compensations(path: FieldPath, step: StepDef, kinds: dict[str, ServiceKind]) -> list[Finding]:
    """A fallback without its own compensation is undone by the step's undo operation on the
    fallback's service, which that service's kind must have."""
    findings: list[Finding] = []
    for index, (fallback, provider) in enumerate(zip(step.fallbacks, step.providers[1:], strict=True)):
        if fallback.compensation is not None or provider.compensation is None:
            continue
        service, operation = split_action(provider.compensation)
        kind = kinds.get(service)
        if kind is not None and operation not in kind.all_operations:
            findings.append(((*path, "fallbacks", index),
                             f"{fallback.action} would be undone by {provider.compensation}, which is not an "
                             f"operation of service {service} ({service} has: {_operations(kind)}); "
                             f"give this fallback its own compensation"))
    return findings


def _check_change(path: FieldPath, change: ServiceChange, names: _Names, services: dict[str, ServiceDef],
                  kinds: dict[str, ServiceKind]) -> list[Finding]:
    """A scheduled change names a service, sets options its kind has (valid with the rest of its options),
    none that seeds its rows, and restocks only an inventory."""
    if names.services is not None and change.service not in names.services:
        return [((*path, "service"), unknown_name("service", change.service, names.services))]
    kind, service = kinds.get(change.service), services.get(change.service)
    if kind is None or service is None:
        return []  # a broken service is reported where it is defined
    findings: list[Finding] = [((*path, "options", option), f"a change cannot set {option}: {why}")
                               for option, why in kind.seeding_options.items() if option in change.options]
    if change.restock and not kind.restockable:
        findings.append(((*path, "restock"), f"{change.service} is a {kind.name} service, with no stock to restock"))
    try:
        kind.options.model_validate(service.options)
    except ValidationError:
        return findings  # reported where the service is defined
    merged = {**service.options, **change.options}
    try:
        kind.options.model_validate(merged)
    except ValidationError as error:
        findings += explain(error, merged, kind.options, prefix=(*path, "options"))
    return findings


def _written_inputs(path: FieldPath, scenario: Scenario) -> list[tuple[FieldPath, dict[str, Any]]]:
    """Each input a scenario writes (fixed or a workload's variation), with its field path."""
    written: list[tuple[FieldPath, dict[str, Any]]] = [
        ((*path, "inputs", index) + (("input",) if isinstance(item, TimedInput) else ()), timed.input)
        for index, (item, timed) in enumerate(zip(scenario.inputs, scenario.fixed_inputs(), strict=True))]
    if scenario.workload is not None:
        written += [((*path, "workload", "variations", index, "input"), variation.input)
                    for index, variation in enumerate(scenario.workload.variations)]
    return written


def _check_draws(path: FieldPath, scenario: Scenario) -> list[Finding]:
    findings: list[Finding] = []
    for where, saga_input in _written_inputs(path, scenario):
        for inner, draw in draws_in(saga_input):
            try:
                Draw.model_validate(draw)
            except ValidationError as error:
                findings += explain(error, draw, Draw, (*where, *inner, DRAW_KEY))
    return findings


def _check_inputs(path: FieldPath, scenario: Scenario, schema: InputSchema) -> list[Finding]:
    """A scenario's inputs and workload variations fit the saga's declared input, as written; a drawn
    value fits with each of its bounds or choices."""
    findings: list[Finding] = []
    for where, saga_input in _written_inputs(path, scenario):
        variants = _draw_variants(saga_input)
        broken = {field for field, value in saga_input.items() if is_draw(value)
                  and not any(variant[field] is not value for variant in variants)}  # reported as broken draws
        for variant in variants:
            findings += [((*where, field) if field in saga_input else where, f"input.{field} {problem}")
                         for field, problem in input_problems(schema, variant) if field not in broken]
    return list(dict.fromkeys(findings))


def _draw_variants(saga_input: dict[str, Any]) -> list[dict[str, Any]]:
    """The input with each field written as a draw given each value that tells its kind and range."""
    samples: dict[str, list[Any]] = {}
    for field, value in saga_input.items():
        if is_draw(value):
            try:
                samples[field] = Draw.model_validate(value[DRAW_KEY]).samples()
            except ValidationError:
                samples[field] = []  # reported as a broken draw
    if not samples:
        return [saga_input]
    base = {**saga_input, **{field: values[0] for field, values in samples.items() if values}}
    return [{**base, field: value} for field, values in samples.items() for value in values] or [base]


def _check_order(path: FieldPath, order: tuple[str, ...], saga: SagaDef) -> list[Finding]:
    """Each step a compensation order names is a step of the saga (or an element `step[n]` of a for_each)."""
    steps = [step.name for step in saga.all_steps()]
    repeated = {step.name for step in saga.all_steps() if step.for_each is not None}
    return [((*path, index), f"{step!r} is not a step of saga {saga.name} (steps: {', '.join(steps)})")
            for index, step in enumerate(order) if step not in steps and _ELEMENT.sub("", step) not in repeated]


def _check_scenario(name: str, scenario: Scenario, names: _Names, sagas: dict[str, SagaDef],
                    kinds: dict[str, ServiceKind]) -> list[Finding]:
    path: FieldPath = ("scenarios", name)
    findings: list[Finding] = []
    if names.sagas is not None and scenario.saga not in names.sagas:
        findings.append(((*path, "saga"), unknown_name("saga", scenario.saga, names.sagas)))
    for index, change in enumerate(scenario.faults):
        findings += _check_fault_operations((*path, "faults", index, "profile"), change.service, change.profile, kinds)
        if names.services is not None and change.service not in names.services:
            findings.append(((*path, "faults", index, "service"),
                             unknown_name("service", change.service, names.services)))
    expect = scenario.expect
    saga = sagas.get(scenario.saga)
    findings += _check_draws(path, scenario)
    if saga is not None and saga.input is not None:
        findings += _check_inputs(path, scenario, saga.input)
    started = scenario.workload.count if scenario.workload is not None else len(scenario.inputs)
    if saga is not None:
        orders: list[tuple[FieldPath, tuple[str, ...]]] = [(("compensation_order",), expect.compensation_order or ())]
        orders += [(("compensation_orders", saga_id), order) for saga_id, order in expect.compensation_orders.items()]
        for where, order in orders:
            findings += _check_order((*path, "expect", *where), order, saga)
    ids = [saga_id_of(number) for number in range(1, started + 1)]
    for written in expect.compensation_orders:
        if written not in ids:
            findings.append(((*path, "expect", "compensation_orders", written),
                             f"the scenario starts sagas {ids[0]} to {ids[-1]}; {written!r} is not one of them"
                             if ids else f"the scenario starts no saga, so no {written!r}"))
    if expect.tables is not None:
        for service in expect.tables.booked:
            if names.services is not None and service not in names.services:
                findings.append(((*path, "expect", "tables", "booked", service),
                                 unknown_name("service", service, names.services)))
    if expect.statuses is not None and len(expect.statuses) != started:
        findings.append(((*path, "expect", "statuses"),
                         f"lists {len(expect.statuses)} statuses, but the scenario starts {started} sagas"))
    if expect.counts is not None and sum(expect.counts.values()) > started:
        findings.append(((*path, "expect", "counts"),
                         f"counts add up to {sum(expect.counts.values())}, but the scenario starts {started} sagas"))
    return findings
