"""Property: however a valid pack is mangled, loading it either works or raises a PackError whose
problems all name the file and a line; never any other exception (which would be a traceback). And a
pack that loads also runs: its scenarios start every saga and end each one."""

import asyncio
import copy
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sagatui.lab.expectations import final_statuses
from sagatui.lab.headless import run_scenario
from sagatui.model.events import Event
from sagatui.packs.bundled import bundled_pack_names, bundled_pack_path
from sagatui.packs.errors import PackError
from sagatui.packs.loader import load_pack, load_pack_text
from sagatui.packs.model import Pack
from sagatui.store.database import Store
from tests.packs.test_bundled import REPOSITORY_PACKS

FILE = "mutated.yaml"
TEXTS = {name: (REPOSITORY_PACKS / f"{name}.yaml").read_text() for name in bundled_pack_names()}
TREES = {name: yaml.safe_load(text) for name, text in TEXTS.items()}


def shares_of(examples: int) -> list[Any]:
    """A property's examples split in two runs: a third in every suite, the rest behind the slow marker
    (.ci/run runs both), so that CI still tries all of them."""
    everyday = examples // 3
    return [pytest.param(everyday, id="everyday"),
            pytest.param(examples - everyday, id="rest", marks=pytest.mark.slow)]

# Numbers at and past every edge: zero, negatives, the ends of int64 and of floats, nan and inf.
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 0.0, -0.0, 5e-324, 1e-300, 1e300, 1.7e308, 2**63 - 1, 2**63, -(2**63), 10**400]),
)
# Text with the characters YAML and terminals find odd: controls, bidi overrides, astral planes, BOMs.
ODD_TEXT = st.text(alphabet=st.one_of(st.characters(codec="utf-8"),
                                      st.sampled_from("\x00\x07\x1b\x85\u2028\u202e\ufeff\U0001f600\U000e0001")),
                   max_size=12)
# Values a mutation puts in place of another: other types, and plausible-but-wrong pack values.
REPLACEMENTS = st.one_of(
    st.none(), st.booleans(), NUMBERS, ODD_TEXT, st.just([]), st.just({}), st.lists(st.integers(), max_size=3),
    st.sampled_from(["payment.refund", "payment.refnd", "nope.charge", "1s", "-5ms", "2 seconds", "order",
                     "completed", "offline", "inventory", "gateway", "0", "~", "<<", "parallel"]),
)
KEYS = st.one_of(st.text(min_size=1, max_size=10), st.sampled_from(
    ["name", "action", "parallel", "retry", "retyr", "steps", "saga", "kind", "options", "breaker", "in", "on"]))


