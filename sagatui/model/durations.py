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
    """A duration as people read it, the one format of every display: 250ms, 2.5s, 59.9s, 1m30s, 1h0m.
    Rounded to what each unit shows, so 59.97 s reads 1m, never 60s."""
    if round(seconds * 1000) < 1000:
        return f"{round(seconds * 1000)}ms"
    if round(seconds, 1) < 60:
        return f"{seconds:.3g}s"
    if round(seconds) < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours}h{minutes}m"


Duration = Annotated[float, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]  # a period or timeout: never 0
