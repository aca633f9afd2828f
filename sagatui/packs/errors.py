"""Problems found in a scenario pack, each pointing at a file, a line and a field, the way a user
fixes them: `scenarios/ecommerce.yaml:42: sagas.order.steps[1].compensation: <what is wrong>`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sagatui.plain_text import plain

FieldPath = tuple[str | int, ...]


def format_field(path: FieldPath) -> str:
    """`('sagas', 'order', 'steps', 1, 'action')` -> `sagas.order.steps[1].action`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def unknown_name(what: str, name: str, known: Iterable[str]) -> str:
    """A name that names nothing: the closest known one, if any is close, and the known ones."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listing = f" ({what}s: {', '.join(known)})" if known else f" (the pack defines no {what}s)"
    return f"there is no {what} {name!r}{hint}{listing}"


@dataclass(frozen=True, slots=True)
class PackProblem:
    """One thing wrong with a pack. `line` is 1-based; None when the file could not be read at all."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        """One line of plain text: the field path and message may quote the pack's own names."""
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return plain(f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}")


class PackError(Exception):
    """A pack that cannot be used. Carries every problem found, in line order, so one run of
    `sagatui check` shows them all; `file`, `line`, `field` and `message` describe the first."""

    def __init__(self, problems: Sequence[PackProblem]) -> None:
        if not problems:
            raise ValueError("a PackError needs at least one problem")
        self.problems = tuple(sorted(problems, key=lambda problem: problem.line or 0))
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @property
    def file(self) -> str:
        return self.problems[0].file

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def field(self) -> str:
        return self.problems[0].field

    @property
    def message(self) -> str:
        return self.problems[0].message
