"""Package names and the file names installers derive from them."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """PEP 503 normalised project name."""
    return _SEPARATORS.sub("-", name).lower()


def split_dist_info(stem: str) -> tuple[str, str | None]:
    """'boto3-1.35.0' -> ('boto3', '1.35.0'); dist-info names escape '-' in the name, not the version."""
    name, sep, version = stem.rpartition("-")
    return (name, version) if sep else (stem, None)


def split_egg(stem: str) -> tuple[str, str | None]:
    """'boto-2.9.0-py2.7' or 'boto-2.9.0-py2.7-linux-x86_64' -> ('boto', '2.9.0'); 'boto' -> ('boto', None)."""
    name, _, rest = stem.partition("-")
    version = rest.split("-", 1)[0] if rest else None
    return name, version or None
