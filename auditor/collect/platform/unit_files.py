"""systemd unit files and EnvironmentFile= files, read as systemd reads them. Nothing here touches a file:
each function takes text and gives what systemd would take from it, with the line that says it.

Unit files (systemd.syntax(7)): `[Section]` headers and `Key=Value` lines; lines starting with `#` or `;`
are comments; a line ending in a backslash goes on on the next line, the backslash read as a space, and
comment lines inside such a continuation are skipped. Lines end at \\n, \\r\\n, \\r or NUL, as systemd's
read_line() ends them.

Environment= (systemd.exec(5)): each value is a list of assignments split as systemd's
extract_first_word() splits with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE: whitespace separates words, double or
single quotes keep whitespace inside one (anywhere in the word: `FOO="a b"` is `FOO=a b`) and are removed,
C escapes (\\n, \\t, \\xNN, \\NNN, \\uNNNN, …) are decoded. `$` has no meaning there. Specifiers (%h, %i, …,
systemd.unit(5)) are resolved for the unit; an unbalanced quote or an unknown escape makes systemd drop the
rest of the line ("Invalid syntax, ignoring"), and an assignment whose name is not a valid variable name is
dropped ("Invalid environment assignment"). An empty value resets every earlier assignment.

EnvironmentFile= files are parsed with systemd's env-file state machine (src/basic/env-file.c): lines
`KEY=value`, `#` and `;` comments, single and double quotes (in double quotes a backslash escapes only
" \\ ` $), an unquoted backslash escapes the next character and at a line end joins the next line,
whitespace around the key and the unquoted value is dropped, and a line without `=` is ignored. There is no
`export` keyword: `export KEY=value` gives the name "export KEY", which systemd drops as invalid. The
names kept are valid variable names (letters, digits and `_`, not starting with a digit).
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from auditor.records import record


_LINE_END = re.compile(r"\r\n|\r|\n|\0")
_SECTION = re.compile(r"^\[([^\]]*)\]\s*$")
VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
                   '"': '"', "'": "'", "s": " "}
# systemd's WHITESPACE: the separators of extract_first_word() when none are given
_WHITESPACE = " \t\n\r"


class SyntaxProblem(Exception):
    """A value systemd would refuse: an unbalanced quote or an unknown escape."""


@record
class Directive:
    section: str
    key: str
    value: str
    line: int


@record
class Assignment:
    name: str
    value: str
    line: int
    unresolved: str = ""  # a specifier systemd resolves only when the unit runs (%i of a template): the value is not known


def unit_directives(text: str) -> list[Directive]:
    """The `Key=Value` lines of a unit file (or drop-in) in order, each with the line it starts on."""
    found: list[Directive] = []
    section = ""
    pending, start = "", 0
    for number, raw in enumerate(_LINE_END.split(text), 1):
        stripped = raw.strip()
        if pending and stripped[:1] in ("#", ";"):
            continue  # a comment inside a continuation is skipped; the line goes on after it
        if not pending and (not stripped or stripped[:1] in ("#", ";")):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical, pending = pending + stripped, ""
        header = _SECTION.match(logical)
        if header:
            section = header.group(1)
            continue
        key, equals, value = logical.partition("=")
        if equals and key.strip():
            found.append(Directive(section, key.strip(), value.strip(), start))
    if pending.strip():
        key, equals, value = pending.strip().partition("=")
        if equals and key.strip():
            found.append(Directive(section, key.strip(), value.strip(), start))
    return found


def split_words(value: str) -> list[str]:
    """The words of a value, unquoted and unescaped; SyntaxProblem for what systemd would refuse, with the
    words before it (systemd keeps the assignments it read before the problem)."""
    words: list[str] = []
    position, size = 0, len(value)
    while True:
        while position < size and value[position] in _WHITESPACE:
            position += 1
        if position >= size:
            return words
        word: list[str] = []
        quote = ""
        while position < size:
            char = value[position]
            if char == "\\":
                decoded, position = _unescape(value, position + 1, words)
                word.append(decoded)
                continue
            if quote:
                if char == quote:
                    quote = ""
                else:
                    word.append(char)
            elif char in ("'", '"'):
                quote = char
            elif char in _WHITESPACE:
                break
            else:
                word.append(char)
            position += 1
        if quote:
            raise SyntaxProblem(words)
        words.append("".join(word))


def _unescape(value: str, position: int, words: list[str]) -> tuple[str, int]:
    """systemd's cunescape_one() for the escape whose letter is at `position`; the text and where to go on."""
    if position >= len(value):
        raise SyntaxProblem(words)
    char = value[position]
    if char in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[char], position + 1
    for letter, digits, base in (("x", 2, 16), ("u", 4, 16), ("U", 8, 16)):
        if char == letter:
            code = value[position + 1:position + 1 + digits]
            if len(code) == digits and all(c in "0123456789abcdefABCDEF" for c in code):
                number = int(code, base)
                if number and number <= 0x10FFFF and not 0xD800 <= number <= 0xDFFF:
                    return chr(number), position + 1 + digits
            raise SyntaxProblem(words)
    code = value[position:position + 3]
    if len(code) == 3 and all(c in "01234567" for c in code) and 0 < int(code, 8) < 256:
        return chr(int(code, 8)), position + 3
    raise SyntaxProblem(words)


