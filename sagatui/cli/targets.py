"""What a command's PACK argument names: a pack (a file, or a bundled pack's name) or the user's own code
(`shop.app:app`, `shop/app.py`: sagatui.code), loaded the same way for every command that runs one."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sagatui.cli.support import UsageError

if TYPE_CHECKING:
    from sagatui.code.app import App
    from sagatui.packs.model import Pack


@dataclass(frozen=True)
class Target:
    """A loaded pack with the text a run records, where it came from (as messages name it), and the user's
    code behind it (None for a pack: data only)."""

    pack: Pack
    text: str
    where: str
    code: App | None = None


def is_code_target(argument: str) -> bool:
    """Whether PACK names the user's code rather than a pack: a `.py` file, or `module:attribute`."""
    return argument.partition(":")[0].endswith(".py") or (":" in argument and not Path(argument).is_file())


def read_target(argument: str, *, verbose: bool | None = None) -> Target:
    """Load PACK as the user wrote it. The user's module failing to import is a UsageError (one line; its
    traceback on stderr first with `verbose`, which None means the command has no such option); a pack, or an
    App whose pack is wrong, a PackError."""
    if not is_code_target(argument):
        from sagatui.packs.bundled import read_pack

        source = read_pack(argument)
        return Target(source.pack, source.text, str(source.path))
    from sagatui.code.loading import CodeError, load_app

    try:
        app = load_app(argument)
    except CodeError as error:
        if verbose and error.detail:
            print(error.detail, file=sys.stderr)
        hint = " (--verbose shows its traceback)" if error.detail and verbose is False else ""
        raise UsageError(f"{error}{hint}") from None
    return Target(app.pack, app.pack_text, argument, app)


def code_option(options: argparse.Namespace) -> App | None:
    """The user's code a command's `--code` names (None when not given)."""
    if not options.code:
        return None
    code = read_target(options.code, verbose=getattr(options, "verbose", None)).code
    if code is None:
        raise UsageError(f"--code {options.code}: name the user's own code (MODULE:APP, or a .py file), not a pack")
    return code
