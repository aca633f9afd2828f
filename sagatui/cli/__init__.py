"""The `sagatui` command. Output formats and exit codes are an API (see README.md):

0 ok / every expectation held, 1 an expectation or invariant failed, 2 bad input (pack, arguments),
3 storage error, 130 interrupted (the database is left consistent; 143 by SIGTERM, 129 by SIGHUP).

parser.py reads the command line; runs.py, pack_commands.py and recordings.py carry the commands out;
rendering.py prints; support.py holds what every command shares (a guarded stdout, argument types, the
last line of defence). Only what a command needs is imported, when it runs: `sagatui --help` imports
argparse and no more (tests/cli/test_start_up.py keeps it so).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sagatui.cli import support
from sagatui.cli.parser import SUBCOMMANDS, dashboard_parser, subcommand_parser
from sagatui.cli.support import OutputError
from sagatui.exit_codes import ExitCode


def main(argv: Sequence[str] | None = None) -> int:
    with support.guarded_stdout() as guarded:
        try:
            code = _main(list(sys.argv[1:] if argv is None else argv))
            guarded.flush()  # inside the guard: what print() left in the buffer may still fail to go out
            return code
        except OutputError as error:
            return support.output_failed(error, guarded)


def _main(args: list[str]) -> int:
    try:
        parser = subcommand_parser() if args and args[0] in SUBCOMMANDS else dashboard_parser()
        options = parser.parse_args(args)
        from rich.console import Console  # after parsing: --help and --version print without rich

        return int(options.handler(options, Console(highlight=False, soft_wrap=True)))
    except KeyboardInterrupt:
        _error("sagatui: interrupted; the database is consistent")
        return ExitCode.INTERRUPTED
    except OutputError:
        raise
    except Exception as error:
        return _failed(error)


def _failed(error: Exception) -> int:
    """The exit code of a command that raised `error`, after its one line on stderr. The error types are
    imported here, not at the top: a command that raised one has imported its module already."""
    from sagatui.packs.errors import PackError
    from sagatui.store.errors import StorageError

    match error:
        case PackError():
            for problem in error.problems:
                _error(f"sagatui: error: {problem}")
            return ExitCode.BAD_INPUT
        case support.UsageError():
            _error(f"sagatui: error: {error}")
            return ExitCode.BAD_INPUT
        case StorageError():
            _error(f"sagatui: storage error: {error}")
            return ExitCode.STORAGE
    from sagatui.code.errors import LifespanFailed
    from sagatui.stop_signals import Stopped  # last: it imports asyncio, which a broken pack's check need not

    if isinstance(error, LifespanFailed):  # the user's code could not start: their input, told in a line
        _error(f"sagatui: error: {error}")
        return ExitCode.BAD_INPUT

    if isinstance(error, Stopped):  # a stop signal, in a command that writes (run_stoppable)
        _error(str(error))
        return error.exit_code
    return support.unexpected(error)  # the last line of defence: one line, never a traceback


def _error(line: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(line, markup=False)
