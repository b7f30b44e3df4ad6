"""Python packages inside archives: Lambda deployment packages and layers (.zip), wheels and wheelhouses (.whl),
zipped eggs (.egg). An archive is opened through the View and read with the capped reader of
auditor.collect.python.ziparchive: nothing is extracted to disk, and only its directory and the members needed are read (metadata
and `__init__.py` of the watched packages, the modules and CA bundles that decide their trust store, and
nested archives, read the same way up to MAX_DEPTH deep). Each limit broken is an error entry, and the scan
goes on.

Locations: a member is shown as `<archive as displayed>!/<member>`, e.g.
`dist/fn.zip!/botocore-1.29.0.dist-info/METADATA`; in a nested archive, `a.zip!/wheels/x.whl!/boto/__init__.py`.

Where Python would import from, read as auditor.collect.python.python_env reads an environment (the first entry
holding a package wins):
- one import path: the archive's top folder (a function's /var/task, a `pip install -t` folder, a wheel's
  install folder, an egg), then a Lambda layer's `python/lib/python3.X/site-packages` and `python/`
  (which Lambda mounts under /opt);
- each other folder holding a watched distribution's metadata or package directory (a vendored or bundled
  copy such as awscli/botocore, a project zipped with its virtualenv) is an import path of its own. A
  package directory without metadata is still an install, its version from its `__version__` literal.

Trust: the run passes the trust stage's link (auditor.trust.packaged), which links each client found, while the
archive is open, to the store it would use as packaged.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from typing import BinaryIO, Callable

from auditor import names
from auditor import records
from auditor.collect import Collected
from auditor.collect.python.metadata import module_version
from auditor.collect.python.python_env import MODULE_CAP, PathEntry, collect_environment
from auditor.collect.python.ziparchive import ArchiveError, ArchiveView, Budget, ZipArchive, shown_name
from auditor.facts.package import OnPath, PackageFacts
from auditor.fs import FsError, View
from auditor.model import Component, ScanError
from auditor.records import mutable_record

ARCHIVE_CAP = 512 * 1024 * 1024  # an archive file in the scanned tree, or named on the command line
NESTED_CAP = 256 * 1024 * 1024  # an archive inside an archive
MAX_DEPTH = 3  # archives inside archives inside archives
_FORMATS = ((".whl", "wheel"), (".egg", "egg"), (".zip", "zip"))
_SUFFIXES = tuple(suffix for suffix, _ in _FORMATS)
_HOLDER_SIGNS = ("/METADATA", "/PKG-INFO", "/__init__.py", ".egg-info")  # the files _holders looks at
_LAYER_SITE_DIR = re.compile(r"^python/lib/python\d+(?:\.\d+)?/site-packages$")


def archive_format(name: str) -> str | None:
    """'zip', 'wheel' or 'egg' for a file name the scan reads as an archive."""
    lower = name.lower()
    return next((label for suffix, label in _FORMATS if lower.endswith(suffix) and len(lower) > len(suffix)), None)


# What the trust stage does with the clients of one archive, while the archive is open: (entries of an import path,
# the components found on it) of each import path -> the store components and error entries. Given by the run, so
# that collecting needs nothing of the trust stage.
LinkTrust = Callable[[ArchiveView, "list[tuple[list[PathEntry], list[Component]]]", str, str],
                     "tuple[list[Component], list[ScanError]]"]


def collect_archive(view: View, host_path: str, target: str, watched: set[str], as_of: str,
                    link_trust: LinkTrust) -> Collected:
    """The watched packages in the archive at `host_path` (and the archives inside it), an error entry for each
    thing not read, and what `link_trust` makes of their clients (the trust stores they would use, checked on
    `as_of`: YYYY-MM-DD, default today UTC)."""
    result = Collected()
    shown = view.display(host_path)
    try:
        file = view.open_file(host_path, ARCHIVE_CAP)
    except FsError as exc:
        result.errors.append(ScanError(shown, f"cannot read archive: {exc}"))
        return result
    as_of = as_of or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    with file:
        _ArchiveScan(target, watched, as_of, result, link_trust).read(file, shown, posixpath.basename(host_path), 0, Budget())
    return result


@mutable_record
class _ArchiveScan:
    target: str
    watched: set[str]
    as_of: str
    result: Collected
    link_trust: LinkTrust

    def read(self, source: bytes | BinaryIO, shown: str, name: str, depth: int, budget: Budget) -> None:
        try:
            archive = ZipArchive(source, budget=budget)
        except ArchiveError as exc:
            self.result.errors.append(ScanError(shown, f"cannot read archive: {exc}"))
            return
        view = ArchiveView(archive, shown, name)
        if view.unsafe:
            self.result.errors.append(ScanError(f"{shown}!/{shown_name(view.unsafe[0])}", f"{len(view.unsafe)} member(s) "
                                                f"with '..' in their names not read: an unpacker refuses or renames them"))
        clients = []
        for entries in import_paths(view, self.watched):
            found = collect_environment(view, entries, self.target, self.watched)
            found.components.extend(_beside_egg_packages(view, entries, self.target, self.watched, found.errors))
            components = _zipped_egg_source(view, found.components)
            self.result.errors.extend(found.errors)
            self.result.components.extend(components)
            clients.append((entries, components))
        stores, errors = self.link_trust(view, clients, self.target, self.as_of)
        self.result.components.extend(stores)
        self.result.errors.extend(errors)
        for path in view.files():
            if path[-4:-3] == "." and path[-4:].lower() in _SUFFIXES and archive_format(posixpath.basename(path)):
                self._nested(view, path, depth + 1, budget)

    def _nested(self, view: ArchiveView, path: str, depth: int, budget: Budget) -> None:
        shown = view.display(path)
        if depth > MAX_DEPTH:
            self.result.errors.append(ScanError(shown, f"an archive nested {depth} deep, past the {MAX_DEPTH}-level "
                                                       f"limit; not read"))
            return
        try:
            data = view.read_bytes(path, NESTED_CAP)
        except FsError as exc:
            self.result.errors.append(ScanError(shown, f"cannot read archive: {exc}"))
            return
        self.read(data, shown, posixpath.basename(path), depth, budget)

def import_paths(view: ArchiveView, watched: set[str]) -> list[list[PathEntry]]:
    """The import paths of an archive: first the one Python (or Lambda) would use, then one for each
    other folder holding a watched distribution or package."""
    top = view.top
    layer_site_dirs = sorted((p for p in _folders_below(view, top + "/python/lib")
                              if _LAYER_SITE_DIR.match(p[len(top) + 1:])), reverse=True)
    main = [PathEntry(top, "the archive's top folder (a Lambda function's /var/task, a wheel's install folder)")]
    main += [PathEntry(d, "a Lambda layer's site directory (/opt/python/lib/…/site-packages)") for d in layer_site_dirs]
    if view.is_dir(top + "/python"):
        main.append(PathEntry(top + "/python", "a Lambda layer's python folder (/opt/python)"))
    on_main = {e.host for e in main}
    others = sorted(p for p in _holders(view, watched) if p not in on_main)
    return [main] + [[PathEntry(p, "the folder holding this copy (vendored, bundled or zipped with its environment)")]
                     for p in others]


def _folders_below(view: ArchiveView, folder: str) -> list[str]:
    """`<child>/site-packages` of each child folder of `folder` that has one."""
    if not view.is_dir(folder):
        return []
    candidates = (m.path + "/site-packages" for m in view.list_dir(folder))
    return [c for c in candidates if view.is_dir(c)]


def _holders(view: ArchiveView, watched: set[str]) -> set[str]:
    """Folders that hold a watched distribution's metadata or package directory (an egg folder is its own)."""
    found = set()
    for path in view.files():
        if not path.endswith(_HOLDER_SIGNS):
            continue
        parent, leaf = posixpath.split(path)
        folder, parent_name = posixpath.split(parent)
        if leaf == "METADATA" and parent_name.endswith(".dist-info"):
            name, holder = names.split_dist_info(parent_name[: -len(".dist-info")])[0], folder
        elif leaf == "PKG-INFO" and parent_name.endswith(".egg-info"):
            name, holder = names.split_egg(parent_name[: -len(".egg-info")])[0], folder
        elif leaf.endswith(".egg-info"):
            name, holder = names.split_egg(leaf[: -len(".egg-info")])[0], parent
        elif leaf == "PKG-INFO" and parent_name == "EGG-INFO" and folder.endswith(".egg"):
            name, holder = names.split_egg(posixpath.basename(folder)[: -len(".egg")])[0], folder
        elif leaf == "__init__.py" and parent_name in watched:
            name, holder = parent_name, folder
        else:
            continue
        if names.normalize(name) in watched:
            found.add(holder)
    return found


