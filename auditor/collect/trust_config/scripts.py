"""Trust settings in shell, make, Docker, CI and PowerShell scripts, read line by line."""

from __future__ import annotations

import bisect
import re
from typing import Iterator

from auditor.collect.trust_config.setting import Setting, one_line

# `aws` as a command: after a separator or quote (sh 'aws …'), a make prefix (@-+), or a path
_AWS = re.compile(r"""(?:^|(?<=[\s;&|(`'"]))[@+-]*(?:[\w.~/-]*/)?aws(?:\.exe)?(?![\w./-])""")
_COMMAND_END = re.compile(r"[;&|]")
_VALUE = r"""("[^"]*"|'[^']*'|\$\{\{[^}]*\}\}|[^\s'"]+)"""
_NO_VERIFY = re.compile(r"(?<![\w-])--no-verify-ssl(?![\w-])")
_CA_BUNDLE = re.compile(r"(?<![\w-])--ca-bundle(?:=|\s+)" + _VALUE)
_CONFIGURE = re.compile(r"\bconfigure\s+set\s+(?:[\w.-]+\.)?ca_bundle\s+" + _VALUE)
# export X=v, X=v cmd, ENV X=v, X := v (make), X: v (YAML), $env:X = v (PowerShell); not $X or ${X}
_ASSIGN = re.compile(r"(?<![\w${])AWS_CA_BUNDLE(?:\s*[:?]?=\s*|:\s+)" + _VALUE)
_DOCKER_ENV = re.compile(r"^\s*ENV\s+AWS_CA_BUNDLE\s+" + _VALUE)


def script_settings(data: bytes, label: str) -> list[Setting]:
    """The settings a script writes; only files that mention one of them are read line by line."""
    if not any(word in data for word in (b"--no-verify-ssl", b"--ca-bundle", b"ca_bundle", b"AWS_CA_BUNDLE")):
        return []
    continuation = "`" if label == "PowerShell script" else "\\"
    found: list[Setting] = []
    logical, starts = "", []  # starts: (offset in the logical line, line number) of each physical line
    for number, raw in enumerate(data.decode("utf-8", "replace").split("\n"), 1):
        line = _strip_comment(raw).rstrip()
        if not logical:
            starts = []
        starts.append((len(logical), number))
        if line.endswith(continuation):
            logical += line[:-1] + " "
            continue
        found.extend(_command_settings(logical + line, starts))
        logical = ""
    if logical:
        found.extend(_command_settings(logical, starts))
    return found


def _command_settings(logical: str, starts: list[tuple[int, int]]) -> Iterator[Setting]:
    offsets = [offset for offset, _ in starts]

    def line_of(position: int) -> int:
        return starts[bisect.bisect_right(offsets, position) - 1][1]

    for command in _AWS.finditer(logical):
        end = _COMMAND_END.search(logical, command.end())
        text = logical[command.start():end.start() if end else len(logical)]
        statement = one_line(text.lstrip("@+-"))
        line = line_of(command.start())
        if _NO_VERIFY.search(text):
            yield Setting(line, "--no-verify-ssl", "disabled", None, statement, {})
        for match in _CA_BUNDLE.finditer(text):
            yield Setting(line, "--ca-bundle", "custom-bundle", _unquote(match.group(1)), statement, {})
        for match in _CONFIGURE.finditer(text):
            yield Setting(line, "ca_bundle", "custom-bundle", _unquote(match.group(1)), statement, {})
    for match in [*_ASSIGN.finditer(logical), *_DOCKER_ENV.finditer(logical)]:
        value = _unquote(match.group(1))
        if value:
            yield Setting(line_of(match.start()), "AWS_CA_BUNDLE", "custom-bundle", value, one_line(logical), {})


def _strip_comment(line: str) -> str:
    """The line without its comment: `#` at the start of a word outside quotes, or a line starting with //."""
    if line.lstrip().startswith("//"):
        return ""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"" else value
