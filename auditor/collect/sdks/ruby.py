"""The AWS SDK for Ruby in Gemfile.lock, and which store it verifies with.

Only the gems that decide trust are reported: `aws-sdk-core` (V2 and V3; the service gems go through
it) and the V1 gem (`aws-sdk-v1`, or `aws-sdk` 1.x). aws-sdk-core uses OpenSSL's default store; from
2.1.0 it ships `ca-bundle.crt`, used only after `Aws.use_bundled_cert!` (looked for in the project's
Ruby code). The V1 gem uses its own `ca-bundle.crt` by default; when the gem is installed in the
target (vendor/bundle, or the system's gem folders), that file is checked as a trust store.
"""

from __future__ import annotations

import os
import re

from auditor import records
from auditor.collect.sdks import MAX_SDK_PACKAGES, Capped, ManifestError, SdkRef
from auditor.collect.sdks.text import decode, split_lines
from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.records import mutable_record

_SPEC = re.compile(r"^    ([A-Za-z0-9_.-]+) \(([^)]+)\)$")
_DEPENDENCY = re.compile(r"^  ([A-Za-z0-9_.-]+)(?:!| \(|$)")
_USE_BUNDLED = re.compile(r"^[^#\n]*\bAws\.use_bundled_cert!", re.MULTILINE)
# Where gems are installed: bundler's --path/deployment folder beside the lockfile, and the system's.
PROJECT_GEM_DIRS = ("vendor/bundle/ruby/*/gems",)
SYSTEM_GEM_DIRS = ("/usr/local/bundle/gems", "/var/lib/gems/*/gems", "/usr/lib/ruby/gems/*/gems", "/usr/share/gems/gems",
                   "/usr/local/lib/ruby/gems/*/gems", "/opt/ruby/lib/ruby/gems/*/gems")
CODE_SKIP = frozenset({"vendor", "node_modules", ".git", "tmp", "log", ".bundle", "coverage", "public"})
CODE_DEPTH, CODE_DIRECTORIES, CODE_FILES, CODE_CAP = 4, 2000, 2000, 1024 * 1024


def _v1(name: str, version: str) -> bool:
    return name == "aws-sdk-v1" or (name == "aws-sdk" and version.startswith("1."))


def parse_gemfile_lock(data: bytes) -> list[SdkRef]:
    text = decode(data)
    lines = split_lines(text)
    if not any(line in ("GEM", "PATH", "GIT") for line in lines):
        raise ManifestError("no GEM, PATH or GIT section: not a Gemfile.lock")
    direct, section = set(), ""
    specs, total = [], 0
    for number, line in enumerate(lines, 1):
        if line and not line[0].isspace():
            section = line.strip()
            continue
        if section == "DEPENDENCIES" and (match := _DEPENDENCY.match(line)):
            direct.add(match.group(1))
        elif section in ("GEM", "PATH", "GIT") and (match := _SPEC.match(line)):
            name, version = match.group(1), match.group(2).split("-")[0]
            if name == "aws-sdk-core" or _v1(name, version):
                total += 1
                if total <= MAX_SDK_PACKAGES:
                    specs.append((name, version, number))
    return Capped([SdkRef(name, version, f"= {version}", number, direct=name in direct,
                          trust_from="bundled" if _v1(name, version) else "openssl")
                   for name, version, number in specs], total)


@mutable_record
class RubyTrust:
    """What the Ruby SDK of one Gemfile.lock verifies with: its refs with Aws.use_bundled_cert! applied, the
    installed ca-bundle.crt (host path) of each bundled gem by gem name, and the error entries of the search."""

    refs: list[SdkRef]
    bundles: dict[str, str]
    errors: list[ScanError]


def locate_trust(view: View, lockfile: str, refs: list[SdkRef], on_system: bool) -> RubyTrust:
    """The refs with Aws.use_bundled_cert! applied, and the installed ca-bundle.crt of each bundled gem.
    A search for the call that could not read all of the project's code is an error entry."""
    project = os.path.dirname(lockfile)
    errors: list[ScanError] = []
    if any(r.name == "aws-sdk-core" and _from_2_1(r.version) for r in refs):
        call = _bundled_cert_call(view, project, errors)
        if call:
            refs = [records.replace(r, trust_from="bundled", notes=r.notes + (f"{call} calls Aws.use_bundled_cert!",))
                    if r.name == "aws-sdk-core" and _from_2_1(r.version) else r for r in refs]
    bundles = {}
    for ref in refs:
        if ref.trust_from == "bundled":
            found = _installed_bundle(view, project, f"{ref.name}-{ref.version}", on_system)
            if found:
                bundles[ref.name] = found
    # aws-sdk 1.x is a wrapper around aws-sdk-v1 from 1.60 on: the bundle of either serves both.
    shared = next((bundles[r.name] for r in refs if r.name in bundles and _v1(r.name, r.version or "")), None)
    for ref in refs:
        if shared and _v1(ref.name, ref.version or ""):
            bundles.setdefault(ref.name, shared)
    return RubyTrust(refs, bundles, errors)


def _from_2_1(version) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version or "") >= Version("2.1.0")
    except InvalidVersion:
        return False


def _installed_bundle(view: View, project: str, gem: str, on_system: bool):
    patterns = [(p, project) for p in PROJECT_GEM_DIRS] + ([(p, None) for p in SYSTEM_GEM_DIRS] if on_system else [])
    for pattern, base in patterns:
        for gems_dir in view.glob(pattern, base=base):
            candidate = os.path.join(gems_dir, gem, "ca-bundle.crt")
            if view.kind(candidate) is not None:
                return candidate
    return None


def _bundled_cert_call(view: View, project: str, errors: list[ScanError]):
    """'path:line' of the first Aws.use_bundled_cert! in the project's Ruby code (bounded walk), or None; when
    the call was not found and part of the code was not read, an error entry says what."""
    from auditor.collect.sdks.discover import files_below

    unvisited: list[str] = []
    not_read = []
    sources = (e for e in files_below(view, [project], CODE_DEPTH, CODE_DIRECTORIES, CODE_SKIP, unvisited)
               if e.name.endswith(".rb"))
    for count, entry in enumerate(sources):
        if count >= CODE_FILES:
            not_read.append(f"more than {CODE_FILES:,} Ruby files")
            break
        try:
            text = view.read_bytes(entry.path, CODE_CAP).decode("utf-8", "replace")
        except FsError as exc:
            not_read.append(f"{view.display(entry.path)} ({exc})")
            continue
        match = _USE_BUNDLED.search(text)
        if match:
            return f"{view.display(entry.path)}:{text.count(chr(10), 0, match.start()) + 1}"
    not_read += [view.display(folder) for folder in unvisited[:5]] + ([f"{len(unvisited) - 5} more folders"]
                                                                       if len(unvisited) > 5 else [])
    if not_read:
        errors.append(ScanError(view.display(project), "searched for Aws.use_bundled_cert! in part only (not read: "
                                f"{', '.join(not_read[:6])}): aws-sdk-core is judged as if it is not called"))
    return None
