"""The single-threaded loop that drives probes (auditor/live_probe/loop.py), on real sockets."""

import socket
import time

import pytest

from auditor.live_probe.loop import READ, WRITE, Wait, run_all, when_ready


def test_results_keep_order_and_never_more_than_workers_are_open():
    open_now, most = [0], [0]

    def task(n):
        reader, writer = socket.socketpair()
        open_now[0] += 1
        most[0] = max(most[0], open_now[0])
        reader.setblocking(False)  # nothing to read yet: the task must wait in the loop
        try:
            yield Wait(writer, WRITE, time.monotonic() + 5)
            writer.send(b"x" * (n + 1))
            data = yield from when_ready(lambda: reader.recv(100), reader, READ, time.monotonic() + 5)
            return n, len(data)
        finally:
            open_now[0] -= 1
            reader.close()
            writer.close()

    results = run_all([task(n) for n in range(50)], workers=7)
    assert results == [(n, n + 1) for n in range(50)]
    assert most[0] == 7


def test_a_silent_socket_times_out_at_its_deadline_and_ready_time_is_sent():
    seen = {}

    def silent():
        reader, writer = socket.socketpair()
        with reader, writer:
            until = time.monotonic() + 0.2
            try:
                yield Wait(reader, READ, until)
            except TimeoutError:
                return time.monotonic() - until

    def answered():
        reader, writer = socket.socketpair()
        with reader, writer:
            writer.send(b"!")
            before = time.monotonic()
            seen["ready_at"] = yield Wait(reader, READ, time.monotonic() + 5)
            seen["before"], seen["after"] = before, time.monotonic()

    late, _ = run_all([silent(), answered()], workers=2)
    assert 0 <= late < 0.1
    assert seen["before"] <= seen["ready_at"] <= seen["after"]


def test_many_tasks_that_finish_at_once_do_not_recurse():
    def done(n):
        return n
        yield  # a generator that finishes without waiting

    assert run_all([done(n) for n in range(5000)], workers=1) == list(range(5000))


def test_a_task_error_is_raised_and_the_others_are_closed():
    closed = []

    def waiting():
        reader, writer = socket.socketpair()
        try:
            yield Wait(reader, READ, time.monotonic() + 5)
        finally:
            closed.append(True)
            reader.close()
            writer.close()

    def broken():
        raise LookupError("a bug in a probe")
        yield

    with pytest.raises(LookupError):
        run_all([waiting(), broken()], workers=2)
    assert closed == [True]
