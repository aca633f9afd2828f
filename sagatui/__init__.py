"""sagatui: run sagas, break their services on purpose, and watch the failure handling.

The user's own sagas (sagatui.code) are written with the names below, imported when first used, so that
`import sagatui` (and `sagatui --help`) stays quick:

    import sagatui
    payments = sagatui.Service("payments")

    @payments.operation
    async def charge(ctx: sagatui.CallContext, amount: float) -> dict: ...
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_NAMES = {
    "App": "sagatui.code.app", "RunEnd": "sagatui.code.app", "Findings": "sagatui.code.app",
    "Service": "sagatui.code.service", "Operation": "sagatui.code.service", "CallContext": "sagatui.code.service",
    "RunContext": "sagatui.code.service",
    "step": "sagatui.code.builder", "saga": "sagatui.code.builder", "parallel": "sagatui.code.builder",
    "approval": "sagatui.code.builder", "scenario": "sagatui.code.builder", "ref": "sagatui.code.builder",
    "Transient": "sagatui.code.errors", "Permanent": "sagatui.code.errors", "Invalid": "sagatui.code.errors",
    "TimedOut": "sagatui.code.errors", "RateLimited": "sagatui.code.errors",
}
__all__ = ["App", "CallContext", "Findings", "Invalid", "Operation", "Permanent", "RateLimited", "RunContext", "RunEnd",
           "Service", "TimedOut", "Transient", "approval", "parallel", "ref", "saga", "scenario", "step"]
assert sorted(__all__) == sorted(_NAMES)

if TYPE_CHECKING:
    from sagatui.code.app import App, Findings, RunEnd
    from sagatui.code.builder import approval, parallel, ref, saga, scenario, step
    from sagatui.code.errors import Invalid, Permanent, RateLimited, TimedOut, Transient
    from sagatui.code.service import CallContext, Operation, RunContext, Service


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'sagatui' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
