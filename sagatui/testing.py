"""Helpers for a user's own test suite: assert that a recorded session still behaves the same.

    from sagatui.testing import replay_session

    def test_checkout_rollback_unchanged():
        replay_session("tests/sessions/checkout.json")
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sagatui.replay import ReplayResult, recording_from_session, replay


def replay_session(path: str | Path) -> ReplayResult:
    """Re-execute a session file and compare; raises AssertionError showing the first divergence.
    For async tests, await `areplay_session` instead."""
    return asyncio.run(areplay_session(path))


async def areplay_session(path: str | Path) -> ReplayResult:
    result = await replay(recording_from_session(Path(path)))
    if not result.identical:
        assert result.divergence is not None
        raise AssertionError(f"{path} no longer replays identically\n{result.divergence.describe()}")
    return result
