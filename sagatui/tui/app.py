"""The dashboard app: its lifecycle (open the session, offer to resume, reset, open a pack, quit on a
key or a signal, leave on a storage error) and the translation of keys, clicks and palette entries into
lab commands. Keeping the board current is the refresher's (sagatui.tui.refresher), made for each lab;
the keys, the palette and the help come from one table (sagatui.tui.actions).
"""

from __future__ import annotations

import signal
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from textual import on
from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import WorkerCancelled, WorkerFailed

from sagatui.code.app import App as UserApp
from sagatui.exit_codes import ExitCode
from sagatui.lab.command_desk import InvalidCommand
from sagatui.lab.commands import (
    CancelSaga,
    Command,
    DecideApproval,
    Isolate,
    ResetBreaker,
    Resolve,
    RetryCompensation,
    ScaleLoad,
    SetFault,
    StartScenario,
    ToggleLoad,
    TogglePause,
    ToggleService,
)
from sagatui.lab.recovery.reopen import CodeNeeded, RunMovedOn
from sagatui.lab.recovery.resume import runs_with_sagas_left
from sagatui.lab.session import LabSession, LabSettings, Resumed
from sagatui.model.faults import FaultProfile
from sagatui.packs.bundled import bundled_packs, read_pack
from sagatui.packs.loader import load_pack
from sagatui.packs.model import Pack
from sagatui.plain_text import plain
from sagatui.stop_signals import StopSignals, exit_code, stopped_message
from sagatui.store import queries
from sagatui.store.errors import StorageError
from sagatui.tui.actions import Area, bindings
from sagatui.tui.messages import (
    BreakerCommand,
    ForkHere,
    OpenTimeline,
    PickFault,
    ProveSaga,
    ResolveMany,
    ResolveSaga,
    RetryMany,
    RunScenario,
)
from sagatui.tui.messages import CancelSaga as CancelPressed
from sagatui.tui.messages import DecideApproval as DecidePressed
from sagatui.tui.messages import RetryCompensation as RetryPressed
from sagatui.tui.messages import ToggleService as TogglePressed
from sagatui.tui.palette import palette_commands
from sagatui.tui.refresher import SPEEDS, Refresher, speed_label
from sagatui.tui.run_compare import ask_for_a_fork, compare_with_previous
from sagatui.tui.run_proof import prove_saga
from sagatui.tui.screens.dialogs import (
    BulkRetryConfirm,
    CancelConfirm,
    DecisionNote,
    FaultPicker,
    PackPicker,
    ResolveNote,
    ResumePrompt,
)
from sagatui.tui.screens.help import HelpScreen
from sagatui.tui.screens.main import MainScreen
from sagatui.tui.screens.timeline import TimelineScreen
from sagatui.tui.themes import THEMES
from sagatui.tui.widgets.control_tables import ScenarioTable


