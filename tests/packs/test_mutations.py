"""Property: however a valid pack is mangled, loading it either works or raises a PackError whose
problems all name the file and a line; never any other exception (which would be a traceback)."""

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagatui.packs.bundled import bundled_pack_names, load_bundled_pack
from sagatui.packs.errors import PackError
from sagatui.packs.loader import load_pack_text
from sagatui.packs.model import Pack
from tests.packs.test_bundled import REPOSITORY_PACKS

FILE = "mutated.yaml"
TEXTS = {name: (REPOSITORY_PACKS / f"{name}.yaml").read_text() for name in bundled_pack_names()}
TREES = {name: yaml.safe_load(text) for name, text in TEXTS.items()}

# Values a mutation puts in place of another: other types, and plausible-but-wrong pack values.
REPLACEMENTS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.just([]), st.just({}), st.lists(st.integers(), max_size=3),
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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(bundled_pack_names()), data=st.data())
def test_mutated_pack_loads_or_raises_pack_error(name, data):
    tree = copy.deepcopy(TREES[name])
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        tree = mutate(tree, data)
    assert_loads_or_fails_cleanly(yaml.safe_dump(tree, sort_keys=False, allow_unicode=True))


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(bundled_pack_names()), data=st.data())
def test_mangled_text_loads_or_raises_pack_error(name, data):
    text = TEXTS[name]
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        start = data.draw(st.integers(0, len(text)), label="start")
        end = data.draw(st.integers(start, min(len(text), start + 40)), label="end")
        insert = data.draw(st.text(alphabet=":-[]{}&*!|>'\"\n\t #,?%@`\\x0", max_size=6), label="insert")
        text = text[:start] + insert + text[end:]
    assert_loads_or_fails_cleanly(text)


def test_the_unmutated_packs_load():
    for name in bundled_pack_names():
        assert load_pack_text(yaml.safe_dump(TREES[name], sort_keys=False), FILE) == load_bundled_pack(name)
