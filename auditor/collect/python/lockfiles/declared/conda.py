"""conda environment files (environment.yml, as `conda env export` and people write them): the `dependencies`
list of conda match specs, and its nested `pip:` list of requirements as pip reads them.

Match specs are converted as conda reads them: `boto=2.9.0` is fuzzy (2.9.0, 2.9.0.1, … : PEP 440 ==2.9.0.*),
`boto=2.9.0=py27_0` (with a build, as `conda env export` writes) and `boto==2.9.0` and `boto 2.9.0` are exact,
`botocore>=1.0,<2` is a range, `conda-forge::boto3=1.26` names its channel; `|` alternatives have no PEP 440 form
and are an error entry. A YAML file so named that is not an environment (no `dependencies` list) gives nothing.

Parsed with PyYAML's composer (libyaml's when present: ten times faster) once its events show no nesting deeper
than 1,000 levels: the nodes carry where they start, and nothing is constructed from the file's tags.
"""

from __future__ import annotations

import bisect
import os
import re
from typing import Optional

from auditor.collect.python.lockfiles import DECLARED_CAP, Pin, Pins, text_of
from auditor.collect.python.lockfiles.declared import Reading, shown
from auditor.fs import FsError, View
from auditor.redact import redact

# An environment file is a few kilobytes (`conda env export` of a large environment, some 30 KB); the cap keeps
# a YAML parse of a stray large file to about a second.
ENVIRONMENT_CAP = DECLARED_CAP
MAX_NESTING = 1000  # the limit the libyaml of PyYAML 6.0.4 wheels enforces itself
_CHANNEL_TOKEN = re.compile(r"(/t/)[^/]+")
_NAME = re.compile(r"([^\s=<>!~\[]+)\s*(.*)$", re.S)
_OPERATOR_SPACE = re.compile(r"(==|!=|<=|>=|~=|<|>|=)\s+")
_LIST_SPACE = re.compile(r"\s*([,|])\s*")
_BUILD_EQUALS = re.compile(r"(?<=[^=!<>~])=(?!=)")  # an '=' that is no operator's: version=build
_CLAUSE = re.compile(r"(==|!=|<=|>=|~=|<|>|=)?(.+)")


class Unconvertible(ValueError):
    pass


def _too_deep(yaml, text: str, loader) -> bool:
    """Whether collections nest deeper than MAX_NESTING. The composer recurses once per level, in C with libyaml:
    before PyYAML 6.0.4 (the release Python 3.9 gets) `[` * 100,000 overflows the stack and kills the process.
    The parser's events are read without recursion, and only up to the first level too deep."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
    return False


def parse(view: View, path: str, watched: set[str]) -> Pins:
    reading = Reading(view, path, watched)
    return Pins(_pins(reading), reading.errors)


def _pins(reading: Reading) -> list[Pin]:
    import yaml

    try:
        text = reading.view.read_text(reading.path, ENVIRONMENT_CAP)
    except FsError as exc:
        reading.error(None, str(exc))
        return []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        if _too_deep(yaml, text, loader):
            reading.error(None, f"invalid YAML: nested more than {MAX_NESTING} levels deep; not read")
            return []
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:  # its text quotes the lines around the problem: not echoed
        mark = exc.problem_mark or exc.context_mark
        reading.error(mark.line + 1 if mark else None, f"invalid YAML: {exc.problem or exc.context}")
        return []
    except yaml.YAMLError as exc:
        reading.error(None, f"invalid YAML: {type(exc).__name__}")
        return []
    except RecursionError:  # the pure-Python composer, without libyaml, on a machine with a small recursion limit
        reading.error(None, "invalid YAML: nested too deeply to read")
        return []
    dependencies = _value(root, "dependencies")
    if not isinstance(dependencies, yaml.SequenceNode):
        return []  # not a conda environment
    pins: list[Pin] = []
    source = f"{reading.filename} dependencies"
    line_of = _LineCounter(text)
    for item in _once(dependencies.value):
        line = line_of(item)
        pip = _value(item, "pip")
        if isinstance(pip, yaml.SequenceNode):
            pins += _pip_section(reading, pip, line_of)
        elif isinstance(pip, yaml.ScalarNode) and pip.value in ("", "~", "null"):
            continue  # `- pip:` with nothing under it
        elif isinstance(item, yaml.ScalarNode):
            pin = _match_spec(reading, text_of(item.value), line, source)
            if pin is not None:
                pins.append(pin)
        else:
            reading.error(line, "a dependencies entry that is neither a match spec nor a pip: list; not read")
    return pins


class _LineCounter:
    """The line a node starts on, counted at '\n' as every other reader counts (YAML also breaks lines at \r, U+0085
    and U+2028). Aliases repeat nodes from anywhere in the file: the newlines are indexed once."""

    def __init__(self, text: str):
        self.newlines = [match.start() for match in re.finditer("\n", text)]

    def __call__(self, node) -> int:
        return bisect.bisect_left(self.newlines, node.start_mark.index) + 1


def _once(nodes: list) -> list:
    """Each node once: an alias (*a) repeats its anchor's node, the same declaration at the same line."""
    seen: set[int] = set()
    once = []
    for node in nodes:
        if id(node) not in seen:
            seen.add(id(node))
            once.append(node)
    return once


