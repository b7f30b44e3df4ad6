"""Where the rule data lives (the rule packs, the support matrices, the release dates, the ATS anchors), and its
TOML data files, read once."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import tomli

if TYPE_CHECKING:
    from pathlib import Path

# pathlib (with the urllib.parse, ipaddress and ntpath it imports) is imported by the functions that return a Path,
# not here: `auditor truststore` reads its packs and anchors by rules_path(), and its start-up is what it is
# measured by (bench/bench_java_cacerts.py).


def rules_path() -> str:
    """rules/ inside an installed wheel, else the source checkout's top-level rules/."""
    override = os.environ.get("AUDITOR_RULES_DIR")
    if override:
        return override
    packaged = os.path.join(os.path.dirname(__file__), "_rules")
    return packaged if os.path.isdir(packaged) else os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "rules")


def rules_dir() -> Path:
    """rules_path() as a Path."""
    from pathlib import Path

    return Path(rules_path())


def shipped_release_dates() -> Path:
    """The release-date table that ships with the rules."""
    return rules_dir() / "release-dates.json"


def user_release_dates() -> Path:
    """Where `auditor rules refresh` writes the table: the user's data folder (platformdirs: $XDG_DATA_HOME/auditor
    on Linux), never the installed package, which may be read-only or shared. AUDITOR_DATA_DIR names another folder."""
    from pathlib import Path

    override = os.environ.get("AUDITOR_DATA_DIR")
    if override:
        return Path(override) / "release-dates.json"
    from platformdirs import user_data_dir  # here: only the commands that judge releases need it

    return Path(user_data_dir("auditor", appauthor=False)) / "release-dates.json"


def data_file(name: str) -> dict[str, Any]:
    """A TOML data file of rules/ (a matrix, ca-settings.toml)."""
    return _toml(rules_dir() / name)


@lru_cache(maxsize=None)
def _toml(path: Path) -> dict[str, Any]:
    """Read once: every component judged against a matrix shares it, and judging never changes it."""
    return tomli.loads(path.read_text(encoding="utf-8"))
