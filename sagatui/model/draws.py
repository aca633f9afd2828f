"""Values drawn per saga in scenario inputs: `{draw: {between: [10, 500]}}`, `{draw: {integer_between: [1,
5]}}`, `{draw: {one_of: [EUR, USD]}}`. Data, never code: each is drawn from the saga's own seeded stream, so
the same seed draws the same values. A value is a draw only when it is a mapping with the one key `draw`."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

from pydantic import Field, model_validator

from sagatui.model.definition_base import Definition

DRAW_KEY = "draw"


class Draw(Definition):
    """Exactly one of: a number between two bounds (uniform, to the cent), a whole number between two
    bounds (both included), or one of a list of values (each as likely)."""

    between: tuple[float, float] | None = None
    integer_between: tuple[int, int] | None = None
    one_of: tuple[Any, ...] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self) -> Draw:
        given = [self.between, self.integer_between, self.one_of]
        if sum(value is not None for value in given) != 1:
            raise ValueError("a draw needs exactly one of between, integer_between, one_of")
        for bounds in (self.between, self.integer_between):
            if bounds is not None and (not all(math.isfinite(bound) for bound in bounds) or bounds[0] > bounds[1]):
                raise ValueError(f"the bounds {list(bounds)} must be finite, the lower first")
        return self

    def drawn(self, rng: random.Random) -> Any:
        if self.between is not None:
            return round(rng.uniform(*self.between), 2)
        if self.integer_between is not None:
            return rng.randint(*self.integer_between)
        assert self.one_of is not None
        return rng.choice(self.one_of)

    def samples(self) -> list[Any]:
        """Values it can give that tell its kind and range: the bounds, or every choice."""
        if self.between is not None:
            return list(self.between)
        if self.integer_between is not None:
            return list(self.integer_between)
        return list(self.one_of or ())


def is_draw(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and DRAW_KEY in value


def draws_in(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every draw written in an input, with its path (the written mapping, not yet validated)."""
    if is_draw(value):
        yield path, value[DRAW_KEY]
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from draws_in(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from draws_in(item, (*path, index))


def realized(value: Any, rng: random.Random) -> Any:
    """The input with each draw replaced by a value drawn from `rng`, in the order written."""
    if is_draw(value):
        return Draw.model_validate(value[DRAW_KEY]).drawn(rng)
    if isinstance(value, dict):
        return {key: realized(item, rng) for key, item in value.items()}
    if isinstance(value, list):
        return [realized(item, rng) for item in value]
    return value
