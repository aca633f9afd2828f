"""Pydantic's validation errors, retold for someone editing a YAML file: the path of the field as
written in the file, and a message that says what was expected and what was found."""

from __future__ import annotations

import difflib
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sagatui.packs.errors import FieldPath

Finding = tuple[FieldPath, str]  # a problem before its line is known: where, and what is wrong

_EXPECTED = {
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
    "dict_type": "expected a mapping (key: value lines)",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "set_type": "expected a list",
    "frozen_set_type": "expected a list",
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "finite_number": "expected a finite number",
}
_BOUNDS = {"greater_than": "more than {gt}", "greater_than_equal": "at least {ge}",
           "less_than": "less than {lt}", "less_than_equal": "at most {le}"}


def explain(error: ValidationError, data: Any, model: type[BaseModel], prefix: FieldPath = ()) -> list[Finding]:
    """One finding per error of `model.model_validate(data)`, paths prefixed by where `data` sits.

    Where a value may be one of several models (a saga element is a step or a parallel group),
    pydantic reports the errors against every choice; only the choice that fits best is kept."""
    every = [_locate(detail, data) for detail in error.errors()]
    located = _best_branches(every) or every  # never none: a union's choices named like its fields can tie
    return [((*prefix, *item.path), _message(item, model)) for item in located if not _echo(item, located)]


@dataclass(frozen=True)
class _Located:
    detail: ErrorDetails
    path: FieldPath  # the path in the data, union choices left out
    branches: tuple[tuple[FieldPath, str], ...]  # (where, which model) for each union choice on the way
    on_key: bool  # the error is about a mapping key, not its value


def _locate(detail: ErrorDetails, data: Any) -> _Located:
    """Follow pydantic's `loc` through the data: parts that are not in the data name union choices."""
    current, path, branches, on_key = data, [], [], False
    loc = detail["loc"]
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if part == "[key]":
            on_key = True
        elif _holds(current, part):
            path.append(part)
            current = current[part]
        elif isinstance(part, str) and not (isinstance(current, dict) and last and detail["type"] == "missing"):
            branches.append((tuple(path), part))
        else:
            path.append(part)
            current = None
    return _Located(detail, tuple(path), tuple(branches), on_key)


def _holds(container: Any, part: str | int) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _best_branches(located: list[_Located]) -> list[_Located]:
    """At each union, keep the choice with the fewest missing or unknown fields at its top (then the
    fewest errors, then the first declared): a mapping with `parallel:` is a group, else a step."""
    choices: dict[FieldPath, list[str]] = {}
    for item in located:
        for site, choice in item.branches:
            options = choices.setdefault(site, [])
            if choice not in options:
                options.append(choice)
    losers: set[tuple[FieldPath, str]] = set()
    for site, options in choices.items():
        best = _best_choice(located, site, options)
        losers.update((site, choice) for choice in options if choice != best)
    return [item for item in located if not losers.intersection(item.branches)]


def _best_choice(located: list[_Located], site: FieldPath, options: list[str]) -> str:
    def score(choice: str) -> tuple[int, int, int]:
        members = [item for item in located if (site, choice) in item.branches]
        shape = sum(1 for item in members if _shape_error(item, site))
        return shape, len(members), options.index(choice)

    return min(options, key=score)


def _echo(item: _Located, located: list[_Located]) -> bool:
    """A list "too short after validation" only because its items failed: the items say it better."""
    size = len(item.path)
    return item.detail["type"] == "too_short" and any(
        len(other.path) > size and other.path[:size] == item.path for other in located
    )


def _shape_error(item: _Located, site: FieldPath) -> bool:
    depth = len(item.path) - len(site)
    return depth == 0 or (depth == 1 and item.detail["type"] in ("missing", "extra_forbidden"))


def _message(item: _Located, model: type[BaseModel]) -> str:
    detail = item.detail
    kind = detail["type"]
    if kind == "missing":
        return "required, but missing"
    if kind == "extra_forbidden":
        return _unknown_field(str(item.path[-1]), _fields_at(model, detail["loc"][:-1]))
    if kind in ("value_error", "assertion_error") and "error" in detail.get("ctx", {}):
        return str(detail["ctx"]["error"])
    if kind in _BOUNDS:
        text = "expected a number " + _BOUNDS[kind].format(**detail.get("ctx", {}))
    else:
        text = _EXPECTED.get(kind, detail["msg"])
    if item.on_key:
        return f"{item.path[-1]!r} cannot be a key here: {text}"
    return f"{text}, got {_describe(detail['input'])}"


def _unknown_field(name: str, allowed: list[str] | None) -> str:
    if not allowed:
        return f"unknown field {name!r}"
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field {name!r}; did you mean {close[0]!r}?"
    return f"unknown field {name!r} (allowed here: {', '.join(allowed)})"


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _names_member(tag: str, member: Any) -> bool:
    """Whether a union's error tag names `member`: `StepDef`, or `function-after[<validator>(), StepDef]` for a
    model with an after-validator."""
    name = getattr(member, "__name__", None)
    return name is not None and (tag == name or tag.endswith(f", {name}]"))


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The field names (as written in YAML) of the model that `loc` leads to, for 'did you mean'."""
    annotation: Any = model
    parts = list(loc)
    while True:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
            continue
        if origin in (Union, types.UnionType):
            named = [arg for arg in args if parts and _names_member(str(parts[0]), arg)]
            choices = named or [arg for arg in args if arg is not type(None)]
            if len(choices) != 1:
                return None
            if named:
                parts.pop(0)
            annotation = choices[0]
            continue
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if not parts:
            return [info.alias or name for name, info in annotation.model_fields.items()] if is_model else None
        part = parts.pop(0)
        if is_model:
            fields = annotation.model_fields
            found = [info for name, info in fields.items() if part in (name, info.alias)]
            if not found:
                return None
            annotation = found[0].annotation
        elif origin is dict:
            annotation = args[0] if part == "[key]" else args[1]
        elif origin in (tuple, list, set, frozenset) and args:
            annotation = args[0]
        else:
            return None
