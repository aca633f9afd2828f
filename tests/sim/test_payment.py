import pytest

from sagatui.model.errors import ErrorKind, ServiceError
from sagatui.sim.directory import ServiceDirectory
from tests.sim.conftest import SEED, Lab


@pytest.fixture
async def payment(lab: Lab) -> Lab:
    lab.add("payment", "payment", decline_over=5000)
    return lab


async def test_charge_writes_a_charged_payment(payment: Lab) -> None:
    result = await payment.invoke("payment", "charge", amount=999.0, card="4242")
    assert result == {"payment_id": "PAY-000001", "amount": 999.0}
    [row] = await payment.rows("payments")
    assert (row["payment_id"], row["saga_id"], row["amount"], row["card"], row["status"]) == (
        "PAY-000001", "s1", 999.0, "4242", "charged")


@pytest.mark.parametrize(("card", "amount"), [("4000-0000-0000-0002", 10.0), ("4242", 5000.01)])
async def test_declined_cards_fail_permanently_and_charge_nothing(payment: Lab, card: str, amount: float) -> None:
    with pytest.raises(ServiceError) as raised:
        await payment.invoke("payment", "charge", amount=amount, card=card)
    assert raised.value.kind is ErrorKind.PERMANENT and raised.value.message.startswith("card declined")
    assert await payment.rows("payments") == []


async def test_a_flaky_card_fails_transiently_once_then_charges(payment: Lab) -> None:
    with pytest.raises(ServiceError) as raised:
        await payment.invoke("payment", "charge", amount=10.0, card="4000-0000-0000-0119")
    assert raised.value.kind is ErrorKind.TRANSIENT and raised.value.message == "payment processing error"
    assert await payment.invoke("payment", "charge", amount=10.0, card="4000-0000-0000-0119", attempt=2) == {
        "payment_id": "PAY-000001", "amount": 10.0}


async def test_processing_error_rate_is_seeded(lab: Lab) -> None:
    async def outcomes(directory: ServiceDirectory) -> list[bool]:
        directory.add("payment", "payment", {"processing_error_rate": 0.5})
        seen = []
        for number in range(40):
            try:
                await directory.invoke(lab.call("payment", "charge", saga=f"s{number}", amount=1.0))
                seen.append(True)
            except ServiceError as error:
                assert error.kind is ErrorKind.TRANSIENT
                seen.append(False)
        return seen

    first = await outcomes(lab.directory)
    assert 8 < first.count(False) < 32
    assert await outcomes(ServiceDirectory(lab.clock, lab.recorder, SEED)) == first
    assert await outcomes(ServiceDirectory(lab.clock, lab.recorder, SEED + 1)) != first


@pytest.mark.parametrize("amount", [None, 0, -5, "ten", True])
async def test_a_bad_amount_is_a_validation_error(payment: Lab, amount: object) -> None:
    with pytest.raises(ServiceError) as raised:
        await payment.invoke("payment", "charge", amount=amount)
    assert raised.value.kind is ErrorKind.VALIDATION


async def test_refund_refunds_the_charge_of_that_step_once(payment: Lab) -> None:
    await payment.invoke("payment", "charge", step="pay", amount=120.0)
    first = await payment.invoke("payment", "refund", step="pay", undo=True)
    assert first == {"outcome": "completed", "refund_id": "REF-000001", "amount": 120.0}
    second = await payment.invoke("payment", "refund", step="pay", undo=True, key="another-key")
    assert second == first
    assert [row["status"] for row in await payment.rows("payments")] == ["refunded"]
    assert [(row["payment_id"], row["amount"]) for row in await payment.rows("refunds")] == [("PAY-000001", 120.0)]


async def test_refund_of_a_charge_that_never_happened_completes_with_nothing_refunded(payment: Lab) -> None:
    result = await payment.invoke("payment", "refund", step="pay", undo=True)
    assert result == {"outcome": "completed", "refund_id": None, "amount": 0}
    assert await payment.rows("refunds") == []
