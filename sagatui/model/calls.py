"""What the engine hands a service when it calls an operation, and what a compensation learns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sagatui.model.errors import ErrorKind


@dataclass(frozen=True, slots=True)
class CompensationContext:
    """Why a compensation runs: which step failed the saga, and how."""

    saga_id: str
    failed_step: str
    error_kind: ErrorKind | None
    error_message: str
    forward_result: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "saga_id": self.saga_id,
            "failed_step": self.failed_step,
            "error_kind": self.error_kind.value if self.error_kind else None,
            "error_message": self.error_message,
            "forward_result": self.forward_result,
        }


def step_key(saga_id: str, step: str) -> str:
    """The idempotency key of a step's forward call: the same on every try, and after a restart."""
    return f"{saga_id}:{step}"


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a service operation. The idempotency key is the same for every retry of a step."""

    saga_id: str
    step: str
    service: str
    operation: str
    idempotency_key: str
    params: dict[str, Any]
    attempt: int = 1
    compensation: CompensationContext | None = None

    @property
    def is_compensation(self) -> bool:
        return self.compensation is not None
