"""Elements of an XML manifest (pom.xml, *.csproj, packages.config), read with expat and no DTD.

A document type declaration is refused outright: these files never need one, and without it no
entity can be declared, so nothing is expanded (no "billion laughs") and nothing is fetched
(no external entities). Encodings are expat's: UTF-8, UTF-16 (with its BOM), ISO-8859-1, ASCII.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from auditor.collect.sdk_manifests import ManifestError

MAX_DEPTH = 64


@dataclass
class Element:
    path: tuple  # tag names from the root, without namespace prefixes
    attributes: dict
    line: int
    text: str = ""
    children: list = field(default_factory=list)

    def child_text(self, tag: str) -> str:
        return next((c.text.strip() for c in self.children if c.path[-1] == tag), "")


def read_xml(data: bytes) -> list[Element]:
    """Every element, in document order."""
    parser = expat.ParserCreate()
    elements: list[Element] = []
    open_: list[Element] = []

    def refuse(*_):
        raise ManifestError(f"line {parser.CurrentLineNumber}: a DTD or entity declaration; refused (never expanded or fetched)")

    def start(tag, attributes):
        if len(open_) >= MAX_DEPTH:
            raise ManifestError(f"line {parser.CurrentLineNumber}: nested deeper than {MAX_DEPTH} elements")
        path = (open_[-1].path if open_ else ()) + (tag.rpartition(":")[2],)
        element = Element(path, attributes, parser.CurrentLineNumber)
        if open_:
            open_[-1].children.append(element)
        open_.append(element)
        elements.append(element)

    def end(_tag):
        open_.pop()

    def text(data):
        if open_:
            open_[-1].text += data

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ManifestError(f"invalid XML: {exc}") from exc
    return elements
