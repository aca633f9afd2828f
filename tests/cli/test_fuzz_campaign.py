"""`sagatui fuzz --jobs/--shard/--report` and `fuzz-merge`, as a CI script runs them: real subprocesses,
worker processes and all. A failure is planted in every process (the workers too) by a sitecustomize
module that makes compensations run twice for one seed, as tests/replay/test_fuzz.py does in-process."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sagatui.lab.fuzz_campaign import Shard

PLANTED_SEED = 23
CAMPAIGN = ("fuzz", "ecommerce", "--scenario", "payment_declined", "--runs", "40", "--start-seed", "1")

PLANT = f"""
from sagatui.engine.orchestrator import SagaEngine

original = SagaEngine.compensate_step


async def twice(self, saga, record, restart_ttl=False):
    await original(self, saga, record, restart_ttl)
    if self.seed == {PLANTED_SEED}:
        return await original(self, saga, record, restart_ttl)


SagaEngine.compensate_step = twice
"""


@pytest.fixture
def planted(tmp_path, sagatui, monkeypatch):
    """`sagatui` with seed 23's compensations run twice, in the command's process and in its workers."""
    (tmp_path / "plant").mkdir()
    (tmp_path / "plant" / "sitecustomize.py").write_text(PLANT)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path / "plant"), os.environ.get("PYTHONPATH", "")]))
    return sagatui


def test_two_jobs_report_exactly_what_one_job_reports_planted_failure_and_all(planted):
    one = planted(*CAMPAIGN, "--jobs", "1")
    two = planted(*CAMPAIGN, "--jobs", "2")
    assert (one.code, two.code) == (1, 1)
    assert two.out == one.out
    assert f"seed {PLANTED_SEED}: FAIL (1 sagas)" in one.out
    assert "compensation ran more than once" in one.out
    assert one.out.splitlines()[-1] == f"40 run(s), 1 failed; failing seeds: {PLANTED_SEED}"
    assert "2 job(s)" in two.err and "1 job(s)" in one.err and "Traceback" not in two.err


def test_with_a_database_each_job_keeps_its_runs_in_its_own_file(planted, tmp_path):
    result = planted(*CAMPAIGN, "--jobs", "2", "--db", "runs.db")
    assert result.code == 1
    files = [tmp_path / "runs-1.db", tmp_path / "runs-2.db"]
    assert not (tmp_path / "runs.db").exists()
    labels = []
    for path in files:
        with sqlite3.connect(path) as connection:
            labels += [label for label, in connection.execute("SELECT scenario FROM runs")]
    assert sorted(labels) == sorted(f"fuzz payment_declined seed {seed}" for seed in range(1, 41))
    kept = next(line for line in result.out.splitlines() if line.startswith("  kept: run "))
    run_id, db = kept.removeprefix("  kept: run ").split(" of ")
    with sqlite3.connect(tmp_path / db) as connection:
        assert connection.execute("SELECT scenario FROM runs WHERE id = ?", (int(run_id),)).fetchone() == (
            f"fuzz payment_declined seed {PLANTED_SEED}",)


def test_shard_halves_cover_the_campaign_once_and_merge_into_the_whole(planted, tmp_path):
    whole = planted(*CAMPAIGN, "--jobs", "2", "--report", "whole.json")
    first = planted(*CAMPAIGN, "--jobs", "1", "--shard", "1/2", "--report", "a.json")
    second = planted(*CAMPAIGN, "--jobs", "2", "--shard", "2/2", "--report", "b.json")
    assert (whole.code, first.code, second.code) == (1, 1, 0)  # seed 23 is the campaign's 23rd: shard 1/2
    assert first.out.splitlines()[-1] == f"20 run(s) of shard 1/2, 1 failed; failing seeds: {PLANTED_SEED}"
    assert second.out.splitlines()[-1] == "20 run(s) of shard 2/2, 0 failed"
    halves = [[seed["seed"] for seed in json.loads((tmp_path / name).read_text())["seeds"]]
              for name in ("a.json", "b.json")]
    assert halves == [list(range(1, 41, 2)), list(range(2, 41, 2))]
    merged = planted("fuzz-merge", "b.json", "a.json", "--report", "merged.json")
    assert merged.code == 1
    assert merged.out == whole.out
    assert json.loads((tmp_path / "merged.json").read_text()) == json.loads((tmp_path / "whole.json").read_text())


def test_reports_that_do_not_make_up_one_campaign_are_refused(sagatui, tmp_path):
    for shard in ("1/2", "2/2"):
        result = sagatui(*CAMPAIGN, "--runs", "4", "--jobs", "1", "--shard", shard, "--report", f"{shard[0]}.json")
        assert result.code == 0
    other = sagatui("fuzz", "ecommerce", "--scenario", "payment_declined", "--runs", "5", "--jobs", "1",
                    "--shard", "2/2", "--report", "other.json")
    assert other.code == 0
    missing = sagatui("fuzz-merge", "1.json")
    assert (missing.code, missing.err) == (2, "sagatui: error: the reports do not make up the campaign: "
                                               "shard 2/2 is missing\n")
    twice = sagatui("fuzz-merge", "1.json", "1.json")
    assert twice.code == 2 and "shard 1/2 is given twice" in twice.err
    mixed = sagatui("fuzz-merge", "1.json", "other.json")
    assert mixed.code == 2 and "other.json is of another campaign than 1.json: runs 5, not 4" in mixed.err
    cut = json.loads((tmp_path / "2.json").read_text())
    (tmp_path / "cut.json").write_text(json.dumps({**cut, "seeds": cut["seeds"][:-1]}))
    cut_short = sagatui("fuzz-merge", "1.json", "cut.json")
    assert cut_short.code == 2 and "cut.json does not hold the seeds of shard 2/2" in cut_short.err
    (tmp_path / "junk.json").write_text("{}")
    junk = sagatui("fuzz-merge", "junk.json")
    assert (junk.code, junk.err) == (2, "sagatui: error: junk.json: not a sagatui fuzz report\n")
    assert sagatui("fuzz-merge", "1.json", "2.json").out.splitlines() == ["4 run(s), 0 failed"]


@pytest.mark.parametrize("text", ["0/2", "3/2", "2", "a/b", "1/0"])
def test_a_shard_is_k_of_m_counted_from_one(sagatui, text):
    result = sagatui(*CAMPAIGN, "--shard", text)
    assert result.code == 2 and result.err.startswith("sagatui: error: --shard: a shard is K/M with 1 <= K <= M")


def test_shards_split_any_campaign_exactly_once():
    for runs in (1, 2, 7, 40):
        campaign = range(5, 5 + runs)
        for count in (1, 2, 3, 8):
            shards = [Shard(index=index, count=count) for index in range(1, count + 1)]
            covered = [seed for shard in shards for seed in shard.seeds(campaign)]
            assert sorted(covered) == list(campaign)


@pytest.mark.parametrize(("stop", "code", "message"), [
    (signal.SIGTERM, 143, "sagatui: interrupted by SIGTERM; the database is consistent"),
    (signal.SIGINT, 130, "sagatui: interrupted; the database is consistent"),
])
def test_a_stop_signal_ends_the_workers_cleanly(tmp_path, stop, code, message):
    """SIGTERM to the command alone (a service manager); SIGINT to its whole process group (Ctrl-C)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sagatui", "fuzz", "ecommerce", "--scenario", "load_with_outages", "--runs", "50",
         "--jobs", "2", "--db", "runs.db"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "NO_COLOR": "1"}, start_new_session=True)
    files = [tmp_path / "runs-1.db", tmp_path / "runs-2.db"]
    deadline = time.monotonic() + 120
    while not all(_runs(path) for path in files) and time.monotonic() < deadline:
        time.sleep(0.2)
    if stop is signal.SIGINT:
        os.killpg(process.pid, stop)
    else:
        process.send_signal(stop)
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (code, message + "\n")
    statuses = [status for path in files for status in _runs(path)]
    assert "running" not in statuses and "interrupted" in statuses


def _runs(path: Path) -> list[str]:
    if not path.exists():
        return []
    try:
        with sqlite3.connect(path) as connection:
            return [status for status, in connection.execute("SELECT status FROM runs")]
    except sqlite3.OperationalError:
        return []  # the worker is still creating it
