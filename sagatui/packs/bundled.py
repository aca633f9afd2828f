"""The packs that ship with sagatui (the top-level `scenarios/` folder, installed as the package
`sagatui.scenarios`), and how a user's PACK argument becomes a pack file: a path, or the name of a
bundled pack such as `ecommerce`. Callers get paths because a run records the pack's text too."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from sagatui.packs.errors import PackError, PackProblem
from sagatui.packs.loader import load_pack
from sagatui.packs.model import Pack

_SUFFIX = ".yaml"


def _scenarios_folder() -> Traversable:
    try:
        return files("sagatui.scenarios")
    except ModuleNotFoundError:  # a source checkout that was never installed
        return Path(__file__).resolve().parents[2] / "scenarios"


def bundled_packs() -> list[Path]:
    """The bundled pack files, sorted by name. sagatui installs as plain files (never zipped), so
    each resource is a real path."""
    entries = [Path(str(entry)) for entry in _scenarios_folder().iterdir() if entry.name.endswith(_SUFFIX)]
    return sorted(entries, key=lambda path: path.name)


def bundled_pack_names() -> list[str]:
    """`ecommerce`, `onboarding`, ...: what `sagatui packs` lists and PACK may name."""
    return [path.stem for path in bundled_packs()]


def bundled_pack_path(name: str) -> Path:
    """The file of a bundled pack, by name (`travel` or `travel.yaml`)."""
    for path in bundled_packs():
        if path.stem == name.removesuffix(_SUFFIX):
            return path
    raise PackError([PackProblem(name, None, "", _not_found())])


@dataclass(frozen=True)
class PackSource:
    """A loaded pack with the exact text it came from: a run records the text, replay rebuilds from it."""

    pack: Pack
    text: str
    path: Path


def read_pack(argument: str) -> PackSource:
    """Load PACK as the user wrote it (a file, or a bundled pack's name), keeping its text."""
    path = resolve_pack(argument)
    return PackSource(load_pack(path), path.read_text(encoding="utf-8"), path)


def resolve_pack(argument: str) -> Path:
    """The pack file PACK means: an existing file wins, else the bundled pack of that name."""
    if Path(argument).is_file():
        return Path(argument)
    return bundled_pack_path(argument)


def _not_found() -> str:
    return f"no such pack file, and no bundled pack of that name (bundled: {', '.join(bundled_pack_names())})"
