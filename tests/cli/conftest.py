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
    def run(*args: str, timeout: float = 300) -> Result:
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
        done = subprocess.run([sys.executable, "-m", "sagatui", *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=timeout)
        return Result(done.returncode, done.stdout, done.stderr)

    return run
