"""Each operation used as a step's action answers with the fields sim/catalog.py declares for it, which
the load-time checks of `{ref: steps.<step>.result.<field>}` rely on: every required field, and nothing
undeclared. (A compensation's answer is never read by a reference; undo calls here set up state.)"""

from typing import Any

import pytest

from sagatui.sim.catalog import SERVICE_KINDS
from tests.sim.conftest import Lab

OPTIONS: dict[str, dict[str, Any]] = {"inventory": {"stock": {"A": 5, "B": 0}}, "ledger": {"balances": {"x": 100.0}}}
PARAMS: dict[str, dict[str, Any]] = {"inventory": {"items": {"A": 1}}, "payment": {"amount": 5.0},
                                     "account": {"username": "ada"}, "ledger": {"account": "x", "amount": 5.0}}
# Calls in order, each (operation, as a compensation?, extra params): forward first, then what undoes it.
CALLS: dict[str, list[tuple[str, bool, dict[str, Any]]]] = {
    "inventory": [("reserve", False, {"items": {"A": 1, "B": 1}}), ("commit", False, {}),
                  ("restock", True, {}), ("release", True, {}), ("release", False, {}), ("restock", False, {})],
}


def _shape(kind: str, operation: str) -> tuple[frozenset[str], frozenset[str]]:
    typed = SERVICE_KINDS[kind].results[operation]
    return frozenset(typed.__required_keys__), SERVICE_KINDS[kind].result_fields(operation)


def _calls(kind: str) -> list[tuple[str, bool, dict[str, Any]]]:
    if kind in CALLS:
        return CALLS[kind]
    forward = [(operation, False, {}) for operation in SERVICE_KINDS[kind].operations]
    undo = [(undo, True, {}) for undo in SERVICE_KINDS[kind].operations.values() if undo]
    return forward + undo + [(operation, False, {}) for operation, _, _ in undo if operation not in
                             SERVICE_KINDS[kind].operations]


@pytest.mark.parametrize("kind", sorted(SERVICE_KINDS))
async def test_every_operation_answers_with_its_declared_fields(lab: Lab, kind: str) -> None:
    lab.add(kind, kind, **OPTIONS.get(kind, {}))
    lab.directory.start()
    seen: set[str] = set()
    for number, (operation, undo, extra) in enumerate(_calls(kind)):
        step = "step" if undo or number == 0 or kind == "inventory" else f"step{number}"
        result = await lab.invoke(kind, operation, step=step, undo=undo, key=f"k{number}",
                                  **{**PARAMS.get(kind, {}), **extra})
        if not undo:
            required, declared = _shape(kind, operation)
            assert required <= set(result) <= declared, (operation, result)
            seen.add(operation)
    assert seen == SERVICE_KINDS[kind].all_operations
