"""Defaults from a configuration file: `auditor.toml`, or `[tool.auditor]` in `pyproject.toml`.

Found from the working directory upwards: in each folder `auditor.toml` (wins when both are there), else a
`pyproject.toml` that has a `[tool.auditor]` table; the search stops after the folder that holds `.git` (the
repository root) or at the filesystem root. `--config FILE` names one, `--no-config` uses none. The scanned target's
own files are never read as configuration: a scan of another repository uses the caller's settings.

Precedence: a flag given on the command line, then the command's table (`[scan]`, `[tool.auditor.scan]`), then
the shared keys at the top of the configuration, then the built-in default. Every key, type and value is checked:
anything else is ConfigError naming the file, the line where it can be found, and the key (exit 2).

Only defaults of report-shaping options are configurable: nothing in a configuration can widen what a scan
reads (targets, --root, --image, --env-file) or make it run anything (--runtime, --probe).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

from auditor.cli.options import OptionsError

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from typing import Any, Optional
    import argparse

CONFIG_NAME = "auditor.toml"
PYPROJECT = "pyproject.toml"
MAX_BYTES = 1024 * 1024  # as for pyproject.toml read as declared dependencies

SHARED_KEYS = ("fail-on", "packs", "waivers", "as-of", "exclude")
COMMAND_KEYS = {
    "scan": ("fail-on", "packs", "waivers", "as-of", "exclude", "format", "output"),
    "truststore": ("fail-on", "packs", "waivers", "as-of", "format", "output"),
    "probe": ("fail-on", "packs", "waivers", "format", "output"),
    "report": ("fail-on", "waivers", "as-of", "format"),  # render and merge; diff takes fail-on only
}
# The settings of each command that takes any, with the table its values come from.
APPLIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "scan": ("scan", COMMAND_KEYS["scan"]),
    "truststore": ("truststore", COMMAND_KEYS["truststore"]),
    "probe": ("probe", COMMAND_KEYS["probe"]),
    "report render": ("report", COMMAND_KEYS["report"]),
    "report merge": ("report", COMMAND_KEYS["report"]),
    "report diff": ("report", ("fail-on",)),
}
DEST = {"fail-on": "fail_on", "packs": "pack", "waivers": "waivers", "as-of": "as_of", "exclude": "exclude",
        "format": "format", "output": "output"}
LISTS = ("packs", "exclude")  # append options: a flag given once replaces the configuration's whole list
PATH_KEYS = ("waivers", "output")  # relative to the configuration file's folder


class ConfigError(OptionsError):
    """A configuration that cannot be used: one line naming the file (and line) and the key."""


# Plain classes: each record or NamedTuple class costs some start-up time (auditor.records).
class Source:
    """Where a value in force came from: 'default', 'flag', or a configuration file and its line (None: the key
    was found in the file but not on a line of its own, as in an inline table)."""

    __slots__ = ("kind", "file", "line")

    def __init__(self, kind: str, file: str | None = None, line: int | None = None) -> None:
        self.kind, self.file, self.line = kind, file, line  # kind: default | flag | file

    def __str__(self) -> str:
        if self.kind != "file":
            return self.kind
        return f"{self.file}:{self.line}" if self.line else str(self.file)


if TYPE_CHECKING:
    Values = dict[str, tuple[Any, Optional[int]]]  # key: (checked value, its line)


class Config:
    """A configuration file's checked values: `shared` at its top, `tables` per command; paths in them already
    joined to the file's folder."""

    __slots__ = ("path", "shared", "tables")

    def __init__(self, path: str, shared: Values, tables: dict[str, Values]) -> None:
        self.path, self.shared, self.tables = path, shared, tables

    def lookup(self, table: str, key: str) -> tuple[Any, Source] | None:
        for values in (self.tables.get(table, {}), self.shared):
            if key in values:
                value, line = values[key]
                return value, Source("file", self.path, line)
        return None


