"""A tiny HTML builder that escapes by default: text from a scanned system can never become markup.

`el("td", component.name, class_="name")` escapes the text and the attribute values; only `Markup`
(what `el` returns) is inserted as it is. Every text is redacted before it is escaped: escaping turns
`&` into `&amp;`, which would hide `&token=…` from the redaction patterns.
"""

from __future__ import annotations

from typing import Iterable

from auditor.report.escape import html_text


VOID = {"meta", "br", "hr", "img", "link", "input"}  # elements without content or end tag


class Markup(str):
    """HTML that is already escaped."""


def text(value: object) -> Markup:
    return value if isinstance(value, Markup) else Markup(html_text(value))


def el(tag: str, *children: object, **attributes: object) -> Markup:
    """An element; children are text, Markup, lists of them, or None (left out). `class_` gives `class`."""
    attrs = "".join(f' {name.rstrip("_").replace("_", "-")}="{text(value)}"'
                    for name, value in attributes.items() if value is not None)
    if tag in VOID:
        return Markup(f"<{tag}{attrs}>")
    return Markup(f"<{tag}{attrs}>{join(children)}</{tag}>")


def join(children: Iterable[object]) -> Markup:
    parts: list[Markup] = []
    for child in children:
        if isinstance(child, (list, tuple)):
            parts.append(join(child))
        elif child is not None:
            parts.append(text(child))
    return Markup("".join(parts))
