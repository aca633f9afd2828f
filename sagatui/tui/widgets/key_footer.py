"""Textual's Footer without its leak.

Each recompose (one per focus change: every view switch) data-binds the new FooterKeys to the footer's
`compact` reactive, which registers a watcher on the footer per key. Textual drops the watchers of
removed keys only when `compact` is set, which in this app it never is, so every removed key stayed
referenced (with its styles and caches): about 400 widgets per 100 view switches, memory rising with
every key press of a long session. `mutate_reactive` (public API) sets `compact` again to the value it
has, which drops the watchers of removed keys and tells the keys on show the value they already show.
"""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    async def recompose(self) -> None:
        await super().recompose()
        self.mutate_reactive(Footer.compact)
