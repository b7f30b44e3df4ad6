"""Small readers shared by the manifest parsers: JSON, the block mappings of pnpm and yarn lockfiles."""

from __future__ import annotations

import bisect
import json
import re
from typing import Callable, Iterator, Optional

from auditor.collect.sdks import ManifestError

MAX_DEPTH = 64
# What a parser builds is bounded before it is built, from counts over the raw text: a real lockfile of 64 MB has
# about 1.5 million JSON values and half a million lines of a block format; each value or line held costs 60 to 700
# bytes, so a crafted file of small ones (`[[],[],…]`, a key a line) took gigabytes.
MAX_JSON_VALUES = 1_500_000
MAX_LINES = 500_000
MAX_LINE = 64 * 1024  # a real line is under a kilobyte (an integrity hash, a resolved URL)
_LINE_BREAKS = ("\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")  # str.splitlines()'s


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"not valid UTF-8 (byte {exc.start})") from exc


def load_json(data: bytes) -> tuple[str, dict]:
    """(text, top-level object) of a JSON file."""
    text = decode(data)
    values = json_values(text)
    if values > MAX_JSON_VALUES:
        raise ManifestError(f"about {values:,} JSON values, more than the {MAX_JSON_VALUES:,} this reader takes; not read")
    try:
        value = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and a number of over 4,300 digits, which int() refuses
        raise ManifestError(f"invalid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ManifestError(f"expected a JSON object, found {type(value).__name__}")
    return text, value


def json_values(text: str) -> int:
    """An upper bound of the values (and keys) a JSON text holds, counted without parsing it: each one after the first
    follows a ',', a ':' or an opening bracket."""
    return 1 + sum(text.count(mark) for mark in ",:[{")


def split_lines(text: str) -> list[str]:
    """The lines of a line-based file (str.splitlines()), refused before they are split when there are more than
    MAX_LINES, or when one is longer than MAX_LINE characters."""
    count = 1 + sum(text.count(mark) for mark in _LINE_BREAKS) - text.count("\r\n")
    if count > MAX_LINES:
        raise ManifestError(f"{count:,} lines, more than the {MAX_LINES:,} this reader takes; not read")
    lines = text.splitlines()
    longest = max(range(len(lines)), key=lambda index: len(lines[index]), default=None)
    if longest is not None and len(lines[longest]) > MAX_LINE:
        raise ManifestError(f"line {longest + 1}: longer than {MAX_LINE:,} characters, which no line of this format is; "
                            f"not read")
    return lines


def mapping(value, what: str) -> dict:
    """A JSON value that must be an object (missing: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ManifestError(f"{what} is {type(value).__name__}, not an object")
    return value


class Lines:
    """Line numbers of what a parser looks up in its text, in document order: each search goes on after the
    last hit, and newlines are indexed once. (Searching and counting from the top for each of thousands of
    SDK packages made an 8 MB lockfile take minutes.)"""

    def __init__(self, text: str):
        self.text, self.at = text, 0
        self._newlines: Optional[list] = None

    def find(self, needle: str, restart: bool = False) -> Optional[int]:
        """1-based line of the next `needle` after the last hit (from the top with `restart`), or None."""
        at = self.text.find(needle, 0 if restart else self.at)
        if at < 0:
            return None
        self.at = at + len(needle)
        if self._newlines is None:
            self._newlines = [match.start() for match in re.finditer("\n", self.text)]
        return bisect.bisect_left(self._newlines, at) + 1


class Block(dict):
    """A mapping of a block-indented file, with the line of each key."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}


def read_blocks(text: str, keep: Optional[Callable[[tuple], bool]] = None) -> Block:
    """Nested mappings from indentation, as pnpm-lock.yaml, yarn berry's and yarn classic's yarn.lock write
    them: `key:` opens a mapping, `key: value` (YAML) or `key value` (yarn classic) is a scalar. Lists,
    anchors and multi-line scalars, which these files do not use for what we read, are not understood:
    a list item is skipped. A key that holds several quoted names (`"a@^1", "a@^2":`) is kept as written.
    `keep(path)` (the keys from the top) tells whether a key and what is below it is wanted: a lockfile's
    thousands of packages that are no AWS SDK are read past, not held."""
    root = Block()
    stack: list[tuple[int, Block, tuple]] = [(-1, root, ())]
    skipped_at = -1  # the indent of a key not kept: the lines below it are its own
    for number, indent, stripped in _lines(text):
        if skipped_at >= 0:
            if indent > skipped_at:
                continue
            skipped_at = -1
        if stripped.startswith("- ") or stripped == "-":
            continue
        while stack[-1][0] >= indent:
            stack.pop()
        if len(stack) > MAX_DEPTH:
            raise ManifestError(f"line {number}: nested deeper than {MAX_DEPTH} levels")
        _, parent, path = stack[-1]
        if stripped.endswith(":") and not stripped.endswith("::"):
            key = _unquote(stripped[:-1])
            if keep is not None and not keep(path + (key,)):
                skipped_at = indent
                continue
            child = Block()
            parent[key], parent.lines[key] = child, number
            stack.append((indent, child, path + (key,)))
            continue
        key, value = _split(stripped, number)
        if keep is None or keep(path + (key,)):
            parent[key], parent.lines[key] = _unquote(value), number
    return root


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    for number, raw in enumerate(split_lines(text), 1):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            if "\t" in raw[: len(raw) - len(raw.lstrip())]:
                raise ManifestError(f"line {number}: indented with a tab")
            yield number, len(raw) - len(raw.lstrip(" ")), stripped


def _split(stripped: str, number: int) -> tuple[str, str]:
    if stripped[0] in "'\"":
        end = stripped.find(stripped[0], 1)
        if end < 0:
            raise ManifestError(f"line {number}: unterminated quote")
        return stripped[1:end], stripped[end + 1:].lstrip(":").strip()
    if ": " in stripped:
        key, _, value = stripped.partition(": ")
    else:
        key, _, value = stripped.partition(" ")
    return key, value.strip()


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"" and text[0] not in text[1:-1]:
        return text[1:-1]
    return text
