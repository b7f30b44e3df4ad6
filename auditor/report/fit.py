"""Plain text that fits a terminal's width: tables whose cells are wrapped on word and path boundaries, a
path shortened in its middle where wrapping would take too many lines, and one-line summaries. What is cut
here stays whole in the JSON report."""

from __future__ import annotations

import re
from typing import Callable, Collection, Iterable, Iterator, Optional, Sequence

from auditor.report.common import names_file

DEFAULT_WIDTH = 120  # a report that goes to no terminal: the same text on every machine and in every log
MIN_WIDTH = 40
ELLIPSIS = "…"
PATH_LINES = 3  # a path wrapped to more lines than this is shortened in its middle to one line
PATH_LEAST = 24  # a path column's least width: "/usr/lib/…/__init__.py"
WORD = 20  # a text column's least width, where its longest word is longer
SHORT = 14  # a column this narrow is never wrapped: "HIGH (waived)", a date, a version
FLOOR = 10  # where even the least widths do not fit: a column narrower than this keeps its least width
_GAP = 2  # two spaces between columns


def prose(text: str, width: int, indent: str = "  ") -> list[str]:
    """A line of prose wrapped to `width`, its continuation lines indented; a word longer than the width broken
    at a path separator where it has one."""
    return _wrap(text, width, indent) or [""]


def table(rows: Sequence[Sequence[object]], headers: Sequence[str], width: int,
          caps: Optional[Sequence[Optional[int]]] = None, paths: Collection[int] = ()) -> str:
    """A plain table (columns two spaces apart, the header underlined with dashes, whole numbers to the right) no
    line of which is longer than `width`. Each cell is redacted and its controls made visible before it is
    wrapped (a secret split over two lines would escape redact). `caps`: a column's widest, where narrower reads
    better even on a wide terminal; `paths`: the columns of locations, wrapped at "/" and shortened in the middle
    ("/usr/lib/…/botocore/__init__.py") past PATH_LINES lines."""
    return "\n".join(line for row in table_rows(lambda: rows, headers, width, caps, paths) for line in row)


class Measure:
    """What a table's column widths are made from, gathered a row at a time: each column's longest line and longest
    word, and whether all its cells are whole numbers."""

    def __init__(self, columns: int) -> None:
        self.rows = 0
        self.lines, self.words = [0] * columns, [0] * columns
        self.numbers = [True] * columns
        self.texts = _texts()

    def add(self, row: Sequence[object]) -> None:
        self.rows += 1
        for i, (cell, text) in enumerate(zip(row, self.texts(row))):
            self.numbers[i] = self.numbers[i] and isinstance(cell, int)
            for line in text.split("\n"):
                self.lines[i] = max(self.lines[i], len(line))
                self.words[i] = max(self.words[i], max(len(word) for word in line.split(" ")))


def measure(rows: Iterable[Sequence[object]], columns: int) -> Measure:
    measured = Measure(columns)
    for row in rows:
        measured.add(row)
    return measured


def table_rows(rows: Callable[[], Iterable[Sequence[object]]], headers: Sequence[str], width: int,
               caps: Optional[Sequence[Optional[int]]] = None, paths: Collection[int] = (),
               measured: Optional[Measure] = None) -> Iterator[list[str]]:
    """table(), its rows given twice by `rows` (once to measure, once to write: none is held), as the lines of the
    header, of the dashes, then of each row. `measured`: the rows already measured."""
    measured = measured or measure(rows(), len(headers))
    numbers = [bool(measured.rows) and number for number in measured.numbers]
    widths = _widths(measured, headers, width, caps, paths)
    yield _row(["\n".join(_wrap(h, widths[i])) for i, h in enumerate(headers)], widths, numbers)
    yield ["  ".join("-" * w for w in widths)]
    texts = _texts()
    for row in rows():
        yield _row([_cell(cell, widths[i], i in paths) for i, cell in enumerate(texts(row))], widths, numbers)


def _texts() -> Callable[[Sequence[object]], list[str]]:
    """What a row's cells show: redacted, controls visible. (Imported here: the command line imports this module for
    its widths on every start.)"""
    from auditor.redact import redact
    from auditor.report.escape import visible

    return lambda row: [visible(redact(str(cell)), newlines=True) for cell in row]


def _row(cells: Sequence[str], widths: Sequence[int], numbers: Sequence[bool]) -> list[str]:
    """The lines of one row: its cells side by side, each line padded to its column's width."""
    split = [cell.split("\n") for cell in cells]
    height = max(len(lines) for lines in split)
    return ["  ".join((text.rjust if number else text.ljust)(w)
                      for lines, w, number in zip(split, widths, numbers)
                      for text in [lines[k] if k < len(lines) else ""]).rstrip()
            for k in range(height)]


