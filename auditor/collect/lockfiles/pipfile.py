"""Pipfile.lock (pipenv): JSON with 'default' and 'develop' sections of name -> {version, hashes, markers}."""

from __future__ import annotations

import json
import re

from auditor import names
from auditor.collect.lockfiles import Pin, read_document
from auditor.collect.lockfiles.requirements import exact_version
from auditor.fs import View
from auditor.model import ScanError
from auditor.redact import redact

KNOWN_SPEC = 6


def parse(view: View, path: str, watched: set[str], errors: list[ScanError]) -> list[Pin]:
    where = view.display(path)
    document = read_document(view, path, errors, json.loads, "JSON")
    if document is None:
        return []
    text, data = document
    if not isinstance(data, dict):
        errors.append(ScanError(where, "not a Pipfile.lock object; nothing read"))
        return []
    spec = data.get("_meta", {}).get("pipfile-spec") if isinstance(data.get("_meta"), dict) else None
    if spec != KNOWN_SPEC:
        errors.append(ScanError(where, f"pipfile-spec {spec!r} is not {KNOWN_SPEC}; packages read on a best-effort basis"))
    pins = []
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
            specifier = str(entry.get("version", ""))
            details = {"section": section}
            if entry.get("markers"):
                details["marker"] = str(entry["markers"])
            for key in ("git", "ref", "file", "path"):
                if entry.get(key):
                    details[key] = redact(str(entry[key]))
            pins.append(Pin(name, exact_version(specifier), specifier, path, _line_of(text, raw_name), "Pipfile.lock", details))
    return pins


def _line_of(text: str, name: str) -> int | None:
    match = re.search(r'^\s*"' + re.escape(name) + r'"\s*:', text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None
