"""A fuzz campaign: a scenario of a pack over a range of seeds, run in this process or spread over worker
processes (sagatui.lab.fuzz_workers), and, for a CI matrix, split into shards whose reports merge into
the whole campaign's.

Whatever the number of jobs, the seeds' results come back in seed order, so a campaign reports the same
on one core as on many; each seed's run is itself deterministic (sagatui.lab.fuzz).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from sagatui.code.app import App
from sagatui.lab.fuzz import FuzzOutcome, fuzz_one
from sagatui.lab.run import pack_hash
from sagatui.packs.model import Pack
from sagatui.store.database import Durability, Store

REPORT_FORMAT = "sagatui fuzz report 1"


def default_jobs() -> int:
    """The cores this process may run on (os.process_cpu_count from Python 3.13, else os.cpu_count)."""
    counted = getattr(os, "process_cpu_count", os.cpu_count)()
    return counted or 1


class Shard(BaseModel):
    """Shard `index` of `count` (1-based, as `--shard 1/2` and `2/2`): the campaign's index-th seed, then
    every count-th after it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`K/M` with 1 <= K <= M; ValueError otherwise."""
        index, slash, count = text.partition("/")
        if not slash or not index.isdigit() or not count.isdigit() or not 1 <= int(index) <= int(count):
            raise ValueError(f"a shard is K/M with 1 <= K <= M (1/2 and 2/2 split a campaign in two), not {text!r}")
        return cls(index=int(index), count=int(count))

    def seeds(self, campaign: range) -> range:
        return campaign[self.index - 1::self.count]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard(index=1, count=1)


class SeedReport(BaseModel):
    """What a campaign reports of one seed (where its run is kept is no part of it: that depends on the jobs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    seed: int
    sagas: int
    violations: list[str]

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class KeptRun:
    """Where a seed's run is stored: run `run_id` of `db`."""

    db: Path
    run_id: int


@dataclass(frozen=True)
class SeedResult:
    report: SeedReport
    kept: KeptRun

    @classmethod
    def of(cls, outcome: FuzzOutcome, db: Path) -> SeedResult:
        return cls(SeedReport(seed=outcome.seed, sagas=outcome.sagas, violations=outcome.violations),
                   KeptRun(db, outcome.run_id))


class CampaignReport(BaseModel):
    """A campaign's (or one shard's) result: written by `fuzz --report`, merged by `fuzz-merge`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format: str = REPORT_FORMAT
    pack: str  # as the user typed it (a bundled pack's name or a file)
    pack_hash: str
    scenario: str
    start_seed: int
    runs: int
    shard: Shard
    seeds: list[SeedReport]

    @property
    def campaign_seeds(self) -> range:
        """The whole campaign's seeds, of which this report holds its shard's."""
        return range(self.start_seed, self.start_seed + self.runs)

    @property
    def failed(self) -> list[int]:
        return [seed.seed for seed in self.seeds if not seed.ok]

    def write(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> CampaignReport:
        """ReportError when the file is not a fuzz report."""
        try:
            report = cls.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not a sagatui fuzz report"
            raise ReportError(f"{path}: {reason}") from None
        if report.format != REPORT_FORMAT:
            raise ReportError(f"{path}: a report of format {report.format!r}, not {REPORT_FORMAT!r}")
        return report


class ReportError(ValueError):
    """Reports that cannot be read, or that do not make up one campaign."""


def merge_reports(reports: Sequence[tuple[Path, CampaignReport]]) -> CampaignReport:
    """The whole campaign's report from its shards' (in any order): same pack text, scenario, seeds and
    number of shards, every shard exactly once."""
    (first_path, first), *_ = reports
    campaign = ("pack_hash", "scenario", "start_seed", "runs")
    for path, report in reports:
        for name in campaign:
            if getattr(report, name) != getattr(first, name):
                raise ReportError(f"{path} is of another campaign than {first_path}: {name} "
                                  f"{getattr(report, name)!r}, not {getattr(first, name)!r}")
        if report.shard.count != first.shard.count:
            raise ReportError(f"{path} is shard {report.shard}, {first_path} shard {first.shard}: "
                              f"not the same split")
        if [seed.seed for seed in report.seeds] != list(report.shard.seeds(report.campaign_seeds)):
            raise ReportError(f"{path} does not hold the seeds of shard {report.shard} (cut short?)")
    shards = sorted(report.shard.index for _, report in reports)
    expected = list(range(1, first.shard.count + 1))
    if shards != expected:
        twice = sorted({index for index in shards if shards.count(index) > 1})
        missing = sorted(set(expected) - set(shards))
        problem = f"shard {twice[0]}/{first.shard.count} is given twice" if twice else \
            f"shard {missing[0]}/{first.shard.count} is missing"
        raise ReportError(f"the reports do not make up the campaign: {problem}")
    seeds = sorted((seed for _, report in reports for seed in report.seeds), key=lambda seed: seed.seed)
    return first.model_copy(update={"shard": WHOLE, "seeds": seeds})


@dataclass(frozen=True)
class Campaign:
    """The seeds of a scenario to fuzz: `shard` of range(start_seed, start_seed + runs)."""

    pack: Pack
    pack_text: str
    pack_argument: str  # PACK as the user typed it: a report's reproduce line says it again
    source_name: str  # the pack's file, for messages (a worker loads the pack from its text)
    scenario: str
    start_seed: int
    runs: int
    shard: Shard = WHOLE
    code: App | None = None  # the user's own services (a worker imports them again by `pack_argument`)

    @property
    def seeds(self) -> range:
        return self.shard.seeds(range(self.start_seed, self.start_seed + self.runs))

    def jobs(self, wanted: int) -> int:
        """How many processes `wanted` jobs come to: never more than there are seeds, at least one."""
        return max(1, min(wanted, len(self.seeds)))

    def report(self, results: Sequence[SeedResult]) -> CampaignReport:
        return CampaignReport(pack=self.pack_argument, pack_hash=pack_hash(self.pack_text), scenario=self.scenario,
                              start_seed=self.start_seed, runs=self.runs, shard=self.shard,
                              seeds=[result.report for result in results])


def job_databases(db: Path, jobs: int) -> list[Path]:
    """Where the runs are kept: `db` itself for one job; with several, one file per worker beside it
    (runs.db -> runs-1.db, runs-2.db, ...), so no two processes write one SQLite file."""
    if jobs == 1:
        return [db]
    return [db.with_name(f"{db.stem}-{number}{db.suffix}") for number in range(1, jobs + 1)]


async def run_campaign(campaign: Campaign, *, jobs: int, db: Path | None,
                       on_result: Callable[[SeedResult], None]) -> list[SeedResult]:
    """Run every seed of `campaign` (in `jobs` worker processes when more than one), keeping the runs
    in `db` (see job_databases; a scratch file removed at the end when None). `on_result` sees each
    seed's result in seed order, as soon as it and every seed before it have ended."""
    jobs = campaign.jobs(jobs)
    # A scratch file is thrown away: its runs need not wait for the disk (the same streams, see
    # sagatui.store.writer); runs kept with --db are as durable as any other.
    durability: Durability = "scratch" if db is None else "normal"
    with tempfile.TemporaryDirectory(prefix="sagatui-fuzz-") as scratch:
        databases = job_databases(db if db is not None else Path(scratch) / "fuzz.db", jobs)
        if jobs == 1:
            return await _run_here(campaign, databases[0], durability, on_result)
        from sagatui.lab.fuzz_workers import run_in_workers

        return await run_in_workers(campaign, databases, durability, on_result)


async def _run_here(campaign: Campaign, db: Path, durability: Durability,
                    on_result: Callable[[SeedResult], None]) -> list[SeedResult]:
    results = []
    async with await Store.open(db, durability=durability) as store:
        for seed in campaign.seeds:
            outcome = await fuzz_one(campaign.pack, campaign.pack_text, store, campaign.scenario, seed,
                                     campaign.code)
            results.append(SeedResult.of(outcome, db))
            on_result(results[-1])
    return results
