"""The AWS SDK for JavaScript (`aws-sdk` v2, `@aws-sdk/*` v3) in package.json, package-lock.json
(lockfileVersion 1, 2 and 3), yarn.lock (classic v1 and berry) and pnpm-lock.yaml."""

from __future__ import annotations

import re
from typing import Optional

from auditor.collect.sdks import MAX_SDK_PACKAGES, Capped, ManifestError, SdkRef
from auditor.collect.sdks.text import Block, Lines, decode, load_json, mapping, read_blocks

DEPENDENCY_KEYS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
_EXACT = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


def is_sdk(name: str) -> bool:
    return name == "aws-sdk" or name.startswith("@aws-sdk/")


def _exact(constraint: str) -> Optional[str]:
    return constraint.lstrip("v") if _EXACT.match(constraint) else None


def parse_package_json(data: bytes) -> list[SdkRef]:
    text, manifest = load_json(data)
    lines, named = Lines(text), []
    for key in DEPENDENCY_KEYS:
        named += [(key, name, constraint) for name, constraint in mapping(manifest.get(key), key).items() if is_sdk(name)]
    refs, section = [], None
    for key, name, constraint in named[:MAX_SDK_PACKAGES]:
        if key != section:
            section = key
            lines.find(f'"{key}"', restart=True)  # the names are looked up from there on
        constraint = constraint if isinstance(constraint, str) else ""
        refs.append(SdkRef(name, _exact(constraint), constraint, lines.find(f'"{name}"'),
                           direct=True, dev=key == "devDependencies"))
    return Capped(refs, len(named))


def parse_package_lock(data: bytes) -> list[SdkRef]:
    text, lock = load_json(data)
    version = lock.get("lockfileVersion")
    if "packages" in lock:  # lockfileVersion 2 and 3
        return _lock_packages(text, mapping(lock["packages"], "packages"))
    if version not in (1, None):
        raise ManifestError(f"lockfileVersion {version!r} without a 'packages' object")
    found: dict[tuple, SdkRef] = {}
    _lock_v1(Lines(text), mapping(lock.get("dependencies"), "dependencies"), found, 0)
    return list(found.values())


def _lock_packages(text: str, packages: dict) -> list[SdkRef]:
    root = mapping(packages.get(""), "the root package")
    direct = {name: (key, spec) for key in DEPENDENCY_KEYS for name, spec in mapping(root.get(key), key).items()}
    found: dict[tuple, SdkRef] = {}
    lines = Lines(text)
    for key, entry in packages.items():
        name = key.rpartition("node_modules/")[2]
        if "node_modules/" not in key or not is_sdk(name):
            continue
        entry = mapping(entry, key)
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        top = key == f"node_modules/{name}" and name in direct
        constraint = direct[name][1] if top and isinstance(direct[name][1], str) else ""
        found.setdefault((name, version), SdkRef(name, version, constraint, lines.find(f'"{key}"'), direct=top,
                                                 dev=bool(entry.get("dev"))))
    return list(found.values())


def _lock_v1(lines: Lines, dependencies: dict, found: dict, depth: int) -> None:
    """The SDKs of a lockfileVersion 1 tree, depth first: the order its entries are written in."""
    if depth > 64:
        raise ManifestError("dependencies nested deeper than 64 levels")
    for name, entry in dependencies.items():
        entry = mapping(entry, name)
        if is_sdk(name):
            version = entry.get("version") if isinstance(entry.get("version"), str) else None
            found.setdefault((name, version), SdkRef(name, version, "", lines.find(f'"{name}": {{'), dev=bool(entry.get("dev"))))
        _lock_v1(lines, mapping(entry.get("dependencies"), f"dependencies of {name}"), found, depth + 1)


def _spec_name(spec: str) -> str:
    """'@aws-sdk/client-s3@npm:^3.5' -> '@aws-sdk/client-s3'; 'aws-sdk@^2' -> 'aws-sdk'."""
    at = spec.find("@", 1)
    return spec if at < 0 else spec[:at]


