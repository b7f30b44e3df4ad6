"""Software bills of materials as targets: CycloneDX JSON (1.4 to 1.6) and SPDX JSON (2.2, 2.3).

An SBOM lists what an image or a build holds; each component that names an AWS SDK by its package URL (purl) is
judged as a lockfile's pin of it is: `pkg:pypi/boto@2.9.0` becomes the python-package component a lockfile's pin
makes, `pkg:npm/…`, `pkg:maven/…`, `pkg:gem/…`, `pkg:golang/…`, `pkg:nuget/…`, `pkg:composer/…` the sdk-manifest
components their manifests make. Each points back into the SBOM: its location is `FILE#bom-ref` (or `FILE#SPDXID`)
and its details carry `bom_ref` or `spdx_id`. Which format a file is comes from its content, not its name.
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any, Iterator, Optional

from auditor import names
from auditor.collect import Collected
from auditor.collect.python.lockfiles import MAX_PINS, lines_of, read_document, text_of
from auditor.collect.sdks import MAX_SDK_PACKAGES, SdkRef, sdk_components
from auditor.facts.package import PackageFacts, Requirement
from auditor.fs import View
from auditor.model import Component, ScanError, Target
from auditor.records import field, mutable_record

if TYPE_CHECKING:
    from packageurl import PackageURL

# Names a tree walk reads as SBOMs (a file target is recognised by its content, whatever its name).
SBOM_NAMES = frozenset({"bom.json", "sbom.json"})
SBOM_SUFFIXES = (".cdx.json", ".cyclonedx.json", ".spdx.json", ".bom.json", ".sbom.json")
# A CycloneDX component may nest components (an image's layers, an application's modules): a real SBOM nests a few
# levels; the components of all levels together are counted against MAX_COMPONENTS. An SBOM of a large image lists
# some tens of thousands.
MAX_NESTING = 32
MAX_COMPONENTS = 200_000
KNOWN_CYCLONEDX: tuple[str, ...] = ("1.4", "1.5", "1.6")
KNOWN_SPDX: tuple[str, ...] = ("SPDX-2.2", "SPDX-2.3")
REF_CHARS = 200  # a bom-ref is often a purl or a UUID; a longer one is shortened in the location
# purl type -> the ecosystem of auditor.collect.sdks
ECOSYSTEMS = {"npm": "npm", "maven": "maven", "gem": "rubygems", "golang": "go", "nuget": "nuget", "composer": "composer"}
_RUBY_TRUST = {"aws-sdk-core": "openssl"}  # the V1 gem (aws-sdk-v1, aws-sdk 1.x) ships its own bundle


def sbom_name(filename: str) -> bool:
    """Whether a file name is one SBOM generators write, which a tree walk reads."""
    name = os.path.basename(filename).lower()
    return name in SBOM_NAMES or name.endswith(SBOM_SUFFIXES)


@mutable_record
class Sbom(Collected):
    """What one SBOM gave: its components and error entries, and the report target it is."""

    target: Optional[Target] = None
    read: bool = False  # it is an SBOM of a format read (whatever it names): False when unreadable or not an SBOM

    def nothing_read(self, location: str) -> bool:
        return not self.read  # an SBOM may be read and name no AWS SDK, its problems error entries


@mutable_record
class _Entry:
    """One component of the SBOM that states a purl."""

    purl: str
    ref: str  # its bom-ref or SPDXID ("" when it has none)
    line: Optional[int]
    name: str  # as the SBOM names it, for error entries


@mutable_record
class _Reading:
    where: str
    errors: list[ScanError] = field(default_factory=list)
    watched: set[str] = field(default_factory=set)
    without_purl: int = 0
    listed: int = 0
    elsewhere: list[str] = field(default_factory=list)  # packages the scan found another way: not made again

    def no_purl(self, ref: str, name: str) -> None:
        """A component that names no purl: counted; an error entry when its name is a watched package's, whose
        ecosystem the SBOM does not say (cyclonedx-py writes none for a package installed from a local file)."""
        self.without_purl += 1
        if name and names.normalize(name) in self.watched:
            self.errors.append(ScanError(f"{self.where}#{_one_line(ref)}" if ref else self.where,
                                         f"component {_one_line(name)} states no purl, so which ecosystem's package it is "
                                         f"is not known; not judged"))


def collect_sbom(view: View, path: str, target: str, watched: set[str], on_system: bool = False,
                 known: frozenset[tuple[str, str, Optional[str]]] = frozenset()) -> Sbom:
    """The AWS SDK components an SBOM names. `known`: (kind, name, version) of the packages the scan already found
    another way (installed, or in a lockfile beside the SBOM): those are not made twice, and the target says so."""
    where = view.display(path)
    document = read_document(view, path, json.loads, "JSON")
    if document.errors:
        return Sbom(errors=document.errors, target=Target("sbom", where, {"format": "unread"}))
    data = document.data
    reading = _Reading(where, watched=watched)
    if isinstance(data, dict) and data.get("bomFormat") == "CycloneDX":
        stated = data.get("specVersion")
        label, key, known_versions = f"CycloneDX {text_of(stated)}", "bom_ref", KNOWN_CYCLONEDX
        entries = list(_cyclonedx_entries(data, _purl_lines(document.text, "purl"), reading))
    elif isinstance(data, dict) and "spdxVersion" in data:
        stated = data.get("spdxVersion")
        label, key, known_versions = text_of(stated), "spdx_id", KNOWN_SPDX
        entries = list(_spdx_entries(data, _purl_lines(document.text, "referenceLocator"), reading))
    else:
        spdx3 = isinstance(data, dict) and "spdx" in text_of(data.get("@context", "")).lower()
        why = ("an SPDX 3 (JSON-LD) document, which this auditor does not read" if spdx3 else
               "neither a CycloneDX SBOM (bomFormat \"CycloneDX\") nor an SPDX one (spdxVersion)")
        return Sbom(errors=[ScanError(where, f"{why}; not read")], target=Target("sbom", where, {"format": "unknown"}))
    if text_of(stated) not in known_versions:
        reading.errors.insert(0, ScanError(where, f"{label} is not a version this auditor knows ({', '.join(known_versions)}); "
                                                  f"components read on a best-effort basis"))
    source = "CycloneDX SBOM" if key == "bom_ref" else "SPDX SBOM"
    sbom = _components(view, path, entries, key, source, target, watched, on_system, known, reading)
    sbom.errors = reading.errors + sbom.errors
    details: dict[str, Any] = {"format": label, "components": reading.listed, "without_purl": reading.without_purl}
    if reading.elsewhere:
        details["found_another_way"] = reading.elsewhere
    sbom.target, sbom.read = Target("sbom", where, details), True
    return sbom


def _cyclonedx_entries(data: dict[str, Any], lines: dict[str, list[int]], reading: _Reading) -> Iterator[_Entry]:
    """The components of a CycloneDX BOM (the one it describes, `metadata.component`, first), nested ones after their
    parent, in document order."""
    metadata = data.get("metadata")
    roots = [metadata.get("component")] if isinstance(metadata, dict) and metadata.get("component") else []
    listed = data.get("components", [])
    if not isinstance(listed, list):
        reading.errors.append(ScanError(reading.where, "'components' is not a list; not read"))
        listed = []
    stack = [(component, 0) for component in reversed(roots + listed)]
    while stack:
        component, depth = stack.pop()
        if not isinstance(component, dict):
            reading.errors.append(ScanError(reading.where, f"a component that is not an object ({text_of(component)}); skipped"))
            continue
        ref, name = _text(component.get("bom-ref")), _text(component.get("name"))
        if not _count(reading):
            return
        nested = component.get("components")
        if isinstance(nested, list) and nested:
            if depth + 1 >= MAX_NESTING:
                reading.errors.append(ScanError(f"{reading.where}#{_one_line(ref)}" if ref else reading.where,
                                                f"the components of {_one_line(name or ref) or 'a component'} are nested more than "
                                                f"{MAX_NESTING} levels deep; not read"))
            else:
                stack.extend((child, depth + 1) for child in reversed(nested))
        purl = component.get("purl")
        if purl is None:
            reading.no_purl(ref, name)
            continue
        yield _Entry(text_of(purl), ref, _line(lines, purl), name)


def _spdx_entries(data: dict[str, Any], lines: dict[str, list[int]], reading: _Reading) -> Iterator[_Entry]:
    """The purls of an SPDX document's packages (externalRefs of type purl), in document order."""
    packages = data.get("packages", [])
    if not isinstance(packages, list):
        reading.errors.append(ScanError(reading.where, "'packages' is not a list; not read"))
        return
    for package in packages:
        if not isinstance(package, dict):
            reading.errors.append(ScanError(reading.where, f"a package that is not an object ({text_of(package)}); skipped"))
            continue
        if not _count(reading):
            return
        ref, name = _text(package.get("SPDXID")), _text(package.get("name"))
        references = package.get("externalRefs")
        purls = [r.get("referenceLocator") for r in references if isinstance(r, dict) and r.get("referenceType") == "purl"] \
            if isinstance(references, list) else []
        if not purls:
            reading.no_purl(ref, name)
        for purl in purls:
            yield _Entry(text_of(purl), ref, _line(lines, purl), name)


