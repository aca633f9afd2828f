"""The real dashboard in a subprocess on a pseudo-terminal, stopped with sagas in flight by the Ctrl-C key
or by a signal: SIGINT, SIGTERM (a container or service manager), SIGHUP (the terminal closed). Each
leaves the run interrupted and resumable, gives the terminal back (normal screen, no mouse reporting)
and exits 128 + the signal (130 for Ctrl-C), as `sagatui run` does."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.recovery.helpers import ROOT, problems, query, sagatui, wait_for_events

LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"
MOUSE_OFF = b"\x1b[?1000l"  # Textual turns every mouse mode off together; this one is reporting itself


class Terminal:
    """The dashboard on the slave side of a pty; everything it writes is read from the master side."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {key: value for key, value in os.environ.items() if not key.startswith("TEXTUAL")}
        self.process = subprocess.Popen([sys.executable, "-m", "sagatui", *args], cwd=ROOT, stdin=slave,
                                        stdout=slave, stderr=slave, env={**env, "TERM": "xterm-256color"},
                                        start_new_session=True)
        os.close(slave)
        self.master = master
        self.output = b""

    def read(self, timeout: float = 0.1) -> bool:
        """Take what the dashboard wrote; False once it has closed the terminal."""
        if not select.select([self.master], [], [], timeout)[0]:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every descriptor of the slave side is closed
            return False
        self.output += data
        return bool(data)

    def wait_for(self, text: bytes, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None, f"the dashboard ended early: {self.output[-2000:]!r}"
            assert time.monotonic() < deadline, f"no {text!r} after {timeout}s"
            self.read()

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def until_closed(self, timeout: float = 60) -> bytes:
        """Everything written from here until the dashboard exits."""
        start = len(self.output)
        deadline = time.monotonic() + timeout
        while self.read() or self.process.poll() is None:
            assert time.monotonic() < deadline, "the dashboard did not exit"
        self.process.wait(timeout)
        return self.output[start:]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


CTRL_C = b"\x03"  # the key as the terminal sends it (the dashboard reads keys raw: no SIGINT comes of it)


@pytest.mark.parametrize(("stop", "code", "said"), [
    (CTRL_C, 130, "interrupted"),
    (signal.SIGINT, 130, "interrupted"),
    (signal.SIGTERM, 143, "interrupted by SIGTERM"),
    (signal.SIGHUP, 129, "interrupted by SIGHUP"),
], ids=["ctrl+c", "SIGINT", "SIGTERM", "SIGHUP"])
async def test_ctrl_c_or_a_stop_signal_leaves_the_run_interrupted_and_the_terminal_restored(
    tmp_path: Path, stop: bytes | signal.Signals, code: int, said: str,
) -> None:
    db = tmp_path / "dashboard.db"
    terminal = Terminal("--db", str(db), "--speed", "virtual")
    try:
        terminal.wait_for(b"Quit")  # the footer: the app is drawn and takes keys
        terminal.press(b"l")  # the load generator: sagas keep arriving
        wait_for_events(db, 400, terminal.process)  # type: ignore[arg-type]
        if isinstance(stop, bytes):
            terminal.press(stop)
        else:
            terminal.process.send_signal(stop)
        after = terminal.until_closed()
    finally:
        terminal.close()

    assert terminal.process.returncode == code
    assert LEAVE_ALTERNATE_SCREEN in after and MOUSE_OFF in after
    assert f"sagatui: {said}; the database is consistent".encode() in after.rpartition(LEAVE_ALTERNATE_SCREEN)[2]
    assert query(db, "SELECT status FROM runs") == [("interrupted",)]
    ((last_seq, events, kind),) = query(db, "SELECT max(seq), count(*), (SELECT kind FROM events ORDER BY seq DESC"
                                            " LIMIT 1) FROM events")
    assert last_seq == events and kind == "run.interrupted"
    resumed = sagatui("resume", "--db", str(db), "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert await problems(db) == []