class SagaDashboard(App[None]):
    TITLE = "sagatui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses elsewhere find it too
    BINDINGS = bindings(Area.EVERYWHERE)
    KEY_AREAS: tuple[Area, ...] = tuple(area for area in Area if area is not Area.WATCHING)  # the help's

    def __init__(self, settings: LabSettings, *, theme: str | None = None,
                 keymap: Mapping[str, str] | None = None) -> None:
        """`theme`: a Textual theme's name (None: Textual's default); `keymap`: binding id -> keys, over the
        actions table's keys (see UserAction.id and the config file's `[keys]`)."""
        super().__init__()
        self.settings = settings
        for own in THEMES.values():
            self.register_theme(own)
        if theme is not None:
            self.theme = theme
        self.keymap = dict(keymap or {})  # as the help lists the keys (Textual keeps its own copy)
        if keymap:
            self.set_keymap(keymap)
        self.session: LabSession | None = None
        self.refresher: Refresher | None = None  # the open lab's, while one is open
        self._stop_signals = StopSignals(lambda stop: self.call_next(self._quit_on, stop))

    # -- lifecycle -------------------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        return MainScreen(self.settings.pack, self.keymap)

    async def on_mount(self) -> None:
        self._stop_signals.install()
        self.theme_changed_signal.subscribe(self, self._restyle)
        try:
            self.session = await LabSession.open(self.settings)
            unfinished = await runs_with_sagas_left(self.session.store)
        except StorageError as error:
            self._storage_failed(error)
            return
        if unfinished:
            self.push_screen(ResumePrompt(unfinished), self._begin)
        else:
            await self._begin(None)

    async def _begin(self, unfinished: queries.RunInfo | None) -> None:
        """The first lab: a new run, or the unfinished run the user chose to carry on."""
        session = self.session
        if session is None:
            return  # quit while the prompt was up
        try:
            resumed = await self._carry_on(session, unfinished) if unfinished is not None else None
            if resumed is None:
                await session.start()
        except StorageError as error:
            self._storage_failed(error)
            return
        self._follow_new_lab()
        if resumed is not None:
            self.notify(f"resuming run {resumed.run_id}: {len(resumed.sagas)} saga(s) carried on, "
                        f"{len(resumed.resent)} call(s) sent again with their idempotency key", timeout=8)

    async def _carry_on(self, session: LabSession, unfinished: queries.RunInfo) -> Resumed | None:
        """Resume the run the user chose; None, saying so, if another process settled it since it was offered."""
        try:
            return await session.resume(unfinished)
        except (RunMovedOn, CodeNeeded) as refused:
            self.notify(f"{refused}: a new run starts instead", severity="warning", timeout=8)
            return None

    def _storage_failed(self, error: StorageError) -> None:
        self.exit(return_code=ExitCode.STORAGE, message=f"sagatui: storage error: {error}")

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Notifications quote pack and operator text (scenario and pack names, notes): plain text by
        default, and never an escape sequence."""
        super().notify(plain(message), title=plain(title), severity=severity, timeout=timeout, markup=markup)

    async def action_quit(self) -> None:
        await self._close_session()
        self.exit()

    async def action_interrupt(self) -> None:
        await self._quit_on(signal.SIGINT)

    async def _quit_on(self, stop: signal.Signals) -> None:
        """Ctrl-C, SIGTERM or SIGHUP (see sagatui.stop_signals): leave as `q` does, through Textual's own
        exit so that the terminal is given back, with the exit status `sagatui run` would have."""
        await self._close_session()
        self.exit(return_code=exit_code(stop), message=stopped_message(stop))

    async def on_unmount(self) -> None:
        self._stop_signals.remove()
        await self._close_session()  # when the app ends some other way than by `q`

    async def _close_session(self) -> None:
        """Stop the engine and flush the store: the database is left consistent."""
        if self.session is not None:
            session, self.session = self.session, None
            self._stop_refresher()
            for worker in self.workers.cancel_group(self, "store"):  # never close the store under a read
                with suppress(WorkerCancelled, WorkerFailed):
                    await worker.wait()
            await session.close()

    def _restyle(self, _theme: Theme) -> None:
        """Text coloured by role (sagatui.tui.tones) holds the old theme's colours: draw it all again."""
        if self.refresher is not None:
            self.refresher.restyle()
        for screen in self.screen_stack:
            if isinstance(screen, TimelineScreen):
                screen.restyle()

    @property
    def main(self) -> MainScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    @on(MainScreen.ViewShown)
    def _on_view_shown(self) -> None:
        if self.refresher is not None:
            self.refresher.view_shown()

    # -- the lab: one refresher for each --------------------------------------------------------------------
    def _follow_new_lab(self) -> None:
        """The panels start over on the session's new lab (a new run, another pack, a resumed run)."""
        assert self.session is not None
        self._stop_refresher()
        self.refresher = Refresher.for_lab(self, self.main, self.session)
        self.refresher.start()

    def _stop_refresher(self) -> None:
        if self.refresher is not None:
            self.refresher.stop()
            self.refresher = None

    async def action_reset(self) -> None:
        await self._reset()

    async def _reset(self, pack: Pack | None = None, pack_text: str = "", pack_path: Path | None = None) -> None:
        if self.session is None or self.refresher is None:
            return  # closing, or the first lab is not open yet
        old_run = self.refresher.view.run_id
        self._stop_refresher()
        await self.session.reset(pack, pack_text, pack_path)
        self._follow_new_lab()
        assert self.refresher is not None
        view = self.refresher.view
        self.notify(f"new run {view.run_id} on {view.pack.name} (run {old_run} stays in the database)")

    def action_open_pack(self) -> None:
        packs = [(path.stem, load_pack(path).description) for path in bundled_packs()]

        async def chosen(name: str | None) -> None:
            if name is not None:
                source = read_pack(name)
                await self._reset(source.pack, source.text, source.path)

        current = self.refresher.view.pack.name if self.refresher is not None else self.settings.pack.name
        self.push_screen(PackPicker(packs, current), chosen)

    # -- sending commands ------------------------------------------------------------------------------------
    def submit(self, command: Command) -> None:
        """Every action is a lab command: applied at the clock's next quiet moment and recorded."""
        if self.session is not None:
            try:
                self.session.submit(command)
            except InvalidCommand as refused:
                self.notify(str(refused), severity="warning", timeout=4)

    def action_toggle_service(self, index: int) -> None:
        services = list(self.refresher.view.pack.services) if self.refresher is not None else []
        if index < len(services):
            self.submit(ToggleService(service=services[index]))

    @on(TogglePressed)
    def _on_toggle(self, message: TogglePressed) -> None:
        self.submit(ToggleService(service=message.service))

    @on(PickFault)
    def _on_pick_fault(self, message: PickFault) -> None:
        if self.refresher is None:
            return
        view, service = self.refresher.view, message.service

        def chosen(profile: FaultProfile | None) -> None:
            if profile is not None:
                self.submit(SetFault(service=service, profile=profile))

        self.push_screen(FaultPicker(service, view.fault(service), view.pack.services[service].fault), chosen)

    @on(RunScenario)
    def _on_run(self, message: RunScenario) -> None:
        self.submit(StartScenario(scenario=message.scenario))
        self.notify(f"started {message.scenario}", timeout=2)

    @on(BreakerCommand)
    def _on_breaker(self, message: BreakerCommand) -> None:
        self.submit(Isolate(breaker=message.breaker) if message.command == "isolate"
                    else ResetBreaker(breaker=message.breaker))

    @on(RetryPressed)
    def _on_retry(self, message: RetryPressed) -> None:
        self.submit(RetryCompensation(saga_id=message.saga_id))

    @on(ResolveSaga)
    def _on_resolve(self, message: ResolveSaga) -> None:
        row = self.refresher.board.get(message.saga_id) if self.refresher is not None else None

        def resolved(note: str | None) -> None:
            if note:
                self.submit(Resolve(saga_id=message.saga_id, note=note))

        self.push_screen(ResolveNote(message.saga_id, row.problem if row else ""), resolved)

    @on(RetryMany)
    def _on_retry_many(self, message: RetryMany) -> None:
        def confirmed(go: bool | None) -> None:
            if go:
                for saga_id in message.saga_ids:
                    self.submit(RetryCompensation(saga_id=saga_id))
                self.notify(f"retrying {len(message.saga_ids)} saga(s)", timeout=2)

        self.push_screen(BulkRetryConfirm(message.saga_ids), confirmed)

    @on(ResolveMany)
    def _on_resolve_many(self, message: ResolveMany) -> None:
        def resolved(note: str | None) -> None:
            if note:
                for saga_id in message.saga_ids:
                    self.submit(Resolve(saga_id=saga_id, note=note))
                self.notify(f"resolved {len(message.saga_ids)} saga(s)", timeout=2)

        self.push_screen(ResolveNote(f"{len(message.saga_ids)} saga(s)", "each one the inbox shows"), resolved)

    @on(CancelPressed)
    def _on_cancel(self, message: CancelPressed) -> None:
        saga_id = message.saga_id

        def confirmed(note: str | None) -> None:
            if note is not None:
                self.submit(CancelSaga(saga_id=saga_id, note=note))

        self.push_screen(CancelConfirm(saga_id), confirmed)

    @on(DecidePressed)
    def _on_decide(self, message: DecidePressed) -> None:
        saga_id, approve = message.saga_id, message.approve
        row = self.refresher.board.get(saga_id) if self.refresher is not None else None

        def decided(note: str | None) -> None:
            if note is not None:
                self.submit(DecideApproval(saga_id=saga_id, approve=approve, note=note))

        self.push_screen(DecisionNote(saga_id, approve, row.problem if row else ""), decided)

    async def action_compare_previous(self) -> None:
        await compare_with_previous(self)

    @on(ForkHere)
    def _on_fork_here(self, message: ForkHere) -> None:
        ask_for_a_fork(self, message)

    @on(ProveSaga)
    async def _on_prove(self, message: ProveSaga) -> None:
        await prove_saga(self, message.saga_id)

    @on(OpenTimeline)
    def _on_open_timeline(self, message: OpenTimeline) -> None:
        self.push_screen(TimelineScreen(message.saga_id))
        if self.refresher is not None:
            self.refresher.read_store()

    def action_pause(self) -> None:
        self.submit(TogglePause())

    def action_speed(self) -> None:
        """Pacing is not part of the run (the same events come out at any speed), so it is set directly."""
        if self.refresher is not None:
            speed = self.refresher.view.speed
            speed = SPEEDS[(SPEEDS.index(speed) + 1) % len(SPEEDS)] if speed in SPEEDS else 1.0
            self.refresher.pacing.set_speed(speed)
            self.notify(f"speed: {speed_label(speed)}", timeout=2)

    def _highlighted_scenario(self) -> str | None:
        return self.main.query_one(ScenarioTable).selected_key

    def action_load(self) -> None:
        if self.refresher is None:
            return
        view = self.refresher.view
        if view.load is None and not any(scenario.workload for scenario in view.pack.scenarios.values()):
            self.notify(f"{view.pack.name} has no scenario with a workload to load", severity="warning")
            return
        self.submit(ToggleLoad(scenario=self._highlighted_scenario()))

    def action_load_rate(self, factor: float) -> None:
        """The new rate is told once the lab has applied it (see `Refresher.tick`)."""
        self.submit(ScaleLoad(factor=factor, scenario=self._highlighted_scenario()))

    # -- keys, help and the palette, from the actions table ----------------------------------------------------
    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.KEY_AREAS, self.keymap))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette: every action of the actions table, before Textual's own (but for those it names
        as Textual does: quit, keys)."""
        ours = list(palette_commands(self, screen))
        titles = {command.title for command in ours}
        yield from (command for command in super().get_system_commands(screen) if command.title not in titles)
        yield from ours


def run_dashboard(pack: Pack, pack_text: str, path: Path | str | None, *, db: Path | str, seed: int = 1,
                  speed: float | None = 1.0, theme: str | None = None, keymap: Mapping[str, str] | None = None,
                  code: UserApp | None = None) -> int:
    """Open the dashboard on `pack` and a database file (`code`: the user's services behind it); returns
    the exit code."""
    app = SagaDashboard(LabSettings(pack, pack_text, Path(path) if path else None, Path(db), seed, speed,
                                    code=code), theme=theme, keymap=keymap)
    app.run()
    return app.return_code or ExitCode.OK