class Setting:
    __slots__ = ("key", "value", "source")

    def __init__(self, key: str, value: Any, source: Source) -> None:
        self.key, self.value, self.source = key, value, source


class Settled:
    """What a command runs with: its configuration file (None: none) and each setting with its source."""

    __slots__ = ("config", "command", "settings")

    def __init__(self, config: str | None, command: str, settings: tuple[Setting, ...]) -> None:
        self.config, self.command, self.settings = config, command, settings

    def source(self, key: str) -> Source | None:
        return next((s.source for s in self.settings if s.key == key), None)

    def waivers_label(self) -> str:
        """How an error of the waiver file in force names where it was asked for."""
        source = self.source("waivers")
        return f"{source}: waivers:" if source is not None and source.kind == "file" else "--waivers"

    def waivers_in_config(self) -> bool:
        """Whether the waivers in force are the configuration file's own tables (its other keys are settings)."""
        source = self.source("waivers")
        value = next((s.value for s in self.settings if s.key == "waivers"), None)
        return source is not None and source.kind == "file" and value == self.config


# -- finding the file -----------------------------------------------------------------------------------------------

def discover(start: str) -> str | None:
    """The configuration in force for a command run in `start`: see the module's docstring."""
    place = os.path.abspath(start)
    while True:
        own = os.path.join(place, CONFIG_NAME)
        if os.path.isfile(own):
            return own
        pyproject = os.path.join(place, PYPROJECT)
        if os.path.isfile(pyproject) and _has_auditor_table(pyproject):
            return pyproject
        parent = os.path.dirname(place)
        if os.path.lexists(os.path.join(place, ".git")) or parent == place:  # a worktree's .git is a file
            return None
        place = parent


# Every way TOML can write into tool.auditor: a [tool.auditor…] or [[tool.auditor…]] header, a [tool] table, or a
# top-level `tool.auditor… =` or `tool =`. A pyproject.toml with none of them is not parsed at all (most are not).
_MAY_HOLD_TOOL_AUDITOR = re.compile(r"""^\s*(?:\[\[?\s*["']?tool["']?\s*(?:\]|\.\s*["']?auditor\b)"""
                                    r"""|["']?tool["']?\s*(?:=|\.\s*["']?auditor\b))""", re.M)


def _has_auditor_table(path: str) -> bool:
    text = _read(path)
    if "auditor" not in text or not _MAY_HOLD_TOOL_AUDITOR.search(text):
        return False
    tool = _parse(path, text).get("tool")
    return isinstance(tool, dict) and "auditor" in tool


def _read(path: str) -> str:
    from auditor.inputs import read_text_input

    return read_text_input(path, MAX_BYTES, ConfigError)


_parsed: dict[str, tuple[str, dict[str, Any]]] = {}  # path: (text, document); discovery parses, load reads it again


def _parse(path: str, text: str) -> dict[str, Any]:
    cached = _parsed.get(path)
    if cached is not None and cached[0] == text:
        return cached[1]
    _parsed[path] = (text, _parse_text(path, text))
    return _parsed[path][1]


def _parse_text(path: str, text: str) -> dict[str, Any]:
    import tomli

    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None


# -- reading and checking ----------------------------------------------------------------------------------------------

def load(path: str) -> Config:
    """The configuration of `path` (an auditor.toml, or a pyproject.toml's [tool.auditor]), every key checked."""
    text = _read(path)
    data = _parse(path, text)
    lines = text.splitlines()
    pyproject = os.path.basename(path) == PYPROJECT
    prefix = ("tool", "auditor") if pyproject else ()
    if pyproject:
        tool = data.get("tool")
        found = tool.get("auditor") if isinstance(tool, dict) else None
        if not isinstance(found, dict):
            raise ConfigError(f"{path}: no [tool.auditor] table")
        table: dict[str, Any] = found
    else:
        table = data
    checker = _Checker(path, lines, prefix)
    shared: Values = {}
    tables: dict[str, Values] = {}
    for key, value in table.items():
        if key in COMMAND_KEYS:
            if not isinstance(value, dict):
                raise checker.error((), key, f"must be a table ([{checker.dotted((key,))}]) of settings")
            tables[key] = {name: checker.value((key,), name, item, COMMAND_KEYS[key]) for name, item in value.items()}
        else:
            shared[key] = checker.value((), key, value, SHARED_KEYS)
    return Config(path, shared, tables)


