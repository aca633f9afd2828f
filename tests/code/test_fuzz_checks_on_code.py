"""Fuzz's own checks of a stream are right about what the engine may do, on the shop example's real calls:
a kind under `by_error` keeps its own budget of tries (seed 21: four transient tries of a charge, a 429,
then one more), and a half-open breaker's probe slot comes back after a try of a kind it ignores (seed 8:
a 429 probe, then the real one). Both were once reported as violations."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagatui.code.loading import load_app
from sagatui.lab.fuzz import fuzz_one
from sagatui.store.database import Store

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "shop" / "app.py") + ":app"


@pytest.mark.parametrize("seed", [8, 21])
async def test_no_violation_where_the_engine_kept_its_policy(tmp_path: Path, seed: int) -> None:
    app = load_app(EXAMPLE)
    async with await Store.open(tmp_path / "fuzz.db") as store:
        outcome = await fuzz_one(app.pack, app.pack_text, store, "busy_day", seed, app)
    assert outcome.violations == []
