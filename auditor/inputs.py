"""Files named on the command line (saved reports, waiver files, keys, signatures): read whole, size-capped,
never blocking on a FIFO. Each command raises its own error class, with the file named."""

from __future__ import annotations

import os


def read_input(path: str, limit: int, error: type[Exception]) -> bytes:
    if os.path.exists(path) and not os.path.isfile(path):
        raise error(f"{path}: not a regular file")  # a FIFO would block a plain open()
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise error(f"{path}: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise error(f"{path}: larger than {limit:,} bytes; not read")
    return data
