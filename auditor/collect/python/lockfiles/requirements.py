"""pip requirements files: pins, ranges, URLs, VCS and editable lines, -r/-c includes.

Parsed the way pip reads them (continuations joined, comments stripped, options
after the requirement ignored), with three differences an auditor needs:
markers are recorded, never evaluated against the auditor's own interpreter;
includes are read through the confined view and never fetched from the network;
a repeated requirement is reported, not fatal. Only lines that can name a watched
package are parsed in full, so a 5,000-line lockfile costs little more than reading it.
"""

from __future__ import annotations

import functools
import os
import re
import string
from urllib.parse import unquote, urlsplit

from auditor import names
from auditor.collect.python.lockfiles import LOCK_CAP, MAX_PINS, Pin, Pins, names_pattern, text_of
from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.redact import redact

_LEADING_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s=-]))(\S+)")
_EDITABLE = re.compile(r"^(-e|--editable)(?:\s*=\s*|\s+)(\S+)")
_EGG_FRAGMENT = re.compile(r"[#&]egg=([^&\s]+)")
_ARCHIVE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*?)-(?P<version>[0-9][^-]*?)(?:-[^/]*)?\.(?:whl|tar\.gz|tar\.bz2|tgz|zip|egg)$")
_URL_START = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|file:|\.{0,2}/|[A-Za-z]:\\)", re.I)
MAX_INCLUDE_DEPTH = 50  # -r/-c files including each other; real projects nest a few levels
# A requirement line of a real project is well under a kilobyte, a hashed one a few (many --hash options); past this a
# line is an error entry, not read: parsing a crafted line of megabytes costs minutes and gigabytes.
MAX_LINE = 64 * 1024
SHOWN_CAP = 300  # longer requirement text is not echoed in an error message


def candidate_lines(text: str, watched: set[str]):
    """(line number, logical line) of every line that could matter to the audit; the line is None when it is
    longer than MAX_LINE characters.

    pip joins backslash continuations, then drops comments. Instead of doing that
    for every line, one regular expression finds the lines that start with a
    watched name, an include/editable option, a URL or a path; a line that
    continues the previous one is skipped, and only the candidates are joined.
    """
    line_number, counted_to = 1, 0
    for start in _candidate_starts(text, frozenset(watched)):
        if text.endswith("\\\n", 0, start) or text.endswith("\\\r\n", 0, start):
            continue  # a continuation of the line before, not a line of its own
        line_number += text.count("\n", counted_to, start)
        counted_to = start
        parts, end, length = [], start, 0
        while length <= MAX_LINE:
            newline = text.find("\n", end)
            physical = text[end:] if newline < 0 else text[end:newline]
            physical = physical.rstrip("\r")
            length += len(physical)
            if not physical.endswith("\\") or newline < 0:
                parts.append(physical)
                break
            parts.append(physical[:-1])
            end = newline + 1
        if length > MAX_LINE:
            yield line_number, None  # too long to be a real requirement: the caller says so
            continue
        line = _strip_comment("".join(parts)).strip()
        if line:
            yield line_number, line


def first_foreign_line(text: str) -> tuple[int, str] | None:
    """(line number, text) of the first line that pip would refuse as a requirements file line, or None. For a file
    read as requirements only because its name announces no format: a JSON lock or a README named on the command
    line would otherwise read as a requirements file that pins nothing, a pass for what was never understood."""
    from packaging.requirements import InvalidRequirement, Requirement

    pending, first = "", 0
    for number, physical in enumerate(text.split("\n"), 1):
        physical = physical.rstrip("\r")
        first = first or number
        if physical.endswith("\\") and len(pending) < MAX_LINE:  # pip joins a continued line to the next
            pending += physical[:-1]
            continue
        line, pending, at = _strip_comment(pending + physical).strip(), "", first
        first = 0
        requirement = _requirement_part(line)
        if not line or line.startswith("-") or _URL_START.match(line) or _ARCHIVE.match(requirement):
            continue  # an option, a URL or path, or a wheel or sdist file named by itself: pip reads those too
        try:
            Requirement(requirement[:MAX_LINE])
        except InvalidRequirement:
            return at, line[:SHOWN_CAP]
    return None


def _strip_comment(line: str) -> str:
    """pip's rule: a comment starts at a '#' that begins the line or follows whitespace.
    (pip's regular expression for it, (^|\\s+)#.*$, takes quadratic time on a long run of blanks.)"""
    hash_at = line.find("#")
    while hash_at > 0 and not line[hash_at - 1].isspace():
        hash_at = line.find("#", hash_at + 1)
    return line if hash_at < 0 else line[:hash_at]


