"""Elements of an XML manifest (pom.xml, *.csproj, packages.config), read with expat and no DTD.

A document type declaration is refused outright: these files never need one, and without it no
entity can be declared, so nothing is expanded (no "billion laughs") and nothing is fetched
(no external entities). Encodings are expat's: UTF-8, UTF-16 (with its BOM), ISO-8859-1, ASCII.
"""

from __future__ import annotations

from xml.parsers import expat

from auditor.collect.sdks import ManifestError
from auditor.records import field, mutable_record

MAX_DEPTH = 64
MAX_ELEMENTS = 100_000  # a large pom.xml has a few thousand; each element costs about 300 bytes held


@mutable_record
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
    parser.buffer_text = True
    elements: list[Element] = []
    open_: list[Element] = []
    texts: list[list[str]] = []  # the text pieces of each open element, joined once it ends

    def refuse(*_):
        raise ManifestError(f"line {parser.CurrentLineNumber}: a DTD or entity declaration; refused (never expanded or fetched)")

    def start(tag, attributes):
        if len(open_) >= MAX_DEPTH:
            raise ManifestError(f"line {parser.CurrentLineNumber}: nested deeper than {MAX_DEPTH} elements")
        if len(elements) >= MAX_ELEMENTS:
            raise ManifestError(f"line {parser.CurrentLineNumber}: more than {MAX_ELEMENTS} elements")
        path = (open_[-1].path if open_ else ()) + (tag.rpartition(":")[2],)
        element = Element(path, attributes, parser.CurrentLineNumber)
        if open_:
            open_[-1].children.append(element)
        open_.append(element)
        texts.append([])
        elements.append(element)

    def end(_tag):
        open_.pop().text = "".join(texts.pop())

    def text(data):
        if texts:
            texts[-1].append(data)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    try:
        parser.Parse(data, True)
    except ManifestError:
        raise
    except (expat.ExpatError, LookupError, ValueError) as exc:  # the last two: an encoding expat cannot use ("bogus", UTF-32)
        raise ManifestError(f"invalid XML: {exc}") from exc
    return elements
