"""Standard output that goes away (a closed pipe) or cannot be written (a full disk), and errors nobody
planned for: each ends the command with at most one line on standard error, never a traceback."""

import os
import subprocess
import sys

import pytest

from sagatui import cli
from sagatui.cli import pack_commands

FULL = "sagatui: error: cannot write to standard output: No space left on device\n"


def _into(stdout, *args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "sagatui", *args], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, cwd=cwd, env=env, timeout=300)


@pytest.mark.parametrize("format", ["table", "jsonl"])
def test_a_reader_that_goes_away_ends_the_command_quietly(load_db, tmp_path, format):
    env = {**os.environ, "NO_COLOR": "1"}
    # the run's events are far more than a pipe holds, so writing into the closed pipe is certain to fail
    with subprocess.Popen([sys.executable, "-m", "sagatui", "events", "--db", str(load_db), "--format", format],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env) as child:
        assert child.stdout.readline()
        child.stdout.close()
        err = child.stderr.read()
        code = child.wait(timeout=300)
    assert (code, err) == (141, b"")


@pytest.mark.parametrize("command", [
    ("packs",), ("check", "ecommerce"),
    ("events", "--db", "{small}"), ("events", "--db", "{small}", "--format", "jsonl"),
    ("attention", "list", "--db", "{small}"), ("attention", "show", "S-0001", "--db", "{small}"),
    ("replay", "{small}"), ("run", "payments", "--quiet", "--db", "new.db"),
    ("run", "payments", "--format", "json", "--db", "new.db"),
])
def test_a_full_disk_on_standard_output_is_one_line(small_db, tmp_path, command):
    args = [arg.format(small=small_db) for arg in command]
    with open("/dev/full", "w") as full:
        done = _into(full, *args, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (1, FULL)


def test_an_unexpected_error_is_one_line_naming_its_type(monkeypatch, capsys):
    def broken(options, out):
        raise RuntimeError("the flux capacitor is empty")

    monkeypatch.setattr(pack_commands, "handle_packs", broken)  # where the parser's Handler finds it
    monkeypatch.delenv("SAGATUI_DEBUG", raising=False)
    assert cli.main(["packs"]) == 1
    assert capsys.readouterr().err == ("sagatui: error: RuntimeError: the flux capacitor is empty "
                                       "(set SAGATUI_DEBUG=1 for the traceback)\n")
    monkeypatch.setenv("SAGATUI_DEBUG", "1")
    assert cli.main(["packs"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "RuntimeError: the flux capacitor" in err
