"""Programs of the scanned machine, run only when asked (--runtime): `java -version`, `openssl version`,
a target's interpreter. Each runs in an empty working directory with a minimal environment and no
standard input, in a session of its own; its output is capped, and when it ends, times out or prints too
much, its whole process group is killed, so a child it left running in the background goes too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time

from auditor.records import mutable_record


OUTPUT_CAP = 64 * 1024  # each of these programs prints a few lines


class RunFailed(Exception):
    """The program could not be started, or was killed; the message says why, to follow its name."""


class TimedOut(RunFailed):
    def __init__(self, seconds: float):
        super().__init__(f"did not end within {seconds:g} s; killed")
        self.seconds = seconds


@mutable_record
class Ran:
    out: str
    err: str  # "" when standard error was merged into `out`
    code: int


def run_bounded(argv: list[str], timeout: float, cap: int = OUTPUT_CAP, merge_stderr: bool = False) -> Ran:
    """Run `argv` for at most `timeout` seconds, each output stream read up to `cap` bytes (standard error
    into standard output with `merge_stderr`). RunFailed (TimedOut on the timeout) when it cannot finish so."""
    environment = {"PATH": os.defpath, "LC_ALL": "C"}
    if sys.platform == "win32":
        environment["SystemRoot"] = os.environ.get("SystemRoot", r"C:\Windows")  # Windows processes need it
    with tempfile.TemporaryDirectory() as empty:
        try:
            process = subprocess.Popen(argv, cwd=empty, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            raise RunFailed(f"could not be started: {exc.strerror or exc}") from exc
        readers = [_Reader(stream, cap) for stream in (process.stdout, process.stderr) if stream]
        deadline, timed_out = time.monotonic() + timeout, False
        while not _ended(process) and not any(r.over for r in readers):
            if time.monotonic() >= deadline:
                timed_out = True
                break
            time.sleep(0.01)
        _kill_group(process)  # after a normal exit too: what it left running in the background goes with it
        for reader in readers:
            reader.finish()
    if timed_out:
        raise TimedOut(timeout)
    if any(reader.over for reader in readers):
        raise RunFailed(f"printed more than {cap:,} bytes; killed")
    texts = [reader.text() for reader in readers]
    return Ran(texts[0], texts[1] if len(texts) > 1 else "", process.returncode)


def _ended(process: subprocess.Popen) -> bool:
    """Whether the program has ended. On POSIX it is left unreaped until its group is killed: while it is a
    zombie, its pid (the group's id) cannot be given to another process."""
    if not hasattr(os, "waitid"):
        return process.poll() is not None
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped (SIGCHLD ignored)
        return True


class _Reader:
    """Reads one output stream on a thread of its own (a pipe left unread would block the program), up to
    `cap` bytes; past that it stops reading and says so (`over`), and the program is killed."""

    def __init__(self, stream, cap: int):
        self.stream, self.cap = stream, cap
        self.chunks: list[bytes] = []
        self.over = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        size = 0
        while chunk := self.stream.read1(64 * 1024):
            size += len(chunk)
            if size > self.cap:
                self.over = True
                return
            self.chunks.append(chunk)

    def finish(self) -> None:
        # The group is dead, so the pipe ends; a process that left the group (setsid) could still hold it open.
        self.thread.join(1.0)
        if not self.thread.is_alive():
            self.stream.close()

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the program's process group, then reap the program."""
    import signal

    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (AttributeError, OSError):  # Windows has no process groups; or nothing of the group is left
        process.kill()
    process.wait()
