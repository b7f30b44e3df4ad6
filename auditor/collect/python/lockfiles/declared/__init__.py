"""Dependencies a project declares without locking them: pyproject.toml, setup.cfg, setup.py, Pipfile and conda
environment files.

Each reader turns its file's own syntax into the PEP 440 specifier a lockfile reader gives (a Pin), so the rules
judge a declared range as they judge a locked one, and each Pin points at the line that declares it. Nothing of the
target runs: setup.py is read with `ast`, and a value it computes at run time is an error entry saying so, never a
guess. What has no PEP 440 form (the `||` alternatives of Poetry and conda) is an error entry too: a range that was
not judged must not read as a safe one.

A subpackage of its own: five formats share the helpers below (a requirement string at its line, a PEP 440 range
checked before it is reported, the lines of a TOML file's keys and strings), which the lockfile readers do not need.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
from typing import Optional

from auditor import names
from auditor.collect.python.lockfiles import Pin, Pins, lines_of, names_pattern
from auditor.collect.python.lockfiles.requirements import exact_version, pin_from
from auditor.fs import View
from auditor.model import ScanError
from auditor.records import field, mutable_record

SHOWN_CAP = 200  # longer values are not echoed in an error message


def parser_for(label: str):
    if label == "pyproject.toml":
        from auditor.collect.python.lockfiles.declared.pyproject import parse
    elif label == "setup.cfg":
        from auditor.collect.python.lockfiles.declared.setup_cfg import parse
    elif label == "setup.py":
        from auditor.collect.python.lockfiles.declared.setup_py import parse
    elif label == "Pipfile":
        from auditor.collect.python.lockfiles.declared.pipfile import parse
    else:
        from auditor.collect.python.lockfiles.declared.conda import parse
    return parse


_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+)")
_LEADING_NAME = re.compile(r"\s*(?:(?:-e|--editable)(?:\s*=\s*|\s+))?([A-Za-z0-9][A-Za-z0-9._-]*)")


def leading_name(requirement: str) -> Optional[str]:
    """The project name a requirement string starts with ('boto' of 'boto[ssl]>=2; …'), if any."""
    match = _LEADING_NAME.match(requirement)
    return match.group(1) if match else None


def shown(value) -> str:
    """A value from the file as an error message quotes it: repr, credentials masked, shortened, without lone
    surrogates."""
    from auditor.redact import redact

    text = redact(repr(value))
    text = text if len(text) <= SHOWN_CAP else text[:SHOWN_CAP] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@mutable_record
class Reading:
    """One declaration file being read: what is watched, and the error entries met so far."""

    view: View
    path: str
    watched: set[str]
    errors: list[ScanError] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return os.path.basename(self.path)

    def watches(self, name) -> bool:
        return isinstance(name, str) and names.normalize(name) in self.watched

    def take(self, found: Pins) -> list[Pin]:
        """The pins another reader found (a file this one names), its error entries kept with this one's."""
        self.errors.extend(found.errors)
        return found.pins

    def error(self, line: Optional[int], message: str) -> None:
        self.errors.append(ScanError(self.view.display(self.path), f"line {line}: {message}" if line else message))

    def table(self, container: dict, path: tuple[str, ...], prefix: tuple[str, ...] = ()) -> Optional[dict]:
        """container[path[0]][path[1]]…: a table, or None when absent (and an error entry when something else is
        written there: what it would declare is not read)."""
        table = container
        for index, key in enumerate(path):
            value = table.get(key)
            if value is None:
                return None
            if not isinstance(value, dict):
                where = ".".join(prefix + path[:index + 1])
                self.error(None, f"[{where}] is a {type(value).__name__}, not a table; not read")
                return None
            table = value
        return table

    def requirement(self, text: str, line: Optional[int], source: str, details: Optional[dict] = None) -> Optional[Pin]:
        """The Pin of one PEP 508 requirement string (or `-e PATH/URL`, as PDM writes editable ones), if it names
        a watched package; an invalid one that names a watched package is an error entry."""
        text = text.strip()
        editable = _EDITABLE.match(text)
        if editable:
            text, source = text[editable.end():], source + " (editable)"
        for pin in self.take(pin_from(self.view, text, self.watched, self.path, line, source)):
            pin.details.update(details or {})
            return pin
        return None

    def pin(self, name: str, specifier: str, line: Optional[int], source: str, details: dict,
            written: Optional[str] = None) -> Optional[Pin]:
        """A Pin of a range converted from another syntax (Poetry, conda), checked to be valid PEP 440 first:
        the rules judge it with `packaging`, and a range they cannot read would pass unjudged."""
        if specifier:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                SpecifierSet(specifier)
            except InvalidSpecifier:
                self.error(line, f"{name} {shown(written or specifier)} has no PEP 440 form ({specifier!r} is not a "
                                 f"valid specifier); not judged")
                return None
        if written is not None and written != specifier:
            details = dict(details, written=written)
        return Pin(names.normalize(name), exact_version(specifier), specifier, self.path, line, source, details)


# -- where a TOML file says it --------------------------------------------------------------------------------

