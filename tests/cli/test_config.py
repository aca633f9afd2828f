"""The config file, through the real command: defaults < the file < the command line, as `--print-config`
shows them; every bad file is one error line naming the key, with exit 2; `run` takes the file's `db`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Result
from tests.cli.test_start_up import PROBE

FIRST_LINES = ["config", "pack", "db", "seed", "speed", "theme"]  # then keys.<area>.<action>, the table's order


def write_config(folder: Path, text: str) -> Path:
    path = folder / "sagatui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def settings(result: Result) -> dict[str, tuple[str, str]]:
    """--print-config's lines: name -> (value, source)."""
    assert result.code == 0, result.err
    shown = {}
    for line in result.out.splitlines():
        name, _, rest = line.partition(" = ")
        value, _, source = rest.rpartition("  (")
        shown[name] = (value, source.removesuffix(")"))
    return shown


@pytest.fixture
def xdg(tmp_path: Path) -> dict[str, str]:
    """An environment whose config file is tmp_path/xdg/sagatui/config.toml (none until a test writes it)."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "SAGATUI_CONFIG": ""}


def test_without_a_file_every_setting_is_the_default(sagatui, xdg, tmp_path: Path) -> None:
    shown = settings(sagatui("--print-config", env=xdg))
    assert list(shown)[:len(FIRST_LINES)] == FIRST_LINES
    assert shown["config"] == (str(tmp_path / "xdg" / "sagatui" / "config.toml"),
                               "default; no such file: the defaults")
    assert {name: value for name, value in shown.items() if name != "config"} == {
        name: (value, "default") for name, (value, _) in shown.items() if name != "config"}
    assert shown["pack"][0] == "ecommerce" and shown["db"][0] == "sagatui.db" and shown["speed"][0] == "1"
    assert shown["theme"][0] == "textual-dark" and shown["keys.everywhere.quit"][0] == "q"
    assert shown["keys.main.toggle_service"][0] == "1,2,3,4,5,6,7,8,9"


def test_the_file_overrides_the_defaults_and_the_command_line_overrides_the_file(sagatui, xdg, tmp_path) -> None:
    path = write_config(tmp_path / "xdg", '# mine\ntheme = "nord"\nspeed = 10\nseed = 42\ndb = "lab.db"\n'
                                          'pack = "travel"\n\n[keys.everywhere]\nquit = ["ctrl+q", "q"]\n\n'
                                          '[keys]\nmain.toggle_service = "a,b"\n')
    shown = settings(sagatui("--print-config", env=xdg))
    assert shown["config"] == (str(path), "default")
    assert shown["theme"] == ("nord", f"{path}:2: theme")
    assert shown["speed"] == ("10", f"{path}:3: speed")
    assert shown["seed"] == ("42", f"{path}:4: seed")
    assert shown["db"] == (str(path.parent / "lab.db"), f"{path}:5: db")  # relative to the file's folder
    assert shown["pack"] == ("travel", f"{path}:6: pack")
    assert shown["keys.everywhere.quit"] == ("ctrl+q,q", f"{path}:9: keys.everywhere.quit")
    assert shown["keys.main.toggle_service"] == ("a,b,3,4,5,6,7,8,9", f"{path}:12: keys.main.toggle_service")
    assert shown["keys.main.pause"] == ("p", "default")

    shown = settings(sagatui("onboarding", "--print-config", "--seed", "3", "--speed", "virtual", "--db", "x.db",
                             env=xdg))
    assert shown["pack"] == ("onboarding", "command line")
    assert shown["seed"] == ("3", "command line")
    assert shown["speed"] == ("virtual", "command line")
    assert shown["db"] == ("x.db", "command line")
    assert shown["theme"] == ("nord", f"{path}:2: theme")  # what the command line does not set stays the file's


def test_config_option_then_the_environment_variable_then_the_xdg_place(sagatui, xdg, tmp_path: Path) -> None:
    write_config(tmp_path / "xdg", "seed = 1\n")
    named = write_config(tmp_path / "named", "seed = 2\n")
    option = write_config(tmp_path / "option", "seed = 3\n")
    assert settings(sagatui("--print-config", env=xdg))["seed"][0] == "1"
    env = {**xdg, "SAGATUI_CONFIG": str(named)}
    assert settings(sagatui("--print-config", env=env))["config"] == (str(named), "SAGATUI_CONFIG")
    assert settings(sagatui("--print-config", env=env))["seed"][0] == "2"
    assert settings(sagatui("--print-config", "--config", str(option), env=env))["seed"] == (
        "3", f"{option}:1: seed")


def test_a_missing_xdg_config_home_means_dot_config(sagatui, tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": "", "SAGATUI_CONFIG": ""}
    path = write_config(tmp_path / "home" / ".config", 'theme = "dracula"\n')
    assert settings(sagatui("--print-config", env=env))["theme"] == ("dracula", f"{path}:1: theme")


BAD_FILES = [  # (text, line, key, the problem's start)
    ('theme = "nord\n', 1, "", "not valid TOML: "),
    ('speed = 2\nthem = "nord"\n', 2, "them", "unknown key 'them'; did you mean 'theme'?"),
    ("theme = 5\n", 1, "theme", "expected text, got 5"),
    ('\ntheme = "nordd"\n', 2, "theme", "there is no theme 'nordd'; did you mean 'nord'?"),
    ("speed = -1\n", 1, "speed", "a speed is a finite number above 0 (or 'virtual'), not -1"),
    ('speed = "fast"\n', 1, "speed", "a speed is a number (1 = real time) or 'virtual'"),
    ("speed = nan\n", 1, "speed", "a speed is a finite number above 0"),
    ("seed = 1.5\n", 1, "seed", "expected a whole number, got 1.5"),
    ("seed = -1\n", 1, "seed", "expected a number at least 0, got -1"),
    ('pack = "ecomerce"\n', 1, "pack", "there is no bundled pack 'ecomerce'; did you mean 'ecommerce'?"),
    ('pack = "mine/shop.yaml"\n', 1, "pack", "no such pack file "),
    ("keys = 5\n", 1, "keys", "expected a table, got 5"),
    ('[keys]\nquit = "q"\n', 2, "keys.quit", "expected a table, got 'q'; keys are rebound by area"),
    ('[keys.mian]\nquit = "q"\n', 1, "keys.mian", "there is no key area 'mian'; did you mean 'main'?"),
    ('[keys.main]\npauze = "q"\n', 2, "keys.main.pauze", "there is no main action 'pauze'; did you mean 'pause'?"),
    ('[keys]\nmain.pause = "ctrl+"\n', 2, "keys.main.pause", "'ctrl+' is not a key"),
    ('[keys.main]\npause = "Ctrl+p"\n', 2, "keys.main.pause", "'Ctrl+p' is not a key"),
    ("[keys.main]\npause = 5\n", 2, "keys.main.pause", "expected a key"),
    ('[keys.main]\ntoggle_service = "' + ",".join("abcdefghij") + '"\n', 2, "keys.main.toggle_service",
     "at most 9 keys"),
]


@pytest.mark.parametrize(("text", "line", "key", "problem"), BAD_FILES, ids=[case[3][:24] for case in BAD_FILES])
def test_a_bad_file_is_one_line_naming_the_key(sagatui, xdg, tmp_path: Path, text, line, key, problem) -> None:
    path = write_config(tmp_path / "xdg", text)
    for args in [("--print-config",), ()]:  # the dashboard refuses it before it starts, as --print-config does
        done = sagatui(*args, env=xdg)
        assert done.code == 2 and done.out == "" and len(done.err.splitlines()) == 1, done.err
        where = f"sagatui: error: {path}:{line}: " + (f"{key}: " if key else "")
        assert done.err.startswith(where + problem), done.err


def test_a_named_file_must_exist(sagatui, xdg, tmp_path: Path) -> None:
    for done in [sagatui("--print-config", "--config", "nowhere.toml", env=xdg),
                 sagatui("--print-config", env={**xdg, "SAGATUI_CONFIG": str(tmp_path / "nowhere.toml")})]:
        assert done.code == 2 and done.err.count("\n") == 1 and "no such config file" in done.err, done.err


def test_run_takes_the_file_db_unless_given_one(sagatui, xdg, tmp_path: Path) -> None:
    path = write_config(tmp_path / "xdg", 'db = "runs.db"\ntheme = "no such theme"\n')  # run reads db alone
    args = ("run", "ecommerce", "--scenario", "successful_order", "--quiet", "--format", "json")
    done = sagatui(*args, env=xdg)
    assert done.code == 0, done.err
    assert json.loads(done.out)["db"] == str(path.parent / "runs.db") and (path.parent / "runs.db").is_file()
    assert json.loads(sagatui(*args, "--db", "here.db", env=xdg).out)["db"] == "here.db"
    assert json.loads(sagatui(*args, env={**xdg, "XDG_CONFIG_HOME": str(tmp_path)}).out)["db"] == "sagatui.db"
    write_config(tmp_path / "xdg", "dbb = 'x.db'\n")
    done = sagatui(*args, env=xdg)
    assert done.code == 2 and done.err.startswith(f"sagatui: error: {path}:1: dbb: unknown key 'dbb'"), done.err


def test_run_reads_its_config_without_importing_textual(xdg, tmp_path: Path) -> None:
    write_config(tmp_path / "xdg", 'db = "runs.db"\n[keys.main]\npause = "space"\n')
    done = subprocess.run([sys.executable, "-c", PROBE.format(args=["run", "no-such-pack"])], capture_output=True,
                          text=True, check=True, timeout=300, cwd=tmp_path, env={**os.environ, **xdg})
    modules = set(json.loads(done.stderr.splitlines()[-1]))
    assert "sagatui.config" in modules and "textual" not in {module.split(".")[0] for module in modules}
