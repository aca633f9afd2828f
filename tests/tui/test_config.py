"""The config file's theme and `[keys]` in the running dashboard: the settings are made as `sagatui` makes
them (sagatui.cli.settings from the parsed command line), the app is driven as a user drives it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from textual import constants

from sagatui.cli.parser import dashboard_parser
from sagatui.cli.settings import DashboardSettings, dashboard_settings
from sagatui.config import DEFAULT_THEME
from sagatui.tui.actions import ACTIONS
from sagatui.tui.app import SagaDashboard
from sagatui.tui.screens.help import HelpScreen
from tests.tui.conftest import lab_ready


def settings_from(tmp_path: Path, text: str) -> DashboardSettings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return dashboard_settings(dashboard_parser().parse_args(["--config", str(path)]))


def test_every_binding_has_an_id_of_its_own() -> None:
    ids = [binding.id for action in ACTIONS for binding in action.bindings()]
    assert all(ids) and len(set(ids)) == len(ids)


async def test_a_key_the_config_file_rebinds_works_and_the_old_one_does_not(
    make_app: Callable[..., SagaDashboard], tmp_path: Path
) -> None:
    settings = settings_from(tmp_path, '[keys.main]\nview_sagas = "v"\n\n[keys]\neverywhere.help = ["f1", "?"]\n')
    assert settings.keymap == {"main.view_sagas": "v", "everywhere.help": "f1,?"}
    app = make_app(keymap=settings.keymap)
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        assert app.main.active_view == "scenarios"
        await pilot.press("s")  # no longer the sagas view's key
        await pilot.pause()
        assert app.main.active_view == "scenarios"
        await pilot.press("v")
        await pilot.pause()
        assert app.main.active_view == "sagas"
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("question_mark")  # kept, as the second key of the list
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_the_keys_of_services_are_rebound_one_by_one(make_app: Callable[..., SagaDashboard],
                                                           tmp_path: Path) -> None:
    settings = settings_from(tmp_path, '[keys.main]\ntoggle_service = "ctrl+a,ctrl+b"\n')
    assert settings.keymap == {"main.toggle_service.1": "ctrl+a", "main.toggle_service.2": "ctrl+b"}
    app = make_app(keymap=settings.keymap)
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        bound = {key: binding.binding.action for key, binding in app.active_bindings.items()}
        assert bound["ctrl+a"] == "app.toggle_service(0)" and bound["ctrl+b"] == "app.toggle_service(1)"
        assert "1" not in bound and bound["3"] == "app.toggle_service(2)"


async def test_the_configured_theme_is_applied(make_app: Callable[..., SagaDashboard], tmp_path: Path) -> None:
    settings = settings_from(tmp_path, 'theme = "gruvbox"\n')
    assert settings.theme == "gruvbox"
    app = make_app(theme=settings.theme)
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        assert app.theme == "gruvbox" and app.current_theme.name == "gruvbox"


@pytest.mark.skipif("TEXTUAL_THEME" in os.environ, reason="Textual's default is the environment's")
async def test_without_a_theme_textual_keeps_its_default(make_app: Callable[..., SagaDashboard],
                                                         tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "seed = 3\n")
    assert settings.theme is None and DEFAULT_THEME == constants.DEFAULT_THEME  # what --print-config says
    app = make_app(theme=settings.theme)
    async with app.run_test(size=(100, 32)) as pilot:
        await lab_ready(pilot)
        assert app.theme == DEFAULT_THEME
