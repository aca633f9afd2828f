"""The base of every definition read from a pack."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Definition(BaseModel):
    """Base of every definition: unknown fields are errors, values never change after loading, and
    every number is finite (`.inf` or `"nan"` would load, then break the run that reads them)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)
