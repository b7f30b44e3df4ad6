"""A tiny HTML builder that escapes by default: text from a scanned system can never become markup.

`el("td", component.name, class_="name")` escapes the text and the attribute values; only `Markup`
(what `el` returns) is inserted as it is. Every text is redacted before it is escaped: escaping turns
`&` into `&amp;`, which would hide `&token=…` from the redaction patterns.

A merged report of a fleet repeats the same texts (titles, remediations, evidence) host after host: the escaped
form of the ESCAPED texts last used is remembered, so that each is redacted and escaped once, not once per host.
"""

from __future__ import annotations

import functools
from typing import Iterable

from auditor.report.escape import html_text


VOID = {"meta", "br", "hr", "img", "link", "input"}  # elements without content or end tag
ESCAPED = 4096
_names: dict[str, str] = {}  # an attribute's keyword ("class_", "aria_label") and its name ("class", "aria-label")


class Markup(str):
    """HTML that is already escaped."""


def text(value: object) -> Markup:
    if type(value) is Markup:
        return value
    return _escaped(value if type(value) is str else str(value))


@functools.lru_cache(maxsize=ESCAPED)
def _escaped(plain: str) -> Markup:
    return Markup(html_text(plain))


def el(tag: str, *children: object, **attributes: object) -> Markup:
    """An element; children are text, Markup, lists of them, or None (left out). `class_` gives `class`."""
    attrs = "".join(f' {_names.get(name) or _name(name)}="{text(value)}"'
                    for name, value in attributes.items() if value is not None) if attributes else ""
    if tag in VOID:
        return Markup(f"<{tag}{attrs}>")
    return Markup(f"<{tag}{attrs}>{_joined(children)}</{tag}>")


def _name(keyword: str) -> str:
    name = _names[keyword] = keyword.rstrip("_").replace("_", "-")
    return name


def join(children: Iterable[object]) -> Markup:
    return Markup(_joined(children))


def _joined(children: Iterable[object]) -> str:
    parts: list[str] = []
    for child in children:
        if type(child) is Markup:
            parts.append(child)
        elif isinstance(child, (list, tuple)):
            parts.append(_joined(child))
        elif child is not None:
            parts.append(text(child))
    return "".join(parts)


def start(tag: str, **attributes: object) -> Markup:
    """An element's start tag, as `el` writes it: for an element whose children are written one at a time after it."""
    return Markup(el(tag, **attributes)[:-len(f"</{tag}>")])