def parse_yarn_lock(data: bytes) -> list[SdkRef]:
    text = decode(data)
    wanted = _Wanted(_yarn_section, lambda path: len(path) == 1 and not _yarn_section(path[0]),
                     lambda path: is_sdk(_spec_name(path[0].split(",", 1)[0].strip().strip("\"'"))))
    blocks = read_blocks(text, wanted)
    workspace_deps: dict[str, str] = {}
    for key, entry in blocks.items():
        if "@workspace:" in key and isinstance(entry, Block):  # berry: the project itself, with its direct dependencies
            for field in DEPENDENCY_KEYS:
                deps = entry.get(field)
                if isinstance(deps, Block):
                    workspace_deps.update({n: v for n, v in deps.items() if isinstance(v, str)})
    berry = "__metadata" in blocks
    refs = []
    for key, entry in blocks.items():
        specs = [s.strip().strip("\"'") for s in key.split(",")]
        name = _spec_name(specs[0])
        if not is_sdk(name):
            continue
        if not isinstance(entry, Block) or not isinstance(entry.get("version"), str):
            raise ManifestError(f"line {blocks.lines[key]}: entry {key} has no version")
        constraints = [s[len(name) + 1:] for s in specs]
        direct = (name in workspace_deps) if berry and workspace_deps else None
        refs.append(SdkRef(name, entry["version"], ", ".join(constraints), blocks.lines[key], direct=direct))
    return Capped(refs, len(refs) + wanted.past_cap)


class _Wanted:
    """What read_blocks keeps of a yarn or pnpm lockfile: the sections read whole (berry's metadata and workspaces,
    pnpm's importers) and, of the package entries, the AWS SDK ones: the first MAX_SDK_PACKAGES, the rest counted.
    The thousands of other packages are read past, not held."""

    def __init__(self, section, package_at, is_sdk_entry):
        self.section, self.package_at, self.is_sdk_entry = section, package_at, is_sdk_entry
        self.kept = self.past_cap = 0

    def __call__(self, path: tuple) -> bool:
        if self.package_at(path):
            if not self.is_sdk_entry(path):
                return False
            if self.kept < MAX_SDK_PACKAGES:
                self.kept += 1
                return True
            self.past_cap += 1
            return False
        return len(path) > 1 or self.section(path[0])


def _yarn_section(key: str) -> bool:
    return key == "__metadata" or "@workspace:" in key


_PNPM_SECTIONS = frozenset(("lockfileVersion", "importers", "packages", "specifiers") + DEPENDENCY_KEYS)


def parse_pnpm_lock(data: bytes) -> list[SdkRef]:
    text = decode(data)
    wanted = _Wanted(_PNPM_SECTIONS.__contains__, lambda path: len(path) == 2 and path[0] == "packages",
                     lambda path: is_sdk(_pnpm_id(path[1])[0]))
    lock = read_blocks(text, wanted)
    if "lockfileVersion" not in lock:
        raise ManifestError("no lockfileVersion: not a pnpm lockfile")
    direct = _pnpm_direct(lock)
    packages = lock.get("packages")
    if not isinstance(packages, Block):
        packages = Block()
    refs: dict[tuple, SdkRef] = {}
    for key, entry in packages.items():
        name, version = _pnpm_id(key)
        if not is_sdk(name):
            continue
        spec, dev_dependency = direct.get(name, ("", False))
        dev = dev_dependency or (isinstance(entry, Block) and entry.get("dev") == "true")
        known = name in direct if direct else None
        refs.setdefault((name, version), SdkRef(name, version, spec, packages.lines[key], direct=known, dev=dev))
    return Capped(list(refs.values()), len(refs) + wanted.past_cap)


def _pnpm_direct(lock: Block) -> dict[str, tuple[str, bool]]:
    """name -> (specifier, a devDependency) of the direct dependencies: of each importer (workspaces, lockfile 9),
    or top-level (5.x, 6.x)."""
    importers = lock.get("importers")
    projects = [p for p in importers.values() if isinstance(p, Block)] if isinstance(importers, Block) else [lock]
    found: dict[str, tuple[str, bool]] = {}
    for project in projects:
        specifiers = project.get("specifiers")
        if not isinstance(specifiers, Block):
            specifiers = Block()
        for field in DEPENDENCY_KEYS:
            deps = project.get(field)
            for name, value in (deps.items() if isinstance(deps, Block) else ()):
                spec = value.get("specifier", "") if isinstance(value, Block) else specifiers.get(name, "")
                found.setdefault(name, (spec if isinstance(spec, str) else "", field == "devDependencies"))
    return found


def _pnpm_id(key: str) -> tuple[str, Optional[str]]:
    """'/@aws-sdk/client-s3/3.540.0' (5.x), '/@aws-sdk/client-s3@3.540.0' (6.x), '@aws-sdk/client-s3@3.540.0(peer@1)' (9.x)."""
    key = key.lstrip("/").split("(")[0]
    at = key.find("@", 1)
    if at > 0:
        return key[:at], key[at + 1:] or None
    name, _, version = key.rpartition("/")
    return (name, version.split("_")[0] or None) if name else (key, None)
