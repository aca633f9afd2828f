"""A saga as a waterfall: one row per step (parallel members and for_each elements each their own), its
attempts as bars scaled to clock time and coloured by outcome, the backoff gaps between them labelled
with their delay, breaker rejections (⊘), bulkhead refusals (▥), remediations (✚) and fallback hops (→)
marked; then a row per compensation, in the order they ran; a time axis under it all. Built from the
saga's events; drawn to the width it is given, so it reads at 80 columns and at 200."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from sagatui.model import payloads
from sagatui.model.durations import format_duration
from sagatui.model.errors import ErrorKind
from sagatui.model.events import Event, EventKind
from sagatui.tui.tones import style

LABEL_WIDTH = 24
_OUTCOME_STYLES = {"ok": "ok", "error": "error", "timeout": "warning", "open": "info", "undo": "undo",
                   "undo_error": "bold error"}  # roles (sagatui.tui.tones)


@dataclass
class Bar:
    start: float
    end: float | None  # None: still under way
    outcome: str  # ok, error, timeout, open; for compensations undo, undo_error


@dataclass
class Mark:
    time: float
    symbol: str  # ⊘ a breaker refused the try, ▥ a bulkhead did, ✚ a remediation, → a fallback hop


@dataclass
class Gap:
    start: float
    delay: float  # the backoff before the next attempt


@dataclass
class Row:
    label: str
    undo: bool = False
    bars: list[Bar] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    note: str = ""  # skipped, not on the branch, ...


@dataclass
class Waterfall:
    start: float
    end: float
    rows: list[Row]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from render_waterfall(self, options.max_width)

    @property
    def symbols(self) -> set[str]:
        """The marks it shows."""
        return {mark.symbol for row in self.rows for mark in row.marks}


def build_waterfall(events: list[Event]) -> Waterfall:
    forward: dict[str, Row] = {}
    undos: dict[str, Row] = {}
    times = [event.time for event in events] or [0.0]
    for event in events:
        step = event.step
        if step is None or event.kind.ends_saga or event.kind.family in ("group", "branch", "for_each", "saga"):
            continue
        undo = event.kind.family == "compensation" or event.refused_an_undo
        rows = undos if undo else forward
        row = rows.setdefault(step, Row(f"↺ {step}" if undo else step, undo=undo))
        _fold(row, event)
    return Waterfall(min(times), max(times), [*forward.values(), *undos.values()])


def _fold(row: Row, event: Event) -> None:
    kind = event.kind
    if kind in (EventKind.ATTEMPT_STARTED, EventKind.COMPENSATION_ATTEMPT_STARTED):
        row.bars.append(Bar(event.time, None, "open"))
    elif kind in (EventKind.ATTEMPT_SUCCEEDED, EventKind.ATTEMPT_FAILED, EventKind.COMPENSATION_ATTEMPT):
        bar = next((bar for bar in reversed(row.bars) if bar.end is None), None)
        if bar is None:  # an answer without its intent in view: a bar of its recorded duration
            bar = Bar(event.time - event.payload_as(payloads.CallOutcome).duration, None, "open")
            row.bars.append(bar)
        bar.end = event.time
        bar.outcome = _outcome(event, row.undo)
    elif kind is EventKind.BREAKER_REJECTED:
        row.marks.append(Mark(event.time, "⊘"))
    elif kind is EventKind.BULKHEAD_REJECTED:
        row.marks.append(Mark(event.time, "▥"))
    elif kind is EventKind.REMEDIATION_STARTED:
        row.marks.append(Mark(event.time, "✚"))
    elif kind is EventKind.FALLBACK_USED:
        row.marks.append(Mark(event.time, "→"))
    elif kind in (EventKind.RETRY_SCHEDULED, EventKind.COMPENSATION_RETRY_SCHEDULED):
        row.gaps.append(Gap(event.time, event.payload_as(payloads.RetryScheduled).delay))
    elif kind is EventKind.STEP_SKIPPED:
        row.note = event.payload_as(payloads.StepSkipped).why()
    elif kind is EventKind.COMPENSATION_SKIPPED:
        row.note = "nothing to undo"


def _outcome(event: Event, undo: bool) -> str:
    if event.error_kind is None:
        return "undo" if undo else "ok"
    if undo:
        return "undo_error"
    return "timeout" if event.error_kind is ErrorKind.TIMEOUT else "error"


def render_waterfall(waterfall: Waterfall, width: int) -> list[Text]:
    """The rows, each `label │ bars`, then the axis; the bars get what the label leaves of `width`."""
    label_width = min(LABEL_WIDTH, max(8, width // 4))
    room = max(10, width - label_width - 3)
    span = max(waterfall.end - waterfall.start, 1e-9)

    def column(time: float) -> int:
        return min(room - 1, int((time - waterfall.start) / span * (room - 1) + 0.5))

    lines: list[Text] = []
    for row in waterfall.rows:
        line = Text(_fit(row.label, label_width).ljust(label_width), style=style("undo") if row.undo else "")
        line.append(" │ ", style="dim")
        cells = [(" ", "")] * room
        for gap in row.gaps:
            _label_gap(cells, column(gap.start), column(gap.start + gap.delay), format_duration(gap.delay))
        for bar in row.bars:
            first, last = column(bar.start), column(bar.end if bar.end is not None else waterfall.end)
            for index in range(first, max(first, last - 1) + 1):
                cells[index] = ("█", style(_OUTCOME_STYLES[bar.outcome]))
        for mark in row.marks:
            cells[column(mark.time)] = (mark.symbol, style("bold error" if mark.symbol == "⊘" else "bold hop"))
        if row.note and not row.bars:
            note = _fit(row.note, room)
            cells[:len(note)] = [(char, "dim") for char in note]
        for char, cell_style in cells:
            line.append(char, style=cell_style)
        lines.append(line)
    lines.append(_axis(waterfall, label_width, room))
    return lines


def _label_gap(cells: list[tuple[str, str]], first: int, last: int, label: str) -> None:
    """A backoff gap: dots, with its delay written in when it fits."""
    for index in range(first + 1, last):
        cells[index] = ("·", "dim")
    if last - first - 1 >= len(label) + 2:
        at = first + 1 + (last - first - 1 - len(label)) // 2
        cells[at:at + len(label)] = [(char, style("warning")) for char in label]


def _axis(waterfall: Waterfall, label_width: int, room: int) -> Text:
    """`0.000s ... 1.400s` under the bars, with the middle marked."""
    start, end = f"{waterfall.start:.3f}s", f"{waterfall.end:.3f}s"
    middle = f"{(waterfall.start + waterfall.end) / 2:.3f}s"
    ruler = ["─"] * room
    ruler[0] = ruler[room // 2] = ruler[-1] = "┼"
    axis = Text(" " * label_width + " └─", style="dim")
    axis.append("".join(ruler), style="dim")
    labels = [" "] * room
    for text, at in ((start, 0), (middle, max(0, room // 2 - len(middle) // 2)), (end, room - len(end))):
        labels[at:at + len(text)] = list(text)
    axis.append("\n" + " " * (label_width + 3) + "".join(labels)[:room], style="dim")
    return axis


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"
