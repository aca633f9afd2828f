"""The pytest plugin as a user's suite meets it: a real pytest session (pytester) over a real App."""

from __future__ import annotations

import pytest

from tests.cli.test_own_code_cli import APP

pytest_plugins = ["pytester"]

FLAKY_APP = APP.replace("    seen.add(ctx.idempotency_key)\n", "    seen.add(ctx.idempotency_key)\n"
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
