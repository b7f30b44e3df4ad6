"""The environment of logins and PAM sessions: /etc/environment as pam_env reads it, which PAM services load
pam_env, and the variables /etc/profile.d scripts export to login shells.

/etc/environment (pam_env.conf(5), pam_env(8)): read by pam_env when a PAM service loads the module (its
`readenv` option is on by default, `envfile=` names another file). Lines are `NAME=value`; an `export `
prefix is skipped; everything from the first `#` on is a comment, even inside a value; a backslash at the
end of a line joins the next one; a name of other than letters, digits and `_` makes pam_env ignore the
line; a value that starts with a quote loses that quote and a quote at the very end. Nothing is expanded:
no `$VAR`, no `~`. `NAME` alone unsets it.

PAM services (pam.d(5)): /etc/pam.d/SERVICE, else /etc/pam.d/other; lines `type control module args`
(a leading `-` lets a missing module pass), and `include`/`substack` controls or Debian's `@include FILE`
bring in another file. pam_env acts in the `auth` stack (pam_setcred) and the `session` stack.

/etc/profile.d/*.sh: sourced by /etc/profile for login shells of sh, bash and similar. A variable reaches
the programs the shell starts only when exported (`export NAME=value`, `export NAME` after `NAME=value`,
`declare -x`, or `set -a` before). The shell expands an unquoted `~` at the start of the value, and `$…` or
backquotes anywhere outside single quotes: such a value is known only when the shell runs.
"""

from __future__ import annotations

import re
from typing import Callable, Optional

from auditor.collect.platform.unit_files import VALID_NAME
from auditor.records import record

_LINE_END = re.compile(r"\r\n|\n|\r")
PAM_ENV_DEFAULT_FILE = "/etc/environment"
MAX_PAM_INCLUDES = 16
_LEADING_KEYWORDS = {(word, "") for word in ("then", "do", "else", "{", "(", "!")}  # pam.d files brought in by one service; a loop of includes ends here


@record
class ShellAssignment:
    name: str
    value: str
    line: int
    home_relative: bool = False  # `~/…` or `$HOME/…`: the value is the login user's home + value[1:]
    dynamic: str = ""  # why the value is known only when the shell runs ("" when it is known)


def pam_environment(text: str) -> list[tuple[str, str, int]]:
    """(name, value, line) of each assignment pam_env takes from an env file, in order."""
    found = []
    logical, start = "", 0
    for number, raw in enumerate(_LINE_END.split(text), 1):
        line = raw.split("#", 1)[0]
        if not logical:
            start = number
        if "#" not in raw and line.rstrip(" \t").endswith("\\"):
            logical += line.rstrip(" \t")[:-1]
            continue
        logical, text_line = "", logical + line
        key = text_line.lstrip(" \t")
        if key.startswith("export "):
            key = key[7:]
        name, equals, value = key.partition("=")
        if not equals or not name or not re.fullmatch(r"[A-Za-z0-9_]+", name):
            continue
        if value[:1] in ("'", '"'):
            inner = value[1:]
            value = inner[:-1] if inner[-1:] in ("'", '"') else inner
        found.append((name, value, start))
    return found


def pam_env_files(read: Callable[[str], Optional[str]], service: str) -> list[str]:
    """The env files pam_env reads for a PAM service (/etc/environment unless `envfile=` or `readenv=0`
    says otherwise). `read(path)` gives a pam.d file's text, or None when it does not exist."""
    files: list[str] = []
    first = f"/etc/pam.d/{service}"
    if read(first) is None:
        first = "/etc/pam.d/other"
    pending, seen = [first], set[str]()
    while pending and len(seen) < MAX_PAM_INCLUDES:
        path = pending.pop(0)
        if path in seen:
            continue
        seen.add(path)
        text = read(path)
        for line in _LINE_END.split(text or ""):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if words[0] == "@include" and len(words) > 1:
                pending.append(_pam_path(words[1]))
                continue
            kind = words[0].lstrip("-")
            control, rest = _control(words[1:])
            if kind not in ("auth", "session") or not rest:
                continue
            if control in ("include", "substack"):
                pending.append(_pam_path(rest[0]))
            elif rest[0].rsplit("/", 1)[-1] == "pam_env.so":
                options = dict(word.partition("=")[::2] for word in rest[1:])
                if options.get("readenv", "1").strip() not in ("0", ""):
                    envfile = options.get("envfile") or PAM_ENV_DEFAULT_FILE
                    if envfile not in files:
                        files.append(envfile)
    return files


def _pam_path(name: str) -> str:
    return name if name.startswith("/") else f"/etc/pam.d/{name}"


def _control(words: list[str]) -> tuple[str, list[str]]:
    """The control field (a word, or a [value=action …] bracket over several words) and what follows it."""
    if not words:
        return "", []
    if not words[0].startswith("["):
        return words[0], words[1:]
    for index, word in enumerate(words):
        if word.endswith("]"):
            return " ".join(words[:index + 1]), words[index + 1:]
    return " ".join(words), []


