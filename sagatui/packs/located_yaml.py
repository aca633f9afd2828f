"""YAML text -> plain data, remembering the line of every key and list item so that a problem found
later (by pydantic or by a cross-check) can name the line a user has to fix.

Built on `yaml.compose` (the safe loader's node tree): no tag may construct an object, so a pack can
only ever hold text, numbers, booleans, nulls, lists and mappings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from sagatui.packs.errors import FieldPath, PackError, PackProblem, format_field

_TAG = "tag:yaml.org,2002:"
_CONSTRUCTED_SCALARS = {f"{_TAG}{name}" for name in ("int", "float", "bool", "null")}
# Text as written: a date-like value stays the string the user typed, so data remains JSON-able.
_TEXT_SCALARS = {f"{_TAG}str", f"{_TAG}timestamp"}
_MERGE = f"{_TAG}merge"
_MAX_DEPTH = 50
_MAX_VALUES = 200_000  # aliases can make a short file expand enormously ("billion laughs")


@dataclass
class LocatedYaml:
    """The data of one YAML document and where each part of it was written."""

    file: str
    data: Any
    lines: dict[FieldPath, int]
    problems: list[PackProblem] = field(default_factory=list)
    refused: set[FieldPath] = field(default_factory=set)  # values reported here and read as null

    def line_of(self, path: FieldPath) -> int:
        """The line of `path`, or of its nearest written parent (a missing field has no line)."""
        while path not in self.lines:
            path = path[:-1]
        return self.lines[path]


def read_yaml(text: str, file: str) -> LocatedYaml:
    """Parse one YAML document. Syntax errors raise PackError; duplicate keys, tags and other
    problems of the data are collected in `problems` so validation can still report the rest."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or "not valid YAML"
        if error.problem and error.context:
            started = f" started at line {error.context_mark.line + 1}" if error.context_mark else ""
            message += f" ({error.context}{started})"
        raise _syntax_error(file, mark.line + 1 if mark else None, message) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise _syntax_error(file, line, f"{error.reason} (character {error.character!r})") from None
    except yaml.YAMLError as error:
        raise _syntax_error(file, None, str(error)) from None
    except RecursionError:
        raise _syntax_error(file, None, "nested too deeply") from None
    if root is None:
        raise PackError([PackProblem(file, 1, "", "the file is empty: a pack needs name, services, sagas and "
                                                  "scenarios")])
    builder = _Builder(file)
    data = builder.build(root, (), depth=0)
    return LocatedYaml(file, data, builder.lines, builder.problems, builder.refused)


def _syntax_error(file: str, line: int | None, message: str) -> PackError:
    return PackError([PackProblem(file, line, "", f"YAML syntax: {message}")])


def _tag_not_allowed(tag: str) -> str:
    name = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return f"the YAML tag {name} is not allowed: a pack holds plain data"


class _Builder:
    """Walks the node tree once, turning nodes into plain values and recording lines on the way."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[FieldPath, int] = {}
        self.problems: list[PackProblem] = []
        self.refused: set[FieldPath] = set()
        self._values = 0
        self._open: set[int] = set()  # nodes being built: an alias back into one is a cycle
        self._scalars = SafeConstructor()

    def _problem(self, node: Node, path: FieldPath, message: str) -> None:
        self.problems.append(PackProblem(self.file, node.start_mark.line + 1, format_field(path), message))

    def _refuse(self, node: Node, path: FieldPath, message: str) -> None:
        """Report a value that cannot be read; it stands as null, and validation stays quiet about it."""
        self._problem(node, path, message)
        self.refused.add(path)

    def _record(self, path: FieldPath, node: Node, merged: bool) -> None:
        # Keys merged in with `<<` never override the lines of keys written in place.
        if merged:
            self.lines.setdefault(path, node.start_mark.line + 1)
        else:
            self.lines[path] = node.start_mark.line + 1

    def build(self, node: Node, path: FieldPath, depth: int, merged: bool = False) -> Any:
        self._values += 1
        if self._values > _MAX_VALUES:
            raise PackError([PackProblem(self.file, node.start_mark.line + 1, "",
                                         f"the document expands to more than {_MAX_VALUES} values (aliases?)")])
        if depth > _MAX_DEPTH:
            self._refuse(node, path, f"nested more than {_MAX_DEPTH} levels deep")
            return None
        if id(node) in self._open:
            self._refuse(node, path, "an alias refers to a value that contains it")
            return None
        if not path:
            self._record(path, node, merged)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        self._open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return self._sequence(node, path, depth, merged)
            return self._mapping(node, path, depth, merged)
        finally:
            self._open.discard(id(node))

    def _scalar(self, node: ScalarNode, path: FieldPath) -> Any:
        if node.tag in _TEXT_SCALARS:
            return node.value
        if node.tag in _CONSTRUCTED_SCALARS:
            return self._scalars.construct_object(node)
        self._refuse(node, path, _tag_not_allowed(node.tag))
        return None

    def _sequence(self, node: SequenceNode, path: FieldPath, depth: int, merged: bool) -> list[Any] | None:
        if node.tag != f"{_TAG}seq":
            self._refuse(node, path, _tag_not_allowed(node.tag))
            return None
        items = []
        for index, item in enumerate(node.value):
            self._record((*path, index), item, merged)
            items.append(self.build(item, (*path, index), depth + 1, merged))
        return items

    def _mapping(self, node: MappingNode, path: FieldPath, depth: int, merged: bool) -> dict[str, Any] | None:
        if node.tag != f"{_TAG}map":
            self._refuse(node, path, _tag_not_allowed(node.tag))
            return None
        result: dict[str, Any] = {}
        key_lines: dict[str, int] = {}
        inherited: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                for source in self._merge_sources(value_node, path):
                    for key, value in (self.build(source, path, depth, merged=True) or {}).items():
                        inherited.setdefault(key, value)
                continue
            if not isinstance(key_node, ScalarNode):
                self._problem(key_node, path, "a key must be a plain name, not a list or a mapping")
                continue
            if key_node.tag not in _TEXT_SCALARS | _CONSTRUCTED_SCALARS:
                self._problem(key_node, path, _tag_not_allowed(key_node.tag))
                continue
            key = key_node.value  # as written: `on:` stays "on", `404:` stays "404"
            if key in key_lines:
                self._problem(key_node, (*path, key),
                              f"duplicate key {key!r} (first written at line {key_lines[key]}): give each key once")
                continue
            key_lines[key] = key_node.start_mark.line + 1
            self._record((*path, key), key_node, merged)
            result[key] = self.build(value_node, (*path, key), depth + 1, merged)
        for key, value in inherited.items():
            result.setdefault(key, value)
        return result

    def _merge_sources(self, node: Node, path: FieldPath) -> list[MappingNode]:
        """`<<: *base` or `<<: [*a, *b]`: the mappings whose keys fill in the ones not written here."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        if all(isinstance(source, MappingNode) for source in sources):
            return sources
        self._problem(node, path, "`<<` merges a mapping (or a list of mappings) into this one")
        return []
