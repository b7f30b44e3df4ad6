"""The AWS SDK for C++ (`aws-sdk-cpp`) in a vcpkg.json manifest."""

from __future__ import annotations

from auditor.collect.sdks import ManifestError, SdkRef
from auditor.collect.sdks.text import Lines, load_json

NAME = "aws-sdk-cpp"


def parse_vcpkg(data: bytes) -> list[SdkRef]:
    text, manifest = load_json(data)
    dependencies, overrides = _list(manifest, "dependencies"), _list(manifest, "overrides")
    override = next((o for o in reversed(overrides) if isinstance(o, dict) and o.get("name") == NAME), {})
    pinned = _string(override.get("version")) or _string(override.get("version-string"))
    lines, refs = Lines(text), []
    for dependency in dependencies:
        name = dependency if isinstance(dependency, str) else dependency.get("name") if isinstance(dependency, dict) else None
        if name != NAME:
            continue
        fields = dependency if isinstance(dependency, dict) else {}
        minimum = _string(fields.get("version>="))
        constraint = f"= {pinned} (override)" if pinned else (f">= {minimum}" if minimum else "")
        # a feature is a name, or an object with one ({"name": "s3", "platform": "linux"})
        named = [f.get("name") if isinstance(f, dict) else f for f in _list(fields, "features")]
        features = [f for f in named if isinstance(f, str)]
        notes = (f"features: {', '.join(features)}",) if features else ()
        refs.append(SdkRef(NAME, pinned, constraint, lines.find(f'"{NAME}"'), direct=True, notes=notes))
    return refs


def _list(manifest: dict, key: str) -> list:
    value = manifest.get(key) or []
    if not isinstance(value, list):
        raise ManifestError(f"'{key}' is not a list")
    return value


def _string(value) -> str | None:
    return value if isinstance(value, str) and value else None
