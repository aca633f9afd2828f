"""A Static for text redrawn on every tick (status lines, totals, badges)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class QuietStatic(Static):
    """Repaints only when its content changed, and asks for a layout pass (which reflows the whole
    screen) only when its number of lines changed."""

    _shown: object = None
    _lines = -1

    def update_if_changed(self, content: str | Text, *, wraps: bool = False) -> None:
        """`wraps`: the content is wrapped to the width (badges), so any change may change its height."""
        look = content if isinstance(content, str) else (content.plain, tuple(content.spans), str(content.style))
        if look == self._shown:
            return
        lines = (content if isinstance(content, str) else content.plain).count("\n") + 1
        self.update(content, layout=wraps or lines != self._lines)
        self._shown, self._lines = look, lines
