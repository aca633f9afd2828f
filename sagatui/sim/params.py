"""Reading an operation's params: a missing or ill-typed value is a validation error, never a crash."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagatui.model.errors import ErrorKind, ServiceError


def invalid(message: str) -> ServiceError:
    return ServiceError(ErrorKind.VALIDATION, message, code="invalid_params")


def text(params: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = params.get(name, default)
    if value is None:
        raise invalid(f"{name} is required")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise invalid(f"{name} must be text, not {value!r}")
    return str(value)


def amount(params: Mapping[str, Any], name: str = "amount") -> float:
    value = params.get(name)
    if value is None:
        raise invalid(f"{name} is required")
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise invalid(f"{name} must be a number above 0, not {value!r}")
    return float(value)


def count(params: Mapping[str, Any], name: str, default: int) -> int:
    value = params.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise invalid(f"{name} must be a whole number of at least 1, not {value!r}")
    return value


def items(params: Mapping[str, Any]) -> dict[str, int]:
    """`items: {SKU: quantity}`, every quantity a whole number of at least 1."""
    value = params.get("items")
    if not isinstance(value, Mapping) or not value:
        raise invalid("items is required: a map of SKU to quantity, e.g. {LAPTOP-001: 1}")
    return {str(sku): count(value, sku, 0) for sku in value}