def profile_exports(text: str) -> list[ShellAssignment]:
    """The variables a profile script exports, each at the line that gives its value."""
    assigned: dict[str, ShellAssignment] = {}
    exported: dict[str, ShellAssignment] = {}
    export_all = False
    for number, line in enumerate(_LINE_END.split(text), 1):
        for words in _statements(line):
            while words and len(words[0]) == 1 and words[0][0] in _LEADING_KEYWORDS:
                words = words[1:]  # `if …; then export X=…`: the command after the keyword
            if not words:
                continue
            first = "".join(text for text, _ in words[0])
            if first == "set" and any("".join(t for t, _ in w) in ("-a", "-o allexport") for w in words[1:]):
                export_all = True
                continue
            exporting = first in ("export", "declare", "typeset", "readonly") and (
                first == "export" or any("".join(t for t, _ in w).startswith("-") and "x" in "".join(t for t, _ in w)
                                         for w in words[1:]))
            for word in (words[1:] if first in ("export", "declare", "typeset", "readonly") else words):
                assignment = _assignment(word, number)
                if assignment is not None:
                    assigned[assignment.name] = assignment
                    if exporting or export_all or assignment.name in exported:
                        exported[assignment.name] = assignment
                elif exporting:
                    name = "".join(t for t, _ in word)
                    if VALID_NAME.fullmatch(name) and name in assigned:
                        exported[name] = assigned[name]
                elif first not in ("export", "declare", "typeset", "readonly"):
                    break  # the command's own words: assignments only precede it
    return sorted(exported.values(), key=lambda a: a.line)


def _assignment(word: list[tuple[str, str]], number: int) -> ShellAssignment | None:
    """NAME=value from a word's (text, quoting) parts; quoting is "", "'" or '"'."""
    if not word or word[0][1]:
        return None
    name, equals, first = word[0][0].partition("=")
    if not equals or not VALID_NAME.fullmatch(name):
        return None
    parts = ([(first, "")] if first else []) + word[1:]
    value = "".join(text for text, _ in parts)
    home_relative = False
    if parts and not parts[0][1] and (parts[0][0] == "~" or parts[0][0].startswith("~/")):
        home_relative = True
    dynamic_parts = [text for text, quoting in parts if quoting != "'" and ("$" in text or "`" in text)]
    if dynamic_parts:
        head = parts[0][0] if parts[0][1] != "'" else ""
        home = re.match(r"\$(?:HOME|\{HOME\})(?=/|$)", head)
        rest = [text for text, quoting in parts[1:] if quoting != "'" and ("$" in text or "`" in text)]
        if home and "$" not in head[home.end():] and "`" not in head and not rest:
            value = "~" + head[home.end():] + "".join(text for text, _ in parts[1:])
            return ShellAssignment(name, value, number, home_relative=True)
        return ShellAssignment(name, value, number, dynamic="the shell computes it ($ or a backquote) when it runs")
    return ShellAssignment(name, value, number, home_relative=home_relative)


def _statements(line: str) -> list[list[list[tuple[str, str]]]]:
    """A line's simple commands, split at unquoted ; & | and #-comments; each a list of words, each word a
    list of (text, quoting) parts. An unclosed quote ends the line's reading."""
    statements: list[list[list[tuple[str, str]]]] = [[]]
    word: list[tuple[str, str]] = []
    position, size = 0, len(line)

    def end_word() -> None:
        nonlocal word
        if word:
            statements[-1].append(word)
            word = []

    while position < size:
        char = line[position]
        if char in " \t":
            end_word()
        elif char in ";&|":
            end_word()
            statements.append([])
        elif char == "#" and not word:
            break
        elif char == "'":
            close = line.find("'", position + 1)
            if close < 0:
                return statements[:-1]
            word.append((line[position + 1:close], "'"))
            position = close
        elif char == '"':
            text, position = _double_quoted(line, position + 1)
            if position < 0:
                return statements[:-1]
            word.append((text, '"'))
        elif char == "\\" and position + 1 < size:
            word.append((line[position + 1], "'"))
            position += 1
        else:
            if word and word[-1][1] == "":
                word[-1] = (word[-1][0] + char, "")
            else:
                word.append((char, ""))
        position += 1
    end_word()
    return statements


def _double_quoted(line: str, position: int) -> tuple[str, int]:
    out: list[str] = []
    while position < len(line):
        char = line[position]
        if char == '"':
            return "".join(out), position
        if char == "\\" and position + 1 < len(line) and line[position + 1] in '"\\$`':
            out.append(line[position + 1])
            position += 2
            continue
        out.append(char)
        position += 1
    return "".join(out), -1
