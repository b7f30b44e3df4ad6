"""Find Python environments, lockfiles and source files below a directory.

The walk uses os.scandir, never follows a directory symlink (so it cannot loop or
leave the target), skips VCS and cache folders, and does not descend into the
places it has recognised: a virtualenv, a site directory, a Python standard
library, a vendored copy of an AWS SDK. It also lists the files whose trust settings
are read (Python code, shell and CI scripts): none inside those places, except the
top-level files of a package directory (a Lambda bundle's handler), and none in a released package
beside a vendored copy (lib/third_party/requests beside lib/third_party/botocore) or in a
folder of packages installed with their egg-info: the scan judges the user's code, not installed packages'. Site directories
are grouped into environments by their prefix and Python version, ordered as that
interpreter's sys.path would order them.

A vendored copy is a directory named after an AWS SDK package (boto, botocore, …) whose
`__init__.py` assigns a `__version__` literal, wherever it sits (`vendor/`,
`lib/third_party/`): the folder holding it is searched as one more import path entry,
so the copy is judged like an install and resolved to the bundle it ships.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Callable, Optional

from auditor.collect.python.archives import archive_format
from auditor.collect.python.lockfiles import lockfile_format
from auditor.collect.python.metadata import module_version
from auditor.collect.sbom import sbom_name
from auditor.collect.sdks import manifest_format
from auditor.collect.config.trust_config import source_format
from auditor.collect.config.trust_config.db_settings import config_format
from auditor.fs import FsError, View
from auditor.model import ScanError
from auditor.records import field, mutable_record, record

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache",
                       ".ruff_cache", ".idea", ".vscode", ".eggs"})
SITE_DIR_NAMES = ("site-packages", "dist-packages")
_PYTHON_DIR = re.compile(r"^python(\d(?:\.\d+)?)$")
_CLI_V2_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
# Packages a project copies into its own tree (vendor/botocore, lib/third_party/boto): an install wherever they sit.
VENDORED_PACKAGES = frozenset({"boto", "botocore", "awscli", "boto3", "s3transfer"})
INIT_CAP = 1024 * 1024


@record
class WalkLimits:
    """How far a walk of a place the user did not name goes: levels below its start, and entries listed."""

    depth: int
    entries: int


@mutable_record
class Environment:
    kind: str  # virtualenv | prefix | package-dir | vendored | aws-cli-v2
    prefix: str  # host path
    python: str = ""
    site_dirs: list[str] = field(default_factory=list)


@mutable_record
class Discovery:
    environments: list[Environment] = field(default_factory=list)
    lockfiles: list[tuple[str, str]] = field(default_factory=list)  # (host path, format)
    manifests: list[tuple[str, str]] = field(default_factory=list)  # other languages' (host path, format)
    archives: list[tuple[str, str]] = field(default_factory=list)  # .zip, .whl, .egg files: (host path, format)
    sboms: list[str] = field(default_factory=list)  # files named as SBOM generators name them (host paths)
    source_files: int = 0  # files whose trust settings are read: handed to walk's `on_source`, never listed
    errors: list[ScanError] = field(default_factory=list)
    directories: int = 0
    entries: int = 0  # directory entries listed
    excluded: list[str] = field(default_factory=list)  # host paths the user's exclude patterns kept out, unread


def site_dir_layout(site_dir: str) -> tuple[str, str, tuple]:
    """(prefix, python version, sort key) for a site directory path.

    P/lib/python3.11/site-packages -> (P, '3.11'); P/lib/python3/dist-packages -> (P, '3');
    P/Lib/site-packages (Windows) -> (P, ''); anything else is its own prefix.
    """
    parent, leaf = os.path.split(site_dir)
    lib_dir, python_dir = os.path.split(parent)
    match = _PYTHON_DIR.match(python_dir)
    if leaf in SITE_DIR_NAMES and match:
        prefix, lib = os.path.split(lib_dir)
        # sys.path order on the distributions: lib64 before lib, site- before dist-, X.Y before python3
        return prefix, match.group(1), (lib != "lib64", leaf != "site-packages", "." not in match.group(1))
    if leaf == "site-packages" and python_dir.lower() == "lib":
        return lib_dir, "", (False, False, False)
    return site_dir, "", (False, False, False)


def group_site_dirs(site_dirs: list[str], kind_of: Callable[[str], str]) -> list[Environment]:
    """Environments from loose site directories: one per (prefix, Python version)."""
    groups: dict[tuple[str, str], list[tuple[tuple, str]]] = {}
    for site_dir in site_dirs:
        prefix, python, key = site_dir_layout(site_dir)
        groups.setdefault((prefix, python), []).append((key, site_dir))
    # lib/python3/dist-packages serves every python3.X of its prefix (Debian)
    for (prefix, python), members in list(groups.items()):
        if python == "3":
            versioned = [k for k in groups if k[0] == prefix and k[1].startswith("3.")]
            for other in versioned:
                groups[other].extend(members)
            if versioned:
                del groups[(prefix, python)]
    return [Environment(kind_of(prefix), prefix, python, [d for _, d in sorted(members)])
            for (prefix, python), members in sorted(groups.items())]


def venv_site_dirs(view: View, venv: str) -> list[str]:
    found: list[str] = []
    for lib in ("lib", "lib64", "Lib"):
        lib_dir = os.path.join(venv, lib)
        if not view.is_dir(lib_dir) or view.link_text(lib_dir) is not None:  # lib64 -> lib: the same folder
            continue
        if lib == "Lib":
            candidates = [os.path.join(lib_dir, "site-packages")]
        else:
            try:
                candidates = [os.path.join(e.path, leaf) for e in view.list_dir(lib_dir)
                              if _PYTHON_DIR.match(e.name) for leaf in SITE_DIR_NAMES]
            except FsError:
                continue
        found.extend(c for c in candidates if view.is_dir(c))
    return found


class Exclusion:
    """The user's exclude patterns (scan --exclude, a configuration's exclude): a pattern without '/' matches a
    folder's or file's own name at any depth (`build`, `*.whl`); one with '/' its path below the target, with '/'
    between names (`tests/fixtures`, `**/legacy/*.txt`; `*` spans '/' as in fnmatch, and a leading `**/` may match
    nothing)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        cleaned = [p.strip("/") for p in patterns if p.strip("/")]
        self.names = [p for p in cleaned if "/" not in p]
        self.paths = [p for p in cleaned if "/" in p]
        self.paths += [p[3:] for p in self.paths if p.startswith("**/")]

    def __call__(self, name: str, relative: str) -> bool:
        return (any(fnmatchcase(name, p) for p in self.names)
                or any(fnmatchcase(relative, p) for p in self.paths))


