"""pyproject.toml: the dependencies a project declares, whichever tool reads them.

- PEP 621: [project] dependencies and [project.optional-dependencies];
- PEP 735: [dependency-groups], whose {include-group = "…"} entries are checked and recorded (each group is
  read itself, so an included requirement is reported once, with the groups that include it);
- Poetry: its dependency tables and constraint syntax (auditor.collect.python.lockfiles.declared.poetry);
- PDM's [tool.pdm.dev-dependencies] and uv's [tool.uv] dev-dependencies: lists of PEP 508 strings;
- `dynamic` dependencies: setuptools' [tool.setuptools.dynamic] requirements files, read as requirements files
  (inside the target only); else, for setuptools, the setup.cfg and setup.py beside it, where setuptools takes them
  from. Any other build backend computes them at build time: an error entry, since nothing here says what they are.
"""

from __future__ import annotations

import os
from typing import Optional

from auditor import names
from auditor.collect.python.lockfiles import DECLARED_CAP, Pin, Pins, read_document
from auditor.collect.python.lockfiles.declared import Reading, TomlLines, leading_name, shown
from auditor.fs import View

import tomli

DYNAMIC_FIELDS = ("dependencies", "optional-dependencies")


def parse(view: View, path: str, watched: set[str]) -> Pins:
    document = read_document(view, path, tomli.loads, "TOML", DECLARED_CAP)
    if document.errors:
        return Pins(errors=document.errors)
    text, data = document.text, document.data
    reading = Reading(view, path, watched)
    toml = TomlLines(text, watched)
    pins: list[Pin] = []
    project = reading.table(data, ("project",))
    if project is not None:
        pins += _project(reading, toml, project)
        pins += _dynamic(reading, data, project)
    groups = reading.table(data, ("dependency-groups",))
    if groups is not None:
        pins += _dependency_groups(reading, toml, groups)
    tool = reading.table(data, ("tool",))
    if tool:
        poetry = reading.table(tool, ("poetry",), ("tool",))
        if poetry:
            from auditor.collect.python.lockfiles.declared.poetry import poetry_pins

            pins += poetry_pins(reading, toml, poetry)
        pdm = reading.table(tool, ("pdm", "dev-dependencies"), ("tool",))
        for group, requirements in (pdm or {}).items():
            pins += _requirements(reading, toml, requirements, ("tool", "pdm", "dev-dependencies"),
                                  f"[tool.pdm.dev-dependencies] {group}", {"group": group})
        uv = reading.table(tool, ("uv",), ("tool",))
        if uv and "dev-dependencies" in uv:
            pins += _requirements(reading, toml, uv["dev-dependencies"], ("tool", "uv"),
                                  "[tool.uv] dev-dependencies", {"group": "dev"})
    return Pins(pins, reading.errors)


def _requirements(reading: Reading, toml: TomlLines, requirements, table: tuple[str, ...], label: str,
                  details: dict, included_by: Optional[list[str]] = None) -> list[Pin]:
    """The watched Pins of a list of PEP 508 strings in `table`; `label` says where, as "[project] dependencies"."""
    if not isinstance(requirements, list):
        reading.error(toml.header(table), f"{label} is a {type(requirements).__name__}, not a list of requirements; "
                                          "not read")
        return []
    source = f"{reading.filename} {label}"
    pins = []
    for requirement in requirements:
        if isinstance(requirement, dict) and label.startswith("[dependency-groups]"):
            continue  # {include-group = …}, checked with the groups
        if not isinstance(requirement, str):
            reading.error(toml.header(table), f"{label}: {shown(requirement)} is not a requirement string; not read")
            continue
        name = leading_name(requirement)
        line = toml.line(name, table) if reading.watches(name) else None
        pin = reading.requirement(requirement, line, source, details)
        if pin is None:
            continue
        if pin.line is None:  # a URL that names the package by #egg=
            pin.line = toml.line(pin.name, table) or toml.string_line(requirement, table)
        if included_by:
            pin.details["included_by"] = included_by
        pins.append(pin)
    return pins


def _project(reading: Reading, toml: TomlLines, project: dict) -> list[Pin]:
    pins = []
    if "dependencies" in project:
        pins += _requirements(reading, toml, project["dependencies"], ("project",),
                              "[project] dependencies", {})
    extras = reading.table(project, ("optional-dependencies",), ("project",))
    for extra, requirements in (extras or {}).items():
        pins += _requirements(reading, toml, requirements, ("project", "optional-dependencies"),
                              f"[project.optional-dependencies] {extra}", {"extra": extra})
    return pins