def _value(node, key: str):
    """The value node of `key` in a mapping node, or None."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    return next((value for name, value in node.value if isinstance(name, yaml.ScalarNode) and name.value == key), None)


def _pip_section(reading: Reading, section, line_of: "_LineCounter") -> list[Pin]:
    """The pip: list: requirement lines as a requirements file holds them; -r includes are read from beside the
    environment file (inside the target only), other options name no requirement."""
    import yaml

    from auditor.collect.python.lockfiles.requirements import parse as parse_requirements

    pins: list[Pin] = []
    source = f"{reading.filename} pip section"
    for item in _once(section.value):
        line = line_of(item)
        if not isinstance(item, yaml.ScalarNode):
            reading.error(line, "a pip: entry that is not a requirement string; not read")
            continue
        text = text_of(item.value).strip()  # PyYAML without libyaml lets a "\ud800" escape through
        include = re.match(r"(?:-r|--requirement)(?:\s*=\s*|\s+)(?:file:)?(\S+)$", text)
        if include:
            located = reading.view.locate(os.path.dirname(reading.path), include.group(1))
            if "\0" in include.group(1) or not reading.view.inside(located):
                reading.error(line, f"pip: -r {shown(include.group(1))} is outside the scanned target; not read")
                continue
            pins += reading.take(parse_requirements(reading.view, located, reading.watched))
        elif text and not (text.startswith("-") and not text.startswith(("-e", "--editable"))):
            pin = reading.requirement(text.split(" #", 1)[0], line, source)
            if pin is not None:
                pins.append(pin)
    return pins


def _match_spec(reading: Reading, text: str, line: int, source: str) -> Optional[Pin]:
    spec = text.split("#", 1)[0].strip()
    details: dict = {}
    parts = spec.rsplit(":", 2)  # channel::name…, or namespace:name…, as conda splits them
    if len(parts) == 3 and parts[0]:
        # a private channel's URL may hold a token: in its path (anaconda.org's /t/<token>/) or as a password
        details["channel"] = redact(_CHANNEL_TOKEN.sub(r"\1***", parts[0]))
    spec = parts[-1]
    brackets = re.search(r"\[(.*)\]\s*$", spec)
    if brackets:  # name[version='>=1.0', build=…]: the bracket's keys win
        spec = spec[:brackets.start()]
        version_key = re.search(r"""\bversion\s*=\s*["']?([^"',\]]+(?:,[^"',\]]+)*)""", brackets.group(1))
        if version_key:
            spec = f"{spec.strip()} {version_key.group(1)}"
    named = _NAME.match(spec)
    if not named or not reading.watches(named.group(1)):
        return None
    name, rest = named.groups()
    try:
        specifier, build = version_and_build(rest.strip())
    except Unconvertible as exc:
        reading.error(line, f"{name} {shown(rest.strip())}: {exc}; not judged")
        return None
    if build:
        details["build"] = build
    return reading.pin(name, specifier, line, source, details, written=rest.strip() or None)


def version_and_build(rest: str) -> tuple[str, Optional[str]]:
    """(PEP 440 specifier, build string) of a match spec's version part, as conda reads it."""
    if not rest:
        return "", None
    rest = _LIST_SPACE.sub(r"\1", _OPERATOR_SPACE.sub(r"\1", rest))
    words = rest.split()
    if len(words) > 2:
        raise Unconvertible("not a conda match spec")
    version, build = words[0], (words[1] if len(words) == 2 else None)
    if build is None:
        split = list(_BUILD_EQUALS.finditer(version))
        if split and split[-1].start() > 0:
            version, build = version[:split[-1].start()], version[split[-1].end():] or None
    if "|" in version:
        raise Unconvertible("alternatives (|) have no PEP 440 form")
    if version.startswith("=") and not version.startswith("=="):
        version = version[1:]
        if build is None and not version.endswith("*") and not any(c in version for c in ",|="):
            version += "*"  # name=1.2 is fuzzy: 1.2, 1.2.1, …
    elif version.startswith("==") and "," not in version:
        version = version[2:]
    clauses = []
    for clause in version.split(","):
        match = _CLAUSE.fullmatch(clause) if clause else None
        if clause and match is None:  # unreachable: a word of a match spec holds no line break
            raise Unconvertible("not a conda match spec")
        operator, value = match.groups() if match else (None, "")
        if value in ("*", ""):
            if operator:
                raise Unconvertible(f"{clause!r} compares with a wildcard")
            continue
        if value.endswith("*"):
            prefix = value.rstrip("*").rstrip(".")
            if operator not in (None, "==", "!=") or not prefix:
                raise Unconvertible(f"{clause!r} has no PEP 440 form")
            clauses.append(f"{'!=' if operator == '!=' else '=='}{prefix}.*")
        elif operator in (None, "=", "=="):
            clauses.append(f"=={value}")
        else:
            clauses.append(f"{operator}{value}")
    return ",".join(clauses), build
