"""Pipfile (pipenv's TOML): [packages], [dev-packages] and any other package category pipenv reads
(`pipenv install --categories`: every table but [[source]], [requires], [scripts] and [pipenv]).

A value is a specifier ("*" for any release, "==2.9.0", ">=1.0,<2"; a bare "2.9.0" is ==, as current pipenv reads
it) or a table: {version = "…", extras = […], markers = "…", index = "…"} and marker keys pipenv turns into markers
(sys_platform = "== 'linux'"); {git = …, ref = …}, {path = …} and {file = …} name no release.
"""

from __future__ import annotations

import re
from typing import Optional

from auditor import names
from auditor.collect.python.lockfiles import DECLARED_CAP, Pin, Pins, read_document
from auditor.collect.python.lockfiles.declared import Reading, TomlLines, shown
from auditor.fs import View
from auditor.redact import redact

import tomli

NOT_PACKAGES = frozenset({"source", "requires", "scripts", "pipenv"})
# PEP 508 environment markers; pipenv accepts them as keys of a package's table
MARKER_KEYS = ("os_name", "sys_platform", "platform_machine", "platform_python_implementation", "platform_release",
               "platform_system", "platform_version", "python_version", "python_full_version",
               "implementation_name", "implementation_version")
_BARE_VERSION = re.compile(r"\d")


def parse(view: View, path: str, watched: set[str]) -> Pins:
    document = read_document(view, path, tomli.loads, "TOML", DECLARED_CAP)
    if document.errors:
        return Pins(errors=document.errors)
    text, data = document.text, document.data
    reading = Reading(view, path, watched)
    toml = TomlLines(text, watched)
    pins: list[Pin] = []
    for category, packages in data.items():
        if category in NOT_PACKAGES or not isinstance(packages, dict):
            continue
        source = f"{reading.filename} [{category}]"
        for name, entry in packages.items():
            if not reading.watches(name):
                continue
            line = toml.line(name, (category,))
            pin = _package(reading, name, entry, line, source)
            if pin is not None:
                pins.append(pin)
    return Pins(pins, reading.errors)


def _package(reading: Reading, name: str, entry, line: Optional[int], source: str) -> Optional[Pin]:
    if isinstance(entry, str):
        entry = {"version": entry}
    if not isinstance(entry, dict):
        reading.error(line, f"{name} = {shown(entry)} is neither a specifier nor a table; not judged")
        return None
    details: dict = {}
    if isinstance(entry.get("index"), str):
        details["index"] = entry["index"]
    if entry.get("editable") is True:
        details["editable"] = True
    origin = next((key for key in ("git", "path", "file") if isinstance(entry.get(key), str)), None)
    if origin:
        details[origin] = redact(entry[origin])
        for key in ("ref", "subdirectory"):
            if isinstance(entry.get(key), str):
                details[key] = entry[key]
        return Pin(names.normalize(name), None, f"@ {redact(entry[origin])}", reading.path, line, source, details)
    version = entry.get("version", "*")
    if not isinstance(version, str):
        reading.error(line, f"{name}: version {shown(version)} is not a string; not judged")
        return None
    version = version.strip()
    specifier = "" if version in ("*", "") else ("==" + version if _BARE_VERSION.match(version) else version)
    extras = entry.get("extras")
    extras = f"[{','.join(str(e) for e in extras)}]" if isinstance(extras, list) and extras else ""
    markers = [entry["markers"]] if isinstance(entry.get("markers"), str) else []
    markers += [f"{key} {entry[key]}" for key in MARKER_KEYS if isinstance(entry.get(key), str)]
    marker = " and ".join(f"({m})" if len(markers) > 1 else m for m in markers)
    requirement = f"{name}{extras}{specifier}" + (f"; {marker}" if marker else "")
    pin = reading.requirement(requirement, line, source, details)
    if pin is not None and specifier != version and version not in ("*", ""):
        pin.details["written"] = version
    return pin
