"""docs/packs.md documents every key of every model a pack can contain, and nothing else, so it cannot
drift: a field added to a model without its row in the model's section fails here, naming both, as
does a row left behind by a removed field. Every YAML example in it is valid, too."""

from __future__ import annotations

import inspect
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from sagatui.packs.loader import load_pack_text
from sagatui.packs.model import Pack
from sagatui.sim.catalog import SERVICE_KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "packs.md"
MODEL_HEADING = re.compile(r"^#+ .*\(`(\w+)`\)$")  # a model's section: "## A step (`StepDef`)"
CELL_BORDER = re.compile(r"(?<!\\)\|")  # a table's column border (`\|` is a pipe inside a cell)


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's type holds: itself, or the members of its unions, containers and Annotated."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in typing.get_args(annotation) for model in models_in(argument)]


def pack_models() -> dict[str, type[BaseModel]]:
    """Every model a pack file can contain, by class name, in a fixed order: those reachable from Pack
    through its fields, and each service kind's options (a service's `options:` is checked against them)."""
    found: dict[str, type[BaseModel]] = {}
    to_visit: list[type[BaseModel]] = [Pack, *(kind.options for kind in SERVICE_KINDS.values())]
    while to_visit:
        model = to_visit.pop(0)
        if model.__name__ in found:
            assert found[model.__name__] is model, f"two models are named {model.__name__}: the doc cannot tell"
            continue
        found[model.__name__] = model
        to_visit += [inner for info in model.model_fields.values() for inner in models_in(info.annotation)]
    return found


def written_names(model: type[BaseModel]) -> dict[str, bool]:
    """Each key a pack writes for the model (a field's alias when it has one), and whether it is required."""
    return {info.alias or name: info.is_required() for name, info in model.model_fields.items()}


def read_doc() -> tuple[dict[str, list[str]], list[tuple[int, str | None, str]]]:
    """The lines of each model's section (from its heading to the next one), and each fenced YAML block:
    the line it starts at, the model of the section it is in (None outside them) and its text."""
    sections: dict[str, list[str]] = {}
    blocks: list[tuple[int, str | None, str]] = []
    model: str | None = None
    fence: str | None = None  # inside a fenced block: its language ("" when it has none)
    for number, line in enumerate(DOC.read_text(encoding="utf-8").splitlines(keepends=True), start=1):
        if line.startswith("```"):
            fence = line[3:].strip() if fence is None else None
            if fence == "yaml":
                blocks.append((number, model, ""))
        elif fence == "yaml":
            blocks[-1] = (*blocks[-1][:2], blocks[-1][2] + line)
        elif fence is None and line.startswith("#"):
            match = MODEL_HEADING.match(line.rstrip())
            model = match[1] if match else None
            assert model not in sections, f"docs/packs.md has two sections for {model}"
            if model:
                sections[model] = []
        elif fence is None and model:
            sections[model].append(line)
    return sections, blocks


def table_rows(lines: list[str]) -> dict[str, list[str]]:
    """The rows of a section's key table, by key: `| `max_attempts` | type | default | example | meaning |`."""
    rows: dict[str, list[str]] = {}
    for line in lines:
        cells = [cell.strip() for cell in CELL_BORDER.split(line.rstrip())[1:-1]]
        if cells and re.fullmatch(r"`[^`]+`", cells[0]):
            rows[cells[0].strip("`")] = cells
    return rows


MODELS = pack_models()
SECTIONS, BLOCKS = read_doc()


def test_the_doc_has_a_section_for_every_pack_model_and_for_no_other():
    missing = [name for name in MODELS if name not in SECTIONS]
    assert not missing, f"docs/packs.md has no section for model(s) {missing}: add a heading ending (`Name`)"
    extra = [name for name in SECTIONS if name not in MODELS]
    assert not extra, f"docs/packs.md has a section for {extra}, which no pack can contain: remove it"


@pytest.mark.parametrize("name", MODELS)
def test_every_field_has_a_row_in_its_models_section_and_no_row_is_left_over(name):
    expected = written_names(MODELS[name])
    rows = table_rows(SECTIONS.get(name, []))
    problems = [f"field {key!r} has no row (add `| `{key}` | type | default | example | meaning |`)"
                for key in expected if key not in rows]
    problems += [f"row {key!r} names no field of {name} (remove it)" for key in rows if key not in expected]
    assert not problems, f"docs/packs.md, section {name}: " + "; ".join(problems)
    for key, required in expected.items():
        row = rows[key]
        assert len(row) == 5 and row[3].startswith(f"`{key}:"), (
            f"docs/packs.md, section {name}, row {key!r}: give it 5 columns, its example written `{key}: ...`")
        assert row[2].startswith("required") == required, (
            f"docs/packs.md, section {name}: field {key!r} is {'required' if required else 'optional'}; its "
            f"default column must {'' if required else 'not '}start with 'required'")


@pytest.mark.parametrize(("line", "section", "text"), BLOCKS, ids=[f"line {line}" for line, _, _ in BLOCKS])
def test_every_yaml_example_is_valid(line, section, text):
    data = yaml.safe_load(text)
    if isinstance(data, dict) and {"name", "sagas", "scenarios"} <= set(data):
        load_pack_text(text, f"docs/packs.md (the pack at line {line})")  # a whole pack: loaded as a pack file
    else:
        assert section in MODELS, f"docs/packs.md:{line}: a YAML example outside a model's section, not a pack"
        MODELS[section].model_validate(data)
