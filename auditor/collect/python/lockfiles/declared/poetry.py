"""Poetry's dependency tables in pyproject.toml, and its constraint syntax converted to PEP 440.

[tool.poetry.dependencies], [tool.poetry.dev-dependencies] (Poetry before 1.2) and
[tool.poetry.group.<group>.dependencies]. A value is a constraint ("^1.2"), a table ({version = "…",
optional = true, python = "…", markers = "…", extras = […]}; {git = …}, {path = …} or {url = …} name no
release), or a list of tables, each for the Pythons or markers it names.

The conversion follows poetry-core's parser (2.5; earlier releases departed from PEP 440 at pre-releases and
~=): ^V allows changes that keep V's first non-zero part (^1.2 is >=1.2,<2.0, ^0.2.3 is >=0.2.3,<0.3.0, ^0.0.3
is >=0.0.3,<0.0.4, ^0.0 is >=0.0,<0.1); ~V allows patch changes (~1.2.3 is >=1.2.3,<1.3.0; ~1 is >=1,<2);
1.2.* and bare or =-prefixed versions are PEP 440's == (and so is <>V, which poetry-core reads as V itself);
clauses separated by commas or spaces all apply. Alternatives (`||`) have no PEP 440 form: an error entry,
not a guess.
"""

from __future__ import annotations

import re
from typing import Optional

from auditor import names
from auditor.collect.python.lockfiles import Pin
from auditor.collect.python.lockfiles.declared import Reading, TomlLines, shown
from auditor.redact import redact

SECTIONS = (("dependencies",), ("dev-dependencies",))
_CLAUSE = re.compile(r"[\s,]*(\^|~=|~|===|==|!=|<>|<=|>=|<|>|=)?\s*([^\s,]+)[\s,]*")
_ANY = re.compile(r"(?i)v?[x*](?:\.[x*])*")
_WILDCARD = re.compile(r"(?i)(v?\d+(?:\.\d+)*)(?:\.\*)+")


class Unconvertible(ValueError):
    """A Poetry constraint with no PEP 440 form; the message says why."""


def to_pep440(constraint: str) -> str:
    """The PEP 440 specifier of a Poetry constraint: '' for any release. Unconvertible if it has none."""
    text = constraint.strip()
    if "|" in text:
        raise Unconvertible("alternatives (||) have no PEP 440 form")
    clauses, position = [], 0
    while position < len(text):
        match = _CLAUSE.match(text, position)
        if not match or match.end() == position:
            raise Unconvertible("not a Poetry constraint")
        clauses += _clause(match.group(1) or "", match.group(2))
        position = match.end()
    return ",".join(clauses)


def _clause(operator: str, written: str) -> list[str]:
    from packaging.version import InvalidVersion, Version

    if _ANY.fullmatch(written):
        if operator in ("", "=", "=="):
            return []
        raise Unconvertible(f"{operator}{written} compares with a wildcard")
    wildcard = _WILDCARD.fullmatch(written)
    if wildcard:
        if operator in ("", "=", "=="):
            return [f"=={wildcard.group(1).lstrip('vV')}.*"]
        if operator == "!=":
            return [f"!={wildcard.group(1).lstrip('vV')}.*"]
        raise Unconvertible(f"{operator}{written} compares with a wildcard")
    try:
        version = Version(written)
    except InvalidVersion:
        raise Unconvertible(f"{shown(written)} is not a version") from None
    if operator == "^":
        return [f">={version}", f"<{_upper(version, _caret_part(version.release))}"]
    if operator == "~":
        return [f">={version}", f"<{_upper(version, 0 if len(version.release) == 1 else 1)}"]
    if operator == "~=":
        if len(version.release) == 1:  # Poetry reads ~=1 as >=1,<2; PEP 440 does not allow it
            return [f">={version}", f"<{_upper(version, 0)}"]
        return [f"~={version}"]
    if operator in ("", "=", "==", "<>"):  # poetry-core reads <>V as V itself (its !=V is PEP 440's)
        return [f"=={version}"]
    return [f"{operator}{version}"]


def _caret_part(release: tuple[int, ...]) -> int:
    """The release part ^V may not change: the first non-zero one (the last one written if all are zero)."""
    if release[0] > 0 or len(release) == 1:
        return 0
    if release[1] > 0 or len(release) == 2:
        return 1
    return 2