def paths(tree: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in the tree, the root included."""
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += paths(value, (*prefix, index))
    return found


def at(tree: Any, path: tuple) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def mutate(tree: Any, data: st.DataObject) -> Any:
    path = data.draw(st.sampled_from(paths(tree)), label="path")
    node = at(tree, path)
    operations = ["replace"]
    if path:
        operations += ["delete"]
        if isinstance(at(tree, path[:-1]), dict):
            operations += ["rename"]
    if isinstance(node, list) and node:
        operations += ["duplicate"]
    operation = data.draw(st.sampled_from(operations), label="operation")
    if not path:
        return data.draw(REPLACEMENTS) if operation == "replace" else tree
    parent, last = at(tree, path[:-1]), path[-1]
    if operation == "replace":
        parent[last] = data.draw(REPLACEMENTS, label="value")
    elif operation == "delete":
        del parent[last]
    elif operation == "rename":
        parent[data.draw(KEYS, label="key")] = parent.pop(last)
    else:
        node.append(copy.deepcopy(node[data.draw(st.integers(0, len(node) - 1), label="item")]))
    return tree


def assert_loads_or_fails_cleanly(text: str) -> None:
    try:
        assert isinstance(load_pack_text(text, FILE), Pack)
    except PackError as error:
        lines = text.count("\n") + 1
        for problem in error.problems:
            assert problem.file == FILE
            assert problem.line is None or 1 <= problem.line <= lines, str(problem)
            assert problem.message


@pytest.mark.parametrize("examples", shares_of(300))
def test_mutated_pack_loads_or_raises_pack_error(examples):
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(name=st.sampled_from(bundled_pack_names()), data=st.data())
    def mutated(name, data):
        tree = copy.deepcopy(TREES[name])
        for _ in range(data.draw(st.integers(1, 4), label="mutations")):
            tree = mutate(tree, data)
        assert_loads_or_fails_cleanly(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True))

    mutated()


# Pieces of YAML syntax, escapes (surrogates among them) and numbers to splice into a pack's text.
SPLICES = st.one_of(
    st.text(alphabet=":-[]{}&*!|>'\"\n\t #,?%@`\\x0", max_size=6),
    st.sampled_from(['"\\ud83d"', '"\\ude00"', '"\\ud83d\\ude00"', '"\\U0001F600"', '"\\x00"', "\ufeff", "\u202e",
                     "9" * 5001, ".inf", "-.nan", "1.0e+999", "-1", "0", "0x" + "f" * 17, "&a [*a]", "*nowhere"]),
)


@pytest.mark.parametrize("examples", shares_of(200))
def test_mangled_text_loads_or_raises_pack_error(examples):
    @settings(max_examples=examples, deadline=None)
    @given(name=st.sampled_from(bundled_pack_names()), data=st.data())
    def mangled(name, data):
        text = TEXTS[name]
        for _ in range(data.draw(st.integers(1, 3), label="edits")):
            start = data.draw(st.integers(0, len(text)), label="start")
            end = data.draw(st.integers(start, min(len(text), start + 40)), label="end")
            text = text[:start] + data.draw(SPLICES, label="insert") + text[end:]
        assert_loads_or_fails_cleanly(text)

    mangled()


def sagas_started(pack: Pack, scenario: str) -> int:
    workload = pack.scenarios[scenario].workload
    return workload.count if workload is not None else len(pack.scenarios[scenario].inputs)


async def run_briefly(pack: Pack, text: str, scenario: str) -> list[Event]:
    events: list[Event] = []
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "mutant.db") as store:
            await run_scenario(pack, text, store, scenario, seed=1, on_event=events.append)
    return events


# Where a pack's text has a number or a duration, and what may be written there instead.
NUMBER_IN_TEXT = re.compile(r"(?<=[:\[,{] )-?\d+(?:\.\d+)?(?:ms|s|m|h)?\b")
NUMBER_LITERALS = st.sampled_from([".inf", "-.inf", ".nan", "'inf'", "1.0e+999", "9" * 5001, "0x" + "f" * 17, "-1", "0",
                                   "0.0", "0s", "-5ms", "1.0e-300", "1.0e+300", str(2**63), str(-(2**63)), "99999h"])
# Run texts with a small bound: the one large workload (300 sagas) starts 5.
SMALL_TEXTS = {name: text.replace("count: 300", "count: 5") for name, text in TEXTS.items()}


def loaded_or_none(text: str) -> Pack | None:
    try:
        return load_pack_text(text, FILE)
    except PackError:
        assert_loads_or_fails_cleanly(text)
        return None


@pytest.mark.parametrize("examples", shares_of(150))
def test_a_pack_with_other_numbers_is_refused_cleanly_or_runs(examples):
    """Accepted means runnable: a number that loads must not break the run that reads it (an infinite
    weight loaded, then killed the workload task before its first saga)."""

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(name=st.sampled_from(bundled_pack_names()), data=st.data())
    def renumbered(name, data):
        text = SMALL_TEXTS[name]
        for _ in range(data.draw(st.integers(1, 3), label="numbers")):
            spots = list(NUMBER_IN_TEXT.finditer(text))
            spot = data.draw(st.sampled_from(spots), label="spot")
            text = text[:spot.start()] + data.draw(NUMBER_LITERALS, label="number") + text[spot.end():]
        pack = loaded_or_none(text)
        if pack is None:
            event("refused")
            return
        small = [scenario for scenario in pack.scenarios if sagas_started(pack, scenario) <= 20]
        if not small:
            event("accepted, no small scenario")
            return
        event("ran")
        scenario = data.draw(st.sampled_from(small), label="scenario")
        statuses = final_statuses(asyncio.run(run_briefly(pack, text, scenario)))
        assert len(statuses) == sagas_started(pack, scenario), "not every saga started"
        assert all(status.terminal for status in statuses.values()), statuses

    renumbered()


def test_the_unmutated_packs_load():
    for name in bundled_pack_names():
        assert load_pack_text(yaml.safe_dump(TREES[name], sort_keys=False), FILE) == load_pack(bundled_pack_path(name))
