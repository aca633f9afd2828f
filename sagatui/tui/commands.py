"""Command palette entries for every dashboard action (ctrl+p): the app lists them, this provider
searches them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from sagatui.plain_text import plain


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    help: str
    run: Callable[[], object]
    discover: bool = True  # listed before anything is typed (the long per-service fault list is not)


def _shown(text: str) -> str:
    """Palette text as markup that shows `text` literally (it holds pack names and descriptions)."""
    return escape(plain(text))


class HasPaletteCommands(Protocol):
    def palette_commands(self) -> list[PaletteCommand]: ...


class LabCommands(Provider):
    def _commands(self) -> list[PaletteCommand]:
        app: HasPaletteCommands = self.app  # type: ignore[assignment]
        return app.palette_commands()

    async def discover(self) -> Hits:
        for command in self._commands():
            if command.discover:
                yield DiscoveryHit(_shown(command.title), command.run, help=_shown(command.help))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(_shown(command.title)), command.run, help=_shown(command.help))
