"""Text from packs, events and operators, made safe to show on a terminal: every control character
(C0, DEL, C1; ESC among them, and newlines, since every field shows on one line) is replaced by a
visible stand-in of the same length, so no escape sequence ever reaches the terminal raw and the
styles laid over a Rich `Text` still cover the same characters."""

from __future__ import annotations

from rich.text import Text

# C0 -> its Unicode control picture (␛ for ESC, ␤ for a newline, ...), DEL -> ␡, C1 -> the replacement character.
_STAND_INS = {code: chr(0x2400 + code) for code in range(0x20)} | {0x0A: "␤", 0x7F: "␡"} | {
    code: "\ufffd" for code in range(0x80, 0xA0)}


def plain(value: object) -> str:
    """`value` as one line of text with no control characters."""
    return str(value).translate(_STAND_INS)


def plain_text(text: str | Text, style: str = "") -> Text:
    """A Rich `Text` that shows `text` literally (never read as markup) and carries no control characters
    (`text` itself when it already is such a `Text`)."""
    if isinstance(text, str):
        return Text(plain(text), style=style)
    shown = plain(text.plain)
    if shown == text.plain:
        return text
    cleaned = text.copy()
    cleaned.plain = shown
    return cleaned
