"""TOML lockfiles: uv.lock, poetry.lock, pdm.lock and pylock.toml (PEP 751).

All four list package tables with a name and a version; they differ in the key of
that list and in where they state their own format version.
"""

from __future__ import annotations

import re
import reprlib

from auditor import names
from auditor.collect.python.lockfiles import Pin, Pins, lines_of, read_document, text_of
from auditor.fs import View
from auditor.model import ScanError
from auditor.records import record

import tomli


@record
class Format:
    label: str
    packages_key: str
    version_path: tuple[str, ...]  # where the file states its format version
    known_majors: tuple[str, ...]  # format versions this reader understands


FORMATS = {
    "uv.lock": Format("uv.lock", "package", ("version",), ("1",)),
    "poetry.lock": Format("poetry.lock", "package", ("metadata", "lock-version"), ("1", "2")),
    "pdm.lock": Format("pdm.lock", "package", ("metadata", "lock_version"), ("4",)),
    "pylock.toml": Format("pylock.toml", "packages", ("lock-version",), ("1",)),
}


def parser_for(label: str):
    fmt = FORMATS[label]

    def parse(view: View, path: str, watched: set[str]) -> Pins:
        return _parse(fmt, view, path, watched)

    return parse


def _parse(fmt: Format, view: View, path: str, watched: set[str]) -> Pins:
    where = view.display(path)
    document = read_document(view, path, tomli.loads, "TOML")
    if document.errors:
        return Pins(errors=document.errors)
    text, data = document.text, document.data
    errors: list[ScanError] = []
    stated = _lookup(data, fmt.version_path)
    if stated is None or text_of(stated).split(".")[0] not in fmt.known_majors:
        errors.append(ScanError(where, f"{fmt.label} format version {reprlib.repr(stated)} is not one this auditor knows "
                                       f"({', '.join(m + '.x' for m in fmt.known_majors)}); packages read on a best-effort basis"))
    packages = data.get(fmt.packages_key, [])
    if not isinstance(packages, list):
        errors.append(ScanError(where, f"'{fmt.packages_key}' is not a list of tables; nothing read"))
        return Pins(errors=errors)
    lines = _name_lines(text)
    pins: list[Pin] = []
    for package in packages:
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            errors.append(ScanError(where, f"a '{fmt.packages_key}' entry without a name; skipped"))
            continue
        name = names.normalize(package["name"])
        if name not in watched:
            continue
        version = package.get("version")
        version = text_of(version) if version is not None else None
        details: dict[str, object] = {}
        if package.get("marker") or package.get("markers"):
            details["marker"] = text_of(package.get("marker") or package.get("markers"))
        source = package.get("source")
        if isinstance(source, dict) and source and "registry" not in source:
            details["source"] = {k: text_of(v) for k, v in sorted(source.items())}
        line = lines.get(name, [None]).pop(0) if lines.get(name) else None
        specifier = f"=={version}" if version else ""
        pins.append(Pin(name, version, specifier, path, line, fmt.label, details))
    return Pins(pins, errors)


def _lookup(data: object, keys: tuple[str, ...]):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


_NAME_LINE = re.compile(r'^[ \t]*name[ \t]*=[ \t]*"([^"\n]+)"', re.M)  # not \s: it would span blank lines


def _name_lines(text: str) -> dict[str, list[int]]:
    """Line numbers of `name = "…"` lines, per normalised name, in file order."""
    found: dict[str, list[int]] = {}
    for match, line in lines_of(_NAME_LINE, text):
        found.setdefault(names.normalize(match.group(1)), []).append(line)
    return found
