"""Textual's Footer without its leak.

Each recompose (one per focus change: every view switch) data-binds the new FooterKeys to the footer's
`compact` reactive. Textual forgets the bindings of removed keys only when `compact` changes, which in
this app it never does, so every removed key stayed referenced (with its styles and caches): about 400
widgets per 100 view switches, memory rising with every key press of a long session.
"""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    async def recompose(self) -> None:
        await super().recompose()
        self._forget_removed_keys()

    def _forget_removed_keys(self) -> None:
        watchers = getattr(self, "__watchers", {}).get("compact")
        if watchers:
            watchers[:] = [(node, callback) for node, callback in watchers if not node._closing]

    @property
    def bound_keys(self) -> int:
        """Widgets bound to `compact` (the keys on show once removed ones are forgotten)."""
        return len(getattr(self, "__watchers", {}).get("compact", []))
