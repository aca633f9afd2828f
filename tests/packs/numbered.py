"""A pack written as numbered lines, so a test can replace line N and expect a problem at line N."""

from __future__ import annotations

import pytest

from sagatui.packs.errors import PackError, PackProblem
from sagatui.packs.loader import load_pack_text


def pack_text(lines: list[str], replace: dict[int, str] | None = None) -> str:
    """The pack's text, with the lines numbered in `replace` (from 1) swapped for theirs."""
    return "\n".join((replace or {}).get(number, line) for number, line in enumerate(lines, start=1)) + "\n"


def only_problem(text: str, file: str) -> PackProblem:
    """The one problem loading `text` as `file` finds (fails the test if there are none, or several)."""
    with pytest.raises(PackError) as raised:
        load_pack_text(text, file)
    found = raised.value.problems
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]
