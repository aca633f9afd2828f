"""sagatui.testing.prove_saga: a user's test proves a saga's rollback, and fails with the matrix."""

from pathlib import Path

import pytest

from sagatui.testing import prove_saga

BROKEN = Path(__file__).resolve().parent / "proofs" / "refund_does_nothing.yaml"


def test_a_saga_that_rolls_back_right_proves_clean():
    (proof,) = prove_saga("payments", jobs=2)
    assert proof.cases and not proof.failed


def test_a_refund_that_does_nothing_fails_the_test_with_the_matrix_and_a_reproduce_command():
    with pytest.raises(AssertionError) as failed:
        prove_saga(BROKEN, "order", jobs=2)
    message = str(failed.value)
    assert message.startswith("saga order on {")
    assert "11 of 28 case(s) failed" in message
    lines = message.splitlines()
    assert any(line.split()[:5] == ["create_shipment", "✗", "world", "✗", "world"] for line in lines)
    assert "create_shipment:fails: world (compensated)" in lines
    assert f"  reproduce: sagatui prove {BROKEN} --saga order --case create_shipment:fails --db prove.db" in lines


def test_an_unknown_saga_is_named():
    with pytest.raises(ValueError, match="has no saga 'nope'"):
        prove_saga("ecommerce", "nope")