def _candidate_starts(text: str, watched: frozenset):
    """Where each candidate line starts: one that begins, after blanks, with an include/editable option, a
    watched name (any case, - _ . alike), a URL scheme or a path.

    The search is anchored on the newline before each line (a literal the regular expression engine skips to;
    `^` with re.M makes it try every character), and in an ASCII text the case of the options and names is
    spelled out ([bB][oO]…): re.I costs several times as much on every line. Only a text with other
    characters needs re.I, for its Unicode folding (ſ for s, K for k). In an ASCII text without "/" the
    cheaper first test (_first_two) leaves out lines that name nothing: continuations (candidate_lines skips
    them anyway) and a word before a colon that is neither "file:" nor a drive letter (no URL there has "://"),
    which would only have been read to find nothing; that holds however long such a line is."""
    ascii_only = text.isascii() and all(n.isascii() for n in watched)
    at_start, after_newline = _candidate_patterns(watched, ascii_only)
    if at_start.match(text):
        yield 0
    prefilter = _first_two(watched) if ascii_only and "/" not in text else None
    if prefilter is None:
        for match in after_newline.finditer(text):
            yield match.start() + 1
        return
    for match in prefilter.finditer(text):
        if after_newline.match(text, match.start()):
            yield match.start() + 1


@functools.lru_cache(maxsize=8)
def _first_two(watched: frozenset) -> re.Pattern | None:
    """A wider, cheaper test of a line's first two characters (after blanks) that every candidate line passes
    in an ASCII text without a "/", where no line can be a URL with "://" or a path: a watched name, "file:",
    a drive letter ("C:\\") or an include/editable option. Most lines fail it at one of two character classes,
    where the full pattern costs several times as much per line; the few that pass are tested with it.
    (A line of "scheme:" that is none of these is a candidate of the full pattern but names nothing.)
    None when a watched name is shorter than two characters."""
    if any(len(name) < 2 for name in watched):
        return None
    first = {c for name in watched for c in (name[0].lower(), name[0].upper())}
    second = {c for name in watched for c in ((name[1].lower(), name[1].upper()) if name[1] != "-" else "-_.")}
    first |= set(string.ascii_letters) | {"-"}  # drive letters, options
    second |= set(":iIrRcCeE-")  # "C:", "file:", "-r", "-c", "-e", "--…"
    # A line that continues the one before is no candidate (the look-behind rejects most of a hashed file's lines
    # at once); after "--", only the long forms of those options (--requirement, --constraint, --editable).
    return re.compile(rf"\n(?<!\\\n)[ \t]*+[{_char_class(first)}][{_char_class(second)}](?!(?<=--)[^rRcCeE])")


def _char_class(chars: set[str]) -> str:
    return "".join(re.escape(c) for c in sorted(chars))


@functools.lru_cache(maxsize=8)
def _candidate_patterns(watched: frozenset, ascii_only: bool) -> tuple[re.Pattern, re.Pattern]:
    """(at the text's start, after a newline) patterns of a candidate line's beginning, the same lines either
    way; `ascii_only`: for an ASCII text, without re.I."""
    options, names = r"-(?:[rce]|-requirement|-constraint|-editable)", names_pattern(watched)
    if ascii_only:
        first = "".join(sorted({c for name in watched for c in (name[:1].lower(), name[:1].upper())}))
        options = rf"-(?:[rRcCeE]|{_either_case('-requirement|-constraint|-editable')})"
        names = f"(?=[{first}])(?:{_either_case(names)})"  # most lines fail this first test
    line = (rf"[ \t]*+(?{'' if ascii_only else 'i'}:(?:{names})(?![A-Za-z0-9._-])|[A-Za-z][A-Za-z0-9+.-]*+:"
            rf"|{options}|\.{{0,2}}/)")
    return re.compile(line), re.compile("\n" + line)


