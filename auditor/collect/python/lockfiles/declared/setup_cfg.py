"""setup.cfg: [options] install_requires, setup_requires and tests_require, and [options.extras_require].

Read as setuptools reads them: the INI file as configparser splits it (a value goes on over the lines indented
deeper than its key, blank lines included; lines starting with # or ; are comments, even inside a value), then a
value on several lines is one requirement a line, a value on one line splits at ';' (so a marker written on the
key's own line is not the requirement's: setuptools warns about it), and lines starting with '#' are dropped.
`file: a.txt, b.txt` names requirements files, read as requirements files (inside the target only).
"""

from __future__ import annotations

import os
import re
from typing import Iterator

from auditor.collect.python.lockfiles import DECLARED_CAP, Pin, Pins
from auditor.collect.python.lockfiles.declared import Reading, shown
from auditor.fs import FsError, View
from auditor.model import ScanError

OPTIONS = ("install_requires", "setup_requires", "tests_require")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as a text-mode file is read: not at \f, \v or U+2028
_SECTION = re.compile(r"\[(.+)\]")
_OPTION = re.compile(r"(.*?)\s*[=:]\s*(.*)$")


def parse(view: View, path: str, watched: set[str]) -> Pins:
    try:
        text = view.read_text(path, DECLARED_CAP)
    except FsError as exc:
        return Pins(errors=[ScanError(view.display(path), str(exc))])
    reading = Reading(view, path, watched)
    pins: list[Pin] = []
    for section, key, value in _options(text):
        key = key.replace("-", "_")  # setuptools still accepts install-requires, with a warning
        if section == "options" and key in OPTIONS:
            label, details = f"[options] {key}", {}
        elif section == "options.extras_require":
            label, details = f"[options.extras_require] {key}", {"extra": key}
        else:
            continue
        pins += _value(reading, value, f"{reading.filename} {label}", details, label)
    return Pins(pins, reading.errors)


def _options(text: str) -> Iterator[tuple[str, str, list[tuple[int, str]]]]:
    """(section, option name lower-cased, [(line, text)] of its value's lines), as configparser reads them."""
    section: str | None = None
    key: tuple[str, str] | None = None  # (section, option name) of the option being read
    indent, value = 0, list[tuple[int, str]]()
    for number, raw in enumerate(_LINE_BREAK.split(text), 1):
        stripped = raw.strip()
        if stripped.startswith(("#", ";")):
            continue
        depth = len(raw) - len(raw.lstrip())
        if key is not None and (not stripped or depth > indent):
            value.append((number, stripped))
            continue
        if key is not None:
            yield (*key, value)
            key = None
        if not stripped:
            continue
        header = _SECTION.match(stripped)
        if header:
            section = header.group(1).strip()
            continue
        option = _OPTION.match(stripped)
        if option and section is not None:
            key, indent, value = (section, option.group(1).strip().lower()), depth, [(number, option.group(2).strip())]
    if key is not None:
        yield (*key, value)


def _value(reading: Reading, value: list[tuple[int, str]], source: str, details: dict, label: str) -> list[Pin]:
    while len(value) > 1 and not value[-1][1]:
        value = value[:-1]  # configparser drops a value's trailing blank lines
    if value[0][1].startswith("file:"):
        return _files(reading, value[0], details, label)
    if len(value) == 1:
        number, text = value[0]
        lines = [(number, part.strip()) for part in text.split(";")]
    else:
        lines = value
    pins = []
    for number, requirement in lines:
        if requirement and not requirement.startswith("#"):
            pin = reading.requirement(requirement, number, source, details)
            if pin is not None:
                pins.append(pin)
    return pins


def _files(reading: Reading, value: tuple[int, str], details: dict, label: str) -> list[Pin]:
    from auditor.collect.python.lockfiles.requirements import parse as parse_requirements

    number, text = value
    pins: list[Pin] = []
    for name in filter(None, (part.strip() for part in text[len("file:"):].split(","))):
        located = reading.view.locate(os.path.dirname(reading.path), name)
        if "\0" in name or not reading.view.inside(located):
            reading.error(number, f"{label} names {shown(name)}, outside the scanned target; not read")
            continue
        for pin in reading.take(parse_requirements(reading.view, located, reading.watched)):
            pin.details.update(details, declared_by=f"{reading.filename} {label}")
            pins.append(pin)
    return pins
