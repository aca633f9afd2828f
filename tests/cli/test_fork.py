"""`sagatui fork`: a run re-executed exactly up to a point, changed there, going on as a new run that
says where it forked from; deterministic, replayable, and `diff` names what the change did."""

import json
import shutil

import pytest


@pytest.fixture
def db(load_db, tmp_path):
    """A copy of load_with_outages (payment down 3-6 s, the carrier 9-12 s) as run 1 of runs.db."""
    copied = tmp_path / "runs.db"
    shutil.copy(load_db, copied)
    return copied


def _diff(sagatui, a: str, b: str) -> tuple[int, dict]:
    result = sagatui("diff", a, b, "--format", "json")
    return result.code, json.loads(result.out)


def test_a_fork_is_the_run_up_to_its_point_then_goes_its_own_way(sagatui, db):
    result = sagatui("fork", "runs.db", "--at", "7s", "--fault", "payment=offline")
    assert result.code == 0, result
    assert result.out.splitlines() == [result.out.splitlines()[0], "compare: sagatui diff runs.db:1 runs.db:2"]
    assert result.out.startswith("forked run 1 of runs.db at 7s: run 2 of runs.db (")
    code, report = _diff(sagatui, "runs.db:1", "runs.db:2")
    assert code == 1
    first = report["first_divergence"]
    assert first["b"]["kind"] == "command" and first["b"]["data"]["name"] == "forked"
    assert first["b"]["time"] == 7.0 and first["a"]["time"] >= 7.0  # the same events until the fork point
    commands = {item["name"]: (item["a"], item["b"]) for item in report["commands"]}
    assert commands == {"forked source=run 1 of runs.db at=7s": (None, [7.0]),
                        "set_fault service=payment profile=offline": (None, [7.0])}
    statuses = {item["name"]: (item["a"], item["b"]) for item in report["sagas_by_status"]}
    completed_before, completed_after = statuses["completed"]
    assert completed_after < completed_before  # payment never came back: later orders roll back


def test_the_same_fork_twice_gives_the_same_run_and_a_fork_replays(sagatui, db):
    for _ in range(2):
        assert sagatui("fork", "runs.db", "--run", "1", "--at", "2500", "--fault", "shipping=offline").code == 0
    code, report = _diff(sagatui, "runs.db:2", "runs.db:3")
    assert code == 0 and report["identical"], report["first_divergence"]
    replayed = sagatui("replay", "runs.db", "--run", "3")
    assert replayed.code == 0 and replayed.out.startswith("identical"), replayed


def test_a_fork_without_changes_differs_only_by_its_mark(sagatui, db):
    assert sagatui("fork", "runs.db", "--at", "0s").code == 0
    code, report = _diff(sagatui, "runs.db:1", "runs.db:2")
    assert code == 1
    assert [item["name"] for item in report["commands"]] == ["forked source=run 1 of runs.db at=0ms"]
    assert report["sagas_by_status"] == [] and report["saga_outcomes"] == []


def test_a_fork_of_a_session_file_goes_where_it_is_told(sagatui, db, tmp_path):
    assert sagatui("export", "runs.db", "-o", "run.json").code == 0
    refused = sagatui("fork", "run.json", "--at", "1s")
    assert refused.code == 2 and "--db" in refused.err
    done = sagatui("fork", "run.json", "--at", "10s", "--fault", "email={mode: degraded, error_rate: 0.5}",
                   "--db", "forks.db")
    assert done.code == 0, done
    assert "run 1 of forks.db" in done.out and "compare: sagatui diff run.json forks.db:1" in done.out


@pytest.mark.parametrize(("args", "words"), [
    (("--at", "1h"), "never reached 1h"),
    (("--at", "99999999"), "never reached seq 99999999"),
    (("--at", "soon"), "neither an event seq"),
    (("--at", "1s", "--fault", "pay=offline"), "no service 'pay'"),
    (("--at", "1s", "--fault", "payment"), "SERVICE=PROFILE"),
    (("--at", "1s", "--fault", "payment=sideways"), "mode"),
])
def test_a_bad_fork_is_a_one_line_error_and_adds_no_run(sagatui, db, args, words):
    result = sagatui("fork", "runs.db", *args)
    assert result.code == 2 and words in result.err and len(result.err.splitlines()) == 1, result
    assert sagatui("diff", "runs.db:1", "runs.db:2").code == 2  # no run 2
