"""Replay speed, by hand: `python bench/replay.py [--minutes M] [--recording PATH] [--profile]`.

Records M minutes (default 10) of clock time of ecommerce's `load_with_outages` at 200 sagas/s as a
dashboard user makes it: the scenario started (its outages and its own 300 sagas), the load generator
started on it at 200/s, and stopped after M minutes (a scenario's own workload stops at 100,000 sagas,
so it cannot be stretched to 120,000). The pack is the bundled one with the stock raised, as
bench/memory.py raises it, so that the sagas keep doing work instead of failing for lack of stock.
Then times `sagatui replay` of that run in a child process (events, events/s, seconds, peak RSS),
beside two baselines measured in the same run: the time to only read and parse the recorded events
(what replay reads), and the time of the original run (when it was recorded in this run).

`--recording PATH` keeps the database: a later run with the same PATH replays it again without
recording (the original run's time is then not measured). `--profile` also replays it in process under
cProfile and prints where the time went.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

import yaml
from memory import ROOT, peak_rss_mb

from sagatui.lab.commands import StartLoad, StartScenario, StopLoad
from sagatui.lab.replay import open_recorded, replay_recorded
from sagatui.lab.run import Lab
from sagatui.packs.loader import load_pack_text
from sagatui.store.database import Store
from sagatui.store.queries import iter_events, latest_run_id

RATE = 200  # sagas per clock second
SCENARIO = "load_with_outages"


def stocked_pack() -> str:
    pack = yaml.safe_load((ROOT / "scenarios" / "ecommerce.yaml").read_text(encoding="utf-8"))
    stock = pack["services"]["inventory"]["options"]["stock"]
    pack["services"]["inventory"]["options"]["stock"] = dict.fromkeys(stock, 100_000_000)
    return yaml.safe_dump(pack, sort_keys=False)


async def record(database: Path, minutes: float) -> float:
    """The run a user makes on the dashboard: Enter on the scenario, the load at RATE, stopped after
    `minutes`, then settled as a headless run is. Its seconds."""
    started = time.perf_counter()
    text = stocked_pack()
    async with await Store.open(database) as store:
        lab = Lab(load_pack_text(text, "ecommerce (stocked)"), text, store, seed=1, label=f"{SCENARIO} at {RATE}/s")
        async with lab:
            lab.apply(StartScenario(scenario=SCENARIO))
            lab.apply(StartLoad(scenario=SCENARIO, rate=RATE))
            lab.clock.call_later(minutes * 60, lambda: lab.submit(StopLoad()))  # applied at the next quiet moment
            await lab.conclude()
    return time.perf_counter() - started


def timed(command: list[str]) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) and the tail of the output of `command` in a child process."""
    started = time.perf_counter()
    rss, tail = peak_rss_mb(command)
    return time.perf_counter() - started, rss, tail


async def read_only(database: Path) -> tuple[int, float]:
    """The baseline: every recorded event of the latest run read and parsed, a page at a time."""
    started = time.perf_counter()
    count = 0
    async with await Store.open(database, read_only=True) as store:
        run_id = await latest_run_id(store)
        assert run_id is not None
        async for page in iter_events(store, run_id):
            count += len(page)
    return count, time.perf_counter() - started


async def replay_in_process(database: Path) -> int:
    async with open_recorded(database) as recording:
        compared = await replay_recorded(recording)
    assert compared.divergence is None, compared.divergence.describe()
    return compared.events


def profile(database: Path) -> None:
    profiler = cProfile.Profile()
    started = time.perf_counter()
    events = profiler.runcall(asyncio.run, replay_in_process(database))
    print(f"\nin process under cProfile: {events:,} events in {time.perf_counter() - started:.1f} s")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="clock time recorded (default 10)")
    parser.add_argument("--recording", type=Path, help="keep the recorded database here; reuse it if it exists")
    parser.add_argument("--profile", action="store_true", help="also replay in process under cProfile")
    options = parser.parse_args()
    sagas = round(options.minutes * 60 * RATE)
    with tempfile.TemporaryDirectory() as folder:
        database = options.recording or Path(folder) / "load.db"
        recorded = None if database.exists() else asyncio.run(record(database, options.minutes))
        events, reading = asyncio.run(read_only(database))
        seconds, rss, tail = timed([sys.executable, "-m", "sagatui", "replay", str(database)])
        replayed = re.search(r"identical: (\d+) events", tail)
        print(f"recording: {options.minutes:g} min of clock time of {SCENARIO} at {RATE} sagas/s "
              f"(about {sagas:,} sagas), {events:,} events")
        print(f"{'':<34}{'seconds':>9}{'events/s':>12}{'peak RSS MB':>13}")
        if recorded is not None:
            print(f"{'the original run (in process)':<34}{recorded:>9.1f}{events / recorded:>12,.0f}")
        print(f"{'read and parse the events only':<34}{reading:>9.1f}{events / reading:>12,.0f}{'':>13}")
        print(f"{'sagatui replay':<34}{seconds:>9.1f}{events / seconds:>12,.0f}{rss:>13.1f}   ({tail})")
        if replayed is None or int(replayed.group(1)) != events:
            print("replay did not report the recorded events identical")
        print(f"ratio {seconds / reading:.2f} (replay / read only)"
              + (f", {seconds / recorded:.2f} (replay / original run)" if recorded is not None else ""))
        if options.profile:
            profile(database)


if __name__ == "__main__":
    main()