def _upper(version, part: int) -> str:
    """The first release after V that changes release part `part` (counted from 0): the exclusive upper bound."""
    bumped = list(version.release[:part + 1]) + [0] * max(0, len(version.release) - part - 1)
    bumped[part] += 1
    epoch = f"{version.epoch}!" if version.epoch else ""
    return epoch + ".".join(map(str, bumped))


def python_marker(constraint: str) -> Optional[str]:
    """A PEP 508 marker for Poetry's `python = "…"` constraint (alternatives joined with `or`); None if it has none."""
    alternatives = []
    for alternative in re.split(r"\s*\|\|?\s*", constraint.strip()):
        try:
            specifier = to_pep440(alternative)
        except Unconvertible:
            return None
        clauses = []
        for clause in filter(None, specifier.split(",")):
            operated = re.match(r"([<>=!~]+)(.*)", clause)
            if operated is None:  # unreachable: each clause to_pep440 writes starts with its operator
                return None
            operator, version = operated.groups()
            variable = "python_full_version" if version.count(".") >= 2 and not version.endswith(".*") else "python_version"
            clauses.append(f'{variable} {operator} "{version}"')
        if not clauses:
            return None  # any Python: no condition
        alternatives.append(" and ".join(clauses))
    if len(alternatives) == 1:
        return alternatives[0]
    return " or ".join(f"({a})" for a in alternatives)


def poetry_pins(reading: Reading, toml: TomlLines, poetry: dict) -> list[Pin]:
    pins: list[Pin] = []
    tables: list[tuple[tuple[str, ...], dict[str, str]]] = [(path, {}) for path in SECTIONS]
    groups = reading.table(poetry, ("group",), ("tool", "poetry")) or {}
    tables += [(("group", group, "dependencies"), {"group": group}) for group in groups]
    for path, details in tables:
        table = reading.table(poetry, path, ("tool", "poetry"))
        if not table:
            continue
        full_path = ("tool", "poetry", *path)
        source = f"{reading.filename} [{'.'.join(full_path)}]"
        for raw_name, value in table.items():
            if raw_name == "python" or not reading.watches(raw_name):
                continue
            line = toml.line(raw_name, full_path)
            entries = value if isinstance(value, list) else [value]
            lines = toml.table_lines(line, len(entries)) if len(entries) > 1 else [line]
            for index, (entry, entry_line) in enumerate(zip(entries, lines), 1):
                alternative = f" (constraint {index} of {len(entries)})" if len(entries) > 1 else ""
                pin = _dependency(reading, raw_name, entry, entry_line, source + alternative, details)
                if pin is not None:
                    pins.append(pin)
    return pins


def _dependency(reading: Reading, name: str, entry, line, source: str, details: dict) -> Optional[Pin]:
    details = dict(details)
    if isinstance(entry, str):
        entry = {"version": entry}
    if not isinstance(entry, dict):
        reading.error(line, f"{name} = {shown(entry)} is neither a constraint nor a table; not judged")
        return None
    for key in ("optional", "allow-prereleases", "develop"):
        if entry.get(key) is True:
            details[key.replace("-", "_")] = True
    if isinstance(entry.get("extras"), list):
        details["extras"] = sorted(str(e) for e in entry["extras"])
    if isinstance(entry.get("source"), str):
        details["index"] = entry["source"]
    markers = []
    if isinstance(entry.get("python"), str):
        details["python"] = entry["python"]
        marker = python_marker(entry["python"])
        markers.append(marker if marker else f"python {entry['python']}")
    if isinstance(entry.get("markers"), str):
        markers.append(entry["markers"])
    if markers:
        details["marker"] = " and ".join(f"({m})" if len(markers) > 1 else m for m in markers)
    origin = next((key for key in ("git", "path", "url", "file") if isinstance(entry.get(key), str)), None)
    if origin:
        where = redact(entry[origin])
        details[origin] = where
        for key in ("branch", "tag", "rev", "subdirectory"):
            if isinstance(entry.get(key), str):
                details[key] = entry[key]
        # a git tag or a local path is not a release on PyPI: the rules say no release is named
        return Pin(names.normalize(name), None, f"@ {where}", reading.path, line, source, details)
    written = entry.get("version", "*")
    if not isinstance(written, str):
        reading.error(line, f"{name}: version {shown(written)} is not a string; not judged")
        return None
    try:
        specifier = to_pep440(written)
    except Unconvertible as exc:
        reading.error(line, f"{name} {shown(written)}: {exc}; not judged")
        return None
    return reading.pin(name, specifier, line, source, details, written=written)