def walk(view: View, start: str, tick: Optional[Callable[[str], None]] = None,
         on_source: Optional[Callable[[str, str], None]] = None, limits: Optional[WalkLimits] = None,
         skip: frozenset = frozenset(), skip_names: frozenset = SKIP_DIRS, databases: bool = False,
         on_pem: Optional[Callable[[str], None]] = None, exclude: Optional[Exclusion] = None) -> Discovery:
    """What is below `start`. Source files go to `on_source(host path, how it is read)` as they are found:
    a large tree holds hundreds of thousands, and a list of them grows with the tree (none without `on_source`). `skip`: host paths already
    searched another way; `skip_names`: folder names never entered; `limits`: where a walk stops, each stop an
    error entry naming what was not searched. `databases`: config files (.env, *.properties, my.cnf …) go to
    `on_source` too, labelled 'config file', for the database clients' CA settings; `on_pem(host path)`: every *.pem
    file outside the places recognised (a database CA bundle may be one). `exclude`: what the user asked to leave
    out, each one listed in the discovery's `excluded`."""
    found = Discovery()

    def source(path: str, label: str) -> None:
        if on_source:
            found.source_files += 1
            on_source(path, label)

    loose_site_dirs: list[str] = []
    package_dirs: list[str] = []
    vendoring: dict[str, None] = {}  # folders holding a vendored copy, in the order found
    # (folder, depth, inside a vendor folder: third-party code, not the user's; its path below start, '/'-joined)
    stack = [(start, 0, False, "")]
    while stack:
        directory, depth, third_party, below = stack.pop()
        if limits and found.entries >= limits.entries:
            left = [directory] + [d for d, _, _, _ in stack]
            found.errors.append(ScanError(view.display(start), f"search stopped after {limits.entries:,} entries (the cap "
                                          f"for a place not named as a target); {len(left):,} folders not searched, "
                                          f"e.g. {view.display(left[0])}: scan it as a target to read all of it"))
            break
        found.directories += 1
        if tick:
            tick(directory)
        try:
            listed, entries = view.listing(directory)
        except FsError as exc:
            found.errors.append(ScanError(view.display(directory), f"cannot list directory: {exc}"))
            continue
        found.entries += len(entries)
        names = {e.name for e in entries}
        if "pyvenv.cfg" in names:
            python = _venv_python(view, directory, found.errors)
            found.environments.append(Environment("virtualenv", directory, python, venv_site_dirs(view, directory)))
            continue
        base = os.path.basename(directory)
        if base in SITE_DIR_NAMES:
            loose_site_dirs.append(directory)
            continue
        if base == "dist" and _is_cli_v2(directory):
            found.environments.append(Environment("aws-cli-v2", directory))
            continue
        if base in VENDORED_PACKAGES and "__init__.py" in names and _vendored(view, directory, found.errors):
            vendoring[os.path.dirname(directory)] = None
            continue  # the SDK's own files: its code is not the application's settings
        if any(n.endswith(".dist-info") for n in names) or _installed_egg(view, directory, names):
            package_dirs.append(directory)  # e.g. pip install --target, a Lambda bundle
            # A Lambda bundle's handler sits beside the packages it bundles; those are not read.
            for e in entries:
                if not third_party and not e.is_dir(follow_symlinks=False) and (label := source_format(directory, e.name)):
                    if exclude is not None and exclude(e.name, below + e.name):
                        found.excluded.append(os.path.join(listed, e.name))
                    else:
                        source(os.path.join(listed, e.name), label)
            continue
        if any(n.endswith(".egg-info") for n in names):
            package_dirs.append(directory)  # a source checkout installed in develop mode; keep walking
        in_python_lib = bool(_PYTHON_DIR.match(base))
        # A folder holding a vendored AWS SDK copy (lib/third_party/) holds other projects' released packages beside
        # it: a package there whose __init__.py assigns __version__ is a copy too, and its code is not read.
        vendor_folder = not third_party and any(
            e.name in VENDORED_PACKAGES and e.is_dir(follow_symlinks=False) and _vendored(view, os.path.join(listed, e.name), [])
            for e in entries)
        subdirs = []
        prefix = os.path.join(listed, "")
        for entry in entries:
            if exclude is not None and exclude(entry.name, below + entry.name):
                found.excluded.append(prefix + entry.name)
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    path = prefix + entry.name
                    if (entry.name in skip_names or (in_python_lib and entry.name not in SITE_DIR_NAMES)
                            or path in skip):
                        continue
                    if limits and depth >= limits.depth:
                        found.errors.append(ScanError(view.display(path), f"not searched: {limits.depth} levels "
                                                      f"below {view.display(start)} (the depth cap for a place not named "
                                                      f"as a target); scan it as a target"))
                        continue
                    subdirs.append(path)
                    continue
                # a file, a link, or a FIFO or device so named: its reader says why it cannot be read
                if label := lockfile_format(entry.name):
                    found.lockfiles.append((prefix + entry.name, label))
                elif label := manifest_format(entry.name):
                    found.manifests.append((prefix + entry.name, label))
                elif label := archive_format(entry.name):
                    found.archives.append((prefix + entry.name, label))
                elif sbom_name(entry.name):
                    found.sboms.append(prefix + entry.name)
                # setup.py declares dependencies and is code that may set trust: read as both
                if not in_python_lib and not third_party and (label := source_format(directory, entry.name)):
                    source(prefix + entry.name, label)
                elif databases and not in_python_lib and not third_party and (label := config_format(entry.name)):
                    source(prefix + entry.name, label)
                if on_pem and not in_python_lib and entry.name.endswith(".pem"):
                    on_pem(prefix + entry.name)
            except OSError as exc:
                found.errors.append(ScanError(view.display(prefix + entry.name), f"cannot inspect: {exc.strerror or exc}"))
        stack.extend((d, depth + 1, third_party or (vendor_folder and _vendored(view, d, [])),
                      below + os.path.basename(d) + "/") for d in reversed(subdirs))
    found.environments.extend(group_site_dirs(loose_site_dirs, lambda prefix: "prefix"))
    found.environments.extend(Environment("package-dir", d, "", [d]) for d in package_dirs)
    found.environments.extend(Environment("vendored", d, "", [d]) for d in vendoring if d not in package_dirs)
    found.environments.sort(key=lambda e: e.prefix)
    found.lockfiles.sort()
    found.manifests.sort()
    found.archives.sort()
    found.sboms.sort()
    return found


