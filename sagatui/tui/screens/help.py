"""Every key, grouped by where it works, listed from the actions table (sagatui.tui.actions) that the
bindings themselves are made from, so the list cannot drift from what the keys do."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from rich.console import Group
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from sagatui.tui.actions import Area, area_bindings, bindings, first_key, remapped
from sagatui.tui.tones import style

CLICKS = {Area.SWITCHBOARD: [("click", "a service's switch toggles it")]}
NAVIGATION = [
    ("tab / shift+tab", "move between panels"),
    ("↑ ↓ pgup pgdn home end", "move in a table (or j k, ctrl+d ctrl+u, g G), scroll a log or timeline"),
    ("mouse", "click a tab, a row, or a service's switch; wheel scrolls"),
]


def _merged(group: Iterable[Binding], display: Callable[[Binding], str]) -> list[tuple[str, str]]:
    """(keys, what they do) rows; bindings that do the same thing (1..9) share a row."""
    rows: dict[str, list[str]] = {}
    for binding in group:
        for key in binding.key.split(","):
            what = binding.tooltip or binding.description
            rows.setdefault(what, []).append(display(Binding(key.strip(), binding.action)))
    return [(" ".join(keys) if len(keys) < 4 else f"{keys[0]}…{keys[-1]}", what) for what, keys in rows.items()]


def help_rows(areas: Iterable[Area], display: Callable[[Binding], str],
              keymap: Mapping[str, str] | None = None) -> dict[str, list[tuple[str, str]]]:
    """Heading -> (keys, what they do), in the table's order; areas of one heading share it. `keymap`
    (binding id -> keys, the config file's `[keys]`) moves keys as it moves the bindings."""
    groups: dict[str, list[Binding]] = {}
    for area in areas:
        groups.setdefault(area.title, []).extend(remapped(binding, keymap or {}) for binding in area_bindings(area))
    rows = {title: _merged(group, display) for title, group in groups.items()}
    for area, clicks in CLICKS.items():
        if area.title in rows:
            rows[area.title] += clicks
    rows["Moving around"] = NAVIGATION
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = bindings(Area.HELP)

    def __init__(self, areas: Iterable[Area], keymap: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self._areas = list(areas)
        self._keymap = dict(keymap or {})

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-scroll"):
            yield Static(id="help")

    def on_mount(self) -> None:
        scroll = self.query_one("#help-scroll")
        scroll.border_title = "Keys"
        close = self.app.get_key_display(Binding(first_key("help.dismiss", self._keymap), "dismiss"))
        scroll.border_subtitle = f"{close} close"
        tables = []
        for title, rows in help_rows(self._areas, self.app.get_key_display, self._keymap).items():
            table = Table(title=title, title_justify="left", title_style="bold", show_header=False, box=None,
                          padding=(0, 1))
            table.add_column("keys", style=style("bold info"), no_wrap=True, min_width=12)
            table.add_column("what")
            for keys, what in rows:
                table.add_row(keys, what)
            tables.append(table)
        self.query_one("#help", Static).update(Group(*tables))
        scroll.focus()
