"""JSON text laid out as `json.dumps(value, indent=2, ensure_ascii=False)` lays it out, written faster and in parts.

The standard library's encoder leaves its C accelerator for a pure-Python generator whenever it indents; a merged
report of a thousand hosts spent a tenth of its time there. This writer makes the same text with one Python call per
container and the C string encoder for every string. A `Stream` stands for an array whose items are not held: they
are written one by one as the iterable gives them, so a report of any size is written in memory bounded by one item;
a `Written` stands for an array whose items' text was made before (items_text: a merge's, as it reads each report).
`to_json_data` is the report as its JSON document holds it, secrets masked.

The items of a Stream whose texts are final (secrets masked already: a report's sections) are written by orjson, whose
compiled encoder writes the same text as json.dumps(indent=2, ensure_ascii=False) ten times as fast, but for numbers
with a fraction or an exponent (it writes 1e-7 where json writes 1e-07) and for what it refuses (an integer past 64
bits, a lone surrogate, nesting past 254 levels): an item holding any of those is written by this module's own writer.
orjson writes the items many at a time, nested in as many lists as they lie deep, so that it indents them as they
are written here: one call for many items, and no line of its text re-indented.
"""

from __future__ import annotations

import itertools
import json
from json.encoder import encode_basestring  # the C one where the build has it

from auditor.redact import redact_tree

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from typing import IO, Any, Callable, Iterable, Iterator, Optional
    from auditor.model import Report

_INDENT = "  "


def to_json_data(report: Report) -> dict[str, Any]:
    """The report as its JSON document holds it, secrets masked."""
    data: dict[str, Any] = redact_tree(report.to_dict())
    return data


if TYPE_CHECKING:
    Text = Callable[[str], str]  # what a string value of a Stream's item is made before it is written (its secrets masked)


class Stream:
    """An array written item by item; `items` is called once, when the array is written. Its items hold no Stream.
    `texts`: the items are a report's records, each string made texts(string) before it is written, and the
    `string` of write() is not applied to them."""

    def __init__(self, items: Callable[[], Iterable[Any]], final: bool = False, texts: Optional[Text] = None) -> None:
        self.items, self.final, self.texts = items, final, texts

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items())


class Written:
    """An array whose items' text is made already (items_text, for the indentation `inner` gives), in UTF-8: `pieces`
    gives it in pieces of any size (a merge's spill file); called once, when the array is written. A piece may end
    within a character."""

    def __init__(self, pieces: Callable[[], Iterable[bytes]], inner: str) -> None:
        self.pieces, self.inner = pieces, inner


if TYPE_CHECKING:
    String = Callable[[str], str]  # a string value's JSON text


def dumps(value: Any, level: int = 0, string: String = encode_basestring) -> str:
    """The text of `value` as json.dumps(value, indent=2, ensure_ascii=False) writes it, its lines after the first
    indented by `level` steps as if it were nested that deep. `string`: what a string value is written as (the keys
    are always written as they are)."""
    parts: list[str] = []
    _text(value, "\n" + _INDENT * level, parts, string)
    return "".join(parts)


def write(out: IO[str], value: Any, level: int = 0, string: String = encode_basestring) -> None:
    """`value` written to `out` as dumps() would write it; a Stream inside it is written one item at a time."""
    _write(out, value, "\n" + _INDENT * level, string)


def _write(out: IO[str], value: Any, newline: str, string: String) -> None:
    if isinstance(value, Written):
        if value.inner != newline + _INDENT:
            raise ValueError("an array's items written for another depth")
        pieces = iter(value.pieces())
        head = next((piece for piece in pieces if piece), None)
        if head is None:
            out.write("[]")
            return
        from auditor.output import write_utf8

        out.write("[" + value.inner)
        write_utf8(itertools.chain((head,), pieces), out)
        out.write(newline + "]")
    elif isinstance(value, Stream):  # its items hold no Stream
        inner = newline + _INDENT
        if value.final:
            first = _write_final(out, value, inner)
        else:
            first = True
            for item in value:
                text = ["[" if first else ",", inner]
                _text(item, inner, text, string)
                out.write("".join(text))
                first = False
        out.write("[]" if first else newline + "]")
    elif isinstance(value, dict) and _holds_stream(value):
        inner, separator = newline + _INDENT, "{"
        for key, item in value.items():
            out.write(separator + inner + _key(key))
            _write(out, item, inner, string)
            separator = ","
        out.write(newline + "}")
    elif isinstance(value, list) and _holds_stream(value):
        inner, separator = newline + _INDENT, "["
        for item in value:
            out.write(separator + inner)
            _write(out, item, inner, string)
            separator = ","
        out.write(newline + "]")
    else:
        parts: list[str] = []
        _text(value, newline, parts, string)
        out.write("".join(parts))


BATCH = 64  # items written by one orjson call: fewer calls, and orjson indents them where they go


def _write_final(out: IO[str], stream: Stream, inner: str) -> bool:
    """The items of a Stream whose texts are final, BATCH at a time (items_text). Whether the stream was empty."""
    first, batch = True, []
    for item in stream:
        batch.append(item)
        if len(batch) == BATCH:
            out.write(("[" if first else ",") + inner + items_text(batch, inner, stream.texts))
            first, batch = False, []
    if batch:
        out.write(("[" if first else ",") + inner + items_text(batch, inner, stream.texts))
        first = False
    return first


