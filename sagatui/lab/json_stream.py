"""Reading one JSON document from a text file a value at a time, so that a long array inside it (a
session's events) can be walked without holding the document: the standard library's decoder on a
window of the file that grows only as long as the value being read.

Only the outer object and one array inside it are walked member by member; every other value is read
whole with `json.JSONDecoder.raw_decode`, and taken only once the window holds more text after it that
cannot go on the value (a number cut at the window's edge, `0` of `0.5`, would read as a shorter one),
or the file has ended.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"
_NUMBER = "0123456789.eE+-"  # what may go on a number that the window cut ("0" of "0.5")
CHUNK = 1 << 16


class JsonStream:
    def __init__(self, file: IO[str], chunk: int = CHUNK) -> None:
        self._file = file
        self._chunk = chunk
        self._text = ""
        self._at = 0

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end of the file)."""
        while True:
            while self._at < len(self._text) and self._text[self._at] in _WHITESPACE:
                self._at += 1
            if self._at < len(self._text) or not self._more():
                return self._text[self._at:self._at + 1]

    def value(self) -> Any:
        """The next whole value."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._at)
            except json.JSONDecodeError:
                if not self._more():
                    raise
                continue
            if (end < len(self._text) and self._text[end] not in _NUMBER) or not self._more():
                self._at = end
                return value

    def members(self) -> Iterator[str]:
        """The keys of the object that comes next; after each, the caller reads its value (`value`,
        `elements`) before asking for the next key."""
        self._expect("{")
        if self.peek() == "}":
            self._at += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise json.JSONDecodeError("an object's key must be a string", self._text, self._at)
            self._expect(":")
            yield key
            if self._separator("}"):
                return

    def elements(self) -> Iterator[Any]:
        """The values of the array that comes next, one at a time."""
        self._expect("[")
        if self.peek() == "]":
            self._at += 1
            return
        while True:
            yield self.value()
            if self._separator("]"):
                return

    def end(self) -> None:
        """Nothing but whitespace may follow the document."""
        if self.peek():
            raise json.JSONDecodeError("extra data", self._text, self._at)

    def _separator(self, closing: str) -> bool:
        """Read a ',' (False: more follows) or `closing` (True: the end)."""
        found = self.peek()
        if found not in (",", closing):
            raise json.JSONDecodeError(f"expected ',' or {closing!r}", self._text, self._at)
        self._at += 1
        return found == closing

    def _expect(self, character: str) -> None:
        if self.peek() != character:
            raise json.JSONDecodeError(f"expected {character!r}", self._text, self._at)
        self._at += 1

    def _more(self) -> bool:
        """Read more of the file into the window, dropping what was read (False: the file has ended).
        It reads at least as much as the window holds, so that a long value costs a few decodes, not
        one per chunk."""
        data = self._file.read(max(self._chunk, len(self._text) - self._at))
        if not data:
            return False
        self._text = self._text[self._at:] + data
        self._at = 0
        return True
