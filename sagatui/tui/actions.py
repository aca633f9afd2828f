"""Every user action once: its keys, what it does, where it works and its title in the command palette.

The app's, the screens' and the widgets' `BINDINGS`, the help screen and the command palette are all
generated from `ACTIONS`, so the three lists cannot drift (tests/tui/test_actions.py checks that no
class binds a key the table does not hold).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message

from sagatui.tui.messages import (
    BreakerCommand,
    CancelSaga,
    DecideApproval,
    OpenTimeline,
    PickFault,
    ProveSaga,
    ResolveSaga,
    RetryCompensation,
    RunScenario,
)
from sagatui.tui.messages import ToggleService as ToggleServicePressed


class Area(Enum):
    """Where keys work: the heading the help lists them under, then the classes that bind them (by
    name: the palette finds them as the app, the screen, or a widget on it). In the help's order."""

    EVERYWHERE = "Everywhere", "SagaDashboard"
    WATCHING = "Watching a recording", "WatchDashboard"
    MAIN = "Main board", "MainScreen"
    TABLES = "Every table", "KeyedTable"
    SWITCHBOARD = "Outages (switchboard)", "Switchboard"
    BREAKERS = "Circuit breakers", "BreakerTable"
    SCENARIOS = "Scenarios", "ScenarioTable"
    SAGAS = "Sagas", "SagaTable"
    EVENTS = "Events", "EventStream"
    EVENT_LOG = "Events", "EventLog"
    EVENT_FILTER = "Filter field (every list)", "FilterInput"
    ATTENTION = "Needs attention or a decision", "AttentionTable"
    TIMELINE = "Saga timeline", "TimelineScreen"
    RESUME = "Unfinished runs (asked on start)", "ResumePrompt"
    COMPARE = "Comparing two runs", "CompareScreen"
    PROOF = "Proving a saga", "ProofScreen"
    PROOF_MATRIX = "Proving a saga", "ProofMatrix"
    DIALOGS = ("Dialogs", "FaultPicker", "ResolveNote", "CancelConfirm", "DecisionNote", "BulkRetryConfirm",
               "PackPicker", "ServicePicker")
    BULK = "Retry many (asks first)", "BulkRetryConfirm"
    HELP = "This help", "HelpScreen"

    @property
    def title(self) -> str:
        return str(self.value[0])

    @property
    def owners(self) -> tuple[str, ...]:
        return tuple(self.value[1:])


class Target(Enum):
    """What a palette entry is listed once for (see tui/palette.py)."""

    SERVICE = "service"
    BREAKER = "breaker"
    SCENARIO = "scenario"
    SAGA = "saga"  # the sagas the sagas table shows
    NEEDING_ATTENTION = "needing attention"
    WAITING_APPROVAL = "waiting for a decision"


@dataclass(frozen=True)
class UserAction:
    """`action` is run on the area's owner (an "app." prefix runs it on the app); with "{n}" in it, each
    key binds it with its place in `keys` (1-9: services 0-8). `tooltip` is the help's line (when
    the description does not say enough). `palette` is the
    palette's title: with a `target`, "{}" in it is filled with each target's name and choosing the
    entry posts `message(name)` to the app, as the widget does for its highlighted row. `name` (by
    default the action's own, "app." and arguments left out) makes the id `<area>.<name>` that the config
    file's `[keys]` and Textual's keymap know the bindings by (`<area>.<name>.<n>` for each "{n}" key)."""

    area: Area
    keys: str  # Textual's key list: "1,2,3" or "escape,q"
    action: str
    description: str  # the footer's label
    tooltip: str
    palette: str
    target: Target | None = None
    message: Callable[[str], Message] | None = None
    show: bool = True  # on the footer
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.area.name.lower()}.{self.name or self.action.removeprefix('app.').partition('(')[0]}"

    def bindings(self) -> list[Binding]:
        if "{n}" not in self.action:
            return [Binding(self.keys, self.action, self.description, show=self.show, tooltip=self.tooltip,
                            id=self.id)]
        return [Binding(key, self.action.format(n=n), self.description, show=self.show, tooltip=self.tooltip,
                        id=f"{self.id}.{n + 1}") for n, key in enumerate(self.keys.split(","))]


