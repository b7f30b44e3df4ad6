"""The text of one requirement edited in place: only the version text of the pin (or the specifier of a range)
changes; the name, extras, markers, comments, quoting and line ending stay as written. Each function returns the
new text of the line, or raises Refusal when the line does not say what the scan read there."""

from __future__ import annotations

import re

from auditor.fix.releases import Refusal

OPERATOR = r"(?:===|==|~=|!=|<=|>=|<|>)"
CLAUSE = rf"{OPERATOR}\s*[A-Za-z0-9_.*+!-]+"
PIN = re.compile(r"^(===?)\s*(\S+)$")
HASH = re.compile(r"--hash[=\s]\s*sha256:([0-9a-fA-F]{64})")


def new_specifier(written: str, version: str) -> tuple[str, str]:
    """(the new specifier text, what was done) for a PEP 440 specifier: a pin keeps its operator and gets the new
    version; a range that admits only early releases becomes `>=version`."""
    pin = PIN.match(written.strip())
    if pin:
        return f"{pin.group(1)}{version}", f"pin raised to {version}"
    return f">={version}", f"'{written.strip()}' replaced with '>={version}'"


def edit_pep508(line: str, name: str, specifier: str, version: str) -> tuple[str, str]:
    """A PEP 508 requirement on `line` (a requirements file, a pyproject.toml or setup.cfg string) whose specifier
    is `specifier` (as the scan normalised it), given `version`. (new line, what was done)."""
    found = _requirement(line, name, specifier)
    start, end = found.span("spec")
    written = found.group("spec")
    pin = PIN.match(written)
    if pin:  # only the version text: "boto == 2.9.0" keeps its spaces
        at = start + written.rindex(pin.group(2))
        return line[:at] + version + line[at + len(pin.group(2)):], f"pin raised to {version}"
    text, did = new_specifier(written, version)
    return line[:start] + text + line[end:], did


def _requirement(line: str, name: str, specifier: str) -> re.Match[str]:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    name_text = r"[-_.]+".join(re.escape(part) for part in re.split(r"[-_.]+", name))
    pattern = re.compile(rf"(?<![\w.-])(?:{name_text})(?:\s*\[[^\]]*\])?\s*(?P<spec>{CLAUSE}(?:\s*,\s*{CLAUSE})*)",
                         re.IGNORECASE)
    wanted = SpecifierSet(specifier)
    for found in pattern.finditer(line):
        try:
            if SpecifierSet(found.group("spec")) == wanted:
                return found
        except InvalidSpecifier:
            continue
    raise Refusal(f"the line no longer reads '{name}{specifier}'")


def edit_quoted(line: str, written: str, replacement: str) -> str:
    """The one quoted string `written` on the line (a Poetry constraint, a Pipfile version) replaced."""
    quoted = list(re.finditer(rf"(?P<q>[\"'])(?P<text>{re.escape(written)})(?P=q)", line))
    if len(quoted) != 1:
        raise Refusal(f"the line does not hold '{written}' once" if quoted else f"the line no longer reads '{written}'")
    start, end = quoted[0].span("text")
    return line[:start] + replacement + line[end:]


def quoted_specifier(line: str, specifier: str) -> str:
    """The quoted string on the line that is this specifier (a Pipfile writes '>=1.1.0,<1.2.2' for '<1.2.2,>=1.1.0')."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    wanted = SpecifierSet(specifier)
    for found in re.finditer(r"([\"'])(?P<text>[^\"']*)\1", line):
        try:
            if SpecifierSet(found.group("text")) == wanted:
                return found.group("text")
        except InvalidSpecifier:
            continue
    raise Refusal(f"the line no longer reads '{specifier}'")


def poetry_constraint(written: str, version: str) -> tuple[str, str]:
    """A Poetry constraint: a bare version is exact, and stays bare; `==V` keeps its operator; a range (`~0.21`,
    `^0.21`, `<0.22`) becomes `>=version`."""
    stripped = written.strip()
    if re.fullmatch(r"[0-9][A-Za-z0-9_.+!-]*", stripped):
        return version, f"pin raised to {version}"
    return new_specifier(stripped, version)


def hashed_block(lines: list[str], hashes: list[str] | None) -> list[str]:
    """The lines of one requirement with --hash options (the first line, its continuation lines) with the hashes
    replaced by `hashes`, in the layout found: one option a line (pip-compile --generate-hashes) or all on the
    requirement's line. None: no hashes could be had, and old hashes are never left under a new version."""
    if hashes is None:
        raise Refusal("the pin carries --hash options, and the new release's hashes need the index: give --online "
                      "(old hashes are never left under a new version)")
    first, rest = lines[0], lines[1:]
    ending = _ending(first)
    if rest and not HASH.search(first):
        indent = re.match(r"\s*", rest[0]).group(0)  # type: ignore[union-attr]  # \s* always matches
        if not all(re.fullmatch(r"\s*--hash[=\s]\s*sha256:[0-9a-fA-F]{64}\s*\\?\s*", line) for line in rest):
            raise Refusal("its --hash options are not laid out one a line: not rewritten")
        body = [f"{indent}--hash=sha256:{digest} \\{ending}" for digest in hashes]
        body[-1] = f"{indent}--hash=sha256:{hashes[-1]}{ending}"
        return [first, *body]
    if not rest:
        options = list(HASH.finditer(first))
        start, end = options[0].start(), options[-1].end()
        between = first[start:end]
        if HASH.sub("", between).strip():
            raise Refusal("other options sit between its --hash options: not rewritten")
        return [first[:start] + " ".join(f"--hash=sha256:{digest}" for digest in hashes) + first[end:]]
    raise Refusal("its --hash options are spread over its lines in a layout not recognised: not rewritten")


def continued(lines: list[str], first: int) -> int:
    """How many lines the logical line at `first` spans (a backslash at a line's end continues it)."""
    count = 1
    while first + count < len(lines) and lines[first + count - 1].rstrip("\r\n").endswith("\\"):
        count += 1
    return count


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):] or "\n"
