"""One saga from start to end: its steps, every attempt with delays and errors, fallback hops and
breaker rejections, then the compensation chain with outcomes and context. Read from the store and
re-read while the saga is still moving; or, a saga of another database (a proof's case), shown as it was
read, with nothing to act on. `y` copies it (the list) as plain text."""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from sagatui.model.durations import format_duration
from sagatui.model.status import GOING_FORWARD, SagaStatus
from sagatui.plain_text import plain, plain_text
from sagatui.store.queries import SagaTimeline
from sagatui.tui.actions import Area, bindings
from sagatui.tui.badges import SAGA_STATUS_STYLES
from sagatui.tui.messages import CancelSaga, DecideApproval, ForkHere, ProveSaga, ResolveSaga, RetryCompensation
from sagatui.tui.timeline import Entry, build_timeline
from sagatui.tui.tones import style
from sagatui.tui.waterfall import Waterfall, build_waterfall
from sagatui.tui.widgets.key_footer import KeyFooter

_ON_THE_LIVE_RUN = frozenset({"retry", "resolve", "cancel_saga", "decide", "fork", "prove"})
_STEP_STYLES = {"succeeded": "ok", "failed": "error", "compensated": "warning", "skipped": "dim",
                "compensation_failed": "bold error", "compensation_partial": "bold error",
                "compensation_expired": "bold error"}  # roles (sagatui.tui.tones)


def _entries(title: str, entries: list[Entry]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", show_header=False, box=None,
                  expand=True, padding=(0, 1))
    table.add_column("time", justify="right", style="dim", no_wrap=True)
    table.add_column("step", no_wrap=True)
    table.add_column("what", no_wrap=True)
    table.add_column("detail", ratio=1, overflow="fold")
    for entry in entries:
        table.add_row(f"{entry.time:.3f}s", plain_text(entry.step), plain_text(entry.what, style=style(entry.style)),
                      plain_text(entry.detail))
    return table


_LEGEND = (("█", "ok", " ok  "), ("█", "error", " error  "), ("█", "warning", " timeout  "),
           ("█", "info", " under way  "), ("·200ms·", "warning", " backoff  "),
           ("⊘", "bold error", " breaker refused  "), ("→", "bold hop", " fallback  "), ("█", "undo", " undo"))


_SOMETIMES = (("▥", "bold hop", "  bulkhead refused"), ("✚", "bold hop", "  remediation"))  # only when shown


def _legend(waterfall: Waterfall) -> Text:
    """What the waterfall's marks mean, in the theme's colours."""
    shown = waterfall.symbols
    legend = (*_LEGEND, *((mark, role, what) for mark, role, what in _SOMETIMES if mark in shown))
    return Text.assemble(*((part for mark, role, what in legend for part in ((mark, style(role)), what))),
                         style="dim")


def render_waterfall_view(timeline: SagaTimeline, scenario: str) -> Group:
    """The saga's head, then its waterfall and what the marks mean."""
    waterfall = build_waterfall(timeline.events)
    return Group(_head(timeline, scenario), Text(), waterfall, Text(), _legend(waterfall))


def _head(timeline: SagaTimeline, scenario: str) -> Text:
    saga = timeline.saga
    status = SagaStatus(saga.status)
    head = Text.assemble((f"{saga.saga_id} ", "bold"), (f" {saga.status} ", style(SAGA_STATUS_STYLES[status])),
                         (plain(f"  {scenario} · saga {saga.saga}"), "dim"))
    if saga.ended_at is not None:
        took = format_duration(saga.ended_at - saga.started_at)
        head.append(f" · {saga.started_at:.3f}s → {saga.ended_at:.3f}s ({took})", style="dim")
    if saga.failed_step:
        failed = plain(f"failed at {saga.failed_step}: {saga.error_kind}: {saga.message}")
        head.append("\n" + failed, style=style("error"))
    return head


def render_timeline(timeline: SagaTimeline, scenario: str) -> Group:
    head = _head(timeline, scenario)
    steps = Table(title="Steps", title_justify="left", title_style="bold", box=None, padding=(0, 1))
    steps.add_column("step", no_wrap=True)
    steps.add_column("status", no_wrap=True)
    steps.add_column("call", style="dim", overflow="fold")
    steps.add_column("tries", justify="right")
    steps.add_column("undo", no_wrap=True)
    steps.add_column("undo tries", justify="right")
    for step in timeline.steps:
        call = f"{step.service}.{step.operation}" if step.operation else step.service or ""
        steps.add_row(plain_text(step.step), Text(step.status, style=style(_STEP_STYLES.get(step.status, ""))),
                      plain_text(call), str(step.attempts), step.compensation_outcome or "",
                      str(step.compensation_attempts or ""))
    acts = build_timeline(timeline.events)
    parts: list[Table | Text] = [head, Text(), steps, Text(), _entries("Forward", acts.forward)]
    if acts.compensation:
        parts += [Text(), _entries("Compensation (newest step first)", acts.compensation)]
    if acts.ending:
        parts += [Text(), _entries("Outcome", acts.ending)]
    return Group(*parts)


