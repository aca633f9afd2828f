"""Every key, grouped by where it works, read from the bindings themselves so the list cannot drift
from what the keys do."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.console import Group
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

BindingGroup = tuple[str, Iterable[BindingType], list[tuple[str, str]]]  # title, bindings, extra (keys, what)

NAVIGATION = [
    ("tab / shift+tab", "move between panels"),
    ("↑ ↓ pgup pgdn home end", "move in a table, scroll a log or timeline"),
    ("esc", "close a dialog, the help or the filter field"),
    ("mouse", "click a tab, a row, or a service's switch; wheel scrolls"),
]


def _merged(bindings: Iterable[BindingType], display: Callable[[Binding], str]) -> list[tuple[str, str]]:
    """(keys, what they do) rows; bindings that do the same thing (1..9) share a row."""
    rows: dict[str, list[str]] = {}
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        for key in binding.key.split(","):
            what = binding.tooltip or binding.description
            rows.setdefault(what, []).append(display(Binding(key.strip(), binding.action)))
    return [(" ".join(keys) if len(keys) < 4 else f"{keys[0]}…{keys[-1]}", what) for what, keys in rows.items()]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, groups: list[BindingGroup]) -> None:
        super().__init__()
        self._groups = groups

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-scroll"):
            yield Static(id="help")

    def on_mount(self) -> None:
        scroll = self.query_one("#help-scroll")
        scroll.border_title = "Keys"
        scroll.border_subtitle = "esc close"
        tables = []
        for title, bindings, extra in self._groups:
            table = Table(title=title, title_justify="left", title_style="bold", show_header=False, box=None,
                          padding=(0, 1))
            table.add_column("keys", style="bold cyan", no_wrap=True, min_width=12)
            table.add_column("what")
            for keys, what in [*_merged(bindings, self.app.get_key_display), *extra]:
                table.add_row(keys, what)
            tables.append(table)
        self.query_one("#help", Static).update(Group(*tables))
        scroll.focus()
