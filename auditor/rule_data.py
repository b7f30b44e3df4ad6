"""Where the rule data lives (the rule packs, the support matrices, the release dates, the ATS anchors), and its
TOML data files, read once.

The rule packs and the anchors are parsed through a cache of their parsed form (`parsed_toml`): importing tomli and
parsing the packs took about a tenth of `auditor truststore`'s run, and reading the JSON of the same data takes a
fiftieth of that. An entry is named by the SHA-256 of the TOML bytes it was parsed from, so an edited file is never
answered from an older parse; an entry is used only when it is a regular file of this user's that no one else may
write, and anything unreadable in it means the TOML is parsed again. The cache is only a cache: when it cannot be
written (a read-only home) every run parses, as before. AUDITOR_CACHE_DIR names another folder. Each content parsed
makes an entry (a new release's packs, each edit of a custom pack): past MAX_ENTRIES, the oldest written are removed
when an entry is written, and so is a temporary file a crash left.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from functools import lru_cache

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from typing import Any
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


def cache_dir() -> str | None:
    """Where parsed rule data is kept: $AUDITOR_CACHE_DIR, else the user's cache folder ($XDG_CACHE_HOME or ~/.cache,
    %LOCALAPPDATA% on Windows; not platformdirs, whose import costs more than the cache saves), under auditor/toml."""
    override = os.environ.get("AUDITOR_CACHE_DIR")
    if override:
        return override
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA", "")
    else:
        base = os.environ.get("XDG_CACHE_HOME", "")
        if not os.path.isabs(base):  # as the XDG specification says: a relative value is ignored
            home = os.path.expanduser("~")
            base = os.path.join(home, ".cache") if os.path.isabs(home) else ""
    return os.path.join(base, "auditor", "toml") if base else None


def parsed_toml(raw: bytes) -> dict[str, Any]:
    """The TOML document of the bytes: UnicodeDecodeError when they are not UTF-8, ValueError (tomli's
    TOMLDecodeError) when they are not TOML; from the cache when it holds this content's parse."""
    text = raw.decode("utf-8")
    folder = cache_dir()
    entry = os.path.join(folder, hashlib.sha256(raw).hexdigest() + ".json") if folder else None
    cached = _cached(entry) if entry else None
    if cached is not None:
        return cached
    import tomli  # on a miss only

    data: dict[str, Any] = tomli.loads(text)
    if entry:
        _keep(entry, data)
    return data


def _cached(entry: str) -> dict[str, Any] | None:
    try:
        fd = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with open(fd, "rb") as file:
        info = os.fstat(file.fileno())
        # Written by this user and writable by no one else: else another user could choose what a rule says. (On
        # Windows the mode's bits say nothing of that: the folder is the user's own, under %LOCALAPPDATA%.)
        if not stat.S_ISREG(info.st_mode) or (os.name == "posix" and (info.st_mode & 0o022 or info.st_uid != os.getuid())):
            return None
        try:
            data = json.loads(file.read())
        except (OSError, ValueError, RecursionError):  # a torn or foreign entry: parsed again, and replaced
            return None
    return data if isinstance(data, dict) else None


MAX_ENTRIES = 256  # a few KB each: the packs and anchors of many releases, and many edits of a custom pack
_LEFT_FOR = 24 * 3600  # seconds after which a temporary file is one a crash left, not one being written


def _keep(entry: str, data: dict[str, Any]) -> None:
    """The parse written as the entry, atomically (a temporary file renamed over it), or not at all. Not
    auditor.output.write_atomically, a layer beside this one: an entry needs neither its target's permissions
    kept nor a sync, as a lost one is parsed again."""
    try:
        text = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # a date or time value, which JSON has no type for: not cached
        return
    temporary = f"{entry}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(entry), mode=0o700, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with open(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, entry)
    except (OSError, ValueError):  # ValueError: text the encoding refuses, which TOML never yields
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return
    _prune(os.path.dirname(entry), os.path.basename(entry))


def _prune(folder: str, kept: str) -> None:
    """The entries past MAX_ENTRIES removed, the oldest written first (but `kept`, just written), and the temporary
    files a crash left. Only the cache's own files, by their names: AUDITOR_CACHE_DIR may name a folder that holds
    others."""
    import time

    entries: list[tuple[float, str]] = []
    left: list[str] = []
    try:
        with os.scandir(folder) as found:
            for item in found:
                if not item.is_file(follow_symlinks=False):
                    continue
                name, written = item.name, item.stat(follow_symlinks=False).st_mtime
                if _is_entry(name):
                    if name != kept:
                        entries.append((written, item.path))
                elif (name.endswith(".tmp") and _is_entry(name.split(".json.", 1)[0] + ".json")
                      and time.time() - written > _LEFT_FOR):
                    left.append(item.path)
    except OSError:
        return
    entries.sort()
    for path in left + [path for _, path in entries[:max(0, len(entries) + 1 - MAX_ENTRIES)]]:
        try:
            os.unlink(path)
        except OSError:
            pass


def _is_entry(name: str) -> bool:
    """An entry's name: the SHA-256 of its TOML bytes in hexadecimal, and ".json"."""
    return len(name) == 69 and name.endswith(".json") and not name[:64].strip("0123456789abcdef")


def data_file(name: str) -> dict[str, Any]:
    """A TOML data file of rules/ (a matrix, ca-settings.toml)."""
    return _toml(rules_dir() / name)


@lru_cache(maxsize=None)
def _toml(path: Path) -> dict[str, Any]:
    """Read once: every component judged against a matrix shares it, and judging never changes it."""
    import tomli

    return tomli.loads(path.read_text(encoding="utf-8"))
