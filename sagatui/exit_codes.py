"""Exit codes of the `sagatui` command: part of its API, documented in README.md."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    EXPECTATION_FAILED = 1  # an expectation or invariant did not hold; replay diverged
    BAD_INPUT = 2  # a broken pack, unknown scenario, bad arguments
    STORAGE = 3  # the database is locked, read-only, not ours, or too new
    HUNG_UP = 129  # SIGHUP (the terminal closed): as INTERRUPTED
    INTERRUPTED = 130  # Ctrl-C; the database is left consistent
    TERMINATED = 143  # SIGTERM (a container or service manager): as INTERRUPTED
