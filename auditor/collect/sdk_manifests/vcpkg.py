"""The AWS SDK for C++ (`aws-sdk-cpp`) in a vcpkg.json manifest."""

from __future__ import annotations

from auditor.collect.sdk_manifests import ManifestError, SdkRef
from auditor.collect.sdk_manifests.text import line_of, load_json

NAME = "aws-sdk-cpp"


def parse_vcpkg(data: bytes) -> list[SdkRef]:
    text, manifest = load_json(data)
    dependencies = manifest.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise ManifestError("'dependencies' is not a list")
    overrides = {o.get("name"): o for o in manifest.get("overrides") or [] if isinstance(o, dict)}
    refs = []
    for dependency in dependencies:
        name = dependency if isinstance(dependency, str) else dependency.get("name") if isinstance(dependency, dict) else None
        if name != NAME:
            continue
        minimum = dependency.get("version>=", "") if isinstance(dependency, dict) else ""
        pinned = overrides.get(NAME, {}).get("version") or overrides.get(NAME, {}).get("version-string")
        constraint = f"= {pinned} (override)" if pinned else (f">= {minimum}" if minimum else "")
        features = dependency.get("features") if isinstance(dependency, dict) else None
        notes = (f"features: {', '.join(str(f) for f in features)}",) if features else ()
        refs.append(SdkRef(NAME, pinned, constraint, line_of(text, f'"{NAME}"'), direct=True, notes=notes))
    return refs