def timeline_text(timeline: SagaTimeline, scenario: str, width: int) -> str:
    """The list view as plain text, `width` columns wide, without trailing blanks."""
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True, legacy_windows=False)
    console.print(render_timeline(timeline, scenario))
    return "\n".join(line.rstrip() for line in console.export_text(styles=False).splitlines()).strip("\n") + "\n"


class TimelineScreen(Screen[None]):
    BINDINGS = bindings(Area.TIMELINE)

    def __init__(self, saga_id: str, *, title: str | None = None) -> None:
        super().__init__()
        self.saga_id = saga_id
        self.timeline: SagaTimeline | None = None
        self.waterfall = False  # the list of every event, until `w`
        self.live = True  # a saga of the live run: the refresher keeps it current, its keys act on it
        self._scenario = ""
        self._title = title or f"Timeline of {saga_id}"

    @classmethod
    def stored(cls, timeline: SagaTimeline, scenario: str, title: str) -> TimelineScreen:
        """A saga of another database than the live run's (a proof's case): shown as it was read, never
        re-read, and nothing on it to retry, resolve, cancel, decide, fork or prove."""
        screen = cls(timeline.saga.saga_id, title=title)
        screen.live = False
        screen.timeline, screen._scenario = timeline, scenario
        return screen

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="timeline-scroll"):
            yield Static(f"loading {self.saga_id}…", id="timeline")
        yield KeyFooter()

    def on_mount(self) -> None:
        scroll = self.query_one("#timeline-scroll")
        scroll.border_title = plain_text(self._title)
        scroll.focus()
        self._draw()

    def show(self, timeline: SagaTimeline | None, scenario: str) -> None:
        if timeline is None:
            self.query_one("#timeline", Static).update(f"{self.saga_id} is not in the store yet")
            return
        if self.timeline is not None and timeline.saga.last_seq == self.timeline.saga.last_seq:
            return
        self.timeline, self._scenario = timeline, scenario
        self._draw()
        self.refresh_bindings()  # retry and resolve come and go with the saga's status

    def _draw(self) -> None:
        if self.timeline is not None:
            render = render_waterfall_view if self.waterfall else render_timeline
            self.query_one("#timeline", Static).update(render(self.timeline, self._scenario))

    def restyle(self) -> None:
        """The theme changed: draw the timeline again in its colours."""
        self._draw()

    def action_toggle_waterfall(self) -> None:
        self.waterfall = not self.waterfall
        self._draw()

    def action_copy(self) -> None:
        """The list, as wide as it is on screen (the waterfall's bars are no text to paste)."""
        if self.timeline is None:
            self.notify(f"{self.saga_id} is not loaded yet: nothing copied", severity="warning", timeout=2)
            return
        width = max(80, self.query_one("#timeline", Static).size.width)
        text = timeline_text(self.timeline, self._scenario, width)
        self.app.copy_to_clipboard(text)
        self.notify(f"copied the timeline of {self.saga_id} ({len(text.splitlines())} lines)", timeout=2)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Retry and resolve are offered only while the saga needs attention; on a stored saga, nothing that
        acts on the live run."""
        if action in _ON_THE_LIVE_RUN and not self.live:
            return False
        if action in ("retry", "resolve"):
            return self.timeline is not None and self.timeline.saga.status == SagaStatus.NEEDS_ATTENTION
        if action == "cancel_saga":
            return self.timeline is not None and self.timeline.saga.status in GOING_FORWARD
        if action == "decide":
            return self.timeline is not None and self.timeline.saga.status == SagaStatus.WAITING_APPROVAL
        return True

    def action_fork(self) -> None:
        if self.timeline is None or not self.timeline.events:
            self.notify(f"{self.saga_id} is not loaded yet: nothing to fork from", severity="warning", timeout=2)
            return
        self.post_message(ForkHere(self.saga_id, self.timeline.events[0].seq - 1))

    def action_prove(self) -> None:
        self.post_message(ProveSaga(self.saga_id))

    def action_decide(self, approve: bool) -> None:
        self.post_message(DecideApproval(self.saga_id, approve))

    def action_cancel_saga(self) -> None:
        self.post_message(CancelSaga(self.saga_id))

    def action_retry(self) -> None:
        self.post_message(RetryCompensation(self.saga_id))

    def action_resolve(self) -> None:
        self.post_message(ResolveSaga(self.saga_id))
