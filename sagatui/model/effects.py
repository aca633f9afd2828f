"""Row writes a simulated service's effect makes, committed in one transaction with its event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RowWrite:
    """Insert-or-update one row of a resource table: `key` names the row, `values` the columns set."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any]
