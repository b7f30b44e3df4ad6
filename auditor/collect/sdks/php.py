"""The AWS SDK for PHP (`aws/aws-sdk-php`) in composer.lock."""

from __future__ import annotations

from auditor.collect.sdks import ManifestError, SdkRef
from auditor.collect.sdks.text import Lines, load_json

NAME = "aws/aws-sdk-php"


def parse_composer_lock(data: bytes) -> list[SdkRef]:
    text, lock = load_json(data)
    if "packages" not in lock:
        raise ManifestError("no 'packages' list: not a composer.lock")
    lines, refs = Lines(text), []
    for section in ("packages", "packages-dev"):
        packages = lock.get(section) or []
        if not isinstance(packages, list):
            raise ManifestError(f"'{section}' is not a list")
        lines.find(f'"{section}"', restart=True)  # its packages are looked up from there on
        for package in packages:
            if isinstance(package, dict) and package.get("name") == NAME:
                version = package.get("version")
                written = version if isinstance(version, str) else ""
                refs.append(SdkRef(NAME, written.lstrip("v") or None, written, lines.find(f'"name": "{NAME}"'),
                                   dev=section == "packages-dev"))
    return refs
