"""Load a scenario pack from YAML: parse safely, validate with pydantic, check cross-references,
and report every problem with its file, line and field (as a PackError), never a traceback."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sagatui.packs.errors import FieldPath, PackError, PackProblem, format_field
from sagatui.packs.located_yaml import read_yaml
from sagatui.packs.model import Pack
from sagatui.packs.references import check_references
from sagatui.packs.validation_messages import Finding, explain
from sagatui.sim.catalog import ServiceKind


def load_pack(path: str | os.PathLike[str]) -> Pack:
    """Load the pack file at `path`; problems are reported against `path` as given."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise PackError([PackProblem(file, None, "", f"cannot read the pack: {error.strerror or error}")]) from None
    except UnicodeDecodeError as error:
        line = error.object.count(b"\n", 0, error.start) + 1
        raise PackError([PackProblem(file, line, "", f"cannot read the pack: not UTF-8 text, {error.reason} "
                                                     f"(byte {error.object[error.start]:#04x})")]) from None
    return load_pack_text(text, file)


def load_pack_text(text: str, source_name: str, code: Mapping[str, ServiceKind] | None = None) -> Pack:
    """Load a pack from YAML text; `source_name` names it in problems (usually its file path). `code`: the
    user's Python services (by name) that its `kind: code` services are (sagatui.code)."""
    document = read_yaml(text, source_name)
    data = document.data
    findings = _name_sagas(data)
    pack: Pack | None = None
    try:
        pack = Pack.model_validate(data)
    except ValidationError as error:
        findings += [(_at_duplicate_step(path, data), message) for path, message in explain(error, data, Pack)]
    findings += check_references(data, code or {})
    problems = document.problems + [
        PackProblem(source_name, document.line_of(path), format_field(path), message)
        for path, message in findings if path not in document.refused
    ]
    if problems or pack is None:
        raise PackError(problems)
    return pack


def _name_sagas(data: Any) -> list[Finding]:
    """A saga is named by its key under `sagas:`; a `name:` written as well must agree with it."""
    sagas = data.get("sagas") if isinstance(data, dict) else None
    if not isinstance(sagas, dict):
        return []
    findings: list[Finding] = []
    for key, saga in sagas.items():
        if not isinstance(saga, dict):
            continue
        name = saga.setdefault("name", key)
        if name != key:
            findings.append((("sagas", key, "name"),
                             f"the saga is named {name!r} but written under the key {key!r}: "
                             f"the key names it, so leave `name` out"))
    return findings


def _at_duplicate_step(path: FieldPath, data: Any) -> FieldPath:
    """A saga-level error is the duplicate-step-name check; point it at the second use of the name."""
    if len(path) != 2 or path[0] != "sagas":
        return path
    sagas = data.get("sagas") if isinstance(data, dict) else None
    saga = sagas.get(path[1]) if isinstance(sagas, dict) else None
    steps = saga.get("steps") if isinstance(saga, dict) else None
    seen: set[Any] = set()
    for step_path, step in _raw_steps(path, steps):
        name = step.get("name")
        if name in seen:
            return (*step_path, "name")
        if isinstance(name, str):
            seen.add(name)
    return path


def _raw_steps(saga_path: FieldPath, steps: Any) -> list[tuple[FieldPath, dict[str, Any]]]:
    """Every step mapping of a saga as written, group members after their group, in file order."""
    found: list[tuple[FieldPath, dict[str, Any]]] = []
    for index, element in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(element, dict):
            continue
        found.append(((*saga_path, "steps", index), element))
        members = element.get("parallel")
        for member_index, member in enumerate(members if isinstance(members, list) else []):
            if isinstance(member, dict):
                found.append(((*saga_path, "steps", index, "parallel", member_index), member))
    return found
