"""The metrics view's charts over clock time: lines drawn by plotext (textual-plotext) under a title that
is their legend, and a strip of each breaker's state second by second. Each is given its series by the
metrics panel and draws them to the size it has; one with nothing to draw yet says so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.widget import Widget
from textual_plotext import PlotextPlot

from sagatui.model.status import BreakerState
from sagatui.tui.rate_history import SEVERITY
from sagatui.tui.tones import style, tones
from sagatui.tui.widgets.quiet_static import QuietStatic

BREAKER_MARKS = {  # state -> (mark, role): a shape as well as a colour, for a terminal without colour
    BreakerState.CLOSED: ("▁", "ok"),
    BreakerState.HALF_OPEN: ("▄", "warning"),
    BreakerState.OPEN: ("█", "error"),
    BreakerState.ISOLATED: ("█", "undo"),
}
STRIP_LABEL = 14  # columns of a breaker's name


@dataclass(frozen=True)
class Line:
    label: str
    role: str  # its colour (sagatui.tui.tones)
    values: Sequence[float | None]  # one for each second; None: no value that second


def _nothing(seconds: Sequence[int], what: str) -> str:
    return f"{what} yet" if not seconds else f"{what} in the last {len(seconds)}s"


class _Plot(PlotextPlot):
    """The lines, drawn when rendered (plotext lays them out to the widget's size)."""

    def __init__(self, empty: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.empty = empty  # what is said while every value is 0 or missing: "no sagas"
        self.seconds: Sequence[int] = ()
        self.lines: Sequence[Line] = ()

    @property
    def has_data(self) -> bool:
        return any(value for line in self.lines for value in line.values)

    def render(self) -> RenderResult:
        if not self.has_data:
            return Text(_nothing(self.seconds, self.empty), style="dim", justify="center")
        plt = self.plt
        plt.clear_figure()
        colours = tones()
        for line in self.lines:
            points = [(second, value) for second, value in zip(self.seconds, line.values, strict=True)
                      if value is not None]
            plt.plot([second for second, _ in points], [value for _, value in points], marker="braille",
                     color=colours.rgb(line.role))
        plt.xlim(self.seconds[0], max(self.seconds[-1], self.seconds[0] + 1))
        top = max(value or 0.0 for line in self.lines for value in line.values)
        plt.ylim(0, top * 1.1)
        plt.yfrequency(3 if self.size.height < 10 else 5)
        return super().render()


class LineChart(Vertical):
    """A title that names each line in its colour, over the plot."""

    def __init__(self, title: str, empty: str, id: str | None = None) -> None:
        super().__init__(id=id, classes="chart")
        self._title = title
        self._empty = empty

    def compose(self) -> ComposeResult:
        yield QuietStatic(self._title, classes="chart-title")
        yield _Plot(self._empty)

    @property
    def has_data(self) -> bool:
        return self.query_one(_Plot).has_data

    def show(self, seconds: Sequence[int], lines: Sequence[Line], latest: str = "") -> None:
        """`latest`: the newest values, said after the legend."""
        title = Text(self._title, style="bold")
        for line in lines:
            title.append("  ").append("━ ", style=style(line.role)).append(line.label)
        if latest:
            title.append(f"  {latest}", style="dim")
        self.query_one(QuietStatic).update_if_changed(title)
        plot = self.query_one(_Plot)
        plot.seconds, plot.lines = seconds, lines
        plot.refresh()


class BreakerStrip(Widget):
    """Each breaker's state over the seconds the other charts show, oldest left: a second takes one column
    or more (a column is the worst of a few seconds, when they do not fit); a breaker that never left closed
    is a flat line."""

    DEFAULT_CSS = "BreakerStrip { height: 1fr; }"

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, classes="chart")
        self.seconds: Sequence[int] = ()
        self.states: dict[str, list[BreakerState]] = {}  # breaker -> its state each second

    def show(self, seconds: Sequence[int], states: dict[str, list[BreakerState]]) -> None:
        self.seconds, self.states = seconds, states
        self.refresh()

    @property
    def has_data(self) -> bool:
        return bool(self.seconds) and bool(self.states)

    def render(self) -> RenderResult:
        text = Text("Breakers", style="bold")
        for state in BreakerState:
            mark, role = BREAKER_MARKS[state]
            text.append("  ").append(mark, style=style(role)).append(f" {state.value.replace('_', '-')}")
        if not self.has_data:
            return text.append("\n\n").append(Text(_nothing(self.seconds, "no calls"), style="dim"))
        room = max(1, self.size.width - STRIP_LABEL - 1)
        per_column = -(-len(self.seconds) // room)  # seconds a column stands for
        width = max(1, room // len(self.seconds))  # columns a second takes, while few seconds fill the room
        rows = max(1, self.size.height - 3)  # the title, the axis
        names = list(self.states)
        shown = names if len(names) <= rows else names[:rows - 1]
        for name in shown:
            label = name if len(name) < STRIP_LABEL else name[:STRIP_LABEL - 2] + "…"
            text.append("\n" + label.ljust(STRIP_LABEL), style="")
            states = self.states[name]
            for start in range(0, len(states), per_column):
                worst = max(states[start:start + per_column], key=SEVERITY.__getitem__)
                mark, role = BREAKER_MARKS[worst]
                text.append(mark * width, style=style(role if worst is not BreakerState.CLOSED else "dim ok"))
        if len(shown) < len(names):
            text.append(f"\n… {len(names) - len(shown)} more", style="dim")
        columns = -(-len(self.seconds) // per_column) * width
        first, last = f"{self.seconds[0]}s", f"{self.seconds[-1]}s"
        axis = first + " " * max(1, columns - len(first) - len(last)) + last
        return text.append("\n" + " " * STRIP_LABEL + axis, style="dim")