def _widths(measured: Measure, headers: Sequence[str], width: int,
            caps: Optional[Sequence[Optional[int]]], paths: Collection[int]) -> list[int]:
    """Each column's width: its natural width (its longest line, or its header) where all fit, a cap
    given up where the room allows; else each column gets its least readable width (its longest word up to WORD, its header's longest word;
    a path column PATH_LEAST) and the room left is shared in proportion to what each still lacks; where even
    those do not fit, the same from FLOOR (or a narrower least width) up to the least widths."""
    count = len(headers)
    natural, least = [], []
    uncapped = []
    for i, header in enumerate(headers):
        heading = max(len(word) for word in header.split(" "))
        uncapped.append(max(len(header), measured.lines[i]))
        cap = caps[i] if caps and i < len(caps) else None
        natural.append(min(uncapped[i], max(cap, heading)) if cap else uncapped[i])
        word = PATH_LEAST if i in paths else min(measured.words[i], WORD)
        least.append(natural[i] if natural[i] <= SHORT else min(natural[i], max(word, heading)))
    room = max(width - _GAP * (count - 1), count * 3)
    if sum(natural) <= room:  # the caps are for reading, not for leaving a wide terminal empty
        return _shares(natural, uncapped, room) if sum(uncapped) > room else uncapped
    if sum(least) <= room:
        # Text first: a path column shortens in its middle and still reads; a sentence cut short does not.
        texts_whole = [least[i] if i in paths else natural[i] for i in range(count)]
        return _shares(texts_whole, natural, room) if sum(texts_whole) <= room else _shares(least, natural, room)
    floor = [min(m, FLOOR) for m in least]
    return _shares(floor, least, room) if sum(floor) <= room else _equal_shares(natural, room)


def _shares(low: list[int], high: list[int], room: int) -> list[int]:
    """Each column `low` wide, and the room left given in proportion to what each lacks of `high`."""
    lacking = [h - m for h, m in zip(high, low)]
    extra = room - sum(low)
    widths = [m + extra * lack // max(sum(lacking), 1) for m, lack in zip(low, lacking)]
    for column in sorted(range(len(low)), key=lambda i: -lacking[i])[:room - sum(widths)]:
        widths[column] += 1  # what rounding down left
    return [min(w, h) for w, h in zip(widths, high)]


def _equal_shares(natural: list[int], room: int) -> list[int]:
    """A column narrower than an equal share keeps its width; the others share what is left equally."""
    widths = [0] * len(natural)
    pending = sorted(range(len(natural)), key=lambda i: natural[i])
    while pending and natural[pending[0]] <= room // len(pending):
        column = pending.pop(0)
        widths[column] = natural[column]
        room -= natural[column]
    for k, column in enumerate(pending):
        widths[column] = max(room // len(pending) + (1 if k < room % len(pending) else 0), 3)
    return widths


def _cell(text: str, width: int, path: bool) -> str:
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        wrapped = _wrap(line, width)
        if path and names_file(line) and len(wrapped) > PATH_LINES:
            out.append(shorten_middle(line, width))
        else:
            out += wrapped
    return "\n".join(out)


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Greedy word wrap; a word longer than a line is broken after a "/" (or "!", an archive's member), else
    where it must be."""
    out: list[str] = []
    current = ""
    for word in text.split(" "):
        lead = indent if out else ""
        room = width - len(lead)
        if current and len(current) + 1 + len(word) <= room:
            current += " " + word
            continue
        if current:
            out.append(lead + current)
            lead, room = indent, width - len(indent)
        current = word
        while len(current) > room:
            head = _break(current, room)
            out.append(lead + head)
            current = current[len(head):]
            lead, room = indent, width - len(indent)
    if current or not out:
        out.append((indent if out else "") + current)
    return [line.rstrip() for line in out] if text else []


_SEPARATOR = re.compile(r"[/!]")  # not "\\": it starts the escape of a control character
_JOINER = re.compile(r"[-_.,:;=&?]")  # within a name: "manylinux_2_28_x86_64.whl"


def _break(word: str, room: int) -> str:
    """The longest head of `word` that fits in `room`, ending after a path separator where one fits, else after
    a dash, an underscore or a dot, else where it must."""
    for boundary in (_SEPARATOR, _JOINER):
        cut = max((m.end() for m in boundary.finditer(word, 0, room)), default=0)
        if cut > room // 3:
            return word[:cut]
    return word[:room]


def shorten_middle(path: str, width: int) -> str:
    """"/usr/lib/…/botocore/__init__.py": the head and the tail of a path at separators, the file name first."""
    if len(path) <= width:
        return path
    budget = width - len(ELLIPSIS)
    ends = [m.end() for m in _SEPARATOR.finditer(path) if m.end() <= budget // 3]
    head = path[:ends[-1]] if ends else ""
    room = budget - len(head)
    starts = [m.start() for m in _SEPARATOR.finditer(path, len(head))]
    tail = next((path[s:] for s in starts if len(path) - s <= room), "")
    if len(tail) < room // 2:  # the file's folder would be lost: its last characters then
        tail = path[len(path) - room:]
    return head + ELLIPSIS + tail
