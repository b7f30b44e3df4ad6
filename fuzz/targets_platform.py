"""Fuzz targets of the platform and SDK-manifest parsers: the OS identity files, Java's version texts and
`release` file, and the manifests of the other languages' AWS SDKs.

Each target feeds the bytes to its parser the way a scan does (written to a file and read through a View,
so the error-entry path runs too), judges what comes out with the shipped rule packs and renders it as a
JSON report checked against the published schema. It raises AssertionError on an outcome no input may
have, a result of the wrong shape; any other exception propagates and is a finding too. Files are written
only below one temporary directory, removed when the process exits.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Optional

import jsonschema

from auditor.collect.platform.java import JavaVersion, find_java_homes, parse_java_version, vendor_of, version_from_name
from auditor.collect.platform.os_identity import read_os_identity
from auditor.collect.sdks import collect_manifest
from auditor.facts.java import JavaFacts
from auditor.fs import View
from auditor.model import SEVERITIES, Component, Report, ScanError
from auditor.report.json_report import render, schema
from auditor.checks.rules import ReleaseDates, evaluate, load_packs
from workdirs import workdir  # fuzz/workdirs.py: run.py puts fuzz/ on sys.path

# Each identity file, at the path the system has it.
OS_FILES = {"os-release": "/etc/os-release", "usr-lib-os-release": "/usr/lib/os-release",
            "lsb-release": "/etc/lsb-release", "centos-release": "/etc/centos-release",
            "redhat-release": "/etc/redhat-release", "system-release": "/etc/system-release",
            "debian_version": "/etc/debian_version", "SystemVersion.plist": "/System/Library/CoreServices/SystemVersion.plist"}
# One file name per manifest format (the name decides the parser).
MANIFESTS = ("package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "pom.xml", "build.gradle",
             "build.gradle.kts", "gradle.lockfile", "Gemfile.lock", "go.mod", "composer.lock", "Orders.Api.csproj",
             "Directory.Packages.props", "packages.config", "packages.lock.json", "vcpkg.json")
JAVA_HOME = "/usr/lib/jvm/java-home"
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"

_packs: list = []
_validators: list = []  # the report schema's validator, made once (checking the schema itself is slow)




def write(root: str, path: str, data: bytes) -> str:
    """Write `data` at `path` (as the target names it) below `root`; the host path."""
    host = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(host), exist_ok=True)
    with open(host, "wb") as file:
        file.write(data)
    return host


def judge(components: list[Component], errors: list[ScanError], report: bool = True) -> None:
    """The findings of the shipped packs on the components, and (`report`) the JSON report they make,
    checked against its schema."""
    if not _packs:
        _packs.extend(load_packs().values())
        _validators.append(jsonschema.validators.validator_for(schema())(schema()))
    findings = list(evaluate(_packs, components, ReleaseDates({})))
    assert all(f.severity in SEVERITIES and f.title for f in findings), findings
    if report:
        whole = Report.start(_packs, "high", "2026-11-28")
        whole.components, whole.findings, whole.errors = components, findings, errors
        _validators[0].validate(json.loads(render(whole)))


def check_errors(errors: list) -> None:
    for error in errors:
        assert isinstance(error, ScanError) and isinstance(error.message, str) and error.message, error
        assert "\n" not in error.message, f"an error entry of more than one line: {error.message!r}"


def check_component(component: Component, kind: str) -> None:
    assert component.kind == kind and isinstance(component.name, str) and component.name, component
    assert component.version is None or (isinstance(component.version, str) and component.version), component


# -- the operating system ---------------------------------------------------------------------------

def identify(root: str, report: bool = True) -> tuple[Optional[Component], list[ScanError]]:
    """The OS a scan reads from the image at `root`, checked and judged."""
    found = read_os_identity(View(root, image=True), "image")
    assert len(found.components) <= 1, found.components
    component, errors = (found.components or [None])[0], found.errors
    check_errors(errors)
    if component is not None:
        check_component(component, "os")
    judge([component] if component else [], errors, report)
    return component, errors


def os_target(name: str, path: str) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        root = workdir(f"os-{name}")
        write(root, path, data)
        identify(root)
    return target


# -- Java -------------------------------------------------------------------------------------------

def check_java_version(version: Optional[JavaVersion]) -> None:
    if version is None:
        return
    assert isinstance(version.raw, str) and version.raw, version
    assert version.parts and all(isinstance(p, int) and p >= 0 for p in version.parts), version
    assert 1 <= version.major < 100, version
    assert len(version.key) >= 3 and (version.update is None or version.update >= 0), version


def java_component(version: Optional[str], facts: JavaFacts) -> Component:
    return Component("java", "java", version, JAVA_HOME, "JDK/JRE home", "image", facts=facts)


def java_version_text(data: bytes) -> None:
    """`java -version` output, a release file's JAVA_VERSION, a version string."""
    text = data.decode("utf-8", "replace")
    version = parse_java_version(text)
    check_java_version(version)
    vendor = vendor_of(text)
    if version is not None:
        judge([java_component(version.raw, JavaFacts(vendor or None, version_exact=version.exact))], [])


