"""How the dashboard holds up under a flood of events. Run by hand:

    python bench/dashboard.py [--seconds 30] [--rate 200] [--size 120x40] [--sample 30] [--press-every 1]

A load generator on the virtual clock starts sagas as fast as the engine can run them, while the real
app (headless, real SQLite in a temporary folder) drains, draws and reads the store as it does for a
user. Printed: events/s the panels absorbed and how many the subscription dropped; the time one tick
(drain + redraw) takes; key-press-to-repaint latency (a view switch, posted as a key, until the screen
has been refreshed with it), one press every `--press-every` seconds (a view switch re-lays out the
screen and rebuilds the footer, so pressing four times a second costs the engine much of its
throughput); and resident memory sampled every `--sample` seconds of the flood, with its start, end
and maximum, which should stay flat however long it runs (`--seconds 600` for the ten-minute check;
each sample is also printed as it is taken, so a long run shows its progress).

First, as the reference, the same flood runs without the dashboard (the lab alone, its events drained by a
plain subscriber) for `--reference` seconds (20; 0 skips it): the `ratio` line gives the share of the
engine's own rate the dashboard keeps, a figure that holds across machines better than events/s does.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from textual import events

from sagatui.lab import Lab
from sagatui.lab.commands import StartLoad
from sagatui.lab.recovery.resume import leave_run
from sagatui.lab.session import LabSettings
from sagatui.packs.bundled import read_pack
from sagatui.store.database import Store
from sagatui.tui.app import SagaDashboard
from sagatui.tui.refresher import Refresher
from sagatui.tui.widgets.event_stream import EventStream
from sagatui.tui.widgets.saga_tables import SagaTable

VIEWS = ("e", "s", "r", "m", "a", "c")


def rss_mb() -> float:
    """Resident memory of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


TICK_TIMES: list[float] = []  # seconds of each refresher tick (drain + redraw)
_untimed_tick = Refresher.tick


def _timed_tick(refresher: Refresher) -> None:
    started = time.perf_counter()
    _untimed_tick(refresher)
    TICK_TIMES.append(time.perf_counter() - started)


Refresher.tick = _timed_tick  # type: ignore[method-assign]  # the real app, its ticks timed


async def key_to_repaint(app: SagaDashboard, key: str) -> float:
    """Seconds from a key press to the end of the screen refresh that shows its effect."""
    view = {"e": "events", "s": "sagas", "r": "resources", "m": "metrics", "a": "attention", "c": "scenarios"}[key]
    repainted = asyncio.Event()
    press = events.Key(key, key)
    press.set_sender(app)
    started = time.perf_counter()
    assert app._driver is not None
    app._driver.send_message(press)  # as a terminal delivers keys (Pilot.press would also wait for idle)
    while app.main.active_view != view:
        await asyncio.sleep(0.0005)
    app.call_after_refresh(repainted.set)
    await repainted.wait()
    return time.perf_counter() - started


async def engine_alone(seconds: float, rate: float) -> float:
    """Events/s of the same flood with no dashboard: the lab and its store, drained by a plain subscriber."""
    source = read_pack("ecommerce")
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "alone.db")
        lab = Lab(source.pack, source.text, store, seed=1, speed=None, label="bench")
        subscription = lab.bus.subscribe(100_000)
        await lab.open()
        lab.submit(StartLoad(scenario="load_with_outages", rate=rate))
        await asyncio.sleep(2.0)  # the same warm-up as the dashboard's
        subscription.drain()
        drained, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            await asyncio.sleep(0.1)
            drained += len(subscription.drain())
        elapsed = time.perf_counter() - started
        await leave_run(lab)
        await store.close()
    return drained / elapsed


