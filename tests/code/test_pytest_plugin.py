"""The pytest plugin as a user's suite meets it: a real pytest session (pytester) over a real App."""

from __future__ import annotations

import pytest

from tests.cli.test_own_code_cli import ALL_COMPLETED, APP

pytest_plugins = ["pytester"]

FLAKY_APP = APP.replace("    seen.setdefault((ctx.run.database, ctx.run.run_id), set()).add(ctx.idempotency_key)\n",
                        "    seen.setdefault((ctx.run.database, ctx.run.run_id), set()).add(ctx.idempotency_key)\n"
                        "    if ctx.run.run_id % 3 == 0:\n        raise RuntimeError('every third run breaks')\n")


def test_fixtures_run_a_scenario_and_tell_its_outcome(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(counting=APP)
    pytester.makepyfile(test_counting='''
        def test_once(saga_lab):
            outcome = saga_lab.run("counting:app", "once")
            assert outcome.statuses == {"S-0001": "completed"}
            assert outcome.invariants["nothing_seen_twice"] == "ok"
            assert [event.kind.value for event in outcome.events][:1] == ["run.started"]
            outcome.assert_passed()

        def test_faults_set_first(saga_lab):
            outcome = saga_lab.run("counting:app", "once", faults={"counter": {"mode": "offline"}})
            assert outcome.statuses == {"S-0001": "failed"}
            assert not outcome.passed
            assert "expect statuses: expected ['completed'], got ['failed']" in outcome.problems()
    ''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_fuzz_marker_runs_each_seed_and_the_summary_says_how_to_reproduce(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(counting=FLAKY_APP)
    pytester.makepyfile(test_fuzzed='''
        import pytest

        @pytest.mark.sagatui_fuzz(seeds=3)
        def test_holds(saga_lab, sagatui_seed):
            for _ in range(sagatui_seed):
                outcome = saga_lab.run("counting:app", "once", seed=sagatui_seed)
            outcome.assert_passed()
    ''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*test_holds?seed3? FAILED*",
        "*sagatui: failing runs, to run again*",
        "sagatui run counting:app --scenario once --seed 3",
    ])
    again = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v", "--sagatui-seed", "2")
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["*test_holds?seed2? PASSED*"])


def test_fuzz_draws_faults_as_sagatui_fuzz_does(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(counting=ALL_COMPLETED)
    pytester.makepyfile(test_drawn="""
        import pytest

        @pytest.mark.sagatui_fuzz(seeds=16)
        def test_counts_hold(saga_lab, sagatui_seed):
            saga_lab.fuzz("counting:app", "once", seed=sagatui_seed).assert_held()
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1 and outcomes.get("passed", 0) >= 1
    result.stdout.fnmatch_lines(["*sagatui: failing runs, to run again*",
                                 "sagatui fuzz counting:app --scenario once --runs 1 --start-seed *"])


def test_session_files_are_snapshots_written_with_a_flag(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(counting=APP)
    pytester.makepyfile(test_snapshot='''
        def test_counting_unchanged(saga_lab):
            print(saga_lab.check_session("counting:app", "sessions/once.json", "once"))
    ''')
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*wrote sessions/once.json: * events*"])
    assert (pytester.path / "sessions" / "once.json").is_file()
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s").stdout.fnmatch_lines(
        ["*sessions/once.json: identical*"])
    pytester.makepyfile(counting=APP.replace('"total": amount', '"total": amount * 2'))
    # the recorded answers are fed back: a changed function body alone changes nothing...
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    pytester.makepyfile(counting=APP.replace('params={"amount": ref("input.amount")}))',
                                             'params={"amount": ref("input.amount")}), '
                                             'output={"total": ref("steps.add.result.total")})'))
    changed = pytester.runpytest_subprocess("-p", "no:cacheprovider")  # ...a changed definition does
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(["*sessions/once.json no longer replays*--sagatui-update*"])
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sagatui-update").assert_outcomes(passed=1)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_loading_the_plugin_imports_no_engine(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_modules='''
        import sys

        def test_nothing_heavy():
            assert "sagatui.pytest_plugin" in sys.modules
            heavy = [name for name in sys.modules if name.startswith(("sagatui.engine", "sagatui.lab",
                                                                      "sagatui.tui", "sagatui.store"))]
            assert heavy == []  # (Textual may be: pytest-textual-snapshot's plugin imports it)
    ''')
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:asyncio").assert_outcomes(passed=1)
