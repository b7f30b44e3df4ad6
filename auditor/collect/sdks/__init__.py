"""AWS SDKs of other languages, as their projects' manifests and lockfiles name them.

These SDKs ship no certificates (Ruby's V1 gem excepted): their trust comes from the platform
that runs them, the OS, the JVM, OpenSSL's default or Node's built-in roots. Each SDK package
a file names becomes an `sdk-manifest` component saying where its trust comes from; the first
of each file (a direct dependency when the file tells) carries the file's finding, the others
point at it (`reported_with`), so a lockfile with forty @aws-sdk/* packages is one finding.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Callable, Optional

from auditor.collect import Collected
from auditor.facts.manifest import ManifestFacts
from auditor.fs import FsError, View
from auditor.model import Component, ScanError
from auditor.records import field, mutable_record, record, replace

if TYPE_CHECKING:
    from auditor.model import Target

MANIFEST_CAP = 32 * 1024 * 1024  # a lockfile; a real one of a large monorepo is some 20 MB
# A manifest written by hand is a few kilobytes, a large pom.xml some hundreds. Parsing holds the text two or three
# times (bytes, str, the parser's values): at 64 MB one long JSON string or XML text took 220-250 MB.
HANDWRITTEN_CAP = 4 * 1024 * 1024
HANDWRITTEN = frozenset(("package.json", "pom.xml", "build.gradle", "go.mod", "msbuild", "packages.config", "vcpkg.json"))
# AWS publishes a few hundred service clients per SDK; a lockfile holds a few versions of each at most.
MAX_SDK_PACKAGES = 5_000


class Capped(list):
    """The first MAX_SDK_PACKAGES refs of a file that names `total`: a parser that can count the rest cheaply
    builds no more."""

    def __init__(self, refs, total: int):
        super().__init__(refs[:MAX_SDK_PACKAGES])
        self.total = total


class ManifestError(ValueError):
    """The file is not what its name says (corrupt, truncated, another format)."""


@record
class SdkRef:
    """One AWS SDK package as a file names it."""

    name: str
    version: Optional[str]  # the exact release, when the file pins or resolves one
    constraint: str  # as written ("^3.540.0", "[3.7.0, )", "${aws.version}"); "" when none
    line: Optional[int]
    direct: Optional[bool] = None  # None: the file does not say
    dev: bool = False
    trust_from: str = ""  # overrides the ecosystem's (Ruby: per gem)
    notes: tuple = ()
    # Named by a software bill of materials (auditor.collect.sbom): where in it, and the component's own reference.
    location: Optional[str] = None  # "FILE#bom-ref": overrides the file's location
    bom_ref: Optional[str] = None  # CycloneDX
    spdx_id: Optional[str] = None  # SPDX


@mutable_record
class SdkClient:
    """An SDK component to link to the store it uses: on the scanned system, or its own bundle."""

    view: View
    component: Component
    bundle: Optional[str] = None  # host path of a bundled CA file (Ruby V1, Aws.use_bundled_cert!)
    on_system: bool = False  # found by a machine/image scan: linked to that system's stores


# (file-name pattern, format label, ecosystem); the first match wins.
_FORMATS = (
    ("package.json", "package.json", "npm"),
    ("package-lock.json", "package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "package-lock.json", "npm"),
    ("yarn.lock", "yarn.lock", "npm"),
    ("pnpm-lock.yaml", "pnpm-lock.yaml", "npm"),
    ("pom.xml", "pom.xml", "maven"),
    ("build.gradle", "build.gradle", "maven"),
    ("build.gradle.kts", "build.gradle", "maven"),
    ("gradle.lockfile", "gradle.lockfile", "maven"),
    ("Gemfile.lock", "Gemfile.lock", "rubygems"),
    ("go.mod", "go.mod", "go"),
    ("composer.lock", "composer.lock", "composer"),
    ("*.csproj", "msbuild", "nuget"),
    ("*.fsproj", "msbuild", "nuget"),
    ("*.vbproj", "msbuild", "nuget"),
    ("Directory.Packages.props", "msbuild", "nuget"),
    ("packages.config", "packages.config", "nuget"),
    ("packages.lock.json", "packages.lock.json", "nuget"),
    ("vcpkg.json", "vcpkg.json", "vcpkg"),
)
# A manifest whose lockfile sits beside it: the lockfile names the same SDKs with their exact releases.
_LOCKED_BY = {"package.json": ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"),
              "build.gradle": ("gradle.lockfile",), "msbuild": ("packages.lock.json",)}

TRUST_FROM = {"npm": "node", "maven": "jvm", "go": "os", "composer": "os", "nuget": "os", "vcpkg": "os", "rubygems": "openssl"}
SDK_NAMES = {"npm": "AWS SDK for JavaScript", "maven": "AWS SDK for Java", "go": "AWS SDK for Go",
             "composer": "AWS SDK for PHP", "nuget": "AWS SDK for .NET", "vcpkg": "AWS SDK for C++", "rubygems": "AWS SDK for Ruby"}
# Where each ecosystem's SDK takes its trust from, and why (FACTS.md; Node.js CLI docs for --use-openssl-ca).
TRUST_WHY = {
    "node": "the SDK ships no certificates; Node.js verifies with its built-in roots (a snapshot of Mozilla's list fixed "
            "at each Node release), or OpenSSL's default store when started with --use-openssl-ca / --use-system-ca or built "
            "to use it; NODE_EXTRA_CA_CERTS adds to them",
    "jvm": "the SDK ships no certificates: it uses the trust store of the JVM that runs it (lib/security/cacerts, or "
           "javax.net.ssl.trustStore)",
    "os": "the SDK ships no certificates: it uses the operating system's CA store (on Linux the distribution's bundle, "
          "e.g. /etc/ssl/certs/ca-certificates.crt; SSL_CERT_FILE / SSL_CERT_DIR move it)",
    "openssl": "the SDK ships no certificates: Ruby's Net::HTTP verifies with OpenSSL's default store (the OS bundle on "
               "most systems; SSL_CERT_FILE / SSL_CERT_DIR move it)",
    "bundled": "the SDK verifies with the ca-bundle.crt it ships, not with the system's store",
}
NO_SYSTEM = "no system is part of this scan: trust comes from the store of the machine it runs on"


_BY_NAME = {pattern: label for pattern, label, _ in _FORMATS if "*" not in pattern}
_BY_SUFFIX = tuple((pattern[1:], label) for pattern, label, _ in _FORMATS if pattern.startswith("*"))
_ECOSYSTEM = {label: ecosystem for _, label, ecosystem in _FORMATS}


def manifest_format(filename: str) -> Optional[str]:
    """The format label a file name announces, or None (called for every file of a tree: a dict lookup first)."""
    name = os.path.basename(filename)
    label = _BY_NAME.get(name)
    if label is None and "." in name:
        label = next((lab for suffix, lab in _BY_SUFFIX if name.endswith(suffix)), None)
    return label


def _parser(label: str) -> Callable[[bytes], list[SdkRef]]:
    from auditor.collect.sdks import dotnet, go, jvm, npm, php, ruby, vcpkg

    return {"package.json": npm.parse_package_json, "package-lock.json": npm.parse_package_lock,
            "yarn.lock": npm.parse_yarn_lock, "pnpm-lock.yaml": npm.parse_pnpm_lock, "pom.xml": jvm.parse_pom,
            "build.gradle": jvm.parse_gradle, "gradle.lockfile": jvm.parse_gradle_lockfile, "Gemfile.lock": ruby.parse_gemfile_lock,
            "go.mod": go.parse_go_mod, "composer.lock": php.parse_composer_lock, "msbuild": dotnet.parse_msbuild,
            "packages.config": dotnet.parse_packages_config, "packages.lock.json": dotnet.parse_packages_lock,
            "vcpkg.json": vcpkg.parse_vcpkg}[label]


def collect_manifest(view: View, path: str, target: str, label: Optional[str] = None, on_system: bool = False,
                     prefer_lock: bool = True) -> Collected:
    """The AWS SDKs one file names, as components; an error entry if the file cannot be read.
    `prefer_lock`: a manifest whose lockfile sits beside it gives nothing (the lockfile is read)."""
    result = Collected()
    label = label or manifest_format(path)
    if label is None:
        raise ValueError(f"{path}: not a manifest format that is read")  # a caller's mistake: found files carry their label
    shown = view.display(path)
    if prefer_lock and any(view.is_file(os.path.join(os.path.dirname(path), n)) for n in _LOCKED_BY.get(label, ())):
        return result  # the lockfile beside it is read instead
    try:
        refs = _parser(label)(view.read_bytes(path, HANDWRITTEN_CAP if label in HANDWRITTEN else MANIFEST_CAP))
    except FsError as exc:
        result.errors.append(ScanError(shown, str(exc), target))
        return result
    except (ManifestError, RecursionError) as exc:
        result.errors.append(ScanError(shown, f"cannot read as {label}: {exc}", target))
        return result
    total = getattr(refs, "total", len(refs))
    if total > MAX_SDK_PACKAGES:
        result.errors.append(ScanError(shown, f"names {total:,} AWS SDK packages, more than the {MAX_SDK_PACKAGES:,} "
                                              f"a real project has; the first {MAX_SDK_PACKAGES:,} are read", target))
        refs = refs[:MAX_SDK_PACKAGES]
    result.extend(sdk_components(view, path, refs, _ECOSYSTEM[label], label, target, on_system))
    return result


def sdk_components(view: View, path: str, refs: list[SdkRef], ecosystem: str, source: str, target: str,
                   on_system: bool = False) -> Collected:
    """The components of the SDK packages a file names (of one ecosystem), grouped: the first of each group carries
    the file's finding. A Gemfile.lock's V1 gems are looked for installed beside it; an SBOM's (refs with their own
    `location`) are not: an SBOM is not in the project it describes."""
    result = Collected()
    shown = view.display(path)
    if ecosystem == "rubygems" and refs and not any(ref.location for ref in refs):
        from auditor.collect.sdks.ruby import locate_trust

        trust = locate_trust(view, path, refs, on_system)
        result.errors.extend(trust.errors)
        refs, bundles = trust.refs, trust.bundles
    else:
        bundles = {}
    facts = [_facts(ref, ecosystem, on_system, ref.name in bundles) for ref in refs]
    # Each component's identity first, so the members of a group can name their group's first by its id.
    identities = [Component("sdk-manifest", ref.name, ref.version or None, ref.location or shown, source, target,
                            line=ref.line) for ref in refs]
    groups = _groups(refs, facts)
    for primary, members in groups.items():
        first = identities[primary].id
        for member in members:
            facts[member] = replace(facts[member], reported_with=first)
        facts[primary] = replace(facts[primary], same_file_packages=tuple(_label(refs[m]) for m in members))
    result.components = [replace(identity, facts=made) for identity, made in zip(identities, facts)]
    for primary in groups:
        component = result.components[primary]
        result.sdk_clients.append(SdkClient(view, component, bundles.get(component.name), on_system))
    return result


def _facts(ref: SdkRef, ecosystem: str, on_system: bool, installed: bool) -> ManifestFacts:
    trust_from = ref.trust_from or TRUST_FROM[ecosystem]
    note = TRUST_WHY[trust_from]
    if trust_from == "bundled" and not installed:
        note += ("; the gem is not installed in the target (vendor/bundle" + (", the system's gem folders" if on_system else "")
                 + "), so that file could not be checked")
    elif trust_from != "bundled" and not on_system:
        note += "; " + NO_SYSTEM
    return ManifestFacts(ecosystem, sdk_name(ecosystem, ref.name, ref.version), ref.constraint, trust_from, note,
                         ref.direct, ref.dev, tuple(ref.notes), bom_ref=ref.bom_ref, spdx_id=ref.spdx_id)


def _groups(refs: list[SdkRef], facts: list[ManifestFacts]) -> dict[int, list[int]]:
    """One package per (file, SDK generation, trust source) carries the finding: a direct dependency if any (not a
    BOM). Its index -> the indexes of the others, which point at it; in the order the groups were met."""
    groups: dict[tuple[str, str], list[int]] = {}
    for index, made in enumerate(facts):
        groups.setdefault((made.sdk, made.trust_from), []).append(index)
    firsts: dict[int, list[int]] = {}
    for indexes in groups.values():
        primary = min(indexes, key=lambda i: (not facts[i].direct, refs[i].name.endswith(":bom")))
        firsts[primary] = [i for i in indexes if i != primary]
    return firsts


def _label(ref: SdkRef) -> str:
    return f"{ref.name} {ref.version or ref.constraint or '(any version)'}"


def sdk_name(ecosystem: str, package: str, version: Optional[str]) -> str:
    """'AWS SDK for Java 2.x', 'AWS SDK for JavaScript v3', 'AWS SDK for Ruby V1', …"""
    base = SDK_NAMES[ecosystem]
    generation = {
        "npm": "v3" if package.startswith("@aws-sdk/") else "v2",
        "maven": "2.x" if package.startswith("software.amazon.awssdk:") else "1.x",
        "go": "v2" if package.startswith("github.com/aws/aws-sdk-go-v2") else "v1",
        "rubygems": "V1" if package == "aws-sdk-v1" or package == "aws-sdk" else f"V{(version or '?').split('.')[0]}",
    }.get(ecosystem, "")
    return f"{base} {generation}".strip()


@mutable_record
class Manifests(Collected):
    """What the manifests and lockfiles of other languages gave: their components and error entries, and the
    report targets they are (one a file, in the order read)."""

    targets: list[Target] = field(default_factory=list)


def scan_manifests(view: View, found: list, target: str, on_system: bool = False, prefer_lock: bool = True) -> Manifests:
    """Components of every (host path, label) found, and the report targets they are."""
    from auditor.model import Target

    manifests = Manifests()
    for path, label in found:
        manifests.targets.append(Target("lockfile", view.display(path), {"format": label, "ecosystem": _ECOSYSTEM[label]}))
        manifests.extend(collect_manifest(view, path, target, label, on_system, prefer_lock))
    return manifests
