"""Memory of a long headless run, by hand: `python bench/memory.py [--sagas N]`.

Runs `sagatui run` in a child process on the ecommerce pack with its load scenario stretched to N
sagas (default 20,000; ecommerce's stock is raised so the sagas keep doing work), then `sagatui
events` on that run (every event, as JSON lines, to /dev/null), then `sagatui replay` of it (run again
and compared as it goes, the recorded events read a page at a time), and prints each child's peak RSS.
Beside them, as the baseline measured in the same run, the peak RSS of a child that only imports
sagatui and checks the same pack: the ratios say what the run and the reader add.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def stretched_pack(folder: Path, sagas: int) -> Path:
    pack = yaml.safe_load((ROOT / "scenarios" / "ecommerce.yaml").read_text(encoding="utf-8"))
    pack["services"]["inventory"]["options"]["stock"] = {sku: 10_000_000 for sku in
                                                         pack["services"]["inventory"]["options"]["stock"]}
    load = pack["scenarios"]["load_with_outages"]
    load["workload"]["count"] = sagas
    load["workload"]["rate"] = 200
    load["expect"] = {"invariants": ["stock_conserved", "all_terminal"]}
    path = folder / "long.yaml"
    path.write_text(yaml.safe_dump(pack, sort_keys=False), encoding="utf-8")
    return path


def peak_rss_mb(command: list[str]) -> tuple[float, str]:
    """Run `command` in a fresh child (via a wrapper, so each measurement has its own rusage)."""
    wrapper = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], text=True,"
               " stdout=subprocess.DEVNULL if '--format' in sys.argv else subprocess.PIPE, stderr=subprocess.PIPE);"
               " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(done.returncode);"
               " print((done.stdout or '')[-400:])")
    out = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True).stdout
    kilobytes, returncode, *tail = out.splitlines()
    return int(kilobytes) / 1024, f"exit {returncode}: " + " | ".join(line for line in tail if line.strip())[-200:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sagas", type=int, default=20_000)
    options = parser.parse_args()
    assert resource  # the wrapper child measures; imported here to fail early where it is missing
    with tempfile.TemporaryDirectory() as folder:
        pack = stretched_pack(Path(folder), options.sagas)
        baseline, _ = peak_rss_mb([sys.executable, "-m", "sagatui", "check", str(pack)])
        database = str(Path(folder) / "long.db")
        run, tail = peak_rss_mb([sys.executable, "-m", "sagatui", "run", str(pack), "--scenario", "load_with_outages",
                                 "--quiet", "--db", database])
        events, events_tail = peak_rss_mb([sys.executable, "-m", "sagatui", "events", "--db", database,
                                           "--format", "jsonl"])
        replayed, replay_tail = peak_rss_mb([sys.executable, "-m", "sagatui", "replay", database])
    print(f"sagatui check (baseline)           peak RSS {baseline:7.1f} MB")
    print(f"sagatui run, {options.sagas:,} sagas        peak RSS {run:7.1f} MB   ({tail})")
    print(f"sagatui events, that run           peak RSS {events:7.1f} MB   ({events_tail})")
    print(f"sagatui replay, that run           peak RSS {replayed:7.1f} MB   ({replay_tail})")
    print(f"ratio {run / baseline:.2f} (run), {events / baseline:.2f} (events), {replayed / baseline:.2f} (replay)")


if __name__ == "__main__":
    main()
