"""Name and Version from core metadata (METADATA, PKG-INFO): only the header block is parsed."""

from __future__ import annotations

import re

from auditor.fs import FsError

HEADER_CAP = 4 * 1024 * 1024
_HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
_PROJECT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")  # core metadata's rule for Name
_VERSION_ASSIGNMENT = re.compile(rb"""^__version__\s*=\s*(?:u|b)?['"]([^'"\n]{1,100})['"]""", re.M)


class MetadataError(Exception):
    pass


def parse_headers(text: str) -> dict[str, str]:
    """The first value of each header in the block that ends at the first blank line.

    Lenient like the real readers: old distutils wrote multi-line License values
    without indenting them, so a line that is not `Key: value` continues the previous one.
    """
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if line[0] in " \t" or not sep or not _HEADER_NAME.match(key):
            continue
        headers.setdefault(key.lower(), value.strip())
    return headers


def name_and_version(text: str) -> tuple[str, str]:
    headers = parse_headers(text)
    name, version = headers.get("name"), headers.get("version")
    if not name or not version:
        missing = " and ".join(k for k, v in (("Name", name), ("Version", version)) if not v)
        raise MetadataError(f"no {missing} header")
    if not _PROJECT_NAME.fullmatch(name):
        raise MetadataError(f"Name {name[:100]!r} is not a valid project name")
    return name, version


def decode(data: bytes) -> str:
    """Metadata should be UTF-8; old PKG-INFO files are often Latin-1 (author names)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_name_and_version(view, host_path: str) -> tuple[str, str]:
    try:
        return name_and_version(decode(view.read_bytes(host_path, HEADER_CAP)))
    except MetadataError as exc:
        raise FsError(f"corrupt metadata: {exc}") from exc


def module_version(source: bytes) -> str | None:
    """The literal assigned to __version__ in a module's source, without running it."""
    match = _VERSION_ASSIGNMENT.search(source)
    return match.group(1).decode("ascii", "replace") if match else None
