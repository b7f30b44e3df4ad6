"""Trust settings in shell, make, Docker, CI and PowerShell scripts, read line by line."""

from __future__ import annotations

import bisect
import re
from typing import Iterator

from auditor.collect.config.trust_config.setting import STATEMENT_CHARS, Setting, one_line

# `aws` as a command: after a separator or quote (sh 'aws …'), a make prefix (@-+), or a path
# (the path may not start with "-", which the make prefix takes: two ways to split a run of dashes would make
# a long one cost quadratic time)
_AWS = re.compile(r"""(?:^|(?<=[\s;&|(`'"]))[@+-]*(?:[\w.~/][\w.~/-]*/)?aws(?:\.exe)?(?![\w./-])""")
_COMMAND_END = re.compile(r"[;&|]")
# Bounded: an unclosed quote must not make every later occurrence scan to the end of the line again.
_VALUE = r"""("[^"]{0,4096}"|'[^']{0,4096}'|\$\{\{[^}]{0,4096}\}\}|[^\s'"]{1,4096})"""
_NO_VERIFY = re.compile(r"(?<![\w-])--no-verify-ssl(?![\w-])")
_CA_BUNDLE = re.compile(r"(?<![\w-])--ca-bundle(?:=|\s+)" + _VALUE)
_CONFIGURE = re.compile(r"\bconfigure\s+set\s+(?:[\w.-]+\.)?ca_bundle\s+" + _VALUE)
# export X=v, X=v cmd, ENV X=v, X := v (make), X: v (YAML), $env:X = v (PowerShell); not $X or ${X}
_ASSIGN = re.compile(r"(?<![\w${])AWS_CA_BUNDLE(?:\s*[:?]?=\s*|:\s+)" + _VALUE)
_DOCKER_ENV = re.compile(r"^\s*ENV\s+AWS_CA_BUNDLE\s+" + _VALUE)
# The service and operation words after `aws` (s3 sync, configure set): what a reader needs to place the setting.
_COMMAND_WORD = re.compile(r"[a-z0-9][a-z0-9-]*")
_COMMAND_WORDS = 2


def script_settings(data: bytes, label: str) -> list[Setting]:
    """The settings a script writes; only files that mention one of them are read line by line."""
    if not any(word in data for word in (b"--no-verify-ssl", b"--ca-bundle", b"ca_bundle", b"AWS_CA_BUNDLE")):
        return []
    continuation = "`" if label == "PowerShell script" else "\\"
    found: list[Setting] = []
    logical, starts = "", list[tuple[int, int]]()  # starts: (offset in the logical line, line number) of each physical line
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
    separators = [match.start() for match in _COMMAND_END.finditer(logical)]

    def line_of(position: int) -> int:
        return starts[bisect.bisect_right(offsets, position) - 1][1]

    def command_at(position: int) -> tuple[int, int]:
        """Where the command that `position` is in starts and ends (its separators, or the line's ends)."""
        index = bisect.bisect_right(separators, position)
        return (separators[index - 1] + 1 if index else 0), (separators[index] if index < len(separators) else len(logical))

    # Each option belongs to the last `aws` before it in its command; the line is searched once for each
    # pattern, so a line of many commands costs linear time.
    commands = list(_AWS.finditer(logical))
    command_starts = [command.start() for command in commands]
    found = set()
    options: list[tuple[re.Match[str], str, str, str | None]] = [
        (m, "--no-verify-ssl", "disabled", None) for m in _NO_VERIFY.finditer(logical)]
    options += [(m, "--ca-bundle", "custom-bundle", _unquote(m.group(1))) for m in _CA_BUNDLE.finditer(logical)]
    options += [(m, "ca_bundle", "custom-bundle", _unquote(m.group(1))) for m in _CONFIGURE.finditer(logical)]
    for match, name, effect, value in sorted(options, key=lambda option: option[0].start()):
        index = bisect.bisect_right(command_starts, match.start()) - 1
        if index < 0 or command_at(command_starts[index]) != command_at(match.start()) or (index, name, value) in found:
            continue
        found.add((index, name, value))
        command = commands[index]
        statement = _quoted(command.group(0).lstrip("@+-"), logical[command.end():match.start()], match.group(0))
        yield Setting(line_of(command.start()), name, effect, value, statement)
    for match in [*_ASSIGN.finditer(logical), *_DOCKER_ENV.finditer(logical)]:
        value = _unquote(match.group(1))
        if value:
            # The assignment alone: the rest of its command (curl -u …, MYSQL_PWD=…) may hold credentials.
            yield Setting(line_of(match.start()), "AWS_CA_BUNDLE", "custom-bundle", value, one_line(match.group(0)))


def _quoted(aws: str, between: str, option: str) -> str:
    """`aws s3 sync … --no-verify-ssl`: the command, its service and operation, and the option with its value;
    the arguments between them are left out, as they may hold credentials (--sse-c-key …, a presigned URL)."""
    words = between[:4 * STATEMENT_CHARS].split()
    kept = []
    for word in words[:_COMMAND_WORDS]:
        if not _COMMAND_WORD.fullmatch(word):
            break
        kept.append(word)
    return one_line(" ".join([aws, *kept, *(["…"] if len(words) > len(kept) else []), option]))


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