class _Checker:
    """Checks one file's keys and values; finds their lines (tomli gives no positions) for messages and sources."""

    def __init__(self, path: str, lines: list[str], prefix: tuple[str, ...]) -> None:
        self.path, self.lines, self.prefix = path, lines, prefix
        self.folder = os.path.dirname(path)

    def dotted(self, table: tuple[str, ...]) -> str:
        return ".".join((*self.prefix, *table))

    def error(self, table: tuple[str, ...], key: str, message: str) -> ConfigError:
        line = self.line(table, key)
        where = f"{self.path}:{line}" if line else self.path
        return ConfigError(f"{where}: {self.dotted((*table, key))}: {message}")

    def line(self, table: tuple[str, ...], key: str) -> int | None:
        """The 1-based line setting `key` in `table` (`key = …` under its header, or `[[…key]]`), if on one."""
        header = [part for part in (*self.prefix, *table)]
        current: list[str] | None = [] if not header else None
        name = rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
        assignment = re.compile(rf"\s*{name}\s*=")
        for number, text in enumerate(self.lines, 1):
            opened = _HEADER.match(text)
            if opened:
                parts = [p.strip().strip("\"'") for p in opened.group(2).split(".")]
                if opened.group(1) == "[[" and parts == [*header, key]:
                    return number
                current = parts if opened.group(1) == "[" else None
            elif current == header and assignment.match(text):
                return number
        return None

    def value(self, table: tuple[str, ...], key: str, value: Any, allowed: Sequence[str]) -> tuple[Any, Optional[int]]:
        if key not in allowed:
            where = f"[{self.dotted(table)}]" if table or self.prefix else "the top level"
            more = " (a table of its own: [scan], [truststore], [probe], [report])" if not table else ""
            meant = key.replace("_", "-")
            hint = f" (did you mean {meant!r}?)" if meant != key and meant in allowed else ""
            raise self.error(table, key, f"unknown key{hint}; {where} takes {', '.join(allowed)}{more}")
        check = _CHECKS[key]
        if key == "waivers" and table and isinstance(value, list):
            raise self.error(table, key, f"waiver tables are written once, at the top: "
                                         f"[[{self.dotted(('waivers',))}]]")
        try:
            checked = check(self, value)
        except _Bad as bad:
            raise self.error(table, key, str(bad)) from None
        return checked, self.line(table, key)


class _Bad(Exception):
    pass


_HEADER = re.compile(r"\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")


def _fail_on(_: _Checker, value: Any) -> str:
    from auditor.cli.parser import SEVERITIES

    if not isinstance(value, str) or value not in SEVERITIES:
        raise _Bad(f"{value!r} is not a severity; give one of {', '.join(SEVERITIES)}")
    return str(value)


