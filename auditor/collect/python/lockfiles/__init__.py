"""Lockfiles and requirements files: which AWS packages they pin, and to what."""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import reprlib
from typing import Any, Callable, Iterator, Optional

from auditor.collect import Collected
from auditor.facts.package import PackageFacts, Requirement
from auditor.fs import FsError, View
from auditor.model import Component, ScanError
from auditor.records import field, mutable_record

LOCK_CAP = 64 * 1024 * 1024
# A JSON or TOML lockfile: parsing holds the text two or three times (a long string of 64 MB took 220 MB).
DOCUMENT_CAP = 32 * 1024 * 1024
# What a project declares by hand (pyproject.toml, setup.cfg, Pipfile, environment.yml) is a few kilobytes.
DECLARED_CAP = 1024 * 1024
# A parse builds every value of the file; a crafted file of small ones (`[[],[],…]`) costs 60 bytes or more each, and
# tomli reads about 150,000 values a second: the values are counted on the raw text first (each one after the first
# follows one of these marks). A real lockfile of 64 MB holds about 1.5 million JSON values; 500,000 TOML values are
# a poetry.lock or uv.lock of some 14 MB.
MAX_VALUES = {"JSON": 1_500_000, "TOML": 500_000}
_VALUE_MARKS = {"JSON": ",:[{", "TOML": ",=[{"}
# A lockfile pins each package once or a few times (per platform or Python version); a requirements file too.
MAX_PINS = 5_000


@mutable_record
class Pin:
    """One requirement of a watched package, as a lockfile states it."""

    name: str  # normalised
    version: Optional[str]  # set when the file pins exactly one release
    specifier: str  # as written: "==2.9.0", "<0.22", "" (any release)
    path: str  # host path of the file that says it
    line: Optional[int]
    source: str
    # What else the file states of it, in the order its reader meets it: the fields of facts.package.Requirement
    # (its reader's accumulator, which becomes the component's typed facts when the component is made).
    details: dict = field(default_factory=dict)


@mutable_record
class Pins:
    """What a lockfile reader found: the pins of watched packages and its error entries, each in the order met."""

    pins: list[Pin] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)

    def extend(self, other: "Pins") -> None:
        self.pins.extend(other.pins)
        self.errors.extend(other.errors)


@mutable_record
class Document:
    """A lockfile's text and parsed data; when it could not be read, `errors` says why (and `data` is None)."""

    text: str = ""
    data: Any = None
    errors: list[ScanError] = field(default_factory=list)


def read_document(view: View, path: str, loads, language: str, cap: int = DOCUMENT_CAP) -> Document:
    """The text and parsed data of a lockfile, or the error entry saying why it could not be read."""
    try:
        text = view.read_text(path, cap)
        values = 1 + sum(text.count(mark) for mark in _VALUE_MARKS[language])
        if values > MAX_VALUES[language]:
            return Document(errors=[ScanError(view.display(path), f"about {values:,} {language} values, more than the "
                                                                  f"{MAX_VALUES[language]:,} this reader takes; not read")])
        return Document(text, loads(text))
    except FsError as exc:
        message = str(exc)
    except ValueError as exc:  # json.JSONDecodeError and tomli.TOMLDecodeError are ValueErrors
        message = f"invalid {language}: {exc}"
    except RecursionError:  # both parsers recurse into nested arrays and tables
        message = f"invalid {language}: nested too deeply to read"
    return Document(errors=[ScanError(view.display(path), message)])


def text_of(value) -> str:
    """A value of a parsed lockfile as text: lists and tables shortened (they may nest deeply),
    a lone surrogate (JSON's "\\ud800" is not Unicode) kept as its escape."""
    text = reprlib.repr(value) if isinstance(value, (list, dict)) else str(value)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def lines_of(pattern: re.Pattern, text: str) -> Iterator[tuple[re.Match, int]]:
    """Each match of `pattern` in `text` with the line it starts on, counted in one pass over the text."""
    line, position = 1, 0
    for match in pattern.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        yield match, line


@functools.lru_cache(maxsize=8)
def names_pattern(watched: frozenset) -> str:
    """A regular expression (text) matching any watched name as people write it: any case, - _ . alike."""
    return "|".join(re.escape(n).replace(r"\-", "[-_.]+") for n in sorted(watched, key=len, reverse=True))


Parser = Callable[[View, str, "set[str]"], Pins]

# (file-name pattern, format label); the first match wins.
_PATTERNS = (
    ("poetry.lock", "poetry.lock"),
    ("Pipfile.lock", "Pipfile.lock"),
    ("uv.lock", "uv.lock"),
    ("pdm.lock", "pdm.lock"),
    ("pylock.toml", "pylock.toml"),
    ("pylock.*.toml", "pylock.toml"),
    ("*requirements*.txt", "requirements"),
    ("*requirements*.in", "requirements"),
    ("*constraints*.txt", "requirements"),
    ("requires.txt", "requirements"),
    # Declared, not locked (auditor/collect/python/lockfiles/declared/): judged as ranges, as a lockfile's are.
    ("pyproject.toml", "pyproject.toml"),
    ("setup.cfg", "setup.cfg"),
    ("setup.py", "setup.py"),
    ("Pipfile", "Pipfile"),
    ("environment.yml", "environment.yml"),
    ("environment.yaml", "environment.yml"),
    ("environment-*.yml", "environment.yml"),
    ("environment-*.yaml", "environment.yml"),
)


DECLARED = ("pyproject.toml", "setup.cfg", "setup.py", "Pipfile", "environment.yml")


def lockfile_format(filename: str) -> Optional[str]:
    """The lockfile format a file name announces, or None."""
    name = os.path.basename(filename)
    lowered = name.lower()
    for pattern, label in _PATTERNS:
        if fnmatch.fnmatchcase(name, pattern) or (label == "requirements" and fnmatch.fnmatchcase(lowered, pattern)):
            return label
    return None


def _parser(label: str) -> Parser:
    if label == "requirements":
        from auditor.collect.python.lockfiles.requirements import parse
    elif label == "Pipfile.lock":
        from auditor.collect.python.lockfiles.pipfile import parse
    elif label in DECLARED:
        from auditor.collect.python.lockfiles.declared import parser_for

        parse = parser_for(label)
    else:
        from auditor.collect.python.lockfiles.toml_locks import parser_for

        parse = parser_for(label)
    return parse


def collect_lockfile(view: View, path: str, target: str, watched: set[str], label: Optional[str] = None) -> Collected:
    label = label or lockfile_format(path) or "requirements"
    found = _parser(label)(view, path, watched)
    result = Collected(errors=found.errors)
    pins = found.pins
    if len(pins) > MAX_PINS:
        result.errors.append(ScanError(view.display(path), f"pins watched packages {len(pins):,} times, more than the "
                                                           f"{MAX_PINS:,} a real project has; the first {MAX_PINS:,} are read"))
        del pins[MAX_PINS:]
    for pin in pins:
        facts = PackageFacts(requirement=Requirement.of(pin.specifier, pin.version is not None, pin.details))
        result.components.append(
            Component("python-package", pin.name, pin.version, view.display(pin.path), pin.source, target, line=pin.line, facts=facts)
        )
    return result
