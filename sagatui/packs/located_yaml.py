"""YAML text -> plain data, remembering the line of every key and list item so that a problem found
later (by pydantic or by a cross-check) can name the line a user has to fix.

Built on the YAML event stream of the safe loader (libyaml's, when PyYAML has it): no tag may
construct an object, so a pack can only ever hold text, numbers, booleans, nulls, lists and mappings.
The events are folded into data with an explicit stack, never a node tree and never recursion: a 5 MB
pack of 49,000 inputs took 20 s and 500 MB through `yaml.compose` (pure Python, a node and two marks
per value), and 20,000 levels of nesting overflowed Python's stack."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from sagatui.packs.errors import FieldPath, PackError, PackProblem, format_field

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_CONSTRUCTED_SCALARS = {f"{_TAG}{name}" for name in ("int", "float", "bool", "null")}
# Text as written: a date-like value stays the string the user typed, so data remains JSON-able.
_TEXT_SCALARS = {f"{_TAG}str", f"{_TAG}timestamp"}
_KEY_TAGS = _TEXT_SCALARS | _CONSTRUCTED_SCALARS
_STR = f"{_TAG}str"
_PLAIN_TAGS_KEPT = 10_000
_MERGE = f"{_TAG}merge"
_MERGE_NEEDS_MAPPINGS = "`<<` merges a mapping (or a list of mappings) into this one"
_MAX_DEPTH = 50
_MAX_ALIASED_VALUES = 200_000  # aliases can make a short file expand enormously ("billion laughs")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LARGEST_INT = 2**63 - 1  # what SQLite and JSON readers hold; a pack's numbers end up in both


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
    builder = _Builder(file)
    try:
        data = builder.build(yaml.parse(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = error.problem or error.context or "not valid YAML"
        if error.problem and error.context:
            started = f" started at line {error.context_mark.line + 1}" if error.context_mark else ""
            message += f" ({error.context}{started})"
        # libyaml marks the end of a file without a final line break one line past it
        line = min(mark.line + 1, text.count("\n") + 1) if mark else None
        raise _syntax_error(file, line, message) from None
    except yaml.reader.ReaderError as error:
        character = chr(error.character) if isinstance(error.character, int) else error.character
        raise _syntax_error(file, _reader_line(text, error.position),
                            f"{error.reason} (character {character!r})") from None
    except yaml.YAMLError as error:
        raise _syntax_error(file, None, str(error)) from None
    except UnicodeEncodeError as error:  # text that never came from a file: a lone surrogate code point
        raise _syntax_error(file, text.count("\n", 0, error.start) + 1,
                            f"the character {text[error.start]!r} is half of a UTF-16 pair, not text") from None
    if builder.empty:
        raise PackError([PackProblem(file, 1, "", "the file is empty: a pack needs name, services, sagas and "
                                                  "scenarios")])
    return LocatedYaml(file, data, builder.lines, builder.problems, builder.refused)


def _reader_line(text: str, position: int) -> int:
    """libyaml counts a reader error's position in bytes of the UTF-8 text, Python's reader in characters."""
    if _LOADER is yaml.SafeLoader:
        return text.count("\n", 0, position) + 1
    return text.encode().count(b"\n", 0, position) + 1


def _syntax_error(file: str, line: int | None, message: str) -> PackError:
    return PackError([PackProblem(file, line, "", f"YAML syntax: {message}")])


def _tag_not_allowed(tag: str) -> str:
    name = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return f"the YAML tag {name} is not allowed: a pack holds plain data"


def _line(event: Event) -> int:
    return event.start_mark.line + 1


class _Skip:
    """A key that is not used: its value is read past and dropped."""


_SKIP = _Skip()
_MERGE_KEY = _Skip()  # `<<:` (a distinct marker: its value fills in the mapping's other keys)


@dataclass
class _Frame:
    """A list or mapping being filled. `merge`: it is the value of `<<`, so its keys (or, for a list,
    its mappings' keys) are recorded at the path of the mapping they merge into, never overriding."""

    path: FieldPath
    depth: int
    merged: bool
    value: list[Any] | dict[str, Any] | None  # None: read past, stands as null
    merge: bool = False
    key: str | _Skip | None = None  # mapping only: the key whose value comes next
    key_lines: dict[str, int] = field(default_factory=dict)
    inherited: dict[str, Any] = field(default_factory=dict)
    skip_depth: int = 0  # read past: how many collections are open inside it


class _Replay:
    """The events of the anchors seen so far, and the streams being read: the file, then each alias's
    anchor in turn (aliases inside an anchor are replayed when reached, never copied)."""

    def __init__(self, events: Iterable[Event]) -> None:
        self.anchors: dict[str, list[Event]] = {}
        self._recording: list[tuple[str, list[Event], list[int]]] = []  # (anchor, events, [open collections])
        self._streams: list[Iterator[Event]] = [iter(events)]

    @property
    def replaying(self) -> bool:
        return len(self._streams) > 1

    def open(self, anchor: str) -> bool:
        return any(name == anchor for name, _, _ in self._recording)

    def replay(self, anchor: str) -> None:
        self._streams.append(iter(self.anchors[anchor]))

    def __iter__(self) -> Iterator[Event]:
        while self._streams:
            event = next(self._streams[-1], None)
            if event is None:
                self._streams.pop()
                continue
            if len(self._streams) == 1 and (self._recording or getattr(event, "anchor", None) is not None):
                self._record(event)
            yield event

    def _record(self, event: Event) -> None:
        anchor = event.anchor if isinstance(event, NodeEvent) and not isinstance(event, AliasEvent) else None
        if anchor is not None:
            self._recording.append((anchor, [], [0]))
        for name, events, depth in list(self._recording):
            events.append(event)
            if isinstance(event, CollectionStartEvent):
                depth[0] += 1
            elif isinstance(event, CollectionEndEvent):
                depth[0] -= 1
            if depth[0] == 0 and isinstance(event, NodeEvent | CollectionEndEvent):
                self.anchors[name] = events
                self._recording.remove((name, events, depth))


class _Builder:
    """Folds the event stream into plain values, recording lines on the way."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[FieldPath, int] = {}
        self.problems: list[PackProblem] = []
        self.refused: set[FieldPath] = set()
        self.empty = True
        self._aliased = 0
        self._resolver = Resolver()
        self._plain_tags: dict[str, str] = {}  # plain scalar -> its resolved tag (values repeat: `1`, `gold`)
        self._constructor = SafeConstructor()
        self._stack: list[_Frame] = []
        self._root: Any = None
        self._replay: _Replay

    def _problem(self, line: int, path: FieldPath, message: str) -> None:
        self.problems.append(PackProblem(self.file, line, format_field(path), message))

    def _refuse(self, line: int, path: FieldPath, message: str) -> None:
        """Report a value that cannot be read; it stands as null, and validation stays quiet about it."""
        self._problem(line, path, message)
        self.refused.add(path)

    def _record(self, path: FieldPath, line: int, merged: bool) -> None:
        # Keys merged in with `<<` never override the lines of keys written in place.
        if merged:
            self.lines.setdefault(path, line)
        else:
            self.lines[path] = line

    def build(self, events: Iterable[Event]) -> Any:
        self._replay = _Replay(events)
        for event in self._replay:
            if isinstance(event, DocumentStartEvent):
                if not self.empty:
                    raise yaml.MarkedYAMLError("expected a single document in the stream", None,
                                               "but found another document", event.start_mark)
                self.empty = False
            elif self._stack and self._stack[-1].skip_depth:
                self._read_past(event)
            elif isinstance(event, CollectionEndEvent):
                self._close()
            elif isinstance(event, NodeEvent):
                self._node(event)
        return self._root

    def _read_past(self, event: Event) -> None:
        frame = self._stack[-1]
        if isinstance(event, CollectionStartEvent):
            frame.skip_depth += 1
        elif isinstance(event, CollectionEndEvent):
            frame.skip_depth -= 1
            if frame.skip_depth == 0:
                self._stack.pop()
                self._deliver(None)

    def _node(self, event: NodeEvent) -> None:
        parent = self._stack[-1] if self._stack else None
        if parent is not None and isinstance(parent.value, dict) and parent.key is None:
            self._key(parent, event)
            return
        path, depth, merged = self._place(parent, event)
        if self._replay.replaying:
            self._aliased += 1
            if self._aliased > _MAX_ALIASED_VALUES:
                raise PackError([PackProblem(self.file, _line(event), format_field(path),
                                             f"aliases expand the document to more than {_MAX_ALIASED_VALUES} "
                                             f"values")])
        if depth > _MAX_DEPTH:
            self._refuse(_line(event), path, f"nested more than {_MAX_DEPTH} levels deep")
            self._read_past_value(event, path, depth, merged)
        elif isinstance(event, AliasEvent):
            self._alias(event, path)
        elif isinstance(event, ScalarEvent):
            self._deliver(self._scalar(event, path))
        else:
            self._open(event, path, depth, merged, merge=parent is not None and parent.key is _MERGE_KEY)

    def _place(self, parent: _Frame | None, event: NodeEvent) -> tuple[FieldPath, int, bool]:
        """Where a value goes: its path (recording the line of a list item), depth and mergedness."""
        if parent is None:
            self._record((), _line(event), merged=False)
            return (), 0, False
        if isinstance(parent.value, list):
            path = parent.path if parent.merge else (*parent.path, len(parent.value))
            if not parent.merge:
                self._record(path, _line(event), parent.merged)
            return path, parent.depth + 1, parent.merged
        if parent.key is _MERGE_KEY:
            return parent.path, parent.depth, True
        key = parent.key if isinstance(parent.key, str) else ""
        return (*parent.path, key), parent.depth + 1, parent.merged

    def _key(self, mapping: _Frame, event: NodeEvent) -> None:
        if isinstance(event, AliasEvent):
            if event.anchor in self._replay.anchors:
                self._replay.replay(event.anchor)  # the key comes from the anchor's events
                return
            self._problem(_line(event), mapping.path, f"there is no anchor &{event.anchor} before this alias")
            mapping.key = _SKIP
            return
        if not isinstance(event, ScalarEvent):
            self._problem(_line(event), mapping.path, "a key must be a plain name, not a list or a mapping")
            mapping.key = _SKIP
            self._stack.append(_Frame(mapping.path, mapping.depth, mapping.merged, None, skip_depth=1))
            return
        tag = self._scalar_tag(event)
        key = event.value  # as written: `on:` stays "on", `404:` stays "404"
        if self._half_pair(event, mapping.path):
            mapping.key = _SKIP
        elif tag == _MERGE:
            mapping.key = _MERGE_KEY
        elif tag not in _KEY_TAGS:
            self._problem(_line(event), mapping.path, _tag_not_allowed(tag))
            mapping.key = _SKIP
        elif key in mapping.key_lines:
            self._problem(_line(event), (*mapping.path, key),
                          f"duplicate key {key!r} (first written at line {mapping.key_lines[key]}): give each key once")
            mapping.key = _SKIP
        else:
            mapping.key_lines[key] = _line(event)
            self._record((*mapping.path, key), _line(event), mapping.merged)
            mapping.key = key

    def _alias(self, event: AliasEvent, path: FieldPath) -> None:
        anchor = event.anchor
        if self._replay.open(anchor):
            self._refuse(_line(event), path, "an alias refers to a value that contains it")
        elif anchor not in self._replay.anchors:
            self._refuse(_line(event), path, f"there is no anchor &{anchor} before this alias")
        else:
            self._replay.replay(anchor)
            return
        self._deliver(None)

    def _read_past_value(self, event: NodeEvent, path: FieldPath, depth: int, merged: bool) -> None:
        if isinstance(event, CollectionStartEvent):
            self._stack.append(_Frame(path, depth, merged, None, skip_depth=1))
        else:
            self._deliver(None)

    def _open(self, event: NodeEvent, path: FieldPath, depth: int, merged: bool, merge: bool) -> None:
        mapping = isinstance(event, MappingStartEvent)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self._resolver.resolve(MappingNode if mapping else SequenceNode, None, event.implicit)
        if tag != f"{_TAG}{'map' if mapping else 'seq'}":
            self._refuse(_line(event), path, _tag_not_allowed(tag))
            self._read_past_value(event, path, depth, merged)
            return
        self._stack.append(_Frame(path, depth, merged, {} if mapping else [], merge=merge))

    def _close(self) -> None:
        frame = self._stack.pop()
        if isinstance(frame.value, dict):
            for key, value in frame.inherited.items():
                frame.value.setdefault(key, value)
        self._deliver(frame.value)

    def _deliver(self, value: Any) -> None:
        """A value is complete: it goes into the list or mapping being filled (or is the document)."""
        if not self._stack:
            self._root = value
            return
        parent = self._stack[-1]
        if isinstance(parent.value, list):
            if not parent.merge or isinstance(value, dict):
                parent.value.append(value)
            else:
                self._problem(self.lines.get(parent.path, 1), parent.path, _MERGE_NEEDS_MAPPINGS)
        elif isinstance(parent.value, dict):
            key, parent.key = parent.key, None
            if key is _MERGE_KEY:
                self._merge(parent, value)
            elif isinstance(key, str):
                parent.value[key] = value

    def _merge(self, mapping: _Frame, value: Any) -> None:
        """`<<: *base` or `<<: [*a, *b]` (a list keeps only its mappings): fill in the keys not written here."""
        if not isinstance(value, dict | list):
            self._problem(self.lines.get(mapping.path, 1), mapping.path, _MERGE_NEEDS_MAPPINGS)
            return
        for source in value if isinstance(value, list) else [value]:
            for key, item in source.items():
                mapping.inherited.setdefault(key, item)

    def _half_pair(self, event: ScalarEvent, path: FieldPath) -> bool:
        """Python's YAML reader (libyaml refuses these itself) turns `"\\ud83d"` into half a UTF-16 pair,
        which no file, terminal or database can hold."""
        if event.value.isascii() or not _SURROGATE.search(event.value):
            return False
        self._refuse(_line(event), path, "a \\ud800-\\udfff escape is half of a UTF-16 pair, not a character: "
                                         "write the character itself, or its \\U0001F600 form")
        return True

    def _scalar_tag(self, event: ScalarEvent) -> str:
        tag = event.tag
        if tag is not None and tag != "!":
            return str(tag)
        if not event.implicit[0]:
            return _STR  # quoted: text
        tag = self._plain_tags.get(event.value)
        if tag is None:  # resolving is a regex per candidate type: a third of the time of a large pack
            tag = str(self._resolver.resolve(ScalarNode, event.value, event.implicit))
            if len(self._plain_tags) < _PLAIN_TAGS_KEPT:
                self._plain_tags[event.value] = tag
        return tag

    def _scalar(self, event: ScalarEvent, path: FieldPath) -> Any:
        tag = self._scalar_tag(event)
        if tag in _TEXT_SCALARS:
            return None if self._half_pair(event, path) else event.value
        if tag not in _CONSTRUCTED_SCALARS:
            self._refuse(_line(event), path, _tag_not_allowed(tag))
            return None
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = self._constructor.yaml_constructors[tag](self._constructor, node)
        except ValueError:  # a whole number of more than 4,300 digits
            value = math.inf
        if (isinstance(value, float) and not math.isfinite(value)) or (
                isinstance(value, int) and not -_LARGEST_INT <= value <= _LARGEST_INT):
            shown = event.value if len(event.value) <= 20 else f"{event.value[:17]}..."
            self._refuse(_line(event), path, f"{shown} is not a number a pack can hold: numbers are finite and "
                                             f"within ±{_LARGEST_INT}")
            return None
        return value