def _dependency_groups(reading: Reading, toml: TomlLines, groups: dict) -> list[Pin]:
    by_name = {names.normalize(group): group for group in groups}
    includes: dict[str, list[str]] = {}  # group -> groups it includes
    for group, requirements in groups.items():
        for entry in requirements if isinstance(requirements, list) else []:
            if isinstance(entry, dict):
                included = entry.get("include-group")
                if set(entry) != {"include-group"} or not isinstance(included, str):
                    reading.error(toml.header(("dependency-groups",)),
                                  f"[dependency-groups] {group}: {shown(entry)} is neither a requirement nor "
                                  "{include-group = \"…\"}; not read")
                elif names.normalize(included) not in by_name:
                    reading.error(toml.header(("dependency-groups",)),
                                  f"[dependency-groups] {group} includes group {included!r}, which is not defined")
                else:
                    includes.setdefault(group, []).append(by_name[names.normalize(included)])
    reach = _reachable(includes)
    for group in sorted(g for g, reached in reach.items() if g in reached):
        reading.error(toml.header(("dependency-groups",)), f"[dependency-groups] {group} includes itself through "
                                                             "include-group (a cycle)")
    pins = []
    for group, requirements in groups.items():
        including = sorted(other for other, reached in reach.items() if group in reached and other != group)
        pins += _requirements(reading, toml, requirements, ("dependency-groups",), f"[dependency-groups] {group}",
                              {"group": group}, including)
    return pins


def _reachable(includes: dict[str, list[str]]) -> dict[str, set[str]]:
    """For each group, every group it includes, directly or through others."""
    reach = {}
    for start, direct in includes.items():
        seen, pending = set(), list(direct)
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.add(current)
                pending.extend(includes.get(current, ()))
        reach[start] = seen
    return reach


def _dynamic(reading: Reading, data: dict, project: dict) -> list[Pin]:
    dynamic = project.get("dynamic")
    fields = [f for f in DYNAMIC_FIELDS if isinstance(dynamic, list) and f in dynamic]
    if not fields:
        return []
    setuptools = reading.table(data, ("tool", "setuptools", "dynamic")) or {}
    backend = data.get("build-system", {}).get("build-backend") if isinstance(data.get("build-system"), dict) else None
    pins: list[Pin] = []
    from_setup_files = False
    for field in fields:
        declared = setuptools.get(field)
        if declared is None:
            from_setup_files = True
        elif field == "dependencies":
            pins += _files(reading, declared, "dependencies", {})
        elif isinstance(declared, dict):
            for extra, entry in declared.items():
                pins += _files(reading, entry, f"optional-dependencies.{extra}", {"extra": extra})
        else:
            reading.error(None, f"[tool.setuptools.dynamic] optional-dependencies is a {type(declared).__name__}, not "
                                "a table; not read")
    if not from_setup_files:
        return pins
    missing = " and ".join(f for f in fields if f not in setuptools)
    if not (backend is None or (isinstance(backend, str) and backend.startswith("setuptools"))):
        reading.error(None, f"[project] dynamic lists {missing}: the build backend {shown(backend)} computes them when "
                            f"it builds, so they cannot be judged here; write them in [project] to make them judgeable")
        return pins
    # setuptools takes them from setup.cfg and setup.py: read those (a tree scan reads them too; the same pin is
    # one component).
    folder = os.path.dirname(reading.path)
    beside = [name for name in ("setup.cfg", "setup.py") if reading.view.is_file(os.path.join(folder, name))]
    if not beside:
        reading.error(None, f"[project] dynamic lists {missing}, but neither [tool.setuptools.dynamic] nor a setup.cfg "
                            "or setup.py beside it says what they are; not judged")
        return pins
    from auditor.collect.python.lockfiles.declared import parser_for

    for name in beside:
        pins += reading.take(parser_for(name)(reading.view, os.path.join(folder, name), reading.watched))
    return pins


def _files(reading: Reading, declared, field: str, details: dict) -> list[Pin]:
    """The requirements files of a [tool.setuptools.dynamic] entry ({file = "…"} or {file = […]})."""
    from auditor.collect.python.lockfiles.requirements import parse as parse_requirements

    files = declared.get("file") if isinstance(declared, dict) else None
    files = [files] if isinstance(files, str) else files
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        reading.error(None, f"[tool.setuptools.dynamic] {field} = {shown(declared)} names no requirements files; "
                            "not judged")
        return []
    pins: list[Pin] = []
    for name in files:
        located = reading.view.locate(os.path.dirname(reading.path), name)
        if "\0" in name or not reading.view.inside(located):
            reading.error(None, f"[tool.setuptools.dynamic] {field} names {shown(name)}, outside the scanned target; "
                                "not read")
            continue
        for pin in reading.take(parse_requirements(reading.view, located, reading.watched)):
            pin.details.update(details, declared_by=f"{reading.filename} [tool.setuptools.dynamic] {field}")
            pins.append(pin)
    return pins
