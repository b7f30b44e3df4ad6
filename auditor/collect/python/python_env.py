"""Installed Python distributions, read statically: nothing in the target is imported or run.

An environment is an ordered list of path entries, as the target's interpreter
would build sys.path: its site directories, then the path lines of their .pth
files (sorted by file name, as site.py does). Old setuptools wrote an
easy-install.pth whose ``import`` lines move the eggs it lists to the *front*
of sys.path; we recognise that idiom instead of running it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Union

from auditor import names
from auditor import records
from auditor.collect import Collected
from auditor.collect.python.metadata import HEADER_CAP, decode, module_version, name_and_version, read_name_and_version, MetadataError
from auditor.facts.package import OnPath, PackageFacts
from auditor.fs import FsError, View
from auditor.model import Component, ScanError
from auditor.records import field, mutable_record

if TYPE_CHECKING:
    from auditor.collect.python.ziparchive import ArchiveView

# A tree the distributions are read from: the target's (through a View) or a zip archive's members.
Tree = Union[View, "ArchiveView"]

PTH_CAP = 1024 * 1024
MODULE_CAP = 1024 * 1024
EGG_CAP = 64 * 1024 * 1024


@mutable_record
class PathEntry:
    host: str
    origin: str  # why it is on sys.path


@mutable_record
class Found:
    """One distribution (or bare package directory) seen in one path entry."""

    name: str
    version: str | None
    location: str
    source: str
    entry_index: int


@mutable_record
class EntryContents:
    found: list[Found] = field(default_factory=list)
    module_versions: dict[str, str | None] = field(default_factory=dict)  # import name -> __version__
    distributions: int = 0


@mutable_record
class SysPath:
    entries: list[PathEntry] = field(default_factory=list)  # in import order
    errors: list[ScanError] = field(default_factory=list)


def environment_path(view: View, site_dirs: list[str]) -> SysPath:
    """sys.path entries for these site directories, .pth lines included, in import order."""
    errors: list[ScanError] = []
    front: list[PathEntry] = []
    back: list[PathEntry] = []
    seen: set[str] = set()

    def add(bucket, host, origin):
        if host not in seen:
            seen.add(host)
            bucket.append(PathEntry(host, origin))

    for site_dir in site_dirs:
        add(back, site_dir, "site directory")
        try:
            pth_files = [e for e in view.list_dir(site_dir) if e.name.endswith(".pth")]
        except FsError as exc:
            errors.append(ScanError(view.display(site_dir), f"cannot list site directory: {exc}"))
            continue
        for pth in pth_files:
            lines, egg_insert = _read_pth(view, pth.path, errors)
            for lineno, text in lines:
                if "\0" in text:  # no file name holds one; the OS would refuse the path
                    errors.append(ScanError(view.display(pth.path), f"line {lineno}: has a NUL byte; not a path"))
                    continue
                origin = f"{pth.name} line {lineno}"
                target = view.locate(site_dir, text)
                if not view.inside(target):
                    errors.append(ScanError(view.display(pth.path), f"line {lineno}: {text} is outside the scanned target; not scanned"))
                    continue
                kind = view.kind(target)
                if kind in ("dir", "file"):
                    add(front if egg_insert else back, target, origin + (" (moved to the front by its import line)" if egg_insert else ""))
                elif kind == "other":
                    errors.append(ScanError(view.display(pth.path), f"line {lineno}: {text}: {_unusable(view, target)}; not scanned"))
    return SysPath(front + back, errors)


def _unusable(view: Tree, path: str) -> str:
    """Why a path that exists cannot be scanned: a loop, a link out of the target, or not a file or folder."""
    try:
        view.resolve(path)
    except FsError as exc:
        return str(exc)
    return "not a file or folder, or no permission to use it"


def _read_pth(view: Tree, path: str, errors: list[ScanError]) -> tuple[list[tuple[int, str]], bool]:
    try:
        text = decode(view.read_bytes(path, PTH_CAP))
    except FsError as exc:
        errors.append(ScanError(view.display(path), str(exc)))
        return [], False
    lines, egg_insert = [], False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("import ", "import\t")):
            egg_insert = egg_insert or "__egginsert" in line
            continue  # site.py would exec this line; a static scan never does
        lines.append((lineno, line))
    return lines, egg_insert


def _scan_entry(view: Tree, entry: PathEntry, index: int, watched: set[str], errors: list[ScanError]) -> EntryContents:
    contents = EntryContents()
    kind = view.kind(entry.host)
    if kind == "file" and entry.host.endswith(".egg"):
        _scan_zipped_egg(view, entry.host, index, watched, contents, errors)
    elif kind == "dir" and entry.host.endswith(".egg"):
        _scan_egg_dir(view, entry.host, index, watched, contents, errors)
    elif kind == "dir":
        _scan_site_dir(view, entry.host, index, watched, contents, errors)
    return contents


def _scan_site_dir(view, directory, index, watched, contents, errors):
    try:
        children = view.list_dir(directory)
    except FsError as exc:
        errors.append(ScanError(view.display(directory), f"cannot list directory: {exc}"))
        return
    for child in children:
        name = child.name
        if name.endswith(".dist-info"):
            dist_name, _ = names.split_dist_info(name[: -len(".dist-info")])
            metadata, source = os.path.join(child.path, "METADATA"), "dist-info METADATA"
        elif name.endswith(".egg-info"):
            dist_name, _ = names.split_egg(name[: -len(".egg-info")])
            if view.is_dir(child.path):
                metadata, source = os.path.join(child.path, "PKG-INFO"), "egg-info PKG-INFO"
            else:
                metadata, source = child.path, "egg-info file"
        else:
            if name in watched and not name.endswith(".py"):
                contents.module_versions[name] = _package_version(view, child.path, errors)
            continue
        contents.distributions += 1
        if names.normalize(dist_name) not in watched:
            continue
        try:
            real_name, version = read_name_and_version(view, metadata)
        except FsError as exc:
            errors.append(ScanError(view.display(metadata), str(exc)))
            continue
        contents.found.append(Found(names.normalize(real_name), version, view.display(metadata), source, index))


def _package_version(view: Tree, package_dir: str, errors) -> str | None:
    """__version__ of a package directory, or None when it is not a package."""
    init = os.path.join(package_dir, "__init__.py")
    if view.kind(init) in (None, "dir"):
        return None  # not a package; a FIFO, a device or a link out of the target is an error entry below
    try:
        return module_version(view.read_bytes(init, MODULE_CAP)) or ""
    except FsError as exc:
        errors.append(ScanError(view.display(init), str(exc)))
        return ""


def _scan_egg_dir(view, egg, index, watched, contents, errors):
    contents.distributions += 1
    egg_name, _ = names.split_egg(os.path.basename(egg)[: -len(".egg")])
    if names.normalize(egg_name) not in watched:
        return
    metadata = os.path.join(egg, "EGG-INFO", "PKG-INFO")
    try:
        real_name, version = read_name_and_version(view, metadata)
    except FsError as exc:
        errors.append(ScanError(view.display(metadata), str(exc)))
        return
    normalized = names.normalize(real_name)
    contents.found.append(Found(normalized, version, view.display(egg), "egg directory EGG-INFO/PKG-INFO", index))
    contents.module_versions[normalized] = _package_version(view, os.path.join(egg, normalized), errors)


def _scan_zipped_egg(view, egg, index, watched, contents, errors):
    contents.distributions += 1
    egg_name, _ = names.split_egg(os.path.basename(egg)[: -len(".egg")])
    normalized = names.normalize(egg_name)
    if normalized not in watched:
        return
    from auditor.collect.python.ziparchive import ZIPIMPORT_METHODS, ArchiveError, ZipArchive

    try:
        with view.open_file(egg, EGG_CAP) as file:
            archive = ZipArchive(file, methods=ZIPIMPORT_METHODS, reader="zipimport")
            pkg_info = archive.getinfo("EGG-INFO/PKG-INFO")
            if pkg_info is None:
                raise ArchiveError("it holds no EGG-INFO/PKG-INFO")
            real_name, version = name_and_version(decode(archive.read(pkg_info, HEADER_CAP)))
            init = archive.getinfo(f"{normalized}/__init__.py")
            init_source = None if init is None else archive.read(init, MODULE_CAP)
    except (FsError, MetadataError, ArchiveError) as exc:
        errors.append(ScanError(view.display(egg), f"cannot read zipped egg: {exc}"))
        return
    normalized = names.normalize(real_name)
    contents.found.append(Found(normalized, version, view.display(egg), "zipped egg EGG-INFO/PKG-INFO", index))
    if init_source is not None:
        contents.module_versions[normalized] = module_version(init_source) or ""


@mutable_record
class PathPackages(Collected):
    """What one sys.path gave: the watched packages on it as components, its error entries, and how many
    distributions it holds (a report's environment target shows the count)."""

    distributions: int = 0


def collect_environment(view: Tree, entries: list[PathEntry], target: str, watched: set[str]) -> PathPackages:
    """Components for the watched packages on one sys.path, and how many distributions it holds."""
    result = PathPackages()
    per_entry = [_scan_entry(view, entry, i, watched, result.errors) for i, entry in enumerate(entries)]
    found: list[Found] = []
    for index, contents in enumerate(per_entry):
        found.extend(contents.found)
        found.extend(_bare_packages(view, entries[index], index, contents))
    facts = {}
    for name in sorted({f.name for f in found}):
        installs = [f for f in found if f.name == name]
        facts.update(_judged(view, entries, installs, per_entry))
    components = {}
    winners = {}  # a component's id depends only on where and how it was found: the winner's is known before the rest
    for item in found:
        if facts[id(item)].active:
            components[id(item)] = winners[item.name] = _component(item, target, facts[id(item)])
    for item in found:
        if id(item) not in components:
            facts_of = records.replace(facts[id(item)], shadowed_by=winners[item.name].id)
            components[id(item)] = _component(item, target, facts_of)
    result.components.extend(components[id(item)] for item in found)
    result.components.extend(_carried_botocore(view, entries, found, target, components, result.errors))
    result.distributions = sum(c.distributions for c in per_entry)
    return result


def _carried_botocore(view: Tree, entries: list[PathEntry], found: list[Found], target: str,
                      components: dict[int, Component], errors: list[ScanError]) -> list[Component]:
    """The botocore that recent AWS CLI v1 releases carry inside the package (awscli/botocore/): the CLI's AWS calls
    go through it, not through the botocore installed beside it."""
    carried = []
    for item in found:
        if item.name != "awscli":
            continue
        init = os.path.join(entries[item.entry_index].host, "awscli", "botocore", "__init__.py")
        if view.kind(init) is None:
            continue
        try:
            version = module_version(view.read_bytes(init, MODULE_CAP))
        except FsError as exc:
            errors.append(ScanError(view.display(init), str(exc)))
            version = None
        awscli = components[id(item)].facts_as(PackageFacts)
        facts = PackageFacts(carried_by=f"awscli {item.version}", on_path=awscli.on_path, active=awscli.loaded)
        carried.append(Component("python-package", "botocore", version, view.display(init),
                                 "__version__ in awscli/botocore/__init__.py (the copy awscli carries)", target,
                                 facts=facts))
    return carried


def _bare_packages(view, entry, index, contents: EntryContents) -> list[Found]:
    """Package directories with a __version__ but no metadata of their own in this entry."""
    have_metadata = {f.name for f in contents.found}
    bare = []
    for name, version in sorted(contents.module_versions.items()):
        if version is None or name in have_metadata:
            continue
        init = os.path.join(entry.host, name, "__init__.py")
        bare.append(Found(name, version or None, view.display(init), f"__version__ in {name}/__init__.py (no metadata)", index))
    return bare


def _component(item: Found, target: str, facts: PackageFacts) -> Component:
    return Component("python-package", item.name, item.version, item.location, item.source, target, facts=facts)


def _judged(view: Tree, entries: list[PathEntry], installs: list[Found],
            per_entry: list[EntryContents]) -> dict[int, PackageFacts]:
    """The facts of each install of one package (by the install's id()): where it is on sys.path, and whether it is
    the one `import name` would load: the first path entry holding the package wins; inside one directory, the
    metadata whose version matches the package's __version__."""
    installs.sort(key=lambda f: f.entry_index)
    providing = [f for f in installs if per_entry[f.entry_index].module_versions.get(f.name) is not None]
    candidates = providing or installs
    first_entry = candidates[0].entry_index
    same_entry = [f for f in candidates if f.entry_index == first_entry]
    on_disk = per_entry[first_entry].module_versions.get(installs[0].name)
    winner = next((f for f in same_entry if on_disk and f.version == on_disk), same_entry[0])
    judged = {}
    for item in installs:
        entry = entries[item.entry_index]
        module = per_entry[item.entry_index].module_versions.get(item.name)
        judged[id(item)] = PackageFacts(
            on_path=OnPath(view.display(entry.host), entry.origin), active=item is winner,
            note="metadata without the package directory beside it" if module is None else None,
            module_version=module if module and module != item.version else None)
    return judged
