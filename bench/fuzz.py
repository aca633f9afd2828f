"""Fuzz throughput, by hand: `python bench/fuzz.py [--runs N] [--start-seed S] [--jobs-many J]`.

Runs the same seeds of ecommerce / load_with_outages with one job (in this process) and with J jobs
(worker processes, default 2), each into a fresh scratch database, checks that both give the same
campaign report, and prints both rates (runs/s, wall clock, worker start-up included) and their ratio.
On a shared machine the figures are noisy: compare the two lines of one run, not runs of different days.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from sagatui.lab.fuzz_campaign import Campaign, CampaignReport, run_campaign
from sagatui.packs.bundled import read_pack

SCENARIO = "load_with_outages"


def measure(campaign: Campaign, jobs: int, db: Path) -> tuple[float, CampaignReport]:
    started = time.perf_counter()
    results = asyncio.run(run_campaign(campaign, jobs=jobs, db=db, on_result=lambda result: None))
    return len(results) / (time.perf_counter() - started), campaign.report(results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--start-seed", type=int, default=1)
    parser.add_argument("--jobs-many", type=int, default=2)
    options = parser.parse_args()
    source = read_pack("ecommerce")
    campaign = Campaign(source.pack, source.text, "ecommerce", str(source.path), SCENARIO, options.start_seed,
                        options.runs)
    with tempfile.TemporaryDirectory() as scratch:
        one_rate, one_report = measure(campaign, 1, Path(scratch) / "one.db")
        many_rate, many_report = measure(campaign, options.jobs_many, Path(scratch) / "many.db")
    same = one_report == many_report
    print(f"{SCENARIO}, seeds {options.start_seed}-{options.start_seed + options.runs - 1}:")
    print(f"  --jobs 1   {one_rate:6.2f} runs/s")
    print(f"  --jobs {options.jobs_many:<3} {many_rate:6.2f} runs/s")
    print(f"  ratio {many_rate / one_rate:.2f}; reports identical: {same}"
          f" ({len(one_report.failed)} failing seed(s))")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
