import pytest

from sagatui.model.errors import ErrorKind, ServiceError
from tests.sim.conftest import Lab


@pytest.fixture
async def email(lab: Lab) -> Lab:
    lab.add("email", "notification")
    return lab


async def test_send_records_a_message(email: Lab) -> None:
    assert await email.invoke("email", "send", step="confirm", customer="ada@example.com") == {
        "message_id": "MSG-000001"}
    [row] = await email.rows("messages")
    assert (row["recipient"], row["template"], row["kind"]) == ("ada@example.com", "confirm", "message")


async def test_the_undo_of_a_send_is_one_correction(email: Lab) -> None:
    await email.invoke("email", "send", step="confirm")
    result = await email.invoke("email", "send_correction", step="confirm", undo=True)
    assert result == {"outcome": "completed", "message_id": "MSG-000002", "corrects": "MSG-000001"}
    again = await email.invoke("email", "send_correction", step="confirm", undo=True, key="other")
    assert again == result
    assert [(row["kind"], row["corrects"]) for row in await email.rows("messages")] == [
        ("message", None), ("correction", "MSG-000001")]


async def test_nothing_sent_means_nothing_to_correct(email: Lab) -> None:
    assert await email.invoke("email", "send_correction", step="confirm", undo=True) == {
        "outcome": "completed", "message_id": None, "corrects": None}
    assert await email.rows("messages") == []


async def test_send_correction_as_an_action_sends_a_standalone_correction(email: Lab) -> None:
    assert await email.invoke("email", "send_correction", step="apologise") == {
        "message_id": "MSG-000001", "corrects": None}


async def test_failure_rate_fails_transiently(lab: Lab) -> None:
    lab.add("email", "notification", failure_rate=1.0)
    with pytest.raises(ServiceError) as raised:
        await lab.invoke("email", "send")
    assert raised.value.kind is ErrorKind.TRANSIENT
    assert raised.value.message == "email service temporarily unavailable"
