"""`sagatui diff A B`: identical runs say so (exit 0); runs that differ name their first divergence and
what it changed (exit 1), in text and JSON, for runs of one database, of two, and session files."""

import json

import pytest


@pytest.fixture
def runs(sagatui, tmp_path):
    """runs.db: run 1 and run 2 the same scenario and seed, run 3 another seed, run 4 another scenario."""
    for args in (("--seed", "1"), ("--seed", "1"), ("--seed", "2")):
        result = sagatui("run", "ecommerce", "--scenario", "insufficient_inventory", *args,
                         "--db", "runs.db", "--quiet")
        assert result.code == 0, result
    assert sagatui("run", "ecommerce", "--scenario", "payment_declined", "--db", "runs.db", "--quiet").code == 0
    return tmp_path / "runs.db"


def test_the_same_pack_and_seed_are_identical(sagatui, runs):
    result = sagatui("diff", "runs.db:1", "runs.db:2")
    assert result.code == 0, result
    assert "identical" in result.out and "run 1 of runs.db" in result.out and "run 2 of runs.db" in result.out


def test_two_seeds_show_their_first_divergence(sagatui, runs):
    result = sagatui("diff", "runs.db:1", "runs.db:3")
    assert result.code == 1, result
    lines = result.out.splitlines()
    assert lines[2] == "first divergence at event index 0:"
    assert '"seed": 1' in lines[3] and '"seed": 2' in lines[4]  # run.started names each run's seed
    assert lines[5] == "  differing fields: data"


def test_another_scenario_names_its_command_and_the_sagas_it_changed(sagatui, runs):
    result = sagatui("diff", "runs.db:1", "runs.db:4", "--format", "json")
    assert result.code == 1, result
    report = json.loads(result.out)
    assert report["identical"] is False and report["a"]["source"] == "run 1 of runs.db"
    commands = {item["name"]: (item["a"], item["b"]) for item in report["commands"]}
    assert commands == {"start_scenario scenario=insufficient_inventory": ([0.0], None),
                        "start_scenario scenario=payment_declined": (None, [0.0])}
    text = sagatui("diff", "runs.db:1", "runs.db:4")
    assert "commands received differently (2):" in text.out


def test_a_session_file_compares_with_its_database_run(sagatui, runs, tmp_path):
    assert sagatui("export", "runs.db", "--run", "3", "-o", "three.json").code == 0
    assert sagatui("diff", "three.json", "runs.db:3").code == 0
    differs = sagatui("diff", "three.json", "runs.db:1", "--format", "json")
    assert differs.code == 1 and json.loads(differs.out)["first_divergence"]["index"] == 0


def test_a_missing_run_is_a_one_line_error(sagatui, runs):
    for a, b in (("runs.db:9", "runs.db:1"), ("nowhere.db", "runs.db")):
        result = sagatui("diff", a, b)
        assert result.code == 2 and len(result.err.splitlines()) == 1, result