def _beside_egg_packages(view: ArchiveView, entries: list[PathEntry], target: str, watched: set[str],
                         errors: list[ScanError]) -> list[Component]:
    """Watched packages at the top of an egg other than the egg's own distribution: importable when the egg is
    on sys.path, but an egg is read for its own distribution only."""
    found = []
    for entry in entries:
        if not (entry.host.endswith(".egg") and view.is_dir(entry.host)):
            continue
        own = names.normalize(names.split_egg(posixpath.basename(entry.host)[: -len(".egg")])[0])
        for member in view.list_dir(entry.host):
            init = member.path + "/__init__.py"
            if member.name in watched and member.name != own and view.is_file(init):
                try:
                    version = module_version(view.read_bytes(init, MODULE_CAP)) or None
                except FsError as exc:
                    errors.append(ScanError(view.display(init), str(exc)))
                    version = None
                facts = PackageFacts(on_path=OnPath(view.display(entry.host), entry.origin))
                found.append(Component("python-package", member.name, version, view.display(init),
                                       f"__version__ in {member.name}/__init__.py (no metadata)", target, facts=facts))
    return found


def _zipped_egg_source(view: ArchiveView, components: list[Component]) -> list[Component]:
    """An egg archive read as an egg folder: its distribution is a zipped egg, as python_env names one."""
    renamed = {}
    for component in components:
        if component.location == view.display_top and component.source == "egg directory EGG-INFO/PKG-INFO":
            renamed[component.id] = records.replace(component, source="zipped egg EGG-INFO/PKG-INFO").id
    return [_renamed(component, renamed) for component in components]


def _renamed(component: Component, renamed: dict[str, str]) -> Component:
    """The component as it is once the egg's own distribution is named a zipped egg: made anew, with its facts."""
    facts = component.facts_as(PackageFacts)
    shadowed_by = renamed.get(facts.shadowed_by, facts.shadowed_by) if facts.shadowed_by else None
    if component.id not in renamed and shadowed_by == facts.shadowed_by:
        return component
    source = "zipped egg EGG-INFO/PKG-INFO" if component.id in renamed else component.source
    return records.replace(component, source=source, details={},
                           facts=records.replace(facts, shadowed_by=shadowed_by))