def _count(reading: _Reading) -> bool:
    """Counts one more component; False (and an error entry) past MAX_COMPONENTS."""
    reading.listed += 1
    if reading.listed > MAX_COMPONENTS:
        reading.listed -= 1
        reading.errors.append(ScanError(reading.where, f"lists more than {MAX_COMPONENTS:,} components, more than an SBOM "
                                                       f"of a large image does; the first {MAX_COMPONENTS:,} are read"))
        return False
    return True


def _components(view: View, path: str, entries: list[_Entry], key: str, source: str, target: str, watched: set[str],
                on_system: bool, known: frozenset[tuple[str, str, Optional[str]]], reading: _Reading) -> Sbom:
    where = reading.where
    sbom = Sbom()
    elsewhere = reading.elsewhere
    python: list[Component] = []
    by_ecosystem: dict[str, list[SdkRef]] = {}
    for entry in entries:
        location = f"{where}#{_one_line(entry.ref or entry.purl)}"
        try:
            purl = _parse_purl(entry.purl)
        except ValueError as exc:
            sbom.errors.append(ScanError(location, f"component {_one_line(entry.name or entry.ref) or '(unnamed)'}: "
                                                   f"malformed purl {entry.purl[:REF_CHARS]!r} ({_one_line(str(exc))}); "
                                                   f"not read"))
            continue
        version = purl.version or None
        stated = {key: entry.ref} if entry.ref else {}
        if purl.type == "pypi":
            name = names.normalize(purl.name)
            if name not in watched:
                continue
            if ("python-package", name, version) in known:
                elsewhere.append(f"{name} {version or '(any version)'}")
                continue
            facts = PackageFacts(requirement=Requirement.of(f"=={version}" if version else "", version is not None, stated))
            python.append(Component("python-package", name, version, location, source, target, line=entry.line, facts=facts))
        elif purl.type in ECOSYSTEMS:
            ref = _sdk_ref(purl, version, location, entry.line, stated)
            if ref is None:
                continue
            if ("sdk-manifest", ref.name, version) in known:
                elsewhere.append(f"{ref.name} {version or '(any version)'}")
                continue
            by_ecosystem.setdefault(ECOSYSTEMS[purl.type], []).append(ref)
    if len(python) > MAX_PINS:
        sbom.errors.append(ScanError(where, f"names watched Python packages {len(python):,} times, more than the "
                                            f"{MAX_PINS:,} a real SBOM does; the first {MAX_PINS:,} are read"))
        del python[MAX_PINS:]
    sbom.components.extend(python)
    for ecosystem, refs in by_ecosystem.items():
        if len(refs) > MAX_SDK_PACKAGES:
            sbom.errors.append(ScanError(where, f"names {len(refs):,} packages of the {ecosystem} AWS SDK, more than the "
                                                f"{MAX_SDK_PACKAGES:,} a real SBOM does; the first {MAX_SDK_PACKAGES:,} are read"))
            del refs[MAX_SDK_PACKAGES:]
        sbom.extend(sdk_components(view, path, refs, ecosystem, source, target, on_system))
    return sbom


