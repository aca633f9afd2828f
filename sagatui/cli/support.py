"""What the `sagatui` command needs around its commands: argument types that refuse what the rest of
the program could not take (a seed SQLite cannot store, a negative limit, a speed of nan), a standard
output whose failures are told apart from every other error, and the one line an unexpected error
becomes (the traceback only with SAGATUI_DEBUG=1: `run --verbose` already means "every event")."""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from sagatui.exit_codes import ExitCode
from sagatui.store.schema import MAX_INTEGER

MAX_SEED = MAX_INTEGER  # seeds and run ids are SQLite INTEGERs
DEBUG_VARIABLE = "SAGATUI_DEBUG"


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line, as every other error of the command is."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.BAD_INPUT, f"sagatui: error: {message} (see {self.prog} --help)\n")


# -- argument types ---------------------------------------------------------------------------------------
def _whole(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} is a whole number, not {text!r}") from None


def seed(text: str) -> int:
    value = _whole(text, "a seed")
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed is from 0 to {MAX_SEED}, not {value}")
    return value


def fork_point(text: str) -> ForkPoint:
    """`812` (once that event is recorded) or a clock time (`2.5s`). Imports the lab: only `fork` parses it."""
    from sagatui.lab.fork import ForkPoint
    from sagatui.model.durations import parse_duration

    if text.strip().isdigit():
        return ForkPoint(seq=_whole(text, "an event seq"))
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither an event seq (812) nor a clock time (2.5s)") from None
    assert isinstance(seconds, float)
    return ForkPoint(time=seconds)


def run_id(text: str) -> int:
    value = _whole(text, "a run id")
    if not 1 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"run {value} is not a run id (run ids are from 1 to {MAX_SEED})")
    return value


def count(text: str) -> int:
    """A number of things: 0 or more."""
    value = _whole(text, "a count")
    if value < 0:
        raise argparse.ArgumentTypeError(f"a count is 0 or more, not {value}")
    return value


def positive(text: str) -> int:
    value = _whole(text, "a count")
    if value < 1:
        raise argparse.ArgumentTypeError(f"a count is 1 or more, not {value}")
    return value


def speed(text: str) -> float | None:
    if text == "virtual":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a speed is a number (1 = real time) or 'virtual'") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"a speed is a finite number above 0 (or 'virtual'), not {text}")
    return value


# -- standard output ----------------------------------------------------------------------------------------
class OutputError(Exception):
    """Standard output could not be written: its reader went away, or its disk is full."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error

    @property
    def reader_gone(self) -> bool:
        return isinstance(self.error, BrokenPipeError) or self.error.errno == errno.EPIPE


class GuardedOutput:
    """A text stream that raises OutputError when writing to the stream it wraps fails."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError as error:
            raise OutputError(error) from error

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as error:
            raise OutputError(error) from error

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def guarded_stdout() -> Iterator[GuardedOutput]:
    """Point sys.stdout at a GuardedOutput for the duration (what print() and rich use)."""
    original = sys.stdout
    sys.stdout = guarded = GuardedOutput(original)
    try:
        yield guarded
    finally:
        sys.stdout = original


def output_failed(error: OutputError, stdout: GuardedOutput) -> int:
    """End quietly when the reader went away (a shell reports 141, as for SIGPIPE), else say why in one
    line; either way stdout points at devnull after, so the interpreter's last flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stdout.stream.fileno())
    except (OSError, ValueError):
        pass  # not a real file descriptor (a test's captured output): nothing left to flush
    finally:
        os.close(devnull)
    if error.reader_gone:
        return 128 + 13  # 128 + SIGPIPE
    print(f"sagatui: error: cannot write to standard output: {error}", file=sys.stderr)
    return ExitCode.EXPECTATION_FAILED


def unexpected(error: Exception) -> int:
    if os.environ.get(DEBUG_VARIABLE) == "1":
        traceback.print_exception(error, file=sys.stderr)
    else:
        print(f"sagatui: error: {type(error).__name__}: {error} (set {DEBUG_VARIABLE}=1 for the traceback)",
              file=sys.stderr)
    return ExitCode.EXPECTATION_FAILED


if TYPE_CHECKING:
    from sagatui.lab.fork import ForkPoint
    from sagatui.store.database import Store

DEFAULT_DB = "sagatui.db"


class UsageError(Exception):
    """Bad arguments found after parsing (a scenario that is not in the pack, say)."""


async def chosen_run(store: Store, run_id: int | None) -> int:
    """`--run`, which must be a run of the database, or its latest run."""
    from sagatui.lab.recovery.reopen import NoSuchRun, find_run
    from sagatui.store.queries import latest_run_id

    if run_id is None:
        latest = await latest_run_id(store)
        if latest is None:
            raise UsageError(f"{store.path} has no runs")
        return latest
    try:
        return (await find_run(store, run_id)).id
    except NoSuchRun as error:
        raise UsageError(str(error)) from None
