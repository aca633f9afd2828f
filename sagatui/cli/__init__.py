"""The `sagatui` command. Output formats and exit codes are an API (see README.md):

0 ok / every expectation held, 1 an expectation or invariant failed, 2 bad input (pack, arguments),
3 storage error, 130 interrupted (the database is left consistent; 143 by SIGTERM, 129 by SIGHUP).

parser.py reads the command line; runs.py and recordings.py carry the commands out; rendering.py
prints; support.py holds what every command shares (a guarded stdout, argument types, the last line of
defence).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console

from sagatui.cli import support
from sagatui.cli.parser import SUBCOMMANDS, dashboard_parser, subcommand_parser
from sagatui.cli.runs import handle_dashboard
from sagatui.cli.support import OutputError, UsageError
from sagatui.exit_codes import ExitCode
from sagatui.packs.errors import PackError
from sagatui.stop_signals import Stopped
from sagatui.store.errors import StorageError


def main(argv: Sequence[str] | None = None) -> int:
    with support.guarded_stdout() as guarded:
        try:
            code = _main(list(sys.argv[1:] if argv is None else argv))
            guarded.flush()  # inside the guard: what print() left in the buffer may still fail to go out
            return code
        except OutputError as error:
            return support.output_failed(error, guarded)


def _main(args: list[str]) -> int:
    stdout = Console(highlight=False, soft_wrap=True)
    stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        if args and args[0] in SUBCOMMANDS:
            options = subcommand_parser().parse_args(args)
        else:
            options = dashboard_parser().parse_args(args)
            options.handler = handle_dashboard
        return int(options.handler(options, stdout))
    except PackError as error:
        for problem in error.problems:
            stderr.print(f"sagatui: error: {problem}", markup=False)
        return ExitCode.BAD_INPUT
    except UsageError as error:
        stderr.print(f"sagatui: error: {error}", markup=False)
        return ExitCode.BAD_INPUT
    except StorageError as error:
        stderr.print(f"sagatui: storage error: {error}", markup=False)
        return ExitCode.STORAGE
    except KeyboardInterrupt:
        stderr.print("sagatui: interrupted; the database is consistent", markup=False)
        return ExitCode.INTERRUPTED
    except Stopped as stopped:  # a stop signal, in a command that writes (run_stoppable)
        stderr.print(str(stopped), markup=False)
        return stopped.exit_code
    except OutputError:
        raise
    except Exception as error:  # the last line of defence: one line, never a traceback
        return support.unexpected(error)
