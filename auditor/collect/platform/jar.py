"""The manifest of a jar, read from the jar's first bytes without extracting anything.

A jar is a zip whose first entries are META-INF/ and META-INF/MANIFEST.MF (the `jar` tool, and the JDK's
build of rt.jar, write them first), so the local headers at the start of the file lead to it: no need to
read the central directory at the end of a 60 MB rt.jar. Each local header (PKWARE APPNOTE 4.3.7) is

    signature PK\\3\\4, version, flags, method, time, date, crc-32, compressed size, size, name length,
    extra length, name, extra, then the data

and when flag bit 3 is set (the `jar` tool and zip writers that stream set it for deflated entries) the
sizes in the header are 0 and follow the data in a descriptor: a deflate stream ends by itself, so it is
inflated to find where the next header starts.
"""

from __future__ import annotations

import struct
import zlib

LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_SIGNATURE = b"PK\x03\x04"
DESCRIPTOR_SIGNATURE = b"PK\x07\x08"
STORED, DEFLATED = 0, 8
MANIFEST = "META-INF/MANIFEST.MF"
MANIFEST_CAP = 64 * 1024  # a runtime jar's manifest is a few kilobytes, with per-class sections
MAX_ENTRIES = 16  # the manifest comes first or second; an archive without it there is not read further


class JarError(Exception):
    """No manifest could be read from the bytes given; the message says why."""


def manifest_text(head: bytes) -> str:
    """The text of META-INF/MANIFEST.MF from the first bytes of a jar (JarError if it is not among the
    first entries those bytes hold)."""
    if head[:4] != LOCAL_SIGNATURE:
        raise JarError("not a jar (no zip entry at its start)")
    offset = 0
    for _ in range(MAX_ENTRIES):
        if offset + LOCAL_HEADER.size > len(head):
            break
        (signature, _version, flags, method, _time, _date, _crc, compressed, _size, name_length,
         extra_length) = LOCAL_HEADER.unpack_from(head, offset)
        if signature != LOCAL_SIGNATURE:
            break
        start = offset + LOCAL_HEADER.size + name_length + extra_length
        name = head[offset + LOCAL_HEADER.size:offset + LOCAL_HEADER.size + name_length].decode("utf-8", "replace")
        if flags & 1:
            raise JarError(f"entry {name!r} is encrypted")
        data, end = _entry_data(head, start, method, compressed, bool(flags & 8), name)
        if name.upper() == MANIFEST:
            return data.decode("utf-8", "replace")
        offset = end
    raise JarError(f"no {MANIFEST} among its first entries")


def _entry_data(head: bytes, start: int, method: int, compressed: int, descriptor: bool, name: str) -> tuple[bytes, int]:
    """The entry's bytes (at most MANIFEST_CAP) and the offset where the next header starts."""
    if method == STORED:
        if descriptor and name.endswith("/"):  # a folder: no data, its descriptor right after the header
            return b"", _after_descriptor(head, start)
        if descriptor:
            raise JarError(f"entry {name!r} is stored with its size after its data")
        if start + compressed > len(head):
            raise JarError(f"entry {name!r} runs past the bytes read")
        return head[start:start + min(compressed, MANIFEST_CAP)], start + compressed
    if method != DEFLATED:
        raise JarError(f"entry {name!r} uses compression method {method}")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    stop = start + compressed if compressed and not descriptor else len(head)
    try:
        data = inflater.decompress(head[start:stop], MANIFEST_CAP)
    except zlib.error as exc:
        raise JarError(f"entry {name!r} does not inflate: {exc}") from exc
    if not inflater.eof:
        if len(data) >= MANIFEST_CAP or inflater.unconsumed_tail:
            return data, len(head)  # more than a manifest needs: the rest is not read
        raise JarError(f"entry {name!r} runs past the bytes read")
    end = stop - len(inflater.unused_data)
    return data, _after_descriptor(head, end) if descriptor else end


def _after_descriptor(head: bytes, at: int) -> int:
    return at + (16 if head[at:at + 4] == DESCRIPTOR_SIGNATURE else 12)  # crc-32 and both sizes, signed or not


def main_attributes(manifest: str) -> dict[str, str]:
    """The main section of a manifest (up to its first empty line) as name -> value; a line that starts
    with a space continues the value before it (JAR File Specification)."""
    attributes: dict[str, str] = {}
    last = None
    for line in manifest.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            break
        if line.startswith(" ") and last is not None:
            attributes[last] += line[1:]
            continue
        name, colon, value = line.partition(":")
        if colon:
            last = name.strip()
            attributes[last] = value.strip()
    return attributes