def _either_case(pattern: str) -> str:
    """ASCII letters of a pattern with none inside brackets as [xX] (re.escape escapes no letter)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isascii() and c.isalpha() else c for c in pattern)


def parse(view: View, path: str, watched: set[str]) -> Pins:
    found = Pins()
    _parse_file(view, path, watched, found, visited=set(), constraint=False, depth=0)
    _flag_repeats(found.pins)
    return found


def _parse_file(view, path, watched, found: Pins, visited, constraint, depth):
    """Adds to `found` the pins and error entries of one file and the files it includes."""
    errors = found.errors
    try:
        real = view.resolve(path)
        if real in visited:
            return
        visited.add(real)
        text = view.read_text(path, LOCK_CAP)
    except FsError as exc:
        errors.append(ScanError(view.display(path), str(exc)))
        return
    source = "requirements file" + (" (constraint via -c)" if constraint else "")
    for lineno, line in candidate_lines(text, watched):
        if len(found.pins) > MAX_PINS:  # the caller says so; the rest of a crafted file of millions of pins is not parsed
            return
        if line is None:
            errors.append(ScanError(view.display(path), f"line {lineno}: longer than {MAX_LINE:,} characters, which no "
                                                        f"requirement is; not read"))
            continue
        if line.startswith("-"):
            _option_line(view, path, lineno, line, watched, found, visited, constraint, source, depth)
            continue
        found.extend(pin_from(view, _requirement_part(line), watched, path, lineno, source))


def _option_line(view, path, lineno, line, watched, found: Pins, visited, constraint, source, depth):
    errors = found.errors
    include = _INCLUDE.match(line)
    if include:
        flag, target = include.groups()
        where = f"{view.display(path)}"
        if "://" in target:
            errors.append(ScanError(where, f"line {lineno}: include {redact(target)} is remote; not fetched (a scan never uses the network)"))
            return
        if "\0" in target:
            errors.append(ScanError(where, f"line {lineno}: include {target!r} has a NUL byte; not read"))
            return
        included = view.locate(os.path.dirname(path), target)
        if not view.inside(included):
            errors.append(ScanError(where, f"line {lineno}: include {target} is outside the scanned target; not read"))
            return
        if depth >= MAX_INCLUDE_DEPTH:
            errors.append(ScanError(where, f"line {lineno}: include {target} is nested more than {MAX_INCLUDE_DEPTH} files deep; not read"))
            return
        _parse_file(view, included, watched, found, visited, constraint or flag in ("-c", "--constraint"), depth + 1)
        return
    editable = _EDITABLE.match(line)
    if editable:
        found.extend(pin_from(view, editable.group(2), watched, path, lineno, source + " (editable)"))
    # Any other option (--index-url, --hash on its own line, --pre, …) names no requirement.


def _requirement_part(line: str) -> str:
    """The requirement before per-requirement options such as --hash."""
    tokens = line.split()
    for i, token in enumerate(tokens):
        if token.startswith("-") and i > 0:
            return " ".join(tokens[:i])
    return line


def pin_from(view: View, requirement: str, watched, path, lineno, source) -> Pins:
    """The Pin of one requirement (PEP 508, or a URL/path as pip takes it) if it names a watched package;
    an invalid one naming a watched package is an error entry. At most one of either."""
    if _URL_START.match(requirement):
        pin = _pin_from_url(requirement, watched, path, lineno, source)
        return Pins([pin] if pin else [])
    leading = _LEADING_NAME.match(requirement)
    if not leading or names.normalize(leading.group(1)) not in watched:
        return Pins()
    from packaging.requirements import InvalidRequirement, Requirement  # only for lines naming a watched package

    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as exc:
        shown = repr(redact(requirement)) if len(requirement) <= SHOWN_CAP else f"for {leading.group(1)} ({len(requirement)} characters)"
        reason = (str(exc).splitlines() or ["unparseable"])[0]  # packaging adds the text and a caret line
        at = f"line {lineno}: " if lineno else ""
        return Pins(errors=[ScanError(view.display(path), f"{at}invalid requirement {shown}: {reason}")])
    details: dict[str, object] = {}
    if parsed.marker:
        details["marker"] = text_of(str(parsed.marker))  # packaging reads "\ud800" in a marker as a lone surrogate
    if parsed.extras:
        details["extras"] = sorted(parsed.extras)
    if parsed.url:
        details["url"] = redact(parsed.url)
        version = _version_from_url(parsed.url)
        return Pins([Pin(names.normalize(parsed.name), version, f"@ {redact(parsed.url)}", path, lineno, source, details)])
    specifier = str(parsed.specifier)
    return Pins([Pin(names.normalize(parsed.name), exact_version(specifier), specifier, path, lineno, source, details)])


def _pin_from_url(requirement: str, watched, path, lineno, source) -> Pin | None:
    url = requirement.split(";", 1)[0].strip()
    fragment = _EGG_FRAGMENT.search(url)
    archive = _ARCHIVE.match(unquote(_url_path(url).rsplit("/", 1)[-1]))
    name = fragment.group(1) if fragment else (archive.group("name") if archive else None)
    if not name or names.normalize(name.split("[")[0]) not in watched:
        return None
    version = archive.group("version") if archive else None
    details: dict[str, str | None] = {"url": redact(url)}
    if "+" in url.split("://", 1)[0]:
        details["vcs_ref"] = _vcs_ref(url)
    return Pin(names.normalize(name.split("[")[0]), version, f"@ {redact(url)}", path, lineno, source, details)


def _url_path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:  # an unclosed "[" of an IPv6 host, a port out of range
        return ""


def _version_from_url(url: str) -> str | None:
    archive = _ARCHIVE.match(unquote(_url_path(url).rsplit("/", 1)[-1]))
    return archive.group("version") if archive else None


def _vcs_ref(url: str) -> str | None:
    path = _url_path(url.split("+", 1)[1])
    return path.rsplit("@", 1)[1] if "@" in path else None


def exact_version(specifier: str) -> str | None:
    """'==2.9.0' or '===2.9.0' pins one release; anything else (ranges, wildcards) does not."""
    parts = [p.strip() for p in specifier.split(",") if p.strip()]
    if len(parts) == 1 and parts[0].startswith("==") and not parts[0].endswith("*"):
        return parts[0].lstrip("=").strip()
    return None


def _flag_repeats(pins: list[Pin]) -> None:
    first: dict[tuple[str, str], Pin] = {}
    for pin in pins:
        key = (pin.name, pin.details.get("marker", ""))
        if key in first and first[key] is not pin:
            pin.details["repeated"] = f"also required at {os.path.basename(first[key].path)} line {first[key].line}"
        else:
            first[key] = pin
