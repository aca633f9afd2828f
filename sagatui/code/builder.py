"""Sagas and scenarios written in Python, as the data a pack holds: each helper returns what the YAML would
say, and an App checks it with the pack loader itself, so a saga built here and one read from a pack
are the same definitions, with the same checks and errors (docs/packs.md names every key).

    checkout = saga("checkout",
        step("reserve", stock.reserve, params={"sku": ref("input.sku"), "quantity": 1}),
        step("charge", payments.charge, params={"amount": ref("input.amount")},
             retry={"max_attempts": 4, "backoff": "exponential"}),
        step("ship", shipping.ship, params={"order": ref("steps.reserve.result.order_id")}),
    )
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sagatui.code.service import Operation

Data = dict[str, Any]


def ref(expression: str) -> Data:
    """A value read from the saga's data when the call is made: `ref("steps.charge.result.payment_id")`."""
    return {"ref": expression}


def _action(action: Operation | str) -> str:
    return action.action if isinstance(action, Operation) else action


def step(name: str, action: Operation | str, *, params: Mapping[str, Any] | None = None,
         compensation: Operation | str | None = None, **options: Any) -> Data:
    """A step calling `action` (a user operation, or `service.operation` of a simulated service). Its
    compensation is the operation's own undo unless given; `options` are the pack's step keys (retry,
    compensation_params, compensation_retry, breaker, fallbacks, optional, when, for_each, effect_stays, ...)."""
    written: Data = {"name": name, "action": _action(action)}
    undo = compensation if compensation is not None else _undo_of(action)
    if undo is not None:
        written["compensation"] = _action(undo)
    if params:
        written["params"] = dict(params)
    if "fallbacks" in options:
        options["fallbacks"] = [_action(fallback) if isinstance(fallback, Operation | str) else fallback
                                for fallback in options["fallbacks"]]
    return {**written, **options}


def _undo_of(action: Operation | str) -> str | None:
    if isinstance(action, Operation) and action.undone_by is not None:
        return f"{action.service.name}.{action.undone_by}"
    return None


def approval(name: str, **options: Any) -> Data:
    """A step that waits for an operator's decision (timeout, default, prompt)."""
    return {"name": name, "approval": options}


def parallel(name: str, *members: Data, **options: Any) -> Data:
    """Steps run concurrently (on_failure, min_successes)."""
    return {"name": name, "parallel": list(members), **options}


def saga(name: str, *steps: Data, **options: Any) -> Data:
    """A saga of `steps` in order; `options`: input (its schema), output, deadline, description."""
    return {"name": name, "steps": list(steps), **options}


def scenario(saga_name: str, *, inputs: Iterable[Mapping[str, Any]] = (), **options: Any) -> Data:
    """A scenario of saga `saga_name`: fixed `inputs`, or a `workload`; faults, changes, decisions, cancels,
    expect, description."""
    written: Data = {"saga": saga_name, **options}
    if inputs:
        written["inputs"] = [dict(given) for given in inputs]
    return written
