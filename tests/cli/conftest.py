"""Run the real `sagatui` command in a subprocess, as a user or a CI script would."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def sagatui(tmp_path: Path):
    def run(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> Result:
        """`env`: variables set (over the test's own environment) for this run only."""
        done = subprocess.run([sys.executable, "-m", "sagatui", *args], capture_output=True, text=True,
                              cwd=tmp_path, env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})},
                              timeout=timeout)
        return Result(done.returncode, done.stdout, done.stderr)

    return run


def _sagatui_in(folder: Path, *args: str) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    subprocess.run([sys.executable, "-m", "sagatui", *args], cwd=folder, env=env, check=True,
                   capture_output=True, timeout=300)


@pytest.fixture(scope="session")
def load_db(tmp_path_factory) -> Path:
    """A database holding one run of a load scenario (about 6,000 events): read it, never write it."""
    folder = tmp_path_factory.mktemp("load")
    _sagatui_in(folder, "run", "ecommerce", "--scenario", "load_with_outages", "--db", "load.db", "--quiet")
    return folder / "load.db"


@pytest.fixture(scope="session")
def small_db(tmp_path_factory) -> Path:
    """A database holding one short run that ends with a saga needing attention: read it, never write it."""
    folder = tmp_path_factory.mktemp("small")
    _sagatui_in(folder, "run", "ecommerce", "--scenario", "refund_gateway_down", "--db", "small.db", "--quiet")
    return folder / "small.db"


@pytest.fixture(scope="session")
def small_session(small_db, tmp_path_factory) -> dict:
    """The small run exported as a session document (a fresh copy for each test: `copy.deepcopy` it)."""
    import json

    folder = tmp_path_factory.mktemp("session")
    _sagatui_in(folder, "export", str(small_db), "-o", "small.json")
    return json.loads((folder / "small.json").read_text())
