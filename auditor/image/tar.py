"""A layer's tar headers read as a container runtime's tar reader (Go's archive/tar) reads them: ustar, GNU and
pax headers, long names and links, each member's name, type, size and where its data starts in the uncompressed
stream. Nothing but the headers is kept; a member's data is skipped.

What the runtime would refuse refuses the layer (a TarError): a header whose checksum does not add up, a number
that is not one, a negative size, a pax record without its `=`, a name holding a NUL, a stream that ends inside a
header or a member. What it reads but this reader does not place as a file is a member of its own kind: a
device, a FIFO, a sparse file. Like the runtime, it ends at the end-of-archive block (or at the stream's end
where no such block was written), and it ignores pax global headers.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple, Protocol

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
MAX_SPECIAL = 1 << 20  # a long name, a long link or a pax header: Go's archive/tar refuses larger ones
MAX_SIZE = 1 << 63
_SPACES = 8 * 32  # what the checksum field counts as: eight spaces
_OCTAL = b"01234567"
KINDS = ("dir", "file", "symlink", "hardlink", "a device", "a FIFO", "a sparse file", "an entry of an unknown type")
_KINDS = {b"0": "file", b"\0": "file", b"7": "file", b"5": "dir", b"2": "symlink", b"1": "hardlink",
          b"3": "a device", b"4": "a device", b"6": "a FIFO", b"S": "a sparse file"}
_HEADER_ONLY = frozenset(b"123456")  # types whose size field is not followed by data (as archive/tar skips none)


class TarError(ValueError):
    """The layer's tar is not one a runtime would extract; the message says where and why."""


class Member(NamedTuple):
    """A member's header: its name as written, its kind ('file', 'dir', 'symlink', 'hardlink', or how a runtime
    would treat it otherwise: 'a device', 'a FIFO', 'a sparse file', 'an entry of an unknown type'), where its data
    starts in the uncompressed stream, its size, and a link's text."""

    name: str
    kind: str
    offset: int
    size: int
    link: str


class Stream(Protocol):
    """Uncompressed bytes read forward (auditor.image.streams.Forward)."""

    offset: int

    def take(self, size: int) -> bytes: ...

    def skip(self, size: int) -> int: ...


def members(stream: Stream) -> Iterator[Member]:
    """The members of the tar read from `stream`, in order."""
    long_name = long_link = None
    pax: dict[str, str] = {}
    while True:
        at = stream.offset
        header = stream.take(BLOCK)
        if not header or header == ZERO_BLOCK:
            return
        if len(header) < BLOCK:
            raise TarError(f"the tar ends inside the header at byte {at:,}")
        _check_sum(header, at)
        size = _number(header[124:136], "size", at)
        if size < 0 or size >= MAX_SIZE:
            raise TarError(f"the header at byte {at:,} declares a size of {size:,}")
        flag = header[156:157]
        if flag in (b"L", b"K", b"x", b"g"):
            if size > MAX_SPECIAL:
                raise TarError(f"the {_SPECIAL_NAMES[flag]} at byte {at:,} is {size:,} bytes, over the "
                               f"{MAX_SPECIAL:,}-byte limit")
            data = _data(stream, size, at)
            if flag == b"L":
                long_name = _text(data.split(b"\0", 1)[0])
            elif flag == b"K":
                long_link = _text(data.split(b"\0", 1)[0])
            elif flag == b"x":
                pax = _pax(data, at)
            continue  # a global header (g) is ignored, as the runtime ignores it
        name = long_name if long_name is not None else _header_name(header)
        link = long_link if long_link is not None else _text(header[157:257].split(b"\0", 1)[0])
        name, link = pax.get("path", name), pax.get("linkpath", link)
        if "size" in pax:
            size = _pax_size(pax["size"], at)
        kind = _KINDS.get(flag, "an entry of an unknown type")
        if kind == "file" and flag == b"\0" and name.endswith("/"):
            kind = "dir"  # an old tar's folder
        if pax and any(key.startswith("GNU.sparse.") for key in pax):
            kind = "a sparse file"
        if flag == b"S" and header[482]:  # an old GNU sparse file's map goes on in extra header blocks
            while True:
                extension = _data(stream, BLOCK, at)
                if not extension[504]:
                    break
        long_name = long_link = None
        pax = {}
        if "\0" in name or "\0" in link:
            raise TarError(f"the member at byte {at:,} has a NUL in its name or link")
        yield Member(name, kind, stream.offset, size, link)
        if flag[0] not in _HEADER_ONLY and size:
            padded = -(-size // BLOCK) * BLOCK
            if stream.skip(padded) != padded:
                raise TarError(f"the tar ends inside the member {name!r}")


_SPECIAL_NAMES = {b"L": "long name", b"K": "long link", b"x": "pax header", b"g": "pax global header"}


def _check_sum(header: bytes, at: int) -> None:
    expected = _number(header[148:156], "checksum", at)
    field = header[148:156]
    unsigned = sum(header) - sum(field) + _SPACES
    if unsigned == expected:
        return
    # Some old tars summed signed bytes; archive/tar and tarfile accept either sum.
    high = sum(1 for byte in header[:148] + header[156:] if byte >= 128)
    if unsigned - 256 * high != expected:
        raise TarError(f"the header at byte {at:,} fails its checksum (not a tar, or a damaged one)")


def _number(field: bytes, what: str, at: int) -> int:
    """A numeric field: octal text (ended by NULs or spaces), or base-256 (its first byte's high bit set)."""
    if field[0] & 0x80:
        value = int.from_bytes(bytes([field[0] & 0x7F]) + field[1:], "big")
        return -((1 << (8 * len(field) - 1)) - value) if field[0] & 0x40 else value
    text = field.strip(b" \0")
    if text.translate(None, _OCTAL):
        raise TarError(f"the header at byte {at:,} has a {what} field that is not a number")
    return int(text, 8) if text else 0


def _data(stream: Stream, size: int, at: int) -> bytes:
    """A special header's data (the padding to the next block skipped)."""
    data = stream.take(size)
    padding = -size % BLOCK
    if len(data) != size or stream.skip(padding) != padding:
        raise TarError(f"the tar ends inside the header data at byte {at:,}")
    return data


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _header_name(header: bytes) -> str:
    """A header's name, with the ustar prefix where the header's format has one (ustar and pax; star's shorter)."""
    name = header[:100].split(b"\0", 1)[0]
    magic = header[257:265]
    if magic == b"ustar\x0000":
        prefix = header[345:476] if header[508:512] == b"tar\0" else header[345:500]
        prefix = prefix.split(b"\0", 1)[0]
        if prefix:
            name = prefix + b"/" + name
    return _text(name)


def _pax(data: bytes, at: int) -> dict[str, str]:
    """A pax header's records ("LENGTH KEY=VALUE\\n"), a later record of a key winning."""
    records: dict[str, str] = {}
    position = 0
    while position < len(data):
        space = data.find(b" ", position)
        length = data[position:space]
        if space < 0 or not length.isdigit() or int(length) <= space - position:
            raise TarError(f"the pax header at byte {at:,} has a malformed record")
        end = position + int(length)
        record = data[space + 1:end]
        if end > len(data) or not record.endswith(b"\n") or b"=" not in record:
            raise TarError(f"the pax header at byte {at:,} has a malformed record")
        key, _, value = record[:-1].partition(b"=")
        records[_text(key)] = _text(value)
        position = end
    return records


def _pax_size(text: str, at: int) -> int:
    if not text.isdigit() or not text.isascii() or int(text) >= MAX_SIZE:
        raise TarError(f"the pax header at byte {at:,} has a size that is not a number")
    return int(text)
