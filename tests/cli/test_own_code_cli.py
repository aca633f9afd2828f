"""`sagatui run MODULE:APP` and `sagatui check MODULE:APP` on a user's own code, as a terminal runs them."""

from pathlib import Path

APP = '''
import sagatui
from sagatui import ref, saga, scenario, step

counter = sagatui.Service("counter")
seen = {}  # each run's keys, by its database and number: a process may run many (fuzz)


@counter.operation
async def add(ctx: sagatui.CallContext, amount: int) -> dict:
    seen.setdefault((ctx.run.database, ctx.run.run_id), set()).add(ctx.idempotency_key)
    return {"total": amount}


@add.undo
async def subtract(ctx: sagatui.CallContext, amount: int) -> dict:
    return {"total": 0}


app = sagatui.App(
    "counting",
    services=[counter],
    sagas=[saga("count", step("add", add, params={"amount": ref("input.amount")}))],
    scenarios={"once": scenario("count", inputs=[{"amount": 3}], expect={"statuses": ["completed"]})},
)


@app.invariant
async def nothing_seen_twice(end: sagatui.RunEnd) -> list[str]:
    keys = seen.get((end.run.database, end.run.run_id), set())
    return [] if len(keys) <= len(end.sagas) else [f"{len(keys)} keys for {len(end.sagas)} sagas"]
'''


def write(folder: Path, text: str = APP, name: str = "counting.py") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_run_a_module_of_the_users_code(sagatui, tmp_path: Path) -> None:
    write(tmp_path)
    result = sagatui("run", "counting:app", "--db", "runs.db")
    assert result.code == 0, result.err
    assert "invariant ok   nothing_seen_twice" in result.out
    assert "1 of 1 scenario(s) passed" in result.out
    by_file = sagatui("run", "counting.py", "--db", "runs.db", "--format", "json")
    assert by_file.code == 0, by_file.err
    assert '"name": "nothing_seen_twice"' in by_file.out


def test_a_failing_invariant_of_the_users_own_fails_the_run(sagatui, tmp_path: Path) -> None:
    write(tmp_path, APP.replace("len(keys) <= len(end.sagas)", "False"))
    result = sagatui("run", "counting:app", "--db", "runs.db")
    assert result.code == 1
    assert "invariant FAIL nothing_seen_twice: 1 keys for 1 sagas" in result.out


def test_a_module_that_fails_to_import_is_one_line(sagatui, tmp_path: Path) -> None:
    write(tmp_path, "import sagatui\nraise RuntimeError('no config')\n", "broken.py")
    result = sagatui("run", "broken:app")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"sagatui: error: cannot import broken: RuntimeError: no config ({tmp_path / 'broken.py'}:2) "
        f"(--verbose shows its traceback)"]
    verbose = sagatui("run", "broken:app", "--verbose")
    assert verbose.code == 2
    assert "Traceback (most recent call last)" in verbose.err and "raise RuntimeError('no config')" in verbose.err


def test_what_is_not_an_app_is_said(sagatui, tmp_path: Path) -> None:
    write(tmp_path)
    assert "counting has no attribute 'nope' (it has: app)" in sagatui("run", "counting:nope").err
    assert "counting:counter is a Service, not a sagatui App" in sagatui("run", "counting:counter").err
    assert sagatui("run", "missing.py").err.strip() == "sagatui: error: missing.py: no such file"


def test_a_saga_naming_an_operation_the_code_lacks_names_the_field(sagatui, tmp_path: Path) -> None:
    write(tmp_path, APP.replace('step("add", add,', 'step("add", "counter.multiply",'))
    result = sagatui("check", "counting:app")
    assert result.code == 2
    assert ("sagas.count.steps[0].action: counter.multiply is not an operation of service counter "
            "(counter has: add, subtract)") in result.err
    assert "Traceback" not in result.err


def test_check_a_module(sagatui, tmp_path: Path) -> None:
    write(tmp_path)
    result = sagatui("check", "counting:app")
    assert result.code == 0, result.err
    assert "counting:app: ok: counting: 1 scenario(s)" in result.out


def test_a_pack_never_names_code(sagatui, tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "name: p\nservices:\n  counter: {kind: code}\nsagas:\n  s:\n    steps:\n"
        "      - {name: a, action: counter.add}\nscenarios:\n  x: {saga: s, inputs: [{}]}\n", encoding="utf-8")
    result = sagatui("check", "p.yaml")
    assert result.code == 2
    assert "p.yaml:3: services.counter.kind: counter is the user's own code (kind: code)" in result.err


