"""Run the sagatui CLI with every run it reopens (resume, attention retry) paced to real time, so that a
test can stop it by a signal while its sagas are still going (a test helper, started as a subprocess):

    python -m tests.recovery.paced sagatui-arguments...
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import Any

from sagatui.cli import main
from sagatui.lab import attention
from sagatui.lab.recovery import resume

Reopen = Callable[..., Awaitable[Any]]


def paced(reopen: Reopen) -> Reopen:
    async def reopening(*arguments: Any, **options: Any) -> Any:
        return await reopen(*arguments, **{**options, "speed": 1.0})

    return reopening


if __name__ == "__main__":
    resume.reopen_run = paced(resume.reopen_run)  # type: ignore[assignment]
    attention.reopen_run = paced(attention.reopen_run)  # type: ignore[assignment]
    sys.exit(main(sys.argv[1:]))
