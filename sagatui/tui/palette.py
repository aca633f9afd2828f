"""The command palette's entries (ctrl+p), as Textual's system commands, made from the actions table.

An action on a target (a service, a breaker, a scenario, a saga) is listed once for each target the
lab has now, and posts the message its widget posts for the highlighted row; any other action is listed
where its keys work: on the app, the screen the palette was opened from, or a widget shown on it. Then
what no key does at once: a given clock speed, a given fault profile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.dom import DOMNode
from textual.markup import escape
from textual.screen import Screen
from textual.widget import Widget

from sagatui.lab.commands import SetFault
from sagatui.plain_text import plain
from sagatui.tui.actions import ACTIONS, Area, Target, UserAction
from sagatui.tui.badges import fault_label
from sagatui.tui.refresher import SPEEDS, Refresher, speed_label
from sagatui.tui.screens.dialogs import FAULT_PRESETS
from sagatui.tui.widgets.saga_tables import SagaTable

if TYPE_CHECKING:
    from sagatui.tui.app import SagaDashboard


def _shown(text: str) -> str:
    """Palette text as markup that shows `text` literally (it holds pack names and descriptions)."""
    return escape(plain(text))


def _owner(area: Area, app: SagaDashboard, screen: Screen[object]) -> DOMNode | None:
    """The node `area`'s keys work on, when it is the app, `screen` or a widget shown on it."""
    for node in (app, screen):
        if any(cls.__name__ in area.owners for cls in type(node).__mro__):
            return node
    for name in area.owners:
        for widget in screen.query(name):
            if all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget)):
                return widget
    return None


def _targets(target: Target, lab: Refresher) -> list[tuple[str, str]]:
    """(name, what it is now) of each of the lab's `target`s."""
    view = lab.view
    if target is Target.SERVICE:
        return [(name, "") for name in view.pack.services]
    if target is Target.BREAKER:
        return [(breaker.name, f"now {breaker.state.value}") for breaker in view.breakers]
    if target is Target.SCENARIO:
        return [(name, scenario.description) for name, scenario in view.pack.scenarios.items()]
    if target is Target.SAGA:
        return [(saga_id, "") for saga_id in lab.main.query_one(SagaTable).saga_ids]
    if target is Target.WAITING_APPROVAL:
        return [(row.saga_id, row.problem) for row in lab.board.waiting_approval()]
    return [(row.saga_id, row.problem) for row in lab.board.needing_attention()]


def _entries(action: UserAction, app: SagaDashboard, screen: Screen[object],
             lab: Refresher | None) -> Iterator[tuple[str, str, Callable[[], object], bool]]:
    """(title, help, callback, discover) for `action`."""
    message = action.message
    what = action.tooltip or action.description
    if action.target is None or message is None:
        node = _owner(action.area, app, screen)
        if node is not None:
            yield action.palette, what, lambda: app.run_action(action.action, node), True
    elif lab is not None:
        for name, now in _targets(action.target, lab):
            yield (action.palette.format(name), f"{what} ({now})" if now else what,
                   partial(app.post_message, message(name)), action.target is not Target.SAGA)


def palette_commands(app: SagaDashboard, screen: Screen[object]) -> Iterator[SystemCommand]:
    """Every entry once (the 1-9 keys and the switchboard's enter both toggle a service)."""
    lab = app.refresher
    titles: set[str] = set()
    for action in ACTIONS:
        for title, what, callback, discover in _entries(action, app, screen, lab):
            if title not in titles:
                titles.add(title)
                yield SystemCommand(_shown(title), _shown(what), callback, discover)
    if lab is None:
        return
    pacing = lab.pacing
    for speed in SPEEDS:
        yield SystemCommand(f"Speed: {speed_label(speed)}", "how fast the run clock goes",
                            lambda speed=speed: pacing.set_speed(speed))
    for name in lab.view.pack.services:
        yield from (SystemCommand(_shown(f"Fault {name}: {fault_label(profile)}"), "switch this profile on",
                                  lambda name=name, profile=profile: app.submit(
                                      SetFault(service=name, profile=profile)), discover=False)
                    for profile in FAULT_PRESETS)
