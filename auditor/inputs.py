"""Files named on the command line (saved reports, waiver files, env files, keys, signatures): read whole,
size-capped, never blocking on a FIFO. Each command raises its own error class, with the file named."""

from __future__ import annotations

from auditor.fs import NotRegular, TooLarge, read_regular


def read_input(path: str, limit: int, error: type[Exception]) -> bytes:
    try:
        return read_regular(path, limit)
    except NotRegular:
        raise error(f"{path}: not a regular file") from None
    except TooLarge:
        raise error(f"{path}: larger than {limit:,} bytes; not read") from None
    except OSError as exc:
        raise error(f"{path}: {exc.strerror or exc}") from exc


def read_text_input(path: str, limit: int, error: type[Exception]) -> str:
    """read_input, decoded as UTF-8; `error`, naming the file and the byte, for text that is not."""
    raw = read_input(path, limit, error)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
