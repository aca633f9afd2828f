"""A non-editable install ships only the packages pyproject.toml lists (the scenarios mapping rules out
`find:`): every package in the source tree must be listed, or `pip install .` breaks at import."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_of_the_source_tree_is_listed_in_pyproject() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    in_tree = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "sagatui").rglob("__init__.py")}
    assert in_tree - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - in_tree == {"sagatui.scenarios"}  # mapped from the top-level scenarios/ folder
    assert setuptools["package-dir"]["sagatui.scenarios"] == "scenarios"
