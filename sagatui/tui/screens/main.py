"""The main board: outage switchboard and circuit breakers on top, then one view at a time (scenarios,
sagas, events, resources, metrics, needs attention) picked by tab or letter; on a large terminal every
view is shown at once."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Tab, Tabs

from sagatui.packs.model import Pack
from sagatui.tui.actions import VIEWS, Area, bindings
from sagatui.tui.widgets.control_tables import BreakerTable, ScenarioPicker, Switchboard
from sagatui.tui.widgets.event_stream import EventStream
from sagatui.tui.widgets.filter_field import TablePanel
from sagatui.tui.widgets.key_footer import KeyFooter
from sagatui.tui.widgets.metrics import MetricsPanel
from sagatui.tui.widgets.quiet_static import QuietStatic
from sagatui.tui.widgets.resources import ResourcePanel
from sagatui.tui.widgets.saga_tables import AttentionTable, SagaTable


class ViewTabs(Tabs, can_focus=False):
    """The view picker: clicked, or driven by the view keys; never takes the focus from a panel."""


class MainScreen(Screen[None]):
    @dataclass
    class ViewShown(Message):
        view: str

    BINDINGS = bindings(Area.MAIN)
    # From 180 columns and 45 rows (.-wide.-tall) every view is on screen at once (see app.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (180, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (45, "-tall")]

    def __init__(self, pack: Pack) -> None:
        super().__init__()
        self._pack = pack

    def compose(self) -> ComposeResult:
        yield QuietStatic(id="status-line")
        with Horizontal(id="controls"):
            yield Switchboard(id="services")
            yield BreakerTable(id="breakers")
        yield ViewTabs(*[Tab(label, id=f"tab-{view}") for view, (label, _) in VIEWS.items()], id="views")
        with Container(id="deck"):  # in grid order for the wide layout; the tabs keep their own order
            yield TablePanel(SagaTable(), placeholder="words in the id, status, step or scenario, e.g. payment "
                             "compensated (empty: all)", id="sagas")
            yield EventStream(self._pack.services, id="events")
            yield ScenarioPicker(id="scenarios")
            yield ResourcePanel(id="resources")
            yield MetricsPanel(id="metrics")
            yield TablePanel(AttentionTable(), placeholder="words in the id, what did not undo or the scenario "
                             "(empty: all)", id="attention")
        yield KeyFooter()

    def on_mount(self) -> None:
        titles = {
            "services": "Outages [dim]1-9 · f[/]",
            "breakers": "Breakers [dim]i isolate · u reset[/]",
            "scenarios": "Scenarios [dim]enter run · l load[/]",
            "sagas": "Sagas",
            "events": "Events",
            "resources": "Resources",
            "metrics": "Metrics",
            "attention": "Needs attention [dim]t retry undo · n resolve[/]",
        }
        for widget_id, title in titles.items():
            widget = self.query_one(f"#{widget_id}")
            widget.border_title = title
            widget.add_class("panel")
        self.show_view("scenarios")

    @property
    def active_view(self) -> str:
        return self.query_one(ViewTabs).active.removeprefix("tab-")

    def show_view(self, view: str) -> None:
        self.query_one(ViewTabs).active = f"tab-{view}"

    def action_show_view(self, view: str) -> None:
        self.show_view(view)
        self._focus_view(view)

    @on(Tabs.TabActivated)
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        view = event.tab.id.removeprefix("tab-") if event.tab and event.tab.id else "scenarios"
        self._show_panels(view)
        self.post_message(self.ViewShown(view))
        if self.focused is None or not self.is_wide:
            self._focus_view(view)

    def _focus_view(self, view: str) -> None:
        panel = self.query_one(f"#{view}")
        target: Widget = panel if panel.can_focus else next(
            (child for child in panel.query("*") if child.can_focus and child.display), panel)
        target.focus()

    def view_on_screen(self, view: str) -> bool:
        return self.is_wide or self.active_view == view

    @property
    def is_wide(self) -> bool:
        return self.has_class("-wide", "-tall")

    def _show_panels(self, view: str) -> None:
        """Only `view`'s panel is displayed (every one when wide). Set as each panel's `display`, not as
        a class: a class change restyles the panel and everything in it, which under a flood of events
        cost a view switch about a tenth of a second."""
        for panel in self.query_one("#deck").children:
            panel.display = self.is_wide or panel.id == view

    def on_resize(self) -> None:
        """Textual sets the breakpoint classes after this handler (Screen's own runs later in the MRO):
        the panels follow them next."""
        self.call_next(self._relayout)

    def _relayout(self) -> None:
        self._show_panels(self.active_view)
        self.post_message(self.ViewShown(self.active_view))

    def set_attention_count(self, count: int) -> None:
        tab = self.query_one("#tab-attention", Tab)
        label = f"Attention ({count})" if count else "Attention"
        if tab.label_text != label:
            tab.label = label