_HEADER = re.compile(r"^[ \t]*\[\[?([^\[\]\n]+)\]\]?[ \t]*(?:#[^\n]*)?$", re.M)
_KEY_PART = re.compile(r"""[ \t]*(?:"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'|([A-Za-z0-9_-]+))[ \t]*(\.|$)""")


def _key_path(header: str) -> Optional[tuple[str, ...]]:
    """('tool', 'poetry', 'dependencies') of the header text 'tool.poetry. "dependencies"'."""
    parts, position = [], 0
    while position < len(header):
        match = _KEY_PART.match(header, position)
        if not match:
            return None
        parts.append(next(g for g in match.groups()[:3] if g is not None))
        position = match.end()
    return tuple(parts) or None


@functools.lru_cache(maxsize=8)
def _mention_pattern(watched: frozenset) -> re.Pattern:
    # A watched name where a key or a requirement string starts, followed by what may follow a name in a
    # requirement or a key (not prose: description = "boto3 helpers" is no mention).
    return re.compile(rf"""(?:^[ \t]*|["'][ \t]*)({names_pattern(watched)})(?=[ \t]*(?:[\[\]<>=!~;@(,"']|$))""",
                      re.M | re.I)


class TomlLines:
    """The lines of a TOML file's table headers and of the keys and strings that start with a watched name.

    tomli gives values without positions; a value's line is the first mention of its name, not yet taken,
    between its table's header and the next header. A mention after a '#' on its line is a comment's.
    """

    def __init__(self, text: str, watched: set[str]):
        self.text = text
        self.tables: list[tuple[int, tuple[str, ...]]] = []
        for match, line in lines_of(_HEADER, text):
            path = _key_path(match.group(1))
            if path is not None:
                self.tables.append((line, path))
        self.mentions: dict[str, list[int]] = {}
        for match, line in lines_of(_mention_pattern(frozenset(watched)), text):
            start = text.rfind("\n", 0, match.start()) + 1
            if "#" not in text[start:match.start()]:
                self.mentions.setdefault(names.normalize(match.group(1)), []).append(line)
        # Per name, the next mention not yet taken at or after each index (followed and shortened as mentions are
        # taken): a file that names a package a million times is still read in linear time.
        self._next: dict[str, list[int]] = {name: list(range(len(lines) + 1)) for name, lines in self.mentions.items()}
        self._lines: Optional[list[str]] = None
        self._strings: Optional[dict[str, list[int]]] = None

    def header(self, path: tuple[str, ...]) -> Optional[int]:
        return next((line for line, p in self.tables if p == path), None)

    def span(self, path: tuple[str, ...]) -> tuple[int, float]:
        """The lines of table `path`: from its header (or its closest parent's, for a table written inline or with
        dotted keys) to the next header; the whole file when none is written."""
        for length in range(len(path), 0, -1):
            for index, (line, table) in enumerate(self.tables):
                if table == path[:length]:
                    end = self.tables[index + 1][0] if index + 1 < len(self.tables) else float("inf")
                    return line, end
        return 1, float("inf")

    def line(self, name: Optional[str], path: tuple[str, ...]) -> Optional[int]:
        """The line of the next mention of `name` in table `path`; a table of its own ([tool.poetry.dependencies.boto])
        when the name is a key written that way."""
        if not name:
            return None
        name = names.normalize(name)
        start, end = self.span(path)
        lines = self.mentions.get(name, [])
        index = self._untaken(name, bisect.bisect_left(lines, start))
        if index < len(lines) and lines[index] < end:
            self._next[name][index] = index + 1
            return lines[index]
        return next((line for line, table in self.tables if len(table) == len(path) + 1 and table[:-1] == path
                     and names.normalize(table[-1]) == name), None)

    def _untaken(self, name: str, index: int) -> int:
        following = self._next.get(name, [0])
        root = index
        while following[root] != root:
            root = following[root]
        while following[index] != root:  # shorten the way for the next search
            following[index], index = root, following[index]
        return root

    def table_lines(self, key_line: Optional[int], count: int) -> list[Optional[int]]:
        """The lines of the `count` inline tables of a list written from `key_line` on (Poetry's list of
        constraints, one {…} each); `key_line` for each when they cannot be told apart."""
        if key_line is None:
            return [None] * count
        if self._lines is None:
            self._lines = self.text.split("\n")
        found: list[Optional[int]] = []
        for number in range(key_line, min(len(self._lines), key_line + 2 * count + 8) + 1):
            text = self._lines[number - 1]
            found += [number] * (text.split("=", 1)[-1] if number == key_line else text).count("{")
            if len(found) >= count:
                return found[:count]
        return [key_line] * count

    def string_line(self, value: str, path: tuple[str, ...]) -> Optional[int]:
        """The line of a string value written as is ("…" or '…', no escapes) in table `path`: a requirement that
        does not start with its name (a URL naming it by #egg=)."""
        if self._strings is None:  # every string of the file, indexed once
            self._strings = {}
            for match, line in lines_of(_STRING, self.text):
                self._strings.setdefault(match.group(1) or match.group(2) or "", []).append(line)
        start, end = self.span(path)
        lines = self._strings.get(value, [])
        index = bisect.bisect_left(lines, start)
        return lines[index] if index < len(lines) and lines[index] < end else None


_STRING = re.compile(r""""((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'""")  # a basic string (escapes kept) or a literal one
