"""Saga ids: the n-th saga a run starts is `S-000n` (the same in every run of a scenario, which is what
lets a scenario's expectations name one)."""

from __future__ import annotations


def saga_id_of(number: int) -> str:
    return f"S-{number:04d}"


def saga_number(saga_id: str) -> int | None:
    prefix, _, digits = saga_id.partition("-")
    return int(digits) if prefix == "S" and digits.isdigit() else None
