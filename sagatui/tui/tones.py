"""The dashboard's colours by role (ok, error, warning, info, undo, hop, held, muted), taken from the Textual
theme in use, so that every badge, timeline line and waterfall bar reads on a dark and on a light background.

Text styles are Rich style strings (`Text(style=...)`), which cannot name a Textual `$variable`: `style()`
turns a spec written in roles ("bold ok", "on error", "bold on held") into one in the theme's colours. A
role's text colour is the theme's own (`success` for ok, ...; undo, hop and held mix two of them) moved
toward black (or white, on a dark surface) until it is legible on `$surface` (WCAG contrast 4.5); a badge
(`on ROLE`) takes the role's colour as its background under black or white, whichever reads better. A
theme may set any role itself as the variable `sagatui-<role>`. The colour words sagatui.event_lines writes
(shared with the headless printer) are read as roles: green is ok, red error, yellow warning, cyan info, magenta undo.
"""

from __future__ import annotations

from functools import cache

from textual import active_app
from textual.color import Color
from textual.theme import BUILTIN_THEMES

ROLES: dict[str, tuple[str, ...]] = {  # role -> the theme colours it is made of
    "ok": ("success",),
    "error": ("error",),
    "warning": ("warning",),
    "info": ("primary",),
    "undo": ("error", "primary"),  # red and blue: the purple an undo has always been
    "hop": ("primary", "success"),  # a fallback's hop: between the blue of a call and the green of an answer
    "held": ("warning", "error"),  # held by a saga needing attention: past warning, short of broken
    "muted": ("foreground", "surface"),
    "text": ("foreground",),
}
ALIASES = {"green": "ok", "red": "error", "yellow": "warning", "cyan": "info", "blue": "info", "magenta": "undo",
           "bright_blue": "hop", "dark_orange": "held", "grey70": "muted", "white": "text", "bright_white": "text",
           "black": "text"}
MODIFIERS = frozenset({"bold", "b", "dim", "d", "italic", "i", "underline", "u", "reverse", "r", "strike", "s",
                       "not"})
LEGIBLE = 4.5  # WCAG AA contrast for text
BLACK, WHITE = Color(0, 0, 0), Color(255, 255, 255)


def _luminance(color: Color) -> float:
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = color.rgb
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(one: Color, other: Color) -> float:
    """WCAG contrast ratio, 1 (none) to 21 (black on white)."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


class Tones:
    """One theme's roles as colours. `variables`: the theme's CSS variables (`App.theme_variables`)."""

    def __init__(self, variables: dict[str, str]) -> None:
        surface = Color.parse(variables.get("surface", "#1e1e1e"))
        starker = BLACK if contrast(BLACK, surface) >= contrast(WHITE, surface) else WHITE
        self.surface = surface
        self.base: dict[str, Color] = {}  # badge backgrounds, chart lines
        self.text: dict[str, Color] = {}  # text on the surface
        for role, sources in ROLES.items():
            own = variables.get(f"sagatui-{role}")
            colours = [surface.blend(Color.parse(variables[source]), 1.0) for source in sources] if not own else []
            base = Color.parse(own) if own else colours[0].blend(colours[-1], 0.5) if len(colours) > 1 else colours[0]
            self.base[role] = base
            text = base
            for step in range(1, 11):  # toward black (on a light surface) or white until legible
                if contrast(text, surface) >= LEGIBLE:
                    break
                text = base.blend(starker, step / 10)
            self.text[role] = text
        self._styles: dict[str, str] = {}

    def colour(self, role: str) -> str:
        """A role's text colour as #rrggbb."""
        return self.text[ALIASES.get(role, role)].hex

    def rgb(self, role: str) -> tuple[int, int, int]:
        """A role's colour as a chart line draws it (the text colour: legible on the surface)."""
        return self.text[ALIASES.get(role, role)].rgb

    def style(self, spec: str) -> str:
        """`spec` with its roles (or colour words) as the theme's colours: "bold ok" -> "bold #4ebf71"; a
        background (`on ROLE`) without a colour of its own gets black or white, whichever reads on it."""
        if (known := self._styles.get(spec)) is not None:
            return known
        words, colour, background, on = [], "", "", False
        for word in spec.split():
            if word == "on":
                on = True
            elif on:
                background, on = word, False
            elif word in MODIFIERS:
                words.append(word)
            else:
                colour = word
        if background:
            back = self.base[ALIASES.get(background, background)]
            if not colour or ALIASES.get(colour) == "text":
                fore = BLACK if contrast(BLACK, back) >= contrast(WHITE, back) else WHITE
            else:
                fore = self.text[ALIASES.get(colour, colour)]
            words += [fore.hex, "on", back.hex]
        elif colour:
            role = ALIASES.get(colour, colour)
            words.append(self.text[role].hex if role in self.text else colour)
        self._styles[spec] = styled = " ".join(words)
        return styled


_made: dict[int, tuple[dict[str, str], Tones]] = {}  # id(app) -> the theme variables last seen and their tones


def tones() -> Tones:
    """The running app's theme's (Textual's default theme's outside an app: a test rendering a waterfall).
    Made again only when the app's theme variables are (each theme change makes them anew)."""
    try:
        app = active_app.get()
    except LookupError:
        return _default()
    variables = app.theme_variables or app.get_css_variables()
    made = _made.get(id(app))
    if made is None or made[0] is not variables:
        _made.clear()  # one app at a time
        made = _made[id(app)] = variables, Tones(variables)
    return made[1]


@cache
def _default() -> Tones:
    return Tones(BUILTIN_THEMES["textual-dark"].to_color_system().generate())


def style(spec: str) -> str:
    """`spec` (roles, see `Tones.style`) in the current theme's colours."""
    return tones().style(spec)
