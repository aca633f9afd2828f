"""Params that read the saga's data: a param written `{ref: <JMESPath expression>}` takes the value the
expression finds in the saga's data, `{"input": <saga input>, "steps": {<step>: {"result": ...}}}`, when
the call is made. Anything else is a constant. JMESPath is a query language over JSON data: nothing
a pack carries is ever evaluated as code.

Each expression is compiled once, when the pack loads; a step without references costs nothing extra."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.functions import Functions
from jmespath.parser import ParsedResult
from pydantic import BeforeValidator

REFERENCE_KEY = "ref"
DATA_ROOTS = ("input", "steps", "item", "index", "diagnosis")
"""What an expression starts from: the saga input, or the steps' results."""

FieldChain = tuple[str, ...]

# One function table for every search: without it, each search builds its own (about half its cost).
_SEARCH_OPTIONS = jmespath.Options(custom_functions=Functions())


@dataclass(frozen=True, slots=True)
class Reference:
    """One compiled `{ref: ...}`. `expression` is the text as written, for messages; two references are
    equal when their texts are (so a pack loaded twice is equal to itself)."""

    expression: str
    compiled: ParsedResult = field(compare=False)
    # The names, when the expression is nothing but names (`steps.charge.result.payment_id`, most
    # references): then they are looked up directly, as JMESPath would, at a tenth of a search's cost.
    names: FieldChain | None = field(compare=False, default=None)

    def find(self, data: dict[str, Any]) -> Any:
        """The value the expression finds in the saga's data; None when it finds nothing (or null).
        ValueError when a function cannot take what it was given (`sum` of texts)."""
        if self.names is not None:
            value: Any = data
            for name in self.names:
                if not isinstance(value, dict):
                    return None
                value = value.get(name)
            return value
        try:
            return self.compiled.search(data, options=_SEARCH_OPTIONS)
        except JMESPathError as error:
            raise ValueError(str(error)) from None

    def chains(self) -> list[FieldChain]:
        """The field names each part of the expression reads from the top of the saga's data, as far as
        they are plain names: `steps.charge_payment.result.payment_id || input.payment_id` reads
        ('steps', 'charge_payment', 'result', 'payment_id') and ('input', 'payment_id')."""
        found: list[FieldChain] = []
        _rooted_chains(self.compiled.parsed, found)
        return found

    def __repr__(self) -> str:
        return f"{{ref: {self.expression}}}"


_READS_ITS_LEFT = ("index_expression", "projection", "value_projection", "filter_projection", "flatten")


def _rooted_chains(node: dict[str, Any], found: list[FieldChain]) -> None:
    """Collect the leading field names of every sub-expression evaluated against the top of the data."""
    kind = node["type"]
    if kind in ("field", "subexpression", *_READS_ITS_LEFT):
        chain = _leading_fields(node)
        if chain:
            found.append(chain)
        return
    if kind in ("function_expression", "or_expression", "and_expression", "not_expression", "comparator",
                "multi_select_list", "multi_select_dict", "key_val_pair"):
        for child in node["children"]:
            _rooted_chains(child, found)
    elif kind in (*_READS_ITS_LEFT, "pipe"):
        _rooted_chains(node["children"][0], found)  # the rest reads what the left side found


def _leading_fields(node: dict[str, Any]) -> FieldChain:
    kind = node["type"]
    if kind == "field":
        return (str(node["value"]),)
    if kind in _READS_ITS_LEFT:
        return _leading_fields(node["children"][0])
    if kind != "subexpression":
        return ()
    chain: list[str] = []
    for child in node["children"]:
        part = _leading_fields(child)
        chain.extend(part)
        if child["type"] != "field":
            break  # past an index or a projection, the names are no longer read from the top
    return tuple(chain)


def compile_reference(expression: Any) -> Reference:
    """A `{ref: ...}`'s expression compiled; ValueError saying what is wrong with it otherwise."""
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError(f"a reference is written {{ref: <expression>}}, e.g. {{ref: input.payer}}; "
                         f"{expression!r} is not an expression")
    try:
        compiled = jmespath.compile(expression)
    except JMESPathError as error:
        raise ValueError(f"{expression!r} is not a valid JMESPath expression: {_parse_problem(error)}") from None
    reference = Reference(expression, compiled, _only_names(compiled.parsed))
    for chain in reference.chains():
        if chain[0] not in DATA_ROOTS:
            raise ValueError(f"{expression!r} reads {chain[0]!r}: a reference starts from `input` (the saga "
                             f"input) or `steps` (earlier steps' results), or in a for_each step from `item` "
                             f"(its element) or `index`, or in a remediation route from `diagnosis`")
    unknown = sorted(_functions(compiled.parsed) - set(Functions.FUNCTION_TABLE))
    if unknown:
        raise ValueError(f"{expression!r} calls {', '.join(unknown)}: JMESPath has no such function "
                         f"(it has: {', '.join(sorted(Functions.FUNCTION_TABLE))})")
    return reference


def _only_names(node: dict[str, Any]) -> FieldChain | None:
    if node["type"] == "field":
        return (str(node["value"]),)
    if node["type"] == "subexpression" and all(child["type"] == "field" for child in node["children"]):
        return tuple(str(child["value"]) for child in node["children"])
    return None


def _parse_problem(error: JMESPathError) -> str:
    message = getattr(error, "msg", None) or str(error).splitlines()[0]
    if message == "Invalid jmespath expression":
        message = "the expression ends too soon"
    position = getattr(error, "lex_position", None)
    return message if position is None else f"{message}, at column {position + 1}"


def _functions(node: dict[str, Any]) -> set[str]:
    names = {str(node["value"])} if node["type"] == "function_expression" else set()
    for child in node.get("children", ()):
        if isinstance(child, dict):
            names |= _functions(child)
    return names


def _param_value(value: Any) -> Any:
    if isinstance(value, dict) and REFERENCE_KEY in value:
        if set(value) != {REFERENCE_KEY}:
            extra = ", ".join(sorted(str(key) for key in value if key != REFERENCE_KEY))
            raise ValueError(f"a reference is a mapping with the one key `ref`; remove {extra}")
        return compile_reference(value[REFERENCE_KEY])
    return value


ParamValue = Annotated[Any, BeforeValidator(_param_value)]
"""A param's value: a constant, or a mapping `{ref: <expression>}` read into a Reference."""


def references_in(params: dict[str, Any]) -> tuple[tuple[str, Reference], ...]:
    """The params that are references, by name, in the order written."""
    return tuple((name, value) for name, value in params.items() if isinstance(value, Reference))
