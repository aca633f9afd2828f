"""Scenario inputs beyond fixed values: a fixed input started later (`{at: 2s, input: ...}`), and values
drawn per saga (`{draw: {between: ...}}`, `integer_between`, `one_of`) from the seed; `{n}` and
`{saga_id}` are filled as before. A broken draw, or one whose range the input schema refuses, is a
load-time error naming file, line and field."""

import json
import sqlite3
from pathlib import Path

PACK = """\
name: drawn
services:
  payment: {kind: payment}
sagas:
  pay:
    input:
      amount: {type: number, minimum: 1, maximum: 1000}
      card: {type: text}
      quantity: {type: integer, required: false}
    steps:
      - {name: charge, action: payment.charge, compensation: payment.refund}
scenarios:
  staggered:
    description: three charges, two seconds apart
    saga: pay
    inputs:
      - {amount: 1, card: '4242-4242-4242-4242'}
      - {at: 2s, input: {amount: 2, card: '4242-4242-4242-4242'}}
      - {at: 4s, input: {amount: 3, card: '4242-4242-4242-4242', reference: 'order-{n}-{saga_id}'}}
    expect: {statuses: [completed, completed, completed]}
  drawn:
    description: charges of drawn amounts on drawn cards
    saga: pay
    workload:
      count: 20
      variations:
        - input:
            amount: {draw: {between: [5, 500]}}
            quantity: {draw: {integer_between: [1, 3]}}
            card: {draw: {one_of: ['4242-4242-4242-4242', '5555-5555-5555-4444']}}
    expect: {counts: {completed: 20}}
"""


def inputs_of(db: Path) -> list[dict]:
    with sqlite3.connect(db) as connection:
        return [json.loads(row[0]) for row in connection.execute("SELECT input FROM sagas ORDER BY saga_id")]


def starts_of(db: Path) -> list[float]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT started_at FROM sagas ORDER BY saga_id")]


def test_a_timed_input_starts_at_its_time_and_the_run_waits_for_it(sagatui, tmp_path):
    (tmp_path / "drawn.yaml").write_text(PACK)
    result = sagatui("run", "drawn.yaml", "--scenario", "staggered", "--db", "a.db")
    assert result.code == 0, result
    assert starts_of(tmp_path / "a.db") == [0.0, 2.0, 4.0]
    assert inputs_of(tmp_path / "a.db")[2]["reference"] == "order-3-S-0003"


def test_drawn_values_come_from_the_seed_within_their_ranges(sagatui, tmp_path):
    (tmp_path / "drawn.yaml").write_text(PACK)
    for db, seed in (("one.db", "1"), ("again.db", "1"), ("other.db", "2")):
        assert sagatui("run", "drawn.yaml", "--scenario", "drawn", "--seed", seed, "--db", db).code == 0
    one, again, other = (inputs_of(tmp_path / db) for db in ("one.db", "again.db", "other.db"))
    assert one == again and one != other
    assert all(5 <= saga["amount"] <= 500 and round(saga["amount"], 2) == saga["amount"] for saga in one)
    assert {saga["quantity"] for saga in one} == {1, 2, 3}
    assert {saga["card"] for saga in one} == {"4242-4242-4242-4242", "5555-5555-5555-4444"}


def test_a_broken_draw_or_one_the_schema_refuses_is_named_by_line_and_field(sagatui, tmp_path):
    for written, field, words in [
        ("amount: {draw: {between: [5, 5000]}}", "variations[0].input.amount", "at most 1000, not 5000"),
        ("amount: {draw: {betwen: [5, 50]}}", "variations[0].input.amount.draw.betwen", "did you mean 'between'"),
        ("amount: {draw: {between: [50, 5]}}", "variations[0].input.amount.draw", "the lower first"),
        ("amount: {draw: {between: [5, 50], one_of: [1]}}", "variations[0].input.amount.draw", "exactly one of"),
    ]:
        (tmp_path / "drawn.yaml").write_text(PACK.replace("amount: {draw: {between: [5, 500]}}", written))
        result = sagatui("check", "drawn.yaml")
        assert result.code == 2, result
        assert f"drawn.yaml:28: scenarios.drawn.workload.{field}" in result.err, result.err
        assert words in result.err, result.err
        assert "Traceback" not in result.err
