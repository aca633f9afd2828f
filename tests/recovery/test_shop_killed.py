"""The shop example (the user's own code over real HTTP) killed by SIGKILL in the middle of its busy day,
then carried on by `sagatui resume --code`: the calls in flight go again with their keys, and the shop's
own invariants (one charge per key, every order paid and shipped or made whole) hold at the end."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

SHOP = str(Path(__file__).resolve().parents[2] / "examples" / "shop" / "app.py") + ":app"


def test_the_shop_killed_mid_run_is_resumed_whole(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    running = subprocess.Popen([sys.executable, "-m", "sagatui", "run", SHOP, "--scenario", "busy_day", "--realtime",
                                "--db", "shop.db", "--quiet"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _sagas_started(tmp_path / "shop.db") < 16:  # half the day's orders are in, the processor is down
        assert running.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.05)
    running.send_signal(signal.SIGKILL)
    running.wait(timeout=30)
    resumed = subprocess.run([sys.executable, "-m", "sagatui", "resume", "--db", "shop.db", "--code", SHOP, "--quiet"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    carried = re.search(r"run 1: (\d+) saga\(s\) carried on", resumed.stdout)
    assert carried is not None and int(carried[1]) >= 1, resumed.stdout  # it was killed with sagas under way
    for invariant in ("charged_once_per_key", "confirmed_orders_paid_and_shipped", "cancelled_orders_made_whole",
                      "saga_status_matches_order", "all_terminal"):
        assert f"invariant ok   {invariant}" in resumed.stdout, resumed.stdout


def _sagas_started(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            return int(connection.execute("SELECT count(*) FROM sagas").fetchone()[0])
    except sqlite3.Error:
        return 0
