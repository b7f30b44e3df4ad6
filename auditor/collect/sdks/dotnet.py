"""The AWS SDK for .NET (`AWSSDK.*` NuGet packages) in project files (*.csproj, *.fsproj, *.vbproj,
Directory.Packages.props), packages.config and packages.lock.json."""

from __future__ import annotations

from auditor.collect.sdks import ManifestError, SdkRef
from auditor.collect.sdks.text import Lines, load_json, mapping
from auditor.collect.sdks.xml import read_xml


def is_sdk(package_id: str) -> bool:
    return package_id.lower().startswith("awssdk.")


def _exact(constraint: str):
    """NuGet: '3.7.300' is a minimum, '[3.7.300]' exactly that release."""
    inner = constraint.strip()
    if inner.startswith("[") and inner.endswith("]") and "," not in inner:
        return inner[1:-1].strip()
    return None


def parse_msbuild(data: bytes) -> list[SdkRef]:
    elements = read_xml(data)
    if not elements or elements[0].path[0] != "Project":
        raise ManifestError("the root element is not <Project>")
    refs = []
    for element in elements:
        if element.path[-1] not in ("PackageReference", "PackageVersion"):
            continue
        package = element.attributes.get("Include") or element.attributes.get("Update") or ""
        if is_sdk(package):
            version = element.attributes.get("Version") or element.attributes.get("VersionOverride") or element.child_text("Version")
            notes = () if version else ("no version here: set centrally (Directory.Packages.props)",)
            refs.append(SdkRef(package, _exact(version), version, element.line, direct=True, notes=notes))
    return refs


def parse_packages_config(data: bytes) -> list[SdkRef]:
    elements = read_xml(data)
    if not elements or elements[0].path != ("packages",):
        raise ManifestError("the root element is not <packages>")
    return [SdkRef(e.attributes["id"], e.attributes.get("version"), e.attributes.get("version", ""), e.line, direct=True,
                   dev=e.attributes.get("developmentDependency") == "true")
            for e in elements if e.path == ("packages", "package") and is_sdk(e.attributes.get("id", ""))]


def parse_packages_lock(data: bytes) -> list[SdkRef]:
    text, lock = load_json(data)
    if "dependencies" not in lock:
        raise ManifestError("no 'dependencies': not a packages.lock.json")
    found: dict[tuple, SdkRef] = {}
    lines = Lines(text)
    for framework, packages in mapping(lock["dependencies"], "dependencies").items():
        lines.find(f'"{framework}"')  # its packages are looked up from there on
        for package, entry in mapping(packages, framework).items():
            if not is_sdk(package):
                continue
            entry = mapping(entry, package)
            version = entry.get("resolved") if isinstance(entry.get("resolved"), str) else None
            requested = entry.get("requested")
            requested = requested if isinstance(requested, str) else ""
            direct = entry.get("type") == "Direct"
            found.setdefault((package, version), SdkRef(package, version, requested,
                                                        lines.find(f'"{package}"'), direct=direct))
    return list(found.values())
