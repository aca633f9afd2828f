"""The config file, `$XDG_CONFIG_HOME/sagatui/config.toml` (`~/.config/sagatui/config.toml` without
XDG_CONFIG_HOME; SAGATUI_CONFIG or `--config FILE` name another): the dashboard's theme, keys, speed, seed,
pack and database. A missing file at the usual place is no config; a bad one is one error line naming the
key: `sagatui: error: config.toml:3: speed: a speed is a finite number above 0 (or 'virtual'), not -1`.

Read in two steps, so that `sagatui run`, which takes only `db`, never imports Textual: `read_config`
checks the file's shape; `check_dashboard` checks what only Textual knows (themes, key names) and the pack."""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from sagatui.cli import support
from sagatui.cli.support import DEFAULT_DB, MAX_SEED, UsageError
from sagatui.packs import DEFAULT_PACK
from sagatui.packs.errors import FieldPath, PackProblem, format_field, unknown_name
from sagatui.packs.validation_messages import explain

if TYPE_CHECKING:
    from sagatui.tui.actions import UserAction

ENV_VARIABLE = "SAGATUI_CONFIG"
DEFAULT_THEME = "textual-dark"  # Textual's own default (unless TEXTUAL_THEME says otherwise)
MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")


class ConfigError(UsageError):
    """A config file that cannot be used: one problem, told as a pack's problems are."""

    def __init__(self, file: Path, line: int | None, key: str, message: str) -> None:
        super().__init__(str(PackProblem(str(file), line, key, message)))


def _speed(value: Any) -> float | None:
    """As `--speed` takes it: a finite number above 0, or "virtual" (None: as fast as possible)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("a speed is a number (1 = real time) or 'virtual'")
    try:
        return support.speed(str(value))
    except argparse.ArgumentTypeError as error:
        raise ValueError(str(error)) from None


def _key_list(value: Any) -> tuple[str, ...]:
    """Keys as Textual writes them ("q,ctrl+q") or a list of keys (["q", "ctrl+q"])."""
    keys = [key.strip() for key in value.split(",")] if isinstance(value, str) else value
    if not isinstance(keys, list) or not keys or not all(isinstance(key, str) and key for key in keys):
        raise ValueError('expected a key ("ctrl+q"), keys ("q,ctrl+q") or a list of keys (["q", "ctrl+q"])')
    return tuple(keys)


class ConfigFile(BaseModel):
    """What the file may hold; only the keys it sets are in `model_fields_set`."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    theme: str = DEFAULT_THEME
    speed: Annotated[float | None, BeforeValidator(_speed)] = 1.0
    pack: str = DEFAULT_PACK
    db: str = DEFAULT_DB
    seed: Annotated[int, Field(strict=True, ge=0, le=MAX_SEED)] = 1
    keys: dict[str, dict[str, Annotated[tuple[str, ...], BeforeValidator(_key_list)]]] = {}


@dataclass(frozen=True)
class Config:
    """A config file as read: where it is, why there (`--config`, SAGATUI_CONFIG or default), its text."""

    path: Path
    chosen_by: str
    found: bool
    text: str
    file: ConfigFile

    def source(self, *key: str) -> str | None:
        """Where the file sets `key` (`path:line: key`), or None when it does not."""
        if not (key[2] in self.file.keys.get(key[1], {}) if key[0] == "keys" else key[0] in self.file.model_fields_set):
            return None
        line = _line_of(self.text, key)
        return f"{self.path}:{line}: {'.'.join(key)}" if line else f"{self.path}: {'.'.join(key)}"

    def path_setting(self, value: str) -> str:
        """A path the file gives: `~` expanded, relative to the file's folder."""
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else self.path.parent / path)

    @property
    def db(self) -> str:
        return self.path_setting(self.file.db) if "db" in self.file.model_fields_set else DEFAULT_DB

    @property
    def pack(self) -> str:
        """The file's pack, as PACK is taken: a file (beside the config file) if there is one, else a name."""
        path = self.path_setting(self.file.pack)
        return path if "pack" in self.file.model_fields_set and Path(path).is_file() else self.file.pack

    def error(self, key: FieldPath, message: str) -> ConfigError:
        return ConfigError(self.path, _line_of(self.text, tuple(map(str, key))), format_field(key), message)


def config_path(option: str | None) -> tuple[Path, str]:
    """The file to read and what chose it: `--config`, then SAGATUI_CONFIG, then the XDG place."""
    if option:
        return Path(option).expanduser(), "--config"
    if os.environ.get(ENV_VARIABLE):
        return Path(os.environ[ENV_VARIABLE]).expanduser(), ENV_VARIABLE
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    home = Path(xdg) if Path(xdg).is_absolute() else Path.home() / ".config"  # the XDG spec ignores a relative one
    return home / "sagatui" / "config.toml", "default"


