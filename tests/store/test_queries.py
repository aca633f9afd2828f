"""The dashboard's and CLI's read queries."""

import asyncio

import pytest

from sagatui.model.errors import ErrorKind
from sagatui.model.events import EventKind
from sagatui.store.queries import (
    get_run,
    latest_run_id,
    read_events,
    resource_rows,
    run_pack_text,
    saga_counts,
    sagas,
)
from tests.store.conftest import Run


async def twenty_sagas(run: Run) -> None:
    """Saga i lasts i+1 clock seconds; every fifth is compensated, the last two are still running."""
    emit = run.recorder.emit

    async def saga(number: int) -> None:
        saga_id = f"s{number:02d}"
        emit(EventKind.SAGA_STARTED, saga_id=saga_id, data={"saga": "order", "input": {}})
        emit(EventKind.STEP_STARTED, saga_id=saga_id, step="pay", service="payment", operation="charge")
        for attempt in (1, 2) if number % 2 else (1,):
            emit(EventKind.ATTEMPT_STARTED, saga_id=saga_id, step="pay", service="payment", attempt=attempt)
            if attempt == 1 and number % 2:
                emit(EventKind.RETRY_SCHEDULED, saga_id=saga_id, step="pay", attempt=2)
        if number >= 18:
            return
        await run.clock.sleep(number + 1)
        if number % 5 == 0:
            emit(EventKind.COMPENSATION_STARTED, saga_id=saga_id, step="pay")
            outcome = "completed" if number else "failed"
            emit(EventKind.COMPENSATION_ENDED, saga_id=saga_id, step="pay", attempt=1, data={"outcome": outcome})
            emit(EventKind.SAGA_COMPENSATED, saga_id=saga_id, error_kind=ErrorKind.PERMANENT, message="declined")
        else:
            emit(EventKind.SAGA_COMPLETED, saga_id=saga_id)

    await asyncio.gather(*(saga(number) for number in range(20)))
    emit(EventKind.BREAKER_TRANSITION, service="payment", data={"from": "closed", "to": "open"})
    emit(EventKind.BREAKER_TRANSITION, service="payment", data={"from": "open", "to": "half_open"})
    await run.writer.flush()


async def test_runs_by_id_and_the_latest(run: Run) -> None:
    second = await run.store.create_run(pack_name="b", pack_text="x", seed=2, clock_mode="paced",
                                        settings={"speed": 1})
    assert second == run.id + 1
    info = await get_run(run.store, second)
    assert info is not None and (info.pack_name, info.seed, info.settings, info.status) == ("b", 2, {"speed": 1},
                                                                                           "running")
    assert await get_run(run.store, 999) is None
    assert await latest_run_id(run.store) == second
    assert (await run_pack_text(run.store, second), await run_pack_text(run.store, 999)) == ("x", None)


async def test_sagas_by_status_one_page_at_a_time(run: Run) -> None:
    await twenty_sagas(run)
    assert await saga_counts(run.store, run.id) == {"completed": 14, "compensated": 4, "running": 2}
    compensated = await sagas(run.store, run.id, statuses=["compensated"])
    assert [saga.saga_id for saga in compensated] == ["s00", "s05", "s10", "s15"]
    assert compensated[1].message == "declined"
    first = await sagas(run.store, run.id, limit=8)
    rest = await sagas(run.store, run.id, offset=8, limit=100)
    assert len(first) == 8 and len(rest) == 12
    assert {saga.saga_id for saga in first + rest} == {f"s{number:02d}" for number in range(20)}


async def test_events_by_saga_and_kind_with_paging(run: Run) -> None:
    await twenty_sagas(run)
    of_saga = await read_events(run.store, run.id, saga_id="s05")
    assert [event.kind for event in of_saga][:2] == [EventKind.SAGA_STARTED, EventKind.STEP_STARTED]
    assert {event.saga_id for event in of_saga} == {"s05"}
    retries = await read_events(run.store, run.id, kinds=[EventKind.RETRY_SCHEDULED], limit=4)
    more = await read_events(run.store, run.id, kinds=[EventKind.RETRY_SCHEDULED], after_seq=retries[-1].seq)
    assert len(retries) == 4 and len(more) == 6
    assert await read_events(run.store, run.id, kinds=["saga.compensated"]) == await read_events(
        run.store, run.id, kinds=[EventKind.SAGA_COMPENSATED])
    with pytest.raises(ValueError):
        await read_events(run.store, run.id, kinds=["saga.exploded"])
    assert all(a.seq < b.seq for a, b in zip(retries + more, (retries + more)[1:], strict=False))


async def test_resource_rows_refuse_unknown_tables(run: Run) -> None:
    with pytest.raises(ValueError, match="not a resource table"):
        await resource_rows(run.store, run.id, "sqlite_master")


async def test_iter_events_pages_through_a_run_in_order_and_stops_at_the_limit(run: Run) -> None:
    from sagatui.store.queries import iter_events

    await twenty_sagas(run)
    everything = await read_events(run.store, run.id, limit=None)
    pages = [page async for page in iter_events(run.store, run.id, page=7)]
    assert all(len(page) <= 7 for page in pages) and len(pages) > 2
    assert [event.seq for page in pages for event in page] == [event.seq for event in everything]
    capped = [event async for page in iter_events(run.store, run.id, limit=10, page=4) for event in page]
    assert [event.seq for event in capped] == [event.seq for event in everything[:10]]
    retries = [e async for page in iter_events(run.store, run.id, kinds=["retry.scheduled"], page=3) for e in page]
    assert len(retries) == 10
