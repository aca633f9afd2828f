"""The lab's controls: the scenario picker, the outage switchboard and the circuit breakers."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable, Static

from sagatui.lab.view import BreakerView, BulkheadView
from sagatui.model.faults import FaultProfile
from sagatui.model.status import BreakerState
from sagatui.packs.model import Pack, Scenario
from sagatui.plain_text import plain_text
from sagatui.tui.actions import Area, bindings
from sagatui.tui.badges import breaker_state, fault_label, switch
from sagatui.tui.messages import BreakerCommand, PickFault, RunScenario, ToggleService
from sagatui.tui.tones import style
from sagatui.tui.widgets.filter_field import TablePanel, open_filter
from sagatui.tui.widgets.keyed_table import NAME_MIN, KeyedTable, clipped

SWITCH_WIDTH = 4


def _runs(scenario: Scenario) -> str:
    if scenario.workload is not None:
        return f"{scenario.workload.count} @ {scenario.workload.rate:g}/s"
    return f"{len(scenario.inputs)} saga" + ("s" if len(scenario.inputs) > 1 else "")


class ScenarioTable(KeyedTable):
    """The pack's scenarios; Enter runs the one under the cursor, `/` filters them."""

    BINDINGS = bindings(Area.SCENARIOS)

    def __init__(self, id: str | None = None) -> None:
        super().__init__([("name", "scenario", None), ("runs", "runs", None), ("about", "description", None)], id=id,
                         gives_way="about")

    def show(self, pack: Pack) -> None:
        """The pack's scenarios; the cursor on the pack's default scenario unless it was on one of them."""
        before = self.selected_key
        self.show_rows({name: (name, _runs(scenario), scenario.description)
                        for name, scenario in pack.scenarios.items()})
        default = pack.default_scenario
        if (before is None or before not in pack.scenarios) and default is not None and default in self.rows:
            self.move_cursor(row=self.get_row_index(default), animate=False, scroll=True)

    def action_edit_filter(self) -> None:
        open_filter(self)

    @on(KeyedTable.RowSelected)
    def _run(self, event: KeyedTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(RunScenario(event.row_key.value))


class ScenarioPicker(TablePanel):
    """The scenarios under their filter field, and under them the whole description of the highlighted one
    (in a narrow terminal the table's description column gives way)."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(ScenarioTable(), placeholder="words in the name or description (empty: all)", id=id)
        self._pack: Pack | None = None
        self._described: str | None = None

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static(id="scenario-about")

    def show(self, pack: Pack) -> None:
        self._pack = pack
        self.query_one(ScenarioTable).show(pack)
        self._describe()

    @on(DataTable.RowHighlighted)
    def _describe(self) -> None:
        name = self.query_one(ScenarioTable).selected_key
        scenario = self._pack.scenarios.get(name) if self._pack is not None and name is not None else None
        about = f"{name} · {_runs(scenario)}: {scenario.description}" if scenario is not None else ""
        if about != self._described:
            self._described = about
            self.query_one("#scenario-about", Static).update(plain_text(about))


class Switchboard(KeyedTable):
    """One row per service: a number key, a switch (click it) and the fault profile switched on."""

    BINDINGS = bindings(Area.SWITCHBOARD)

    def __init__(self, id: str | None = None) -> None:
        super().__init__([("service", "# service", None), ("switch", "", SWITCH_WIDTH), ("profile", "profile", None)],
                         id=id)

    def show(self, profiles: dict[str, FaultProfile]) -> None:
        """`profiles`: service -> the profile switched on now."""
        labels = {service: fault_label(profile) for service, profile in profiles.items()}
        names, kept = self._widths(max(map(len, profiles), default=0), max(map(len, labels.values()), default=0))
        self.sync({
            service: (f"{number if number <= 9 else ' '} {clipped(service, names)}", switch(profile),
                      clipped(labels[service], kept))
            for number, (service, profile) in enumerate(profiles.items(), start=1)
        })

    def _widths(self, longest_name: int, longest_label: int) -> tuple[int, int]:
        """How much of the service names and of the profiles fits (a narrow terminal): the profile comes
        first, the names give way down to NAME_MIN. The table's width is auto, so the measure is the
        widest it may grow (its max-width in its container), less its border and scrollbar, the switch,
        the number key and the cells' padding."""
        max_width, container = self.styles.max_width, self.parent
        if max_width is None or not isinstance(container, Widget) or not container.size.width:
            return longest_name, longest_label  # free to grow, or not laid out yet
        room = int(max_width.resolve(container.size, self.app.size)) - self.gutter.width
        room -= 2 * self.cell_padding * len(self.columns) + SWITCH_WIDTH + len("9 ")
        names = min(longest_name, max(NAME_MIN, room - longest_label))
        return names, max(1, room - names)

    def action_toggle_switch(self) -> None:
        if self.selected_key is not None:
            self.post_message(ToggleService(self.selected_key))

    def action_pick_fault(self) -> None:
        if self.selected_key is not None:
            self.post_message(PickFault(self.selected_key))

    @on(KeyedTable.RowSelected)
    def _ignore_second_click(self, event: KeyedTable.RowSelected) -> None:
        event.stop()  # a click toggles only on the switch itself (below)

    def on_click(self, event: events.Click) -> None:
        meta = event.style.meta
        if meta.get("column") == 1 and 0 <= meta.get("row", -1) < self.row_count:
            key = self.ordered_rows[meta["row"]].key.value
            if key is not None:
                self.post_message(ToggleService(key))


class BreakerTable(KeyedTable):
    """Every breaker: its state (an open one counts down to half-open), failures against its
    threshold, and how often it tripped."""

    BINDINGS = bindings(Area.BREAKERS)

    def __init__(self, id: str | None = None) -> None:
        super().__init__([("breaker", "breaker", None), ("state", "state", 11), ("failures", "fail", None),
                          ("trips", "trips", 5)], id=id, gives_way="breaker")

    def show(self, breakers: list[BreakerView], now: float) -> None:
        rows = {}
        for breaker in breakers:
            name = breaker.name
            if not breaker.used:  # no call has needed it yet
                rows[name] = (name, breaker_state(BreakerState.CLOSED, None), Text("-", style="dim"), "0")
                continue
            half_open_at = breaker.half_open_at
            countdown = max(0.0, half_open_at - now) if half_open_at is not None else None
            rows[name] = (name, breaker_state(breaker.state, countdown), _failures(breaker), str(breaker.trips))
        self.sync(rows)

    def action_command(self, command: str) -> None:
        if self.selected_key is not None:
            self.post_message(BreakerCommand(self.selected_key, command))


class BulkheadTable(KeyedTable):
    """Each service with a bulkhead: its calls in flight against the limit, the tries waiting for a slot
    against the queue's size, and the tries refused. Not shown for a pack that limits no service."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__([("service", "bulkhead", None), ("in_flight", "in flight", 9), ("queued", "queue", 7),
                          ("refused", "refused", 7)], id=id, gives_way="service")

    def show(self, bulkheads: list[BulkheadView]) -> None:
        if self.display != bool(bulkheads):
            self.display = bool(bulkheads)
        self.sync({bulkhead.service: (
            bulkhead.service, _filled(bulkhead.in_flight, bulkhead.max_concurrent, "warning"),
            _filled(bulkhead.queued, bulkhead.max_queue, "error"),
            Text(str(bulkhead.rejected), style=style("bold error") if bulkhead.rejected else ""),
        ) for bulkhead in bulkheads})

def _filled(used: int, limit: int, tone: str) -> Text:
    """`3/4`; in `tone` once full."""
    return Text(f"{used}/{limit}", style=style(f"bold {tone}") if used >= limit > 0 else "")


def _failures(breaker: BreakerView) -> Text:
    """`3/5`: failures in a row against the threshold; `40%`: the window's failure rate (rate breakers).
    Red once half way to tripping."""
    config = breaker.config
    parts = []
    alarming = False
    if config.consecutive_failures is not None:
        parts.append(f"{breaker.consecutive_failures}/{config.consecutive_failures}")
        alarming = breaker.consecutive_failures * 2 >= config.consecutive_failures > 1
    rate = breaker.failure_rate
    if config.failure_rate is not None and rate is not None:
        parts.append(f"{rate:.0%}")
        alarming = alarming or rate * 2 >= config.failure_rate
    return Text(" ".join(parts), style=style("bold error") if alarming else "")
