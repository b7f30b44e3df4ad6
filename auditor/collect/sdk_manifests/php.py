"""The AWS SDK for PHP (`aws/aws-sdk-php`) in composer.lock."""

from __future__ import annotations

from auditor.collect.sdk_manifests import ManifestError, SdkRef
from auditor.collect.sdk_manifests.text import line_of, load_json

NAME = "aws/aws-sdk-php"


def parse_composer_lock(data: bytes) -> list[SdkRef]:
    text, lock = load_json(data)
    if "packages" not in lock:
        raise ManifestError("no 'packages' list: not a composer.lock")
    refs = []
    for section in ("packages", "packages-dev"):
        packages = lock.get(section) or []
        if not isinstance(packages, list):
            raise ManifestError(f"'{section}' is not a list")
        for package in packages:
            if isinstance(package, dict) and package.get("name") == NAME:
                version = str(package.get("version", "")).lstrip("v") or None
                refs.append(SdkRef(NAME, version, str(package.get("version", "")), line_of(text, f'"name": "{NAME}"'),
                                   dev=section == "packages-dev"))
    return refs
