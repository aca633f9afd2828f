"""Small dialogs: pick a fault profile for a service, write the note that resolves a saga, pick a pack,
resume a run a crash or a quit left unfinished."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList, RadioButton, RadioSet
from textual.widgets.option_list import Option

from sagatui.lab.recovery.resume import UnfinishedRun
from sagatui.model.faults import FaultProfile
from sagatui.plain_text import plain, plain_text
from sagatui.store.queries import RunInfo
from sagatui.tui.actions import Area, bindings, shown_key
from sagatui.tui.badges import fault_label


def _escape(dialog: Screen[Any]) -> str:
    """The key that closes a dialog changing nothing, as the footer shows it (the config file may move it)."""
    return shown_key(dialog.app, "dialogs.dismiss")


# What a user most often wants to break a service with; "normal" (the pack's own profile) comes first.
FAULT_PRESETS: tuple[FaultProfile, ...] = (
    FaultProfile(mode="offline"),
    FaultProfile(mode="degraded", error_rate=0.1),
    FaultProfile(mode="degraded", error_rate=0.3),
    FaultProfile(mode="degraded", error_rate=0.5),
    FaultProfile(mode="degraded", error_rate=0.9),
    FaultProfile(mode="latency", latency=1.0),
    FaultProfile(mode="latency", latency=5.0, latency_jitter=1.0),
    FaultProfile(mode="hang"),
    FaultProfile(mode="rate_limit", rate=2.0, burst=2),
    FaultProfile(mode="rate_limit", rate=10.0, burst=5),
    FaultProfile(mode="flapping", period=4.0, duty=0.5),
    FaultProfile(mode="flapping", period=10.0, duty=0.8),
    FaultProfile(mode="lost_reply", error_rate=0.3),
    FaultProfile(mode="stuck"),  # a remediation's `reset` heals it
    FaultProfile(mode="overloaded", error_rate=0.5),  # and a `scale_up` this one
    FaultProfile(mode="offline", revert_after=5.0),
)
TARGETS = {"both": "calls and undos", "actions": "calls only", "compensations": "undos only"}


class FaultPicker(ModalScreen[FaultProfile | None]):
    """Enter switches the highlighted profile on; the target says whether it hits calls, undos or both."""

    BINDINGS = bindings(Area.DIALOGS)

    def __init__(self, service: str, now: FaultProfile, normal: FaultProfile) -> None:
        super().__init__()
        self._service = service
        self._now = now
        self._profiles = (normal, *FAULT_PRESETS)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text.assemble((plain(self._service), "b"), " is now ", (fault_label(self._now), "b"),
                                      ". Hits (shift+tab, ←/→, space):"))
            with RadioSet(id="target"):
                for target, label in TARGETS.items():
                    yield RadioButton(label, value=target == "both")
            yield OptionList(*[Option(("normal: " if index == 0 else "") + fault_label(profile), id=str(index))
                               for index, profile in enumerate(self._profiles)], id="profiles")

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = plain_text(f"Fault for {self._service}")
        self.query_one("#dialog").border_subtitle = f"enter switch on · {_escape(self)} cancel"
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        profile = self._profiles[int(event.option.id or 0)]
        target = list(TARGETS)[max(0, self.query_one(RadioSet).pressed_index)]
        self.dismiss(profile if event.option.id == "0" else profile.model_copy(update={"target": target}))


class ResolveNote(ModalScreen[str | None]):
    """Marking a saga resolved needs a note: it is recorded with the event, for whoever reads it next."""

    BINDINGS = bindings(Area.DIALOGS)

    def __init__(self, saga_id: str, problem: str) -> None:
        super().__init__()
        self._saga_id = saga_id
        self._problem = problem

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text.assemble((self._saga_id, "b"),
                                      plain(f" did not roll back: {self._problem or 'see its timeline'}")))
            yield Label("What was done by hand?")
            yield Input(placeholder="e.g. refunded by hand in the gateway console", id="note")

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = f"Resolve {self._saga_id}"
        self.query_one("#dialog").border_subtitle = f"enter resolve · {_escape(self)} cancel"
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value.strip())
        else:
            self.notify("a note is required", severity="warning")


class CancelConfirm(ModalScreen[str | None]):
    """Cancelling a saga asks first: enter cancels it, with the note typed (recorded with the cancel),
    escape leaves it running. Dismissed with the note ("" for none), or None."""

    BINDINGS = bindings(Area.DIALOGS)

    def __init__(self, saga_id: str) -> None:
        super().__init__()
        self._saga_id = saga_id

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text.assemble(("Cancel ", ""), (self._saga_id, "b"),
                                      "? It takes no further step, undoes what it did and ends cancelled."))
            yield Label("Why (optional, recorded with the cancel)?")
            yield Input(placeholder="e.g. the customer withdrew the order", id="note")

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = f"Cancel {self._saga_id}"
        self.query_one("#dialog").border_subtitle = f"enter cancel the saga · {_escape(self)} keep it running"
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())


class BulkRetryConfirm(ModalScreen[bool | None]):
    """Retrying many sagas' compensations at once says how many and which first: enter (or y) retries them,
    escape changes nothing."""

    BINDINGS = bindings(Area.BULK) + bindings(Area.DIALOGS)

    def __init__(self, saga_ids: list[str]) -> None:
        super().__init__()
        self._saga_ids = saga_ids

    def compose(self) -> ComposeResult:
        shown = ", ".join(self._saga_ids[:12]) + (f" and {len(self._saga_ids) - 12} more" if len(self._saga_ids) > 12
                                                   else "")
        with Vertical(id="dialog"):
            yield Label(Text.assemble("Retry the undos that did not complete of ", (f"{len(self._saga_ids)}", "b"),
                                      " saga(s)?"))
            yield Label(shown)

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = f"Retry {len(self._saga_ids)} saga(s)"
        retry = shown_key(self.app, "bulk.dismiss")
        self.query_one("#dialog").border_subtitle = f"{retry} retry all · {_escape(self)} cancel"


class DecisionNote(ModalScreen[str | None]):
    """Approving or rejecting the approval step a saga waits at shows what it asks and asks for a note
    (recorded with the decision): enter decides, escape leaves the saga waiting. Dismissed with the note
    ("" for none), or None."""

    BINDINGS = bindings(Area.DIALOGS)

    def __init__(self, saga_id: str, approve: bool, asks: str) -> None:
        super().__init__()
        self._saga_id = saga_id
        self._approve = approve
        self._asks = asks

    def compose(self) -> ComposeResult:
        then = "it goes on past its approval step." if self._approve else "it undoes what it did and compensates."
        with Vertical(id="dialog"):
            if self._asks:
                yield Label(Text.assemble("It asks: ", (plain(self._asks), "b")))
            yield Label(Text.assemble(("Approve " if self._approve else "Reject ", ""), (self._saga_id, "b"),
                                      f"? {then[0].upper()}{then[1:]}"))
            yield Label("Why (optional, recorded with the decision)?")
            yield Input(placeholder="e.g. known customer" if self._approve else "e.g. over the site's limit",
                        id="note")

    def on_mount(self) -> None:
        verb = "Approve" if self._approve else "Reject"
        self.query_one("#dialog").border_title = f"{verb} {self._saga_id}"
        self.query_one("#dialog").border_subtitle = f"enter {verb.lower()} · {_escape(self)} leave it waiting"
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())


class _Choice(ModalScreen[str | None]):
    """One of a list, by its id (Enter), or None (Escape). Each kind binds the dialogs' keys itself (the
    actions table knows the dialogs by name)."""

    def __init__(self, choices: list[tuple[str, str]], title: str, subtitle: str) -> None:
        """`choices`: (id, what the list shows) in order; `subtitle`: what Enter does (`open`)."""
        super().__init__()
        self._choices, self._title, self._subtitle = choices, title, subtitle

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield OptionList(*[Option(plain_text(shown), id=choice) for choice, shown in self._choices])

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = plain_text(self._title)
        self.query_one("#dialog").border_subtitle = f"enter {self._subtitle} · {_escape(self)} cancel"
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class PackPicker(_Choice):
    """Choosing a pack resets the lab onto it: a new run in the same database."""

    BINDINGS = bindings(Area.DIALOGS)

    def __init__(self, packs: list[tuple[str, str]], current: str) -> None:
        super().__init__([(name, f"{name}{' (open)' if name == current else ''}: {about}") for name, about in packs],
                         "Open a bundled pack (starts a new run)", "open")


class ServicePicker(_Choice):
    """A what-if fork's first question: which service's fault it changes (the fault picker asks the rest)."""

    BINDINGS = bindings(Area.DIALOGS)

    def __init__(self, services: list[tuple[str, str]], saga_id: str) -> None:
        """`services`: (name, the fault switched on now)."""
        super().__init__([(name, f"{name}: now {fault}") for name, fault in services],
                         f"Fork where {saga_id} started, with which service's fault changed?",
                         "choose")


class ResumePrompt(ModalScreen[RunInfo | None]):
    """On start, when runs were left with sagas unfinished: carry one on here, or start a new run
    (None). Either way the others stay for a later start or `sagatui resume`."""

    BINDINGS = bindings(Area.RESUME)

    def __init__(self, runs: list[UnfinishedRun]) -> None:
        super().__init__()
        self._runs = runs

    def compose(self) -> ComposeResult:
        newest = self._runs[-1]
        with Vertical(id="dialog"):
            question = (f"Run {newest.run.id} ({newest.run.pack_name}, {_sagas(newest.sagas_left)} unfinished) "
                        f"{_how_it_stopped(newest)}. Resume it?" if len(self._runs) == 1 else
                        f"{len(self._runs)} runs were left with sagas unfinished. Resume the highlighted one?")
            yield Label(plain_text(question))
            yield Label("[b]y[/b] resume it here · [b]n[/b] start a new run (it stays resumable)")
            yield OptionList(*[plain_text(_describe(offered)) for offered in self._runs])

    def on_mount(self) -> None:
        self.query_one("#dialog").border_title = "Unfinished runs"
        resume, new = shown_key(self.app, "resume.resume"), shown_key(self.app, "resume.dismiss")
        self.query_one("#dialog").border_subtitle = f"{resume} resume · {new} new run"
        options = self.query_one(OptionList)
        options.highlighted = len(self._runs) - 1  # the newest: most likely the one just quit or crashed
        options.focus()

    def action_resume(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.dismiss(self._runs[options.highlighted].run)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._runs[event.option_index].run)


def _sagas(count: int) -> str:
    return f"{count} saga" + ("s" if count != 1 else "")


def _how_it_stopped(offered: UnfinishedRun) -> str:
    return "was interrupted" if offered.run.status == "interrupted" else "was left unfinished (its process ended)"


def _describe(offered: UnfinishedRun) -> str:
    run = offered.run
    scenario = f" / {run.scenario}" if run.scenario else ""
    started = datetime.fromtimestamp(run.started_at).strftime("%d %b %H:%M")
    return (f"run {run.id}: {run.pack_name}{scenario}, {_sagas(offered.sagas_left)} unfinished, "
            f"{run.status}, started {started}")
