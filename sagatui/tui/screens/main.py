"""The main board: outage switchboard and circuit breakers on top, then one view at a time (scenarios,
sagas, events, resources, metrics, needs attention) picked by tab or letter; on a large terminal every
view is shown at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Tab, Tabs

from sagatui.packs.model import Pack
from sagatui.tui.actions import VIEWS, Area, bindings, first_key
from sagatui.tui.widgets.control_tables import BreakerTable, BulkheadTable, ScenarioPicker, Switchboard
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

    def __init__(self, pack: Pack, keymap: Mapping[str, str] | None = None) -> None:
        """`keymap`: binding id -> keys (the config file's `[keys]`), for the keys the titles name."""
        super().__init__()
        self._pack = pack
        self._keymap = dict(keymap or {})
        self._keys: dict[str, str] = {}

    def key(self, binding_id: str) -> str:
        """The key bound as `binding_id`, as the footer shows it (the config file may have moved it)."""
        if binding_id not in self._keys:
            self._keys[binding_id] = self.app.get_key_display(Binding(first_key(binding_id, self._keymap), ""))
        return self._keys[binding_id]

    def compose(self) -> ComposeResult:
        yield QuietStatic(id="status-line")
        with Horizontal(id="controls"):
            yield Switchboard(id="services")
            yield BreakerTable(id="breakers")
            yield BulkheadTable(id="bulkheads")
        yield ViewTabs(*[Tab(label, id=f"tab-{view}") for view, (label, _) in VIEWS.items()], id="views")
        with Container(id="deck"):  # in grid order for the wide layout; the tabs keep their own order
            yield TablePanel(SagaTable(), placeholder="words in the id, status, step or scenario, e.g. payment "
                             "compensated (empty: all)", id="sagas")
            yield EventStream(self._pack.services, id="events")
            yield ScenarioPicker(id="scenarios")
            yield ResourcePanel(id="resources")
            yield MetricsPanel(id="metrics")
            yield TablePanel(AttentionTable(), placeholder="words in the id, what it needs or the scenario "
                             "(empty: all)", id="attention")
        yield KeyFooter()

    def on_mount(self) -> None:
        key = self.key
        toggles = [first_key(f"main.toggle_service.{n}", self._keymap) for n in range(1, 10)]
        services = "1-9" if toggles == list("123456789") else f"{key('main.toggle_service.1')}…"
        titles = {
            "services": f"Outages [dim]{services} · {key('switchboard.pick_fault')}[/]",
            "bulkheads": "Bulkheads",
            "breakers": f"Breakers [dim]{key('breakers.isolate')} isolate · {key('breakers.reset_breaker')} reset[/]",
            "scenarios": f"Scenarios [dim]{key('scenarios.select_cursor')} run · {key('main.load')} load[/]",
            "sagas": "Sagas",
            "events": "Events",
            "resources": "Resources",
            "metrics": "Metrics",
            "attention": f"Needs attention or a decision [dim]{key('attention.approve')} approve · "
                         f"{key('attention.reject')} reject · {key('attention.retry')} retry undo · "
                         f"{key('attention.resolve')} resolve[/]",
        }
        events = self.query_one(EventStream)
        events.keys_hint = f"{key('events.edit_filter')} filter · {key('events.toggle_pause')} pause"
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
