"""Files named on the command line (saved reports, waiver files, env files, keys, signatures): read whole,
size-capped, never blocking on a FIFO. Each command raises its own error class, with the file named."""

from __future__ import annotations

import os
import stat


def read_input(path: str, limit: int, error: type[Exception]) -> bytes:
    # O_NONBLOCK: opening a FIFO must not wait for a writer; the type is then checked on what was opened.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise error(f"{path}: {exc.strerror or exc}") from exc
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise error(f"{path}: not a regular file")
        if status.st_size > limit:
            raise error(f"{path}: larger than {limit:,} bytes; not read")
        data = _read_all(fd, limit + 1)  # a file growing while read is still cut at the limit
    except OSError as exc:
        raise error(f"{path}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"{path}: larger than {limit:,} bytes; not read")
    return data


def _read_all(fd: int, most: int) -> bytes:
    chunks, size = [], 0
    while size < most:
        chunk = os.read(fd, min(1 << 20, most - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
