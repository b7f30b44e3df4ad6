"""The AWS SDK for Java (`com.amazonaws:aws-java-sdk*` 1.x, `software.amazon.awssdk:*` 2.x) in pom.xml,
build.gradle / build.gradle.kts and gradle.lockfile."""

from __future__ import annotations

import re

from auditor.collect.sdks import MAX_SDK_PACKAGES, Capped, ManifestError, SdkRef
from auditor.collect.sdks.text import decode, split_lines
from auditor.collect.sdks.xml import read_xml

_PROPERTY = re.compile(r"\$\{([^}]+)\}")
# 'group:artifact:version' or 'group:artifact' in a Gradle string, and the Kotlin/Groovy map form. The look-ahead
# for the closing quote comes first: without it, an unclosed string backtracks over every split of its text.
_GRADLE_STRING = re.compile(r"""["'](?=[^"']*["'])(com\.amazonaws|software\.amazon\.awssdk):([\w.-]+)(?::([^"':@]+))?[^"']*["']""")
_GRADLE_MAP = re.compile(r"""group\s*[:=]\s*["'](com\.amazonaws|software\.amazon\.awssdk)["']\s*,\s*name\s*[:=]\s*["']([\w.-]+)["']"""
                         r"""(?:\s*,\s*version\s*[:=]\s*["']([^"']+)["'])?""")
_EXACT = re.compile(r"^\d+(?:\.\d+)+(?:[.-][\w.-]+)?$")


def is_sdk(group: str, artifact: str) -> bool:
    return (group == "com.amazonaws" and artifact.startswith("aws-java-sdk")) or group == "software.amazon.awssdk"


def _ref(group: str, artifact: str, constraint: str, line, **extra) -> SdkRef:
    exact = constraint if _EXACT.match(constraint) else None
    return SdkRef(f"{group}:{artifact}", exact, constraint, line, **extra)


def parse_pom(data: bytes) -> list[SdkRef]:
    elements = read_xml(data)
    if not elements or elements[0].path != ("project",):
        raise ManifestError("the root element is not <project>")
    properties = {c.path[-1]: c.text.strip() for e in elements if e.path == ("project", "properties") for c in e.children}
    refs = []
    for element in elements:
        if element.path[-1] != "dependency" or element.path[-2] != "dependencies":
            continue
        group, artifact = element.child_text("groupId"), element.child_text("artifactId")
        if not is_sdk(group, artifact):
            continue
        written = element.child_text("version")
        constraint = _PROPERTY.sub(lambda m: properties.get(m.group(1), m.group(0)), written)
        notes = []
        if written != constraint:
            notes.append(f"version {written} = {constraint} (from <properties>)")
        if not written:
            notes.append("no version here: set by a BOM or <dependencyManagement>")
        if "dependencyManagement" in element.path:
            notes.append("declared in <dependencyManagement>" + (" (a BOM import)" if element.child_text("scope") == "import" else ""))
        line = next((c.line for c in element.children if c.path[-1] == "artifactId"), element.line)
        refs.append(_ref(group, artifact, constraint, line, direct=True,
                         dev=element.child_text("scope") == "test", notes=tuple(notes)))
    return refs


def parse_gradle(data: bytes) -> list[SdkRef]:
    """Dependencies written as strings or group/name/version maps (Groovy and Kotlin DSL). Versions
    from variables or a version catalog are not evaluated: the constraint is kept as written."""
    text = decode(data)
    refs, total = [], 0
    for number, line in enumerate(split_lines(text), 1):
        code = line.split("//")[0]
        for match in list(_GRADLE_STRING.finditer(code)) + list(_GRADLE_MAP.finditer(code)):
            group, artifact, version = match.group(1), match.group(2), match.group(3) or ""
            if is_sdk(group, artifact):
                total += 1
                if total <= MAX_SDK_PACKAGES:
                    refs.append(_ref(group, artifact, version, number, direct=True))
    return Capped(refs, total)


def parse_gradle_lockfile(data: bytes) -> list[SdkRef]:
    """'group:artifact:version=configuration,…' lines, as `gradle dependencies --write-locks` writes them."""
    text = decode(data)
    refs, total = [], 0
    for number, line in enumerate(split_lines(text), 1):
        line = line.strip()
        if not line or line.startswith("#") or line.startswith("empty="):
            continue
        coordinates, sep, configurations = line.partition("=")
        parts = coordinates.split(":")
        if not sep or len(parts) != 3:
            raise ManifestError(f"line {number}: not 'group:artifact:version=configurations'")
        if is_sdk(parts[0], parts[1]):
            total += 1
            if total <= MAX_SDK_PACKAGES:
                test_only = all(c.startswith("test") for c in configurations.split(","))
                refs.append(_ref(parts[0], parts[1], parts[2], number, dev=test_only))
    return Capped(refs, total)