VIEWS = {  # id -> (tab label, key)
    "scenarios": ("Scenarios", "c"),
    "sagas": ("Sagas", "s"),
    "events": ("Events", "e"),
    "resources": ("Resources", "r"),
    "metrics": ("Metrics", "m"),
    "attention": ("Attention", "a"),
}
def _decisions(area: Area) -> tuple[UserAction, UserAction]:
    """Approve and reject the approval step the highlighted saga waits at (waiting_approval), after a dialog
    that shows what it asks and takes an optional note: one pair for every table listing such sagas."""
    return (UserAction(area, "A", "decide(True)", "Approve…", "approve the approval step the highlighted saga "
                       "waits at: it goes on (asks for an optional note)", "Approve {}…", Target.WAITING_APPROVAL,
                       lambda name: DecideApproval(name, True), name="approve"),
            UserAction(area, "X", "decide(False)", "Reject…", "reject the approval step the highlighted saga waits "
                       "at: it compensates what it did (asks for an optional note)", "Reject {}…",
                       Target.WAITING_APPROVAL, lambda name: DecideApproval(name, False), name="reject"))


TOGGLE_TOOLTIP = "switch the highlighted service offline, or back on"

ACTIONS: tuple[UserAction, ...] = (
    UserAction(Area.EVERYWHERE, "q", "quit", "Quit", "stop the engine, flush the database and leave (sagas still in "
               "flight: the run is interrupted, and the next start offers to resume it)", "Quit"),
    UserAction(Area.EVERYWHERE, "ctrl+c", "interrupt", "Interrupt", "quit as q does, with exit status 130 as after "
               "Ctrl-C anywhere", "Interrupt (exit status 130)", show=False),
    UserAction(Area.EVERYWHERE, "question_mark", "help", "Help", "this list of keys", "Keys"),
    UserAction(Area.EVERYWHERE, "ctrl+p", "command_palette", "Commands", "command palette: every action by name",
               "Commands", show=False),
    UserAction(Area.WATCHING, "space", "play_pause", "Play/pause", "play or pause the recording",
               "Play or pause the recording"),
    UserAction(Area.WATCHING, "n", "step", "Step", "paused: move to the next moment of the recording",
               "Step to the next moment"),
    UserAction(Area.MAIN, ",".join(map(str, range(1, 10))), "app.toggle_service({n})", "Toggle service",
               "switch service 1-9 (top to bottom) offline, or back on", "Toggle {} offline/online",
               Target.SERVICE, ToggleServicePressed, show=False),
    *[UserAction(Area.MAIN, key, f"show_view('{view}')", f"{label} view", "",
                 f"Show {label}", show=False, name=f"view_{view}") for view, (label, key) in VIEWS.items()],
    UserAction(Area.MAIN, "p", "app.pause", "Pause", "pause or resume the engine (sagas hold before their next "
               "call)", "Pause or resume engine", show=False),
    UserAction(Area.MAIN, "x", "app.speed", "Speed", "clock speed: real time -> x10 -> virtual (as fast as "
               "possible)", "Next clock speed", show=False),
    UserAction(Area.MAIN, "l", "app.load", "Load", "start or stop the load generator (the highlighted workload "
               "scenario, else the pack's first)", "Start or stop load", show=False),
    UserAction(Area.MAIN, "plus", "app.load_rate(2)", "Load x2", "double the load generator's rate",
               "Load rate x2", show=False, name="load_faster"),
    UserAction(Area.MAIN, "minus", "app.load_rate(0.5)", "Load /2", "halve the load generator's rate",
               "Load rate /2", show=False, name="load_slower"),
    UserAction(Area.MAIN, "R", "app.reset", "Reset lab", "stop this run and start a new one (the old one stays in "
               "the database)", "Reset lab", show=False),
    UserAction(Area.MAIN, "d", "app.compare_previous", "Compare", "this run beside the one before it in the "
               "database: the first event where they part, then the sagas and metrics that differ",
               "Compare this run with the previous one"),
    UserAction(Area.MAIN, "o", "app.open_pack", "Open pack", "start a new run on another bundled pack",
               "Open pack…", show=False),
    UserAction(Area.TABLES, "j", "cursor_down", "Down", "next row (as ↓)", "Table: next row", show=False),
    UserAction(Area.TABLES, "k", "cursor_up", "Up", "previous row (as ↑)", "Table: previous row", show=False),
    UserAction(Area.TABLES, "g", "scroll_top", "First", "first row", "Table: first row", show=False),
    UserAction(Area.TABLES, "G", "scroll_bottom", "Last", "last row (the sagas table follows the newest again)",
               "Table: last row", show=False),
    UserAction(Area.TABLES, "ctrl+d", "half_page(1)", "Half page down", "half a page down",
               "Table: half a page down", show=False, name="half_page_down"),
    UserAction(Area.TABLES, "ctrl+u", "half_page(-1)", "Half page up", "half a page up", "Table: half a page up",
               show=False, name="half_page_up"),
    UserAction(Area.SWITCHBOARD, "enter", "toggle_switch", "Toggle", TOGGLE_TOOLTIP, "Toggle {} offline/online",
               Target.SERVICE, ToggleServicePressed),
    UserAction(Area.SWITCHBOARD, "f", "pick_fault", "Fault…", "pick a fault profile: degraded, latency, hang, rate "
               "limit, flapping, lost reply, ...", "Fault {}…", Target.SERVICE, PickFault),
    UserAction(Area.BREAKERS, "i", "command('isolate')", "Isolate", "force the highlighted breaker open until reset",
               "Isolate breaker {}", Target.BREAKER, lambda name: BreakerCommand(name, "isolate"), name="isolate"),
    UserAction(Area.BREAKERS, "u", "command('reset_breaker')", "Reset", "close the highlighted breaker",
               "Reset breaker {}", Target.BREAKER, lambda name: BreakerCommand(name, "reset_breaker"),
               name="reset_breaker"),
    UserAction(Area.SCENARIOS, "enter", "select_cursor", "Run", "run the highlighted scenario", "Run scenario {}",
               Target.SCENARIO, RunScenario),
    UserAction(Area.SCENARIOS, "slash", "edit_filter", "Filter", "show only the scenarios holding every word typed "
               "(name, runs, description)", "Filter scenarios"),
    UserAction(Area.SAGAS, "enter", "select_cursor", "Timeline", "open the highlighted saga's timeline",
               "Timeline of {}", Target.SAGA, OpenTimeline),
    UserAction(Area.SAGAS, "slash", "edit_filter", "Filter", "show only the sagas holding every word typed (id, "
               "status, step, scenario), e.g. `payment compensated`", "Filter sagas"),
    UserAction(Area.SAGAS, "S", "next_filter", "Status", "next status filter: all, running, compensating, "
               "completed, ...", "Next saga status filter"),
    UserAction(Area.SAGAS, "y", "copy", "Copy id", "copy the highlighted saga's id to the clipboard (OSC 52: over "
               "SSH and in the browser too)", "Copy the highlighted saga's id"),
    UserAction(Area.SAGAS, "ctrl+k", "cancel_saga", "Cancel saga…", "stop the highlighted running saga going "
               "forward: it undoes what it did and ends cancelled (asks first, with an optional note)",
               "Cancel {}…", Target.SAGA, CancelSaga),
    UserAction(Area.SAGAS, "P", "prove", "Prove", "prove the highlighted saga's definition on its input with the "
               "run's seed, as `sagatui prove` does (into <db>.proofs.db): its failure matrix, each case's timeline",
               "Prove {}'s saga", Target.SAGA, ProveSaga),
    *_decisions(Area.SAGAS),
    UserAction(Area.SAGAS, "end", "follow", "Follow", "back to the newest saga, following new ones (moving up holds "
               "the rows)", "Follow the newest saga", show=False),
    UserAction(Area.EVENTS, "slash", "edit_filter", "Filter", "filter by kinds, families, services or saga ids, "
               "e.g. `breaker payment S-0003`", "Filter events"),
    UserAction(Area.EVENTS, "space", "toggle_pause", "Pause log", "freeze the log (events are still kept); again "
               "to resume", "Pause or resume the event log"),
    UserAction(Area.EVENTS, "y", "copy", "Copy JSON", "copy the event on the log's last line on screen (the newest "
               "while following) to the clipboard as JSON", "Copy the event on screen as JSON"),
    UserAction(Area.EVENT_LOG, "end", "follow", "Follow", "jump to the newest line and follow it again (scrolling "
               "up stops following)", "Follow the newest event"),
    UserAction(Area.EVENT_FILTER, "escape", "cancel", "Cancel", "leave the filter as it was", "Cancel the filter"),
    UserAction(Area.ATTENTION, "enter", "select_cursor", "Timeline", "open the highlighted saga's timeline",
               "Timeline of {}", Target.NEEDING_ATTENTION, OpenTimeline),
    UserAction(Area.ATTENTION, "slash", "edit_filter", "Filter", "show only the sagas holding every word typed (id, "
               "what did not undo, scenario)", "Filter the sagas needing attention"),
    UserAction(Area.ATTENTION, "y", "copy", "Copy id", "copy the highlighted saga's id to the clipboard",
               "Copy the id of the highlighted saga needing attention"),
    *_decisions(Area.ATTENTION),
    UserAction(Area.ATTENTION, "t", "retry", "Retry undo", "run the compensations that did not complete again",
               "Retry compensation of {}", Target.NEEDING_ATTENTION, RetryCompensation),
    UserAction(Area.ATTENTION, "n", "resolve", "Resolve…", "mark the saga resolved, with a note of what was done by "
               "hand", "Resolve {}…", Target.NEEDING_ATTENTION, ResolveSaga),
    UserAction(Area.ATTENTION, "T", "retry_shown", "Retry all…", "retry the undos of every saga needing attention "
               "the inbox shows (filter it with / first); asks first, with the count", "Retry every saga shown in "
               "the inbox…"),
    UserAction(Area.ATTENTION, "N", "resolve_shown", "Resolve all…", "resolve every saga needing attention the inbox "
               "shows, with one note", "Resolve every saga shown in the inbox…"),
    UserAction(Area.TIMELINE, "escape,q", "app.pop_screen", "Back", "back to the board", "Back to the board"),
    UserAction(Area.TIMELINE, "w", "toggle_waterfall", "Waterfall/list", "the waterfall (bars scaled to clock "
               "time: attempts, backoffs, breaker rejections, fallbacks, then the undos), or the list of every event",
               "Show the waterfall or the list"),
    UserAction(Area.TIMELINE, "y", "copy", "Copy", "copy the timeline (the list, as plain text) to the clipboard",
               "Copy the timeline as text"),
    UserAction(Area.TIMELINE, "ctrl+k", "cancel_saga", "Cancel saga…", "while it runs forward: stop it, undo what "
               "it did, end it cancelled", "Cancel this saga…"),
    UserAction(Area.TIMELINE, "A", "decide(True)", "Approve…", "while it waits at an approval step: approve it",
               "Approve this saga…", name="approve"),
    UserAction(Area.TIMELINE, "X", "decide(False)", "Reject…", "while it waits at an approval step: reject it (it "
               "compensates)", "Reject this saga…", name="reject"),
    UserAction(Area.TIMELINE, "t", "retry", "Retry undo", "while it needs attention: run its failed compensations "
               "again", "Retry this saga's compensation"),
    UserAction(Area.TIMELINE, "n", "resolve", "Resolve…", "while it needs attention: mark it resolved, with a note",
               "Resolve this saga…"),
    UserAction(Area.TIMELINE, "f", "fork", "Fork here…", "what if: run this run again up to where this saga "
               "started, with a service's fault changed there (into <db>.forks.db), then compare the two",
               "Fork this run where this saga started, with a fault changed…"),
    UserAction(Area.TIMELINE, "P", "prove", "Prove", "prove this saga's definition on its input with the run's "
               "seed (into <db>.proofs.db): its failure matrix, each case's timeline", "Prove this saga"),
    UserAction(Area.COMPARE, "escape,q", "app.pop_screen", "Back", "back to where it was opened", "Back"),
    UserAction(Area.PROOF, "escape,q", "app.pop_screen", "Back", "back to where it was opened (a proof under way "
               "stops after its case)", "Back"),
    UserAction(Area.PROOF_MATRIX, "enter", "select_cursor", "Timeline", "open the highlighted case's timeline: its "
               "saga, in its run of <db>.proofs.db", "Timeline of the highlighted case"),
    UserAction(Area.COMPARE, "y", "copy", "Copy", "copy the comparison (as `sagatui diff` prints it) to the "
               "clipboard", "Copy the comparison as text"),
    UserAction(Area.RESUME, "y", "resume", "Resume", "carry on the highlighted unfinished run, live",
               "Resume the highlighted run"),
    UserAction(Area.RESUME, "n,escape", "dismiss(None)", "New run", "start a new run; the unfinished ones stay "
               "resumable (`sagatui resume`)", "Start a new run instead"),
    UserAction(Area.BULK, "enter,y", "dismiss(True)", "Retry all", "retry every saga listed", "Retry every saga "
               "listed"),
    UserAction(Area.DIALOGS, "escape", "dismiss(None)", "Cancel", "close the dialog, changing nothing",
               "Cancel this dialog"),
    UserAction(Area.HELP, "escape,q,question_mark", "dismiss", "Close", "close this list", "Close the keys"),
)