def _installed_egg(view: View, directory: str, names: set[str]) -> bool:
    """Whether a folder holds a package installed with its *.egg-info (pip's installed-files.txt in it), not a source
    checkout installed in develop mode, whose egg-info lists no installed files."""
    return any(n.endswith(".egg-info") and view.is_file(os.path.join(directory, n, "installed-files.txt")) for n in names)


def _vendored(view: View, package_dir: str, errors: list[ScanError]) -> bool:
    """Whether a folder named after an AWS SDK package is a copy of it: its __init__.py assigns __version__."""
    init = os.path.join(package_dir, "__init__.py")
    try:
        return module_version(view.read_bytes(init, INIT_CAP)) is not None
    except FsError as exc:
        errors.append(ScanError(view.display(init), f"cannot read: {exc}"))
        return False


def _venv_python(view: View, venv: str, errors: list[ScanError]) -> str:
    """The version pyvenv.cfg records ('version = 3.11.7' or 'version_info = 3.11.7.final.0')."""
    config = os.path.join(venv, "pyvenv.cfg")
    try:
        text = view.read_text(config, 64 * 1024)
    except FsError as exc:
        errors.append(ScanError(view.display(config), f"cannot read: {exc}"))
        return ""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            return ".".join(value.strip().split(".")[:3])
    return ""


def _is_cli_v2(dist_dir: str) -> bool:
    """AWS CLI v2 installs into <install-dir>/v2/<version>/dist."""
    version_dir = os.path.dirname(dist_dir)
    return bool(_CLI_V2_VERSION.match(os.path.basename(version_dir))) and os.path.basename(os.path.dirname(version_dir)) == "v2"
