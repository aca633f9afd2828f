"""sagatui's own themes, registered beside Textual's (the config file's `theme`, `--theme`, and the command
palette's theme picker offer them all). `sagatui-light` is made for reading the board on a light
background: every role (sagatui.tui.tones) is set to a colour legible on its surface."""

from __future__ import annotations

from textual.theme import BUILTIN_THEMES, Theme

LIGHT = Theme(
    name="sagatui-light",
    primary="#0969da",
    secondary="#8250df",
    accent="#bf3989",
    warning="#9a6700",
    error="#cf222e",
    success="#1a7f37",
    foreground="#1f2328",
    background="#ffffff",
    surface="#f6f8fa",
    panel="#dde3ea",
    dark=False,
    variables={
        "sagatui-undo": "#8250df",
        "sagatui-hop": "#0a7a86",
        "sagatui-held": "#bc4c00",
        "footer-key-foreground": "#0969da",
        "block-cursor-background": "#0969da",
        "block-cursor-foreground": "#ffffff",
    },
)
THEMES = {theme.name: theme for theme in (LIGHT,)}


def theme_names() -> list[str]:
    """Every theme the dashboard can take: Textual's and sagatui's."""
    return [*BUILTIN_THEMES, *THEMES]