def java_directory_name(data: bytes) -> None:
    """An installer's folder name ("jdk1.8.0_292", "zulu11.50.19-ca-jdk11.0.12-linux_x64")."""
    name = data.decode("utf-8", "replace")
    check_java_version(version_from_name(name))
    vendor_of(name)


def java_release_file(data: bytes) -> None:
    """A JDK's `release` file."""
    root = workdir("java-release-file")
    write(root, JAVA_HOME + "/release", data)
    describe_java_home(root, JAVA_HOME)


def describe_java_home(root: str, home_path: str, report: bool = True):
    """The one Java home of the image at `root` (at `home_path`, given a cacerts there), as a scan finds and
    describes it, checked and judged."""
    write(root, home_path + "/lib/security/cacerts", b"\xfe\xed\xfe\xed")
    javas = find_java_homes(View(root, image=True), {}.get)
    (home,) = javas.homes
    check_java_version(home.parsed)
    check_errors(javas.errors)
    component = java_component(home.version, home.facts())
    check_component(component, "java")
    assert home.vendor is None or isinstance(home.vendor, str), home
    judge([component], javas.errors, report)
    return home


# -- SDK manifests ------------------------------------------------------------------------------------

def scan_manifest(root: str, name: str, data: bytes, report: bool = True):
    """What a tree scan of `root` collects from the file `name` holding `data`, checked and judged."""
    path = write(root, name, data)
    collected = collect_manifest(View(root), path, "tree", prefer_lock=False)
    check_errors(collected.errors)
    assert not (collected.errors and collected.components), collected
    for component in collected.components:
        check_component(component, "sdk-manifest")
        assert component.line is None or 1 <= component.line <= len(data), component
        assert isinstance(component.details["constraint"], str), component
        assert all(isinstance(note, str) for note in component.details.get("notes", [])), component
    judge(collected.components, collected.errors, report)
    return collected


def manifest_target(name: str) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        scan_manifest(workdir(f"manifest-{name}"), name, data)
    return target


TARGETS: dict[str, Callable[[bytes], None]] = {
    **{f"os-{name}": os_target(name, path) for name, path in OS_FILES.items()},
    "java-version-text": java_version_text,
    "java-directory-name": java_directory_name,
    "java-release-file": java_release_file,
    **{f"manifest-{name}": manifest_target(name) for name in MANIFESTS},
}


def seeds() -> dict[str, list[bytes]]:
    """Real inputs of each target, for the first corpus: the test fixtures (a checkout's), and Java's texts."""
    def read(paths) -> list[bytes]:
        return [path.read_bytes() for path in sorted(paths)]

    found = {f"os-{name}": read(FIXTURES.glob(f"os-roots/*{path}")) for name, path in OS_FILES.items()}
    found.update({f"manifest-{name}": read(FIXTURES.glob(f"manifests/**/{name}")) for name in MANIFESTS})
    found["manifest-Directory.Packages.props"] = found["manifest-Orders.Api.csproj"]  # both MSBuild projects
    found["java-version-text"] = [b'java version "1.4.2_12"\nJava(TM) 2 Runtime Environment, Standard Edition (build 1.4.2_12-b03)\n',
                                  b'openjdk version "17.0.9" 2023-10-17\nOpenJDK Runtime Environment Temurin-17.0.9+9 (build 17.0.9+9)\n',
                                  b"1.8.0_292", b"21"]
    found["java-directory-name"] = [b"jdk1.8.0_292", b"java-1.8.0-openjdk-1.8.0.292.b10-1.el7_9.x86_64",
                                    b"zulu11.50.19-ca-jdk11.0.12-linux_x64", b"amazon-corretto-17.0.9.8.1-linux-x64"]
    found["java-release-file"] = [b'IMPLEMENTOR="Eclipse Adoptium"\nIMPLEMENTOR_VERSION="Temurin-17.0.9+9"\nJAVA_VERSION="17.0.9"\n',
                                  b'JAVA_VERSION="1.7.0"\nOS_NAME="Linux"\n']
    return found
