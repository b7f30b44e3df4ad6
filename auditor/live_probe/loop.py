"""One thread drives every probe of a run. A probe is a generator that yields what it waits for, a `Wait`
(a socket, read or write, and a deadline); the loop resumes it when the socket is ready, sending it the
time.monotonic() at which the kernel said so, or throws TimeoutError into it at the deadline, and keeps
at most `workers` probes open at once.

Why not a thread per probe: with 200 probes, the threads' start-up and their turns at the GIL while the
first handshakes run delayed the stalled probes' clocks by 30-45 ms, and every probe's timeout with them.
Here the 200 connections are opened within a few milliseconds, and a deadline is kept to the millisecond."""

from __future__ import annotations

import heapq
import itertools
import selectors
import ssl
import time
from typing import Callable, Generator, NamedTuple, Protocol, Sequence, TypeVar

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
T = TypeVar("T")


class HasFileno(Protocol):
    def fileno(self) -> int: ...


class Wait(NamedTuple):
    fileobj: HasFileno  # a socket, or anything with fileno()
    events: int  # READ or WRITE
    until: float  # time.monotonic() by which it must be ready


Task = Generator[Wait, float, T]  # sent the time.monotonic() at which what it waited for was ready


def when_ready(call: Callable[[], T], fileobj: HasFileno, event: int, until: float) -> Task[T]:
    """call(), a non-blocking step (send, recv, a TLS handshake step), repeated until it stops
    asking to wait; TLS may want to read in order to write and the reverse, so its wishes win over `event`."""
    while True:
        try:
            return call()
        except ssl.SSLWantReadError:
            yield Wait(fileobj, READ, until)
        except ssl.SSLWantWriteError:
            yield Wait(fileobj, WRITE, until)
        except BlockingIOError:
            yield Wait(fileobj, event, until)


def run_all(tasks: Sequence[Task[T]], workers: int) -> list[T]:
    """Every task's return value, in the order of `tasks`, with at most `workers` of them started and not
    finished at any time. An exception a task does not handle is raised here, once the others are closed."""
    results: dict[int, T] = {}
    queue = iter(range(len(tasks)))
    selector = selectors.DefaultSelector()
    deadlines: list[tuple[float, int, int]] = []  # (until, token, task): a heap; stale tokens are skipped
    current: dict[int, tuple[int, Wait]] = {}  # task -> (token, what it waits for)
    tokens = itertools.count()

    def advance(index: int | None, error: BaseException | None = None, ready_at: float | None = None) -> None:
        while index is not None:  # a task that finishes frees its place for the next one
            try:
                task = tasks[index]
                wait = task.throw(error) if error else next(task) if ready_at is None else task.send(ready_at)
            except StopIteration as done:
                results[index] = done.value
                index, error, ready_at = next(queue, None), None, None
                continue
            token = next(tokens)
            current[index] = (token, wait)
            selector.register(wait.fileobj, wait.events, index)
            heapq.heappush(deadlines, (wait.until, token, index))
            return

    def resume(index: int, error: BaseException | None = None, ready_at: float | None = None) -> None:
        _, wait = current.pop(index)
        selector.unregister(wait.fileobj)
        advance(index, error, ready_at)

    try:
        for index in itertools.islice(queue, max(1, workers)):
            advance(index)
        while current:
            now = time.monotonic()
            while deadlines and deadlines[0][0] <= now:
                _, token, index = heapq.heappop(deadlines)
                if current.get(index, (None,))[0] == token:
                    resume(index, TimeoutError("timed out"))
            if not current:
                break
            wait_for = max(0.0, deadlines[0][0] - now) if deadlines else None
            ready = [key.data for key, _ in selector.select(wait_for)]
            ready_at = time.monotonic()
            # Earliest deadline first: a connection just opened (whose handshake clock is about to start) goes
            # before the verification of a chain that arrived in the same moment.
            ready.sort(key=lambda index: current[index][1].until)
            for index in ready:
                resume(index, ready_at=ready_at)
    finally:
        selector.close()
        for task in tasks:
            task.close()  # a no-op for finished tasks; runs the `finally` (sockets closed) of the others
    return [results[index] for index in range(len(tasks))]  # every task finished, or this was not reached
