"""Every event as a line, coloured by kind. Filterable, pausable, capped; follows the tail unless the
user has scrolled up. Lines go in through `Log.write_lines` once per refresh, never one per event.
`y` copies the event on the last line on screen as JSON (each line's event is kept beside it)."""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from collections.abc import Iterable

from rich.highlighter import Highlighter
from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Log

from sagatui.event_lines import describe, style_for
from sagatui.model.events import Event
from sagatui.tui.actions import Area, bindings
from sagatui.tui.event_filter import EventFilter
from sagatui.tui.tones import style
from sagatui.tui.widgets.filter_field import FilterInput, FilterPanel
from sagatui.tui.widgets.quiet_static import QuietStatic

LOG_LINES = 2_000  # lines the log holds
KEPT_EVENTS = 10_000  # events kept to redraw the log when the filter changes or the stream resumes


NARROW = 110  # a log narrower than this drops the padding that aligns the kinds


def compact(line: str) -> str:
    """`describe()` pads each kind to align the columns; a narrow log cannot spare the blanks."""
    time, kind, *rest = line.split(None, 2)
    return f"{time:>10} {kind} {rest[0] if rest else ''}".rstrip()


class KindColours(Highlighter):
    """Colours each line as `style_for` its event. Log lines are plain strings, so the style of every
    line still in the log is remembered by its text (the same text always means the same style)."""

    def __init__(self, capacity: int) -> None:
        self._styles: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    def line(self, event: Event, narrow: bool) -> str:
        text = compact(describe(event)) if narrow else describe(event)
        self._styles[text] = style_for(event)
        self._styles.move_to_end(text)
        if len(self._styles) > self._capacity:
            self._styles.popitem(last=False)
        return text

    def highlight(self, text: Text) -> None:
        spec = self._styles.get(text.plain)  # sagatui.event_lines' colour words, read as roles
        if spec:
            text.stylize(style(spec), 11)
        text.stylize("dim", 0, 10)

    def clear(self) -> None:
        self._styles.clear()


class EventLog(Log):
    """The log itself: scrolling up stops following; End (or scrolling back down) follows again."""

    BINDINGS = bindings(Area.EVENT_LOG)

    def action_follow(self) -> None:
        self.scroll_end(animate=False)


class EventStream(FilterPanel):
    BINDINGS = bindings(Area.EVENTS)

    def __init__(self, services: Iterable[str], id: str | None = None) -> None:
        super().__init__(id=id)
        self._services = list(services)
        self._kept: deque[Event] = deque(maxlen=KEPT_EVENTS)
        self._written: deque[Event] = deque(maxlen=LOG_LINES)  # the event of each line the log holds, in order
        self._colours = KindColours(LOG_LINES * 2)
        self.filter = EventFilter()
        self.paused = False
        self._unseen = 0
        self._behind = 0  # events kept but not written while the log was hidden
        self.dropped = 0
        self.keys_hint = "/ filter · space pause"  # the screen says which keys, when the config file moved them

    def compose(self) -> ComposeResult:
        yield QuietStatic(id="event-status")
        yield FilterInput(placeholder="kinds, services or saga ids, e.g. breaker payment S-0003 (empty: all)",
                    id="event-filter", classes="hidden")
        log = EventLog(max_lines=LOG_LINES, highlight=True, id="event-log")
        log.highlighter = self._colours
        yield log

    def on_mount(self) -> None:
        self._show_status()

    @property
    def log_widget(self) -> EventLog:
        return self.query_one(EventLog)

    def set_services(self, services: Iterable[str]) -> None:
        self._services = list(services)

    def reset(self) -> None:
        """A new run: forget the old one's events."""
        self._kept.clear()
        self._colours.clear()
        self._written.clear()
        self.log_widget.clear()
        self._unseen = self._behind = self.dropped = 0
        self._show_status()

    def add(self, events: list[Event], dropped: int, *, on_screen: bool = True) -> None:
        """Keep `events`; write them to the log if it is on screen, else when it is shown (`catch_up`)."""
        if on_screen:
            self.catch_up()
        self._kept.extend(events)
        self.dropped = dropped
        if self.paused:
            self._unseen += len(events)
        elif on_screen:
            self._write(events[-LOG_LINES:])
        else:
            self._behind += len(events)
        self._show_status()

    def catch_up(self) -> None:
        """Write the events kept while the log was hidden (the newest of them, as many as the log holds)."""
        behind, self._behind = min(self._behind, LOG_LINES, len(self._kept)), 0
        if behind and not self.paused:
            self._write(itertools.islice(self._kept, len(self._kept) - behind, None))

    def _write(self, events: Iterable[Event]) -> None:
        log = self.log_widget
        narrow = log.size.width < NARROW
        shown = [event for event in events if self.filter.matches(event)][-LOG_LINES:]
        lines = [self._colours.line(event, narrow) for event in shown]
        if lines:
            self._written.extend(shown)
            log.write_lines(lines)
            if log.line_count >= LOG_LINES:
                log.refresh()  # Log refreshes the new lines at their index before pruning moved them

    def _redraw(self) -> None:
        self._behind = 0
        self.log_widget.clear()
        self._colours.clear()
        self._written.clear()
        matching = [event for event in self._kept if self.filter.matches(event)]
        self._write(matching[-LOG_LINES:])
        self.log_widget.scroll_end(animate=False)

    def restyle(self) -> None:
        """The theme changed: write the lines again, coloured in it."""
        if not self.paused:
            self._redraw()
        self._show_status()

    def _show_status(self) -> None:
        parts = [f"filter: {self.filter}" if not self.filter.everything else "all events",
                 f"{len(self._kept):,} kept"]
        if self.paused:
            parts.append(f"PAUSED, {self._unseen:,} new")
        if self.dropped:
            parts.append(f"{self.dropped:,} dropped (still in the store)")
        self.query_one("#event-status", QuietStatic).update_if_changed(
            Text(" · ".join(parts) + f"   {self.keys_hint}", style=style("bold warning") if self.paused else "dim"))

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            self._unseen = 0
            self._redraw()
        self._show_status()

    # -- the filter field (widgets/filter_field.py) -----------------------------------------------------------
    def filter_text(self) -> str:
        return str(self.filter)

    def apply_filter(self, text: str) -> None:
        self.filter = EventFilter.parse(text, self._services)
        self._redraw()
        self._show_status()

    def filtered(self) -> Widget:
        return self.log_widget

    # -- copying -------------------------------------------------------------------------------------------------
    @property
    def event_on_screen(self) -> Event | None:
        """The event of the log's last line on screen: the newest while the log follows."""
        log = self.log_widget
        if not log.line_count or not self._written:
            return None
        last = min(log.line_count, int(log.scroll_y) + max(1, log.scrollable_content_region.height)) - 1
        index = last - (log.line_count - len(self._written))  # the log and `_written` end on the same line
        return self._written[index] if 0 <= index < len(self._written) else None

    def action_copy(self) -> None:
        """The event as `sagatui events --format jsonl` writes it."""
        event = self.event_on_screen
        if event is None:
            self.notify("no event on screen: nothing copied", severity="warning", timeout=2)
            return
        self.app.copy_to_clipboard(event.json_text())
        self.notify(f"copied event {event.seq} as JSON", timeout=2)