def expand_specifiers(text: str, specifiers: dict[str, str]) -> tuple[str, str]:
    """`text` with the known specifiers (systemd.unit(5)) resolved: the result, and the first specifier left
    unresolved ("" when none was), whose value systemd knows only when the unit runs."""
    unresolved = ""

    def one(match: re.Match) -> str:
        nonlocal unresolved
        letter = match.group(1)
        if letter == "%":
            return "%"
        if letter in specifiers:
            return specifiers[letter]
        unresolved = unresolved or "%" + letter
        return match.group(0)

    return re.sub(r"%(.?)", one, text, flags=re.DOTALL), unresolved


def environment_assignments(value: str, line: int, specifiers: dict[str, str]) -> Optional[list[Assignment]]:
    """The assignments of one Environment= line; None for an empty value (systemd then forgets every earlier
    one). Assignments after a syntax problem are dropped, as systemd drops them."""
    if not value.strip():
        return None
    try:
        words = split_words(value)
    except SyntaxProblem as problem:
        words = problem.args[0]
    found = []
    for word in words:
        resolved, unresolved = expand_specifiers(word, specifiers)
        name, equals, assigned = resolved.partition("=")
        if equals and VALID_NAME.fullmatch(name):
            found.append(Assignment(name, assigned, line, unresolved))
    return found


def environment_file(text: str) -> list[Assignment]:
    """The assignments of an EnvironmentFile=, in order, each with the line its name is on."""
    found: list[Assignment] = []
    key: list[str] = []
    value: list[str] = []
    state, line = "pre-key", 1
    key_line = 1
    trailing = 0  # unquoted whitespace at the end of the value so far, dropped if nothing follows it

    def push() -> None:
        name = "".join(key).rstrip(" \t\n\r")
        text_value = "".join(value)
        if trailing:
            text_value = text_value[:-trailing]
        if VALID_NAME.fullmatch(name):
            found.append(Assignment(name, text_value, key_line))

    for char in text:
        newline = char in "\n\r"
        if state == "pre-key":
            if char in "#;":
                state = "comment"
            elif char not in _WHITESPACE:
                state, key, value, key_line = "key", [char], [], line
        elif state == "key":
            if newline:
                state = "pre-key"
            elif char == "=":
                state, trailing = "pre-value", 0
            else:
                key.append(char)
        elif state == "pre-value":
            if newline:
                push()
                state = "pre-key"
            elif char == "'":
                state = "single"
            elif char == '"':
                state = "double"
            elif char == "\\":
                state = "escape"
            elif char not in " \t":
                state, trailing = "value", 0
                value.append(char)
        elif state == "value":
            if newline:
                push()
                state = "pre-key"
            elif char == "\\":
                state, trailing = "escape", 0
            else:
                trailing = trailing + 1 if char in " \t" else 0
                value.append(char)
        elif state == "escape":
            state = "value"
            if not newline:
                value.append(char)
        elif state == "single":
            if char == "'":
                state = "pre-value"
            else:
                value.append(char)
        elif state == "double":
            if char == '"':
                state = "pre-value"
            elif char == "\\":
                state = "double-escape"
            else:
                value.append(char)
        elif state == "double-escape":
            state = "double"
            if char in '"\\`$':
                value.append(char)
            elif char != "\n":
                value.extend(("\\", char))
        elif state == "comment":
            if char == "\\":
                state = "comment-escape"
            elif newline:
                state = "pre-key"
        elif state == "comment-escape":
            state = "pre-key" if newline else "comment"
        if char == "\n":
            line += 1
    if state in ("pre-value", "value", "escape", "single", "double", "double-escape"):
        if state != "value":
            trailing = 0
        push()
    return found


def command_words(value: str) -> list[str]:
    """The words of an ExecStart= line, its prefixes (@, -, :, +, !, !!, |) taken off the program; [] when
    systemd would refuse the line."""
    try:
        words = split_words(value)
    except SyntaxProblem:
        return []
    if words:
        words[0] = words[0].lstrip("@-:+!|")
        if not words[0]:
            words = words[1:]
    return words


def unit_specifiers(unit_name: str) -> dict[str, str]:
    """The specifiers of systemd.unit(5) a scan can know for a system unit: %h is "/root" and %u "root" for
    the system manager whatever User= says; %n, %N, %p and, for an instance (foo@bar.service), %i."""
    stem, _, _ = unit_name.rpartition(".")
    prefix, at, instance = stem.partition("@")
    found = {"n": unit_name, "N": stem, "p": prefix, "h": "/root", "u": "root", "U": "0"}
    if at and instance:
        found.update(i=instance, I=instance.replace("-", "/"))
    return found


def directives_of(directives: list[Directive], section: str, key: str) -> Iterator[Directive]:
    return (d for d in directives if d.section == section and d.key == key)