ALL_COMPLETED = APP.replace('sagatui.Service("counter")', 'sagatui.Service("counter", fault={"latency": "4s"})') + '''

@app.invariant
async def every_count_completed(end: sagatui.RunEnd) -> list[str]:
    return [f"{saga.saga_id} ended {saga.status}" for saga in end.sagas if saga.status != "completed"]
'''


def test_fuzz_finds_the_seeds_that_break_the_users_own_invariant(sagatui, tmp_path: Path) -> None:
    write(tmp_path, ALL_COMPLETED)
    spread = sagatui("fuzz", "counting:app", "--scenario", "once", "--runs", "16", "--jobs", "2")
    assert spread.code == 1, spread.err
    assert "invariant every_count_completed: S-0001 ended " in spread.out
    failing = [line.split()[1].rstrip(":") for line in spread.out.splitlines() if line.endswith("FAIL (1 sagas)")]
    assert failing, spread.out
    assert f"reproduce: sagatui fuzz counting:app --scenario once --runs 1 --start-seed {failing[0]}" in spread.out
    alone = sagatui("fuzz", "counting:app", "--scenario", "once", "--runs", "16", "--jobs", "1")
    assert alone.out == spread.out  # the same seeds fail, reported the same, in one process or two


def test_replay_a_run_of_the_users_code(sagatui, tmp_path: Path) -> None:
    write(tmp_path)
    assert sagatui("run", "counting:app", "--db", "runs.db", "--quiet").code == 0
    needs = sagatui("replay", "runs.db")
    assert needs.code == 2
    assert "run 1 of runs.db ran the user's own code (counter): give it with --code MODULE:APP" in needs.err
    answered = sagatui("replay", "runs.db", "--code", "counting:app")
    assert answered.code == 0, answered.err
    assert answered.out.startswith("identical: ")
    live = sagatui("replay", "runs.db", "--code", "counting:app", "--live")
    assert live.code == 0 and live.out.startswith("identical: "), live.err
    write(tmp_path, APP.replace('"total": amount', '"total": amount + 1'))  # the code changed its answer
    changed = sagatui("replay", "runs.db", "--code", "counting:app", "--live")
    assert changed.code == 1
    assert "diverged" in changed.out and '"total": 4' in changed.out


REFUNDS = '''
from pathlib import Path

import sagatui
from sagatui import saga, scenario, step

bank = sagatui.Service("bank")


@bank.operation
async def charge(ctx: sagatui.CallContext) -> dict:
    return {"charged": 5}


@charge.undo
async def refund(ctx: sagatui.CallContext) -> dict:
    if (ctx.run.database.parent / "refunds_down").exists():
        raise sagatui.Transient("refunds are down")
    return {"refunded": 5}


@bank.operation
async def fail(ctx: sagatui.CallContext) -> dict:
    raise sagatui.Permanent("no")


app = sagatui.App("refunds", services=[bank],
                  sagas=[saga("pay", step("charge", charge, compensation_retry={"max_attempts": 1}),
                              step("fail", fail))],
                  scenarios={"one": scenario("pay", inputs=[{}])})
'''


def test_an_operator_retries_the_users_undo(sagatui, tmp_path: Path) -> None:
    write(tmp_path, REFUNDS, "refunds.py")
    (tmp_path / "refunds_down").touch()
    sagatui("run", "refunds:app", "--db", "runs.db", "--quiet")
    listed = sagatui("attention", "list", "--db", "runs.db")
    assert listed.code == 1 and "S-0001" in listed.out
    (tmp_path / "refunds_down").unlink()
    refused = sagatui("attention", "retry", "S-0001", "--db", "runs.db")
    assert refused.code == 2 and "give it again with --code refunds:app" in refused.err
    retried = sagatui("attention", "retry", "S-0001", "--db", "runs.db", "--code", "refunds:app")
    assert retried.code == 0, retried.err
    assert "S-0001: compensated" in retried.out


def test_a_lifespan_that_fails_is_one_line_and_leaves_no_run_running(sagatui, tmp_path: Path) -> None:
    servers = '''
from contextlib import asynccontextmanager


@asynccontextmanager
async def servers(run):
    raise OSError("port 8080 in use")
    yield

'''
    write(tmp_path, APP.replace("app = sagatui.App(", servers + "app = sagatui.App(")
          .replace('    "counting",\n', '    "counting", lifespan=servers,\n'))
    result = sagatui("run", "counting:app", "--db", "runs.db")
    assert result.code == 2
    assert result.err.strip() == ("sagatui: error: counting:app (run 1): its lifespan failed as the run opened: "
                                  "OSError: port 8080 in use")
    import sqlite3

    assert sqlite3.connect(tmp_path / "runs.db").execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
