"""Pipfile.lock (pipenv): JSON with 'default' and 'develop' sections of name -> {version, hashes, markers}."""

from __future__ import annotations

import json
import re
import reprlib

from auditor import names
from auditor.collect.python.lockfiles import Pin, Pins, lines_of, read_document, text_of
from auditor.collect.python.lockfiles.requirements import exact_version
from auditor.fs import View
from auditor.model import ScanError
from auditor.redact import redact

KNOWN_SPEC = 6


def parse(view: View, path: str, watched: set[str]) -> Pins:
    where = view.display(path)
    document = read_document(view, path, json.loads, "JSON")
    if document.errors:
        return Pins(errors=document.errors)
    text, data = document.text, document.data
    if not isinstance(data, dict):
        return Pins(errors=[ScanError(where, "not a Pipfile.lock object; nothing read")])
    errors: list[ScanError] = []
    spec = data.get("_meta", {}).get("pipfile-spec") if isinstance(data.get("_meta"), dict) else None
    if spec != KNOWN_SPEC:
        errors.append(ScanError(where, f"pipfile-spec {reprlib.repr(spec)} is not {KNOWN_SPEC}; packages read on a best-effort basis"))
    pins: list[Pin] = []
    lines = _key_lines(text, watched)
    for section in ("default", "develop"):
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            errors.append(ScanError(where, f"'{section}' is not an object; skipped"))
            continue
        for raw_name, entry in entries.items():
            name = names.normalize(raw_name)
            if name not in watched:
                continue
            entry = entry if isinstance(entry, dict) else {}
            specifier = text_of(entry.get("version", ""))
            details = {"section": section}
            if entry.get("markers"):
                details["marker"] = text_of(entry["markers"])
            for key in ("git", "ref", "file", "path"):
                if entry.get(key):
                    details[key] = redact(text_of(entry[key]))
            pins.append(Pin(name, exact_version(specifier), specifier, path, lines.get(raw_name), "Pipfile.lock", details))
    return Pins(pins, errors)


def _key_lines(text: str, watched: set[str]) -> dict[str, int]:
    """Line of the first `"key":` line of each key naming a watched package, in one pass over the text."""
    found: dict[str, int] = {}
    for match, line in lines_of(_KEY_LINE, text):
        key = match.group(1)
        if key not in found and names.normalize(key) in watched:
            found[key] = line
    return found


_KEY_LINE = re.compile(r'^[ \t]*"([^"\\\n]+)"[ \t]*:', re.M)  # [ \t]*, not \s*: \s spans blank lines