def read_config(option: str | None = None) -> Config:
    """The config file's settings, checked for shape; no file at the default place is no settings."""
    path, chosen_by = config_path(option)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        if chosen_by != "default":
            raise ConfigError(path, None, "", f"no such config file (named by {chosen_by})") from None
        return Config(path, chosen_by, False, "", ConfigFile())
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, None, "", f"cannot read it: {getattr(error, 'strerror', None) or error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        at = re.search(r" \(at line (\d+), column (\d+)\)$", message := str(error))
        if at:
            message = f"{message[:at.start()]} (column {at.group(2)})"
        raise ConfigError(path, int(at.group(1)) if at else None, "", f"not valid TOML: {message}") from None
    try:
        return Config(path, chosen_by, True, text, ConfigFile.model_validate(data))
    except ValidationError as error:
        key, message = explain(error, data, ConfigFile)[0]
        message = message.replace("unknown field", "unknown key").replace("a mapping (key: value lines)", "a table")
        if key[0] == "keys" and len(key) == 2:
            message += '; keys are rebound by area, as [keys.everywhere] quit = "ctrl+q" (see --print-config)'
        raise Config(path, chosen_by, True, text, ConfigFile()).error(key, message) from None


def _line_of(text: str, key: tuple[str, ...]) -> int | None:
    """The line that sets `key` (or a table inside it), as `key = ...`, `a.b = ...` or under `[a]`."""
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if header := re.fullmatch(r"\[\[?([^\]\[]+)\]\]?\s*(#.*)?", stripped):
            table = _dotted(header.group(1))
            if table[:len(key)] == key:
                return number
        elif "=" in stripped and (*table, *_dotted(stripped.partition("=")[0]))[:len(key)] == key:
            return number
    return None


def _dotted(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


# -- what the dashboard alone takes: it imports Textual, as the dashboard does anyway --------------------------
def key_areas() -> dict[str, dict[str, UserAction]]:
    """Area name -> action name -> action: what `[keys]` may rebind (the watch app's keys are its own)."""
    from sagatui.tui.actions import ACTIONS, Area

    areas: dict[str, dict[str, UserAction]] = {}
    for action in ACTIONS:
        if action.area is not Area.WATCHING:
            area, _, name = action.id.partition(".")
            areas.setdefault(area, {})[name] = action
    return areas


def check_dashboard(config: Config) -> dict[str, str]:
    """Check the theme, the pack and the keys; the keymap (binding id -> keys) the keys make."""
    from sagatui.packs.bundled import bundled_pack_names, resolve_pack
    from sagatui.packs.errors import PackError
    from sagatui.tui.themes import theme_names

    if config.file.theme not in theme_names():
        raise config.error(("theme",), unknown_name("theme", config.file.theme, theme_names()))
    pack = config.file.pack
    if "pack" in config.file.model_fields_set and not Path(config.pack).is_file():
        try:
            resolve_pack(pack)
        except PackError:
            is_path = Path(pack).suffix or "/" in pack
            raise config.error(("pack",), f"no such pack file {config.pack}" if is_path
                               else unknown_name("bundled pack", pack, bundled_pack_names())) from None
    areas, keymap = key_areas(), {}
    for area, overrides in config.file.keys.items():
        if area not in areas:
            raise config.error(("keys", area), unknown_name("key area", area, areas))
        for name, keys in overrides.items():
            if name not in areas[area]:
                raise config.error(("keys", area, name), unknown_name(f"{area} action", name, areas[area]))
            action = areas[area][name]
            if bad := next((key for key in keys if not is_key(key)), None):
                raise config.error(("keys", area, name), f"{bad!r} is not a key (keys look like q, R, ctrl+q, "
                                                          "shift+tab, f5, escape, question_mark, comma)")
            if "{n}" not in action.action:
                keymap[action.id] = ",".join(keys)
                continue
            if len(keys) > len(most := action.keys.split(",")):
                raise config.error(("keys", area, name), f"at most {len(most)} keys, one for each of 1-{len(most)}")
            keymap.update((f"{action.id}.{n}", key) for n, key in enumerate(keys, 1))
    return keymap


def is_key(key: str) -> bool:
    """A key Textual can bind: modifiers, then one character or a key's name (`escape`, `question_mark`)."""
    from textual.keys import KEY_NAME_REPLACEMENTS, Keys, key_to_character

    *modifiers, base = key.split("+")
    if not base or any(modifier not in MODIFIERS for modifier in modifiers):
        return False
    if len(base) == 1:
        return base.isprintable() and base not in ", "
    named = {key.value for key in Keys if "+" not in key.value and not key.value.startswith("<")}
    return base in named or base in KEY_NAME_REPLACEMENTS.values() or key_to_character(base) is not None

