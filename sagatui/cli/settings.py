"""The settings a command runs with: the command line's, else the config file's (sagatui.config), else the
defaults; and `sagatui --print-config`, which shows each with where it came from."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from sagatui.cli.support import UsageError
from sagatui.config import Config, check_dashboard, key_areas, read_config
from sagatui.packs.errors import unknown_name

COMMAND_LINE = "command line"
DEFAULT = "default"


@dataclass(frozen=True)
class Setting:
    name: str
    value: Any
    source: str  # DEFAULT, COMMAND_LINE, or where the config file sets it (`path:line: key`)

    def __str__(self) -> str:
        return f"{self.name} = {_shown(self.value)}  ({self.source})"


@dataclass
class DashboardSettings:
    pack: str
    db: str
    seed: int
    speed: float | None
    theme: str | None  # None: Textual's default
    keymap: dict[str, str]  # binding id -> keys, for App.set_keymap
    shown: list[Setting] = field(default_factory=list)  # every setting in --print-config's order


def _shown(value: Any) -> str:
    if value is None:
        return "virtual"  # the one setting that can be None is the speed
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _setting(options: argparse.Namespace, config: Config, name: str, from_file: Any) -> Setting:
    """The command line's value, else the file's, else the default."""
    if hasattr(options, name):  # the options the file may set default to argparse.SUPPRESS: absent unless given
        return Setting(name, getattr(options, name), COMMAND_LINE)
    source = config.source(name)
    return Setting(name, from_file, source or DEFAULT)


def run_db(options: argparse.Namespace) -> str:
    """`sagatui run`'s database: `--db`, else the config file's `db`, else sagatui.db."""
    config = read_config(options.config)
    return str(_setting(options, config, "db", config.db).value)


def dashboard_settings(options: argparse.Namespace) -> DashboardSettings:
    config = read_config(options.config)
    keymap = check_dashboard(config)
    file = config.file
    found = "" if config.found else "; no such file: the defaults"
    theme = _setting(options, config, "theme", file.theme)
    if theme.source == COMMAND_LINE:  # the file's was checked with the keys
        from sagatui.tui.themes import theme_names

        if theme.value not in theme_names():
            raise UsageError(f"--theme: {unknown_name('theme', theme.value, theme_names())}")
    shown = [
        Setting("config", config.path, f"{config.chosen_by}{found}"),
        _setting(options, config, "pack", config.pack),
        _setting(options, config, "db", config.db),
        _setting(options, config, "seed", file.seed),
        _setting(options, config, "speed", file.speed),
        theme,
    ]
    for area, actions in key_areas().items():
        for name, action in actions.items():
            source = config.source("keys", area, name)
            keys = action.keys.split(",")
            if source:  # each of a "{n}" action's keys is its own binding: those not given stay
                given = file.keys[area][name]
                keys = [*given, *keys[len(given):]] if "{n}" in action.action else list(given)
            shown.append(Setting(f"keys.{area}.{name}", ",".join(keys), source or DEFAULT))
    values = {setting.name: setting.value for setting in shown}
    return DashboardSettings(values["pack"], str(values["db"]), values["seed"], values["speed"],
                             theme.value if theme.source != DEFAULT else None, keymap, shown)


def print_settings(settings: DashboardSettings) -> None:
    for setting in settings.shown:
        print(setting)
