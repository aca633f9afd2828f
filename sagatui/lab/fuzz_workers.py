"""A fuzz campaign's seeds spread over worker processes (spawned: no state of this process leaks into
theirs), each keeping its runs in a SQLite file of its own.

The parent hands out one seed at a time to whichever worker is free and passes the results on in seed
order. A stop signal (Ctrl-C, SIGTERM, SIGHUP) reaches the workers as well: each records the run it was in
as interrupted, closes its database and exits quietly, and the parent waits for them before it reports
the stop (sagatui.stop_signals).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from sagatui.code.loading import load_app
from sagatui.lab.fuzz import fuzz_one
from sagatui.lab.fuzz_campaign import Campaign, SeedResult
from sagatui.packs.loader import load_pack_text
from sagatui.stop_signals import STOP_SIGNALS, Stopped, run_stoppable
from sagatui.store.database import Durability, Store

_STOP_WAIT = 30.0  # seconds a worker gets to record its run as interrupted before it is killed


class WorkerDied(RuntimeError):
    """A worker process ended without answering (killed, out of memory)."""


@dataclass(frozen=True)
class _Failure:
    """What a worker sends back instead of a result when a seed (or its database) raised."""

    error: BaseException

    @classmethod
    def of(cls, error: BaseException) -> _Failure:
        try:
            pickle.loads(pickle.dumps(error))
        except Exception:
            return cls(RuntimeError(f"{type(error).__name__}: {error}"))
        return cls(error)


@dataclass(frozen=True)
class _StoppedBy:
    """What a worker a stop signal ended sends back: the parent stops as it would for that signal, whichever
    of the two saw it first (a Ctrl-C reaches the whole process group; under load a worker may end, and its
    pipe close, before the parent's own handler has run: that is no worker dying)."""

    signal: int


@dataclass(frozen=True)
class _Job:
    """What a worker is started with: all text and paths, so it pickles under spawn."""

    pack_text: str
    source_name: str
    scenario: str
    db: Path
    durability: Durability
    code_target: str | None  # the user's own code, imported again in the worker (sagatui.code.loading)


def work(connection: Connection, job: _Job) -> None:
    """A worker's life: seeds from `connection` until None (or the parent goes away), a result back for each."""
    try:
        run_stoppable(_serve(connection, job))
    except Stopped as stopped:  # the run in flight is recorded as interrupted; the parent stops too, and says so
        with suppress(OSError):  # the parent is gone already, or stopping them
            connection.send(_StoppedBy(int(stopped.signal)))
    finally:
        connection.close()


async def _serve(connection: Connection, job: _Job) -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # run_stoppable handles them now: see _signals_held
    try:
        code = load_app(job.code_target) if job.code_target is not None else None
        pack = code.pack if code is not None else load_pack_text(job.pack_text, job.source_name)
        async with await Store.open(job.db, durability=job.durability) as store:
            while (seed := _next_seed(connection)) is not None:
                outcome = await fuzz_one(pack, job.pack_text, store, job.scenario, seed, code)
                connection.send(SeedResult.of(outcome, job.db))
    except Exception as error:
        with suppress(OSError):  # the parent is gone already: nobody to tell
            connection.send(_Failure.of(error))


def _next_seed(connection: Connection) -> int | None:
    """Between seeds nothing else runs in the worker, so it may wait for the next one blocking."""
    try:
        seed: int | None = connection.recv()
    except EOFError:
        return None
    return seed


@contextmanager
def _signals_held() -> Iterator[None]:
    """Start a worker with the stop signals blocked (a process's signal mask survives exec): it unblocks
    them once it can handle them, so a Ctrl-C while it is still importing does not end it with a
    traceback. Here they are held only while the process is created, then delivered."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Worker:
    """The parent's side of one worker: its process and its end of the pipe."""

    def __init__(self, process: BaseProcess, connection: Connection) -> None:
        self.process, self.connection = process, connection
        self.seed: int | None = None  # the seed it is running
        self.finishing = False  # told there are no more seeds: its end of the pipe closing is expected

    @classmethod
    def start(cls, context: multiprocessing.context.SpawnContext, job: _Job) -> _Worker:
        parent_end, child_end = context.Pipe()
        process = context.Process(target=work, args=(child_end, job), name=f"sagatui-fuzz {job.db.name}",
                                  daemon=True)
        process.start()
        child_end.close()
        return cls(process, parent_end)

    def give(self, seed: int | None) -> None:
        self.seed, self.finishing = seed, seed is None
        self.connection.send(seed)

    def listen(self, answers: asyncio.Queue[tuple[_Worker, object]]) -> None:
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                answer: object = self.connection.recv()
            except (EOFError, OSError):
                loop.remove_reader(self.connection.fileno())
                if self.finishing:
                    return
                self.process.join(_STOP_WAIT)
                answer = WorkerDied(f"a fuzz worker died (exit code {self.process.exitcode}) running seed {self.seed}")
            answers.put_nowait((self, answer))

        loop.add_reader(self.connection.fileno(), readable)

    def stop(self, interrupted: bool) -> None:
        """Let it end: at once when the campaign was interrupted (SIGTERM: it records its run as interrupted)."""
        if not self.connection.closed:
            asyncio.get_running_loop().remove_reader(self.connection.fileno())
            self.connection.close()  # a worker waiting for a seed sees the end of the pipe
        if interrupted and self.process.is_alive():
            self.process.terminate()
        self.process.join(_STOP_WAIT)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


async def run_in_workers(campaign: Campaign, databases: list[Path], durability: Durability,
                         on_result: Callable[[SeedResult], None]) -> list[SeedResult]:
    """One worker per database; the results in seed order (see run_campaign)."""
    context = multiprocessing.get_context("spawn")
    seeds: Iterator[int] = iter(campaign.seeds)
    answers: asyncio.Queue[tuple[_Worker, object]] = asyncio.Queue()
    workers: list[_Worker] = []
    ended: dict[int, SeedResult] = {}
    results: list[SeedResult] = []
    wanted = list(campaign.seeds)
    interrupted = True
    try:
        for db in databases:
            with _signals_held():
                code_target = campaign.pack_argument if campaign.code is not None else None
                workers.append(_Worker.start(context, _Job(campaign.pack_text, campaign.source_name,
                                                           campaign.scenario, db, durability, code_target)))
            workers[-1].listen(answers)
            workers[-1].give(next(seeds, None))
        while len(results) < len(wanted):
            worker, answer = await answers.get()
            if isinstance(answer, _StoppedBy):
                raise Stopped(signal.Signals(answer.signal))
            if isinstance(answer, _Failure):
                raise answer.error
            if isinstance(answer, BaseException):
                raise answer
            assert isinstance(answer, SeedResult)
            ended[answer.report.seed] = answer
            worker.give(next(seeds, None))
            while len(results) < len(wanted) and wanted[len(results)] in ended:
                results.append(ended.pop(wanted[len(results)]))
                on_result(results[-1])
        interrupted = False
    finally:
        for worker in workers:
            worker.stop(interrupted)
    return results
