"""A pack whose names, descriptions and SKUs carry Rich markup and terminal escape sequences: every
output path must show them as plain text and write none of them raw."""

from pathlib import Path

ECOMMERCE = Path(__file__).resolve().parents[1] / "scenarios" / "ecommerce.yaml"

# YAML double-quoted escapes: \e is ESC, \a is BEL. `[/x]` would close a tag never opened (a MarkupError).
TITLE = r"\e]0;pwned\a"  # OSC: set the terminal (tmux pane) title
CLEAR = r"\e[2J"  # CSI: clear the screen
RAW = ("\x1b]0;pwned", "\x1b[2J", "\x07")  # what must never reach the terminal
HOSTILE_SCENARIO = "refund[/x]down"
HOSTILE_SKU = "MONITOR[/x]"

REPLACEMENTS = (
    ("name: ecommerce", f'name: "shop [/x]{TITLE}"'),
    ("description: Order processing with compensations, outages and a load test",
     f'description: "orders [/x] {CLEAR}"'),
    ("refund_gateway_down:", f'"{HOSTILE_SCENARIO}":'),
    ("description: Shipping is refused and the refund gateway is down during the rollback",
     f'description: "refund down [/oops]{CLEAR}{TITLE} line\\nbreak"'),
    ("MONITOR-001", f'"{HOSTILE_SKU}{TITLE}"'),
)


def hostile_pack_text() -> str:
    text = ECOMMERCE.read_text(encoding="utf-8")
    for old, new in REPLACEMENTS:
        assert old in text, old
        text = text.replace(old, new)
    return text


def write_hostile_pack(directory: Path) -> Path:
    path = directory / "hostile.yaml"
    path.write_text(hostile_pack_text(), encoding="utf-8")
    return path
