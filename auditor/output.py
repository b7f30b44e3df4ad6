"""Output files (reports, signatures, the release-date table), each written atomically and safely.

A reader sees the old file or the whole new one, never a part. The new content goes to a temporary file that
mkstemp creates with a random name in the target's own folder (O_CREAT | O_EXCL | O_NOFOLLOW: a link another user
planted there is never followed), then is synced and renamed over the target. An existing target keeps its
permission bits (a 0600 report stays 0600); a new one gets what the umask gives, as open() would. On any failure,
an interrupt or SIGTERM included (see `terminate_raises`), the temporary file is removed. A device or a pipe
(-o /dev/stdout, a FIFO) is written in place: replacing it by a regular file would break it (as root, /dev/null).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
from collections.abc import Iterable, Iterator  # not typing: every command imports this module first

TYPE_CHECKING = False  # typing is not imported at run time, for the same reason
if TYPE_CHECKING:
    from typing import IO, Any


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every `finally` runs; a BaseException, like KeyboardInterrupt,
    so that no `except Exception` of a collector turns it into an error entry."""


@contextlib.contextmanager
def atomic_output(path: str, binary: bool = False, like: os.stat_result | None = None) -> Iterator[IO[Any]]:
    """A handle to write the new content of `path` to; it replaces `path` when the block ends without an error.
    OSError when the folder cannot take the file (no permission, a full disk, a file size limit). `like`: the file
    gets these permission bits, and (as root) this owner and group, before it appears under its name (a backup of a
    0600 file is never readable by others, not even for a moment)."""
    import tempfile  # here: it costs start-up time, and most runs write to standard output

    stream = _open_stream(path)
    if stream is not None:  # /dev/stdout, /dev/null, a FIFO: written in place, never replaced by a file
        with _fdopen(stream, binary) as handle:
            yield handle
        return
    directory, name = os.path.split(os.path.abspath(path))
    mode = _mode_for(path) if like is None else stat.S_IMODE(like.st_mode) & 0o777
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with _fdopen(fd, binary) as handle:
            if like is not None and hasattr(os, "fchown") and os.geteuid() == 0:
                os.fchown(handle.fileno(), like.st_uid, like.st_gid)  # a user's file stays theirs
            os.fchmod(handle.fileno(), mode)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(directory)


def _fdopen(fd: int, binary: bool) -> IO[Any]:
    return os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")


def write_atomically(path: str, content: str | bytes, like: os.stat_result | None = None) -> None:
    with atomic_output(path, binary=isinstance(content, bytes), like=like) as handle:
        handle.write(content)


@contextlib.contextmanager
def terminate_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises Terminated in the main thread (elsewhere signals cannot be handled and
    nothing changes); the previous handler is put back after."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_terminated(_signum, _frame):
    raise Terminated()


def _open_stream(path: str) -> int | None:
    """A descriptor open for writing when `path` is a character device or a pipe; None otherwise."""
    try:
        if not _is_stream(os.stat(path).st_mode):
            return None
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)  # no O_CREAT: nothing is made here
    except OSError:
        return None  # gone or unreadable: the atomic path says why, or makes the file
    if _is_stream(os.fstat(fd).st_mode):
        return fd
    os.close(fd)  # swapped for something else meanwhile: not written through
    return None


def _is_stream(mode: int) -> bool:
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _mode_for(path: str) -> int:
    try:
        existing = os.stat(path)
    except OSError:
        existing = None
    if existing is not None and stat.S_ISREG(existing.st_mode):
        return stat.S_IMODE(existing.st_mode) & 0o777  # never a set-id bit on a file this process now owns
    return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o077)  # the only way to read it; the most restrictive value while it is set
    os.umask(mask)
    return mask


def _sync_folder(directory: str) -> None:
    """The rename made durable too; a file system that cannot sync a folder is not an error."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_utf8(pieces: Iterable[bytes], out: IO[str]) -> None:
    """UTF-8 text in pieces of any size (a merge's spill file) written to a text stream: as they are where `out` writes
    UTF-8 to a byte stream (not decoded and encoded again: most of a fleet's report), else decoded."""
    import codecs

    buffer = getattr(out, "buffer", None)
    encoding = getattr(out, "encoding", None)
    if buffer is not None and encoding and os.linesep == "\n" and codecs.lookup(encoding).name == "utf-8":
        out.flush()
        for piece in pieces:
            buffer.write(piece)
        return
    decoder = codecs.getincrementaldecoder("utf-8")()  # a piece may end within a character
    for piece in pieces:
        out.write(decoder.decode(piece))
    out.write(decoder.decode(b"", final=True))