def _parse_purl(text: str) -> PackageURL:
    from packageurl import PackageURL  # here: a scan of a tree without an SBOM never needs it

    return PackageURL.from_string(text)


def _sdk_ref(purl: PackageURL, version: Optional[str], location: str, line: Optional[int],
             stated: dict[str, str]) -> Optional[SdkRef]:
    """The SDK package a purl names, as its ecosystem's manifest reader would name it; None for another package."""
    from auditor.collect.sdks import dotnet, go, jvm, npm, php

    namespace = purl.namespace or ""
    name = f"{namespace}/{purl.name}" if namespace else purl.name
    trust_from = ""
    if purl.type == "npm" and not npm.is_sdk(name):
        return None
    if purl.type == "maven":
        if not jvm.is_sdk(namespace, purl.name):
            return None
        name = f"{namespace}:{purl.name}"
    if purl.type == "gem":
        v1 = name == "aws-sdk-v1" or (name == "aws-sdk" and (version or "").startswith("1."))
        if not v1 and name not in _RUBY_TRUST:
            return None  # the service gems go through aws-sdk-core, as in a Gemfile.lock
        trust_from = "bundled" if v1 else _RUBY_TRUST[name]
    if (purl.type == "golang" and not go.is_sdk(name)) or (purl.type == "nuget" and not dotnet.is_sdk(name)) or \
            (purl.type == "composer" and name != php.NAME):
        return None
    return SdkRef(name, version, version or "", line, trust_from=trust_from, location=location,
                  bom_ref=stated.get("bom_ref"), spdx_id=stated.get("spdx_id"))


_STRING = r'"((?:[^"\\\n]|\\.)*)"'


def _purl_lines(text: str, key: str) -> dict[str, list[int]]:
    """The lines each purl value is written on (`"purl": "…"`, SPDX's `"referenceLocator": "…"`), in file order."""
    found: dict[str, list[int]] = {}
    pattern = re.compile(rf'"{key}"[ \t]*:[ \t]*{_STRING}')
    for match, line in lines_of(pattern, text):
        try:
            value = json.loads(f'"{match.group(1)}"')
        except ValueError:
            continue
        found.setdefault(value, []).append(line)
    return found


def _line(lines: dict[str, list[int]], purl: object) -> Optional[int]:
    """The line of a purl's next occurrence, each taken once; None where the text writes it otherwise (escaped)."""
    if not isinstance(purl, str) or not lines.get(purl):
        return None
    return lines[purl].pop(0)


def _one_line(text: str) -> str:
    """A text of the SBOM as a location or message shows it: on one line (controls escaped, as JSON writes them),
    valid UTF-8 (a lone surrogate kept as its escape), at most REF_CHARS characters."""
    shown = text_of(json.dumps(text[:REF_CHARS], ensure_ascii=False)[1:-1])
    return shown + "…" if len(text) > REF_CHARS else shown


def _text(value: object) -> str:
    return text_of(value) if isinstance(value, str) else ""
