"""Durations as packs write them (`150ms`, `2s`, `1m`, `1h`), held as float seconds."""

import re
from typing import Annotated

from pydantic import BeforeValidator, Field

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object) -> object:
    """Turn `150ms`/`2s`/`1m`/`1h` into seconds; plain numbers are already seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like 150ms, 2s, 1m")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration: write it like 150ms, 2s, 1m or 1h")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    raise ValueError("a duration is a number of seconds or a string like 150ms, 2s, 1m")


def format_duration(seconds: float) -> str:
    """The inverse of parse_duration, for display: 0.15 -> '150ms', 90 -> '1m30s'."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:02.0f}s" if rest else f"{int(minutes)}m"


Duration = Annotated[float, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]  # a period or timeout: never 0