async def bench(seconds: float, rate: float, size: tuple[int, int], sample_every: float, press_every: float,
                reference: float) -> None:
    alone = await engine_alone(reference, rate) if reference > 0 else None
    if alone is not None:
        print(f"engine alone (no dashboard): {alone:,.0f} events/s", flush=True)
    source = read_pack("ecommerce")
    with tempfile.TemporaryDirectory() as folder:
        app = SagaDashboard(LabSettings(source.pack, source.text, source.path, Path(folder) / "bench.db",
                                         seed=1, speed=None))
        tick_times = TICK_TIMES
        async with app.run_test(size=size) as pilot:
            while app.refresher is None:
                await pilot.pause(0.01)
            refresher = app.refresher
            app.submit(StartLoad(scenario="load_with_outages", rate=rate))
            await asyncio.sleep(2.0)  # warm up: the store and the tables fill
            tick_times.clear()
            absorbed_start, started = refresher.events_absorbed, time.perf_counter()
            memory = [(0.0, rss_mb())]  # (seconds into the flood, RSS in MB)
            print(f"rss {memory[0][1]:.0f} MB at 0s", flush=True)
            latencies: list[float] = []
            while time.perf_counter() - started < seconds:
                latencies.append(await key_to_repaint(app, VIEWS[len(latencies) % len(VIEWS)]))
                await asyncio.sleep(press_every)
                if time.perf_counter() - started - memory[-1][0] >= sample_every:
                    memory.append((time.perf_counter() - started, rss_mb()))
                    print(f"rss {memory[-1][1]:.0f} MB at {memory[-1][0]:.0f}s", flush=True)
            elapsed = time.perf_counter() - started
            absorbed = refresher.events_absorbed - absorbed_start
            memory.append((elapsed, rss_mb()))
            view, session = refresher.view, app.session
            assert view is not None and session is not None and session.subscription is not None
            dropped = session.subscription.dropped
            clock, sagas = view.now, view.metrics.started
            stream = app.main.query_one(EventStream)
            held = (f"{len(refresher.board._rows):,} saga rows, {len(stream._kept):,} kept events, "
                    f"{stream.log_widget.line_count:,} log lines, {app.main.query_one(SagaTable).row_count} table rows")
            await pilot.press("q")
    print(f"flood: load_with_outages at {rate:g}/s on the virtual clock, {size[0]}x{size[1]}, {elapsed:.0f}s wall, "
          f"{clock:.0f}s clock, {sagas:,} sagas")
    print(f"events absorbed: {absorbed:,} ({absorbed / elapsed:,.0f}/s), dropped by the subscription: {dropped:,}")
    if alone is not None:
        print(f"ratio {absorbed / elapsed / alone:.2f} (events/s with the dashboard / the engine alone)")
    print(f"tick (drain + redraw): p50 {statistics.median(tick_times) * 1000:.1f} ms, "
          f"p95 {percentile(tick_times, 0.95) * 1000:.1f} ms, max {max(tick_times) * 1000:.1f} ms "
          f"over {len(tick_times)} ticks")
    print(f"key press to repaint: p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
          f"over {len(latencies)} presses")
    series = ", ".join(f"{at:.0f}s {mb:.0f}" for at, mb in memory)
    print(f"memory (RSS, MB) every {sample_every:g}s: {series}")
    print(f"memory (RSS): {memory[0][1]:.0f} MB after warm-up, {memory[-1][1]:.0f} MB at the end, "
          f"max {max(mb for _, mb in memory):.0f} MB; the dashboard holds {held} (all capped)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to flood (default 30)")
    parser.add_argument("--rate", type=float, default=200.0,
                        help="sagas started per clock second (default 200; the virtual clock runs as fast as the "
                             "engine can, so any rate floods it; at 200 the sagas in flight stay bounded)")
    parser.add_argument("--size", default="120x40", help="terminal size, COLSxROWS (default 120x40)")
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between memory samples (default 30)")
    parser.add_argument("--press-every", type=float, default=1.0,
                        help="seconds between timed key presses (default 1: a user's pace, not a key-repeat storm)")
    parser.add_argument("--reference", type=float, default=20.0,
                        help="seconds the engine alone runs first, for the ratio (default 20; 0 skips it)")
    options = parser.parse_args()
    columns, rows = (int(part) for part in options.size.split("x"))
    asyncio.run(bench(options.seconds, options.rate, (columns, rows), options.sample, options.press_every,
                      options.reference))


if __name__ == "__main__":
    main()