def area_bindings(area: Area) -> list[Binding]:
    """Every binding of `area`'s actions, in the table's order."""
    return [binding for action in ACTIONS if action.area is area for binding in action.bindings()]


def bindings(area: Area) -> list[BindingType]:
    """The `BINDINGS` of `area`'s classes (typed as Textual types them)."""
    return list(area_bindings(area))


def remapped(binding: Binding, keymap: Mapping[str, str]) -> Binding:
    """`binding` with the keys `keymap` (binding id -> keys, the config file's `[keys]`) gives it, as Textual
    binds them."""
    return replace(binding, key=keymap[binding.id]) if binding.id is not None and binding.id in keymap else binding


@runtime_checkable
class KeyMapped(Protocol):
    """An app that keeps the config file's `[keys]` (binding id -> keys), as the dashboard does."""

    keymap: dict[str, str]


def shown_key(app: App[Any], binding_id: str) -> str:
    """The first key bound as `binding_id`, as the footer shows it (the app's keymap may have moved it):
    what a dialog's or a panel's title names."""
    keymap = app.keymap if isinstance(app, KeyMapped) else {}
    return app.get_key_display(Binding(first_key(binding_id, keymap), ""))


def first_key(binding_id: str, keymap: Mapping[str, str]) -> str:
    """The first key bound as `binding_id`: the keymap's, else the table's."""
    binding = next(binding for action in ACTIONS for binding in action.bindings() if binding.id == binding_id)
    return remapped(binding, keymap).key.split(",")[0].strip()
