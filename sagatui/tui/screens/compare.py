"""Two runs side by side (`sagatui diff`'s report on a screen): each run's source, seed and events, the
first event where they part, then the sagas by status, the metrics, the sagas whose outcome changed and
the compensation orders that changed, A beside B. Opened by `d` on the board (this run against the one
before it) and after a what-if fork from a timeline (the run against its fork). `y` copies the report."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from sagatui.lab.run_diff import Changed, RunDiff
from sagatui.plain_text import plain_text
from sagatui.tui.actions import Area, bindings
from sagatui.tui.tones import style
from sagatui.tui.widgets.key_footer import KeyFooter

SHOWN = 30  # rows of a changed-sagas table; the rest are counted (`sagatui diff --format json` has them all)


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list):
        return " → ".join(map(str, value)) or "(none)"
    return str(value)


def _side_by_side(title: str, what: str, items: list[Changed]) -> Table:
    table = Table(title=f"{title} ({len(items)})", title_justify="left", title_style="bold", box=None,
                  padding=(0, 2, 0, 0), expand=False, header_style="dim")
    table.add_column(what, no_wrap=True)
    table.add_column("A", style=style("info"), overflow="fold")
    table.add_column("B", style=style("hop"), overflow="fold")
    for item in items[:SHOWN]:
        table.add_row(plain_text(item.name), plain_text(_value(item.a)), plain_text(_value(item.b)))
    if len(items) > SHOWN:
        table.add_row(Text(f"… and {len(items) - SHOWN} more", style="dim"), "", "")
    return table


def render_comparison(diff: RunDiff, names: tuple[str, str]) -> Group:
    """`names`: how A and B are called (`run 3 of sagatui.db`)."""
    runs = Table(box=None, padding=(0, 2), show_header=False)
    runs.add_column("", style="bold", no_wrap=True)
    runs.add_column("run", overflow="fold")
    for label, index in (("A", 0), ("B", 1)):
        runs.add_row(label, plain_text(f"{names[index]} · pack {diff.packs[index]} · seed {diff.seeds[index]} · "
                                       f"{diff.events[index]} events"))
    parts: list[Table | Text] = [runs, Text()]
    if diff.identical:
        parts.append(Text("identical: the same events, in the same order", style=style("bold ok")))
        return Group(*parts)
    first = diff.first
    assert first is not None
    parts.append(Text(f"first divergence at event {first.index}", style=style("bold warning")))
    parts += [plain_text(line) for line in diff.divergence_lines()] + [Text()]
    for title, what, items in (("Sagas by status", "status", diff.statuses), ("Metrics", "metric", diff.metrics),
                               ("Sagas whose outcome changed", "saga", diff.sagas),
                               ("Compensation orders that changed", "saga", diff.compensation_orders),
                               ("Commands received differently", "command (clock time)", diff.commands)):
        if items:
            parts += [_side_by_side(title, what, items), Text()]
    return Group(*parts)


class CompareScreen(Screen[None]):
    BINDINGS = bindings(Area.COMPARE)

    def __init__(self, diff: RunDiff, names: tuple[str, str], title: str) -> None:
        super().__init__()
        self.diff, self.names, self._title = diff, names, title

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="compare-scroll"):
            yield Static(render_comparison(self.diff, self.names), id="comparison")
        yield KeyFooter()

    def on_mount(self) -> None:
        scroll = self.query_one("#compare-scroll")
        scroll.border_title = plain_text(self._title)
        scroll.focus()

    def action_copy(self) -> None:
        text = "\n".join(self.diff.describe()) + "\n"
        self.app.copy_to_clipboard(text)
        self.notify(f"copied the comparison ({len(text.splitlines())} lines)", timeout=2)