def _packs(_: _Checker, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _Bad(f"{value!r}: give a list of rule pack ids, such as [\"dynamodb-2013\"]")
    from auditor.checks.rules import RulesError, load_packs

    try:
        known = load_packs()
    except RulesError as exc:
        raise _Bad(str(exc)) from None
    unknown = [item for item in value if item not in known]
    if unknown:
        raise _Bad(f"unknown rule pack {', '.join(unknown)}; available: {', '.join(sorted(known))}")
    return tuple(value)


def _waivers(checker: _Checker, value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return checker.path  # the waivers are the file's own [[tool.auditor.waivers]] / [[waivers]] tables
    if not isinstance(value, str) or not value:
        raise _Bad(f"{value!r}: give a waiver file's path (relative to this file's folder), or write the waivers "
                   f"here as [[{checker.dotted(('waivers',))}]] tables")
    return os.path.join(checker.folder, os.path.expanduser(value))


def _exclude(_: _Checker, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip("/") for item in value):
        raise _Bad(f"{value!r}: give a list of patterns, such as [\"tests/fixtures\", \"*.whl\"]")
    return tuple(value)


def _as_of(_: _Checker, value: Any) -> str:
    import datetime as dt

    if type(value) is dt.date:  # a TOML date: as-of = 2026-11-28
        return value.isoformat()
    from auditor.cli.parser import valid_date

    if isinstance(value, str) and valid_date(value):
        return value
    raise _Bad(f"{value!r} is not a date like 2026-11-28")


def _format(_: _Checker, value: Any) -> str:
    from auditor.report import FORMATS

    if not isinstance(value, str) or value not in FORMATS:
        raise _Bad(f"{value!r} is not a format; give one of {', '.join(FORMATS)}")
    return str(value)


def _output(checker: _Checker, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Bad(f"{value!r}: give the report file's path (relative to this file's folder)")
    return os.path.join(checker.folder, os.path.expanduser(value))


_CHECKS: dict[str, Callable[[_Checker, Any], Any]] = {
    "fail-on": _fail_on, "packs": _packs, "waivers": _waivers, "as-of": _as_of, "exclude": _exclude,
    "format": _format, "output": _output}


# -- settling a command's values -------------------------------------------------------------------------------------

def command_of(args: argparse.Namespace) -> str | None:
    """The key of APPLIES for a parsed command line (None: a command that takes no settings)."""
    if args.command == "report":
        name = f"report {getattr(args, 'report_command', None)}"
        return name if name in APPLIES else None
    return args.command if args.command in APPLIES else None


def built_in(command: str, key: str) -> Any:
    if key == "fail-on":
        return None if command in ("report render", "report merge") else "high"  # None: the saved report's own
    return {"packs": (), "exclude": (), "format": "table"}.get(key)


def config_in_force(explicit: str | None, none: bool, cwd: str | None = None) -> Config | None:
    """The configuration a command uses: `--config FILE`, none with `--no-config`, else the one discovered."""
    if none:
        return None
    if explicit is not None:
        if not os.path.isfile(explicit):
            raise ConfigError(f"--config {explicit}: no such file")
        return load(explicit)
    found = discover(cwd or os.getcwd())
    return load(found) if found else None


def settle_values(command: str, config: Config | None, given: dict[str, Any]) -> Settled:
    """Each setting of `command`: the flag's value where one was given, else the configuration's, else built in."""
    table, keys = APPLIES[command]
    settings = []
    for key in keys:
        if key in given:
            settings.append(Setting(key, given[key], Source("flag")))
            continue
        found = config.lookup(table, key) if config else None
        settings.append(Setting(key, found[0], found[1]) if found else
                        Setting(key, built_in(command, key), Source("default")))
    return Settled(config.path if config else None, command, tuple(settings))


def settle(args: argparse.Namespace, cwd: str | None = None) -> Settled | None:
    """Fill the parsed command line's unset settings from the configuration in force and the built-in defaults
    (in place: the commands' values are then built from it as before). None for a command without settings."""
    command = command_of(args)
    if command is None:
        return None
    config = config_in_force(getattr(args, "config", None), getattr(args, "no_config", False), cwd)
    given = {}
    for key in APPLIES[command][1]:
        value = getattr(args, DEST[key])
        if value not in (None, []):
            given[key] = tuple(value) if isinstance(value, list) else value
    settled = settle_values(command, config, given)
    for setting in settled.settings:
        value = setting.value
        setattr(args, DEST[setting.key], list(value) if setting.key in LISTS else value)
    return settled
