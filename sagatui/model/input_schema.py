"""What a saga says about its input: each field's type, whether it is required, its range and its
allowed values. Checked before the first step (a saga with a bad input fails with nothing done)
and, for scenarios' inputs and workload variations, when the pack loads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from sagatui.model.definition_base import Definition

InputType = Literal["text", "number", "integer", "boolean", "list", "mapping"]

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,), "list": (list, tuple),
    "mapping": (dict,),
}


class InputField(Definition):
    """One field of a saga's input. `minimum` and `maximum` (inclusive) apply to numbers."""

    type: InputType
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    allowed: tuple[Any, ...] | None = Field(None, min_length=1)
    description: str = ""

    @model_validator(mode="after")
    def _range_fits_the_type(self) -> InputField:
        if (self.minimum is not None or self.maximum is not None) and self.type not in ("number", "integer"):
            raise ValueError(f"minimum and maximum apply to numbers, not to {self.type}")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum:g} is above maximum {self.maximum:g}")
        return self

    def problem(self, value: Any) -> str | None:
        """What is wrong with `value` for this field; None when it fits."""
        is_bool = isinstance(value, bool)
        if not isinstance(value, _PYTHON_TYPES[self.type]) or (is_bool and self.type != "boolean"):
            return f"must be {_A[self.type]}, not {value!r}"
        if isinstance(value, int | float):
            if self.minimum is not None and value < self.minimum:
                return f"must be at least {self.minimum:g}, not {value!r}"
            if self.maximum is not None and value > self.maximum:
                return f"must be at most {self.maximum:g}, not {value!r}"
        if self.allowed is not None and value not in self.allowed:
            return f"must be one of {', '.join(map(repr, self.allowed))}, not {value!r}"
        return None


_A = {"text": "text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
      "list": "a list", "mapping": "a mapping"}

InputSchema = dict[str, InputField]


def input_problems(schema: InputSchema, saga_input: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, what is wrong) for each declared field the input misses or gets wrong, in declared
    order; fields the schema does not declare are let through."""
    problems: list[tuple[str, str]] = []
    for name, field in schema.items():
        if name not in saga_input or saga_input[name] is None:
            if field.required:
                problems.append((name, "is required"))
            continue
        problem = field.problem(saga_input[name])
        if problem:
            problems.append((name, problem))
    return problems
