"""Finding the App a user points sagatui at: `shop.app:app` (a module, imported as `python -m` would, from
the current folder first), `shop/app.py` or `shop/app.py:app` (a file). The attribute defaults to `app`.
An import that fails is a CodeError: one line to show, the module's own traceback kept for `--verbose`."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path

from sagatui.code.app import App

DEFAULT_ATTRIBUTE = "app"


class CodeError(Exception):
    """The user's module could not give an App: `str()` says why in a line, `detail` has the traceback."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


def load_app(target: str) -> App:
    """The App `target` names, imported now (the user's code runs: their choice)."""
    where, _, attribute = target.partition(":")
    attribute = attribute or DEFAULT_ATTRIBUTE
    module = _import_file(where) if where.endswith(".py") else _import_module(where)
    app = getattr(module, attribute, None)
    if app is None:
        found = [name for name, value in vars(module).items() if isinstance(value, App)]
        hint = f" (it has: {', '.join(found)})" if found else " (it defines no sagatui App)"
        raise CodeError(f"{where} has no attribute {attribute!r}{hint}")
    if not isinstance(app, App):
        raise CodeError(f"{target} is a {type(app).__name__}, not a sagatui App (sagatui.App(...))")
    app.target = target
    return app


def _import_module(name: str) -> object:
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise CodeError(f"{name!r} is not a module name (write package.module:app, or a path to a .py file)")
    folder = os.getcwd()
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    except BaseException as raised:
        raise _failed(name, raised) from None


def _import_file(file: str) -> object:
    path = Path(file).resolve()
    if not path.is_file():
        raise CodeError(f"{file}: no such file")
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # as `python path/app.py` would: its neighbours import
    name = _module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as raised:
        sys.modules.pop(name, None)
        raise _failed(file, raised) from None
    return module


def _module_name(path: Path) -> str:
    """The file's stem, as `python app.py` names it for its neighbours; another name when a module of that
    name from another file is loaded already (two apps in one process, each its own `app.py`)."""
    loaded = sys.modules.get(path.stem)
    where = getattr(loaded, "__file__", None)
    if loaded is None or (where is not None and Path(where).resolve() == path):
        return path.stem
    return f"{path.stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"


def _users(filename: str) -> bool:
    """A frame of the user's code: not Python's own (frozen, the standard library, site-packages), nor sagatui's."""
    if filename.startswith("<"):
        return False
    path = Path(filename).resolve()
    libraries = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(__file__).resolve().parents[1]}
    return not any(path.is_relative_to(library) for library in libraries) and "site-packages" not in path.parts


def _failed(where: str, raised: BaseException) -> CodeError:
    if isinstance(raised, KeyboardInterrupt):
        raise raised
    detail = "".join(traceback.format_exception(raised)).rstrip()
    frames = traceback.extract_tb(raised.__traceback__) if raised.__traceback__ else []
    own = [frame for frame in frames if _users(frame.filename)]  # the user's line, not the library's inside it
    last = own[-1:] or frames[-1:]
    at = f" ({last[0].filename}:{last[0].lineno})" if last else ""
    return CodeError(f"cannot import {where}: {type(raised).__name__}: {raised}{at}", detail)