def items_text(items: list[Any], inner: str, texts: Optional[Text] = None) -> str:
    """The text of an array's items as write() writes them, joined by "," and `inner` (the line break and indentation
    of the array's items), without the brackets: each item's strings made texts(string) (in place: `items` are
    changed). Written by orjson where it writes what json does (see _ready), each item orjson could write otherwise by
    _text."""
    parts, batch = [], []
    for item in items:
        if (type(item) is dict or type(item) is list) and _ready(item, texts):
            batch.append(item)
            continue
        if batch:
            parts.append(_batch_text(batch, inner, texts))
            batch = []
        # A walk stopped by a number may have made some of its strings texts() already: made so again (masking is
        # idempotent).
        parts.append(_item_text(item, inner, texts))
    if batch:
        parts.append(_batch_text(batch, inner, texts))
    return ("," + inner).join(parts)


def _item_text(item: Any, inner: str, texts: Optional[Text]) -> str:
    text: list[str] = []
    _text(item, inner, text, _encoded(texts))
    return "".join(text)


def _batch_text(batch: list[Any], inner: str, texts: Optional[Text]) -> str:
    """Items made ready by _ready, written by one orjson call: the batch nested in as many lists as the items are
    levels deep, so that orjson indents them as they are written here, and the text before the first item and after
    the last cut off. Where orjson refuses them (nesting past its limit, an integer past 64 bits), one by one."""
    import orjson  # here: it imports uuid and more, which only a report's sections need

    depth = (len(inner) - 1) // len(_INDENT)
    wrapped: Any = batch
    for _ in range(depth - 1):
        wrapped = [wrapped]
    try:
        data: bytes = orjson.dumps(wrapped, option=orjson.OPT_INDENT_2)
    except orjson.JSONEncodeError:
        return ("," + inner).join([_item_text(item, inner, texts) for item in batch])
    # "[\n  [\n    " before the items and "\n  ]\n]" after them, at depth 2
    before = sum(2 + len(_INDENT) * level for level in range(1, depth + 1))
    after = sum(2 + len(_INDENT) * level for level in range(depth))
    return data[before:len(data) - after].decode("utf-8")


def _ready(value: Any, text: Optional[Text]) -> bool:
    """`value`'s strings made `text(string)` (in place); False where it holds a float, which orjson could write otherwise
    than json does (1e-07 is 1e-7 there, an infinity null); the walk stops there."""
    pending = [value]
    pop, push = pending.pop, pending.append
    while pending:  # one walk: the strings made text() and the numbers looked at
        container = pop()
        # The same loop twice, over a dict's items and a list's: a shared helper would add a call for every value.
        if type(container) is dict:
            for key, item in container.items():
                kind = type(item)
                if kind is str:
                    if text is not None:
                        container[key] = text(item)
                elif kind is dict or kind is list:
                    push(item)
                elif kind is float:
                    return False
        else:
            for n, item in enumerate(container):
                kind = type(item)
                if kind is str:
                    if text is not None:
                        container[n] = text(item)
                elif kind is dict or kind is list:
                    push(item)
                elif kind is float:
                    return False
    return True


def _encoded(texts: Optional[Text]) -> String:
    if texts is None:
        return encode_basestring
    return lambda value: encode_basestring(texts(value))


def _holds_stream(value: Any) -> bool:
    if isinstance(value, (Stream, Written)):
        return True
    if isinstance(value, dict):
        return any(_holds_stream(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_stream(v) for v in value)
    return False


def _text(value: Any, newline: str, parts: list[str], string: String) -> None:
    kind = type(value)
    if kind is str:
        parts.append(string(value))
    elif kind is dict:
        if not value:
            parts.append("{}")
            return
        inner = newline + _INDENT
        separator = "{" + inner
        for key, item in value.items():
            if type(item) is str:
                parts.append(separator + _key(key) + string(item))
            else:
                parts.append(separator + _key(key))
                _text(item, inner, parts, string)
            separator = "," + inner
        parts.append(newline + "}")
    elif kind is list:
        if not value:
            parts.append("[]")
            return
        inner = newline + _INDENT
        separator = "[" + inner
        for item in value:
            if type(item) is str:
                parts.append(separator + string(item))
            else:
                parts.append(separator)
                _text(item, inner, parts, string)
            separator = "," + inner
        parts.append(newline + "]")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif value is None:
        parts.append("null")
    elif kind is int:
        parts.append(int.__repr__(value))
    else:  # a float, a tuple, a subclass: the standard encoder's own rules, its indentation kept
        parts.append(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", newline))


_KEYS: dict[Any, str] = {}  # the text of each key met, and its ": "; reports have few distinct keys


def _key(key: Any) -> str:
    text = _KEYS.get(key) if type(key) is str else None
    if text is None:
        if type(key) is str:
            text = encode_basestring(key) + ": "
            if len(_KEYS) < 4096:
                _KEYS[key] = text
        else:  # a number, a boolean or null as a key: as json writes it
            text = json.dumps({key: 0}, ensure_ascii=False)[1:-3]
    return text
