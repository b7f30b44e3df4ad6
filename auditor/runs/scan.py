"""Run a scan: targets -> collectors -> components -> rules -> one report."""

from __future__ import annotations

import os
import platform
import shutil
import sys
from typing import TYPE_CHECKING, Any, Callable, Optional

from auditor import records
from auditor.collect import CliV2, Collected, PythonPath
from auditor.collect.python.archives import archive_format, collect_archive
from auditor.collect.python.cli_v2 import collect_cli_v2
from auditor.collect.python.lockfiles import collect_lockfile, lockfile_format
from auditor.collect.platform.openssl import (LIBRARY_GLOBS, SITE_LIBRARY_GLOBS, command_openssl, library_openssl, running_openssl,
                                     runtime_openssl)
from auditor.collect.python.python_env import PathEntry, collect_environment, environment_path
from auditor.collect.sdks import manifest_format, scan_manifests
from auditor.collect.tree import SKIP_DIRS, VENDORED_PACKAGES, Environment, Exclusion, WalkLimits, venv_site_dirs, walk
from auditor.collect.config.trust_config import collect_trust_config
from auditor.collect.config.environ import Environ
from auditor.fs import FsError, View, shown
from auditor.model import Component, Report, ScanError, Target, host_name
from auditor.checks.rules import Pack, ReleaseDates, evaluate, judges_databases, release_dates_in_use
from auditor.checks.verdicts import judge as judge_clients
from auditor.records import mutable_record, record
from auditor.trust.packaged import packaged_trust

if TYPE_CHECKING:
    from auditor.collect.platform.image_process import ImageProcess
    from auditor.image.source import Image
    from auditor.runs.scan_probes import ProbePlan


# What a tree walk reads, for the report's targets (docs/scanning.md's "what is read" table says the same).
TREE_SEARCHES = ("virtualenvs", "site-packages/dist-packages folders", "package folders (pip --target, Lambda bundles)",
                 "vendored SDK copies", "AWS CLI v2 installs", "lockfiles and requirements files",
                 "declared dependencies (pyproject.toml, setup.cfg, setup.py, Pipfile, environment.yml)",
                 "archives (.zip Lambda packages and layers, .whl, .egg)",
                 "Python code and scripts (trust settings)", "other languages' manifests",
                 "SBOMs (CycloneDX and SPDX JSON: bom.json, sbom.json, *.cdx.json, *.spdx.json …)")

# Read only when a selected pack judges database clients (judges_databases).
DATABASE_SEARCHES = ("config files (database CA settings)", "PEM files (database CA bundles)")


class NothingScanned(Exception):
    """No requested target could be read at all."""


@mutable_record
class ScanOptions:
    paths: list[str]
    packs: list[Pack]
    fail_on: str = "high"
    as_of: str = ""
    progress: Optional[Callable[[str], None]] = None
    environ: Optional[Environ] = None  # None: the scanning process's own environment
    root: Optional[str] = None  # an unpacked OS image or mounted disk, scanned like a machine, confined to it
    runtime: bool = False  # may run a target's interpreter (isolated, with a timeout) to read its ssl facts; never an image's
    probe: Optional[ProbePlan] = None  # probe the stores in use (the only network use)
    image: Optional[Image] = None  # a container image (--image), scanned as a root is, through `image_view`
    image_view: Optional[View] = None  # its layers applied (auditor.image.view.LayeredView), built once
    exclude: tuple[str, ...] = ()  # patterns of what a DIR target's walk leaves out (auditor.collect.tree.Exclusion)

    @property
    def whole_image(self) -> bool:
        return self.root is not None or self.image_view is not None

    def system_view(self) -> Optional[View]:
        """The system the scanned clients run on: the image, this machine, or none (targets only, outside an image)."""
        if self.image_view is not None:
            return self.image_view
        if self.root:
            return View(self.root, image=True, display_top="/")
        return None if self.paths else View("/", display_top="/")

    def environment(self) -> Environ:
        """The environment the scanned clients run with: --env-file's, else this process's (a root's: empty; a
        container image's: its config's Env, with --env-file's variables over it as `docker run --env-file` sets them)."""
        if self.image is not None:
            variables = {**self.image.environment(), **(self.environ.variables if self.environ else {})}
            origin = "the image's config Env" + (" and --env-file" if self.environ else "")
            return Environ(variables, origin, "/root")
        return self.environ or (Environ.of_this_process() if self.root is None else Environ.of_an_image())


@record
class _Scan:
    """What the parts of one scan share: the report being built (each part adds the targets it reads), the package
    names the rules watch, and how it reads."""

    report: Report
    watched: set[str]
    progress: Optional[Callable[[str], None]] = None
    runtime: bool = False  # may run the interpreters it finds (--runtime); a system scan never runs an image's
    # A selected pack judges database clients' CA bundles and settings: trees' config files and *.pem files are read.
    databases: bool = False
    exclude: Optional[Exclusion] = None  # what the walk of a DIR target leaves out


def run(options: ScanOptions) -> Report:
    dates, table_errors = release_dates_in_use()
    watched = dates.tracked() | {n for p in options.packs for r in p.rules for n in r.applies_to or ()}
    report = Report.start(options.packs, options.fail_on, options.as_of)
    # An image's programs are another machine's: none is run, whether the image is the target or holds the targets.
    scan = _Scan(report, watched, options.progress, options.runtime and options.root is None and options.image is None,
                 judges_databases(options.packs), Exclusion(options.exclude) if options.exclude else None)
    collected = Collected()
    readable = 0
    system = None if options.paths else options.system_view()
    process = _image_process(options, system)
    if options.image is not None and options.image_view is not None:
        _add_layer_problems(options.image_view, options.image, collected)
    if system is not None:
        _scan_system(system, scan, collected, running=not options.whole_image, image=options.image, process=process)
        readable += 1
    elif options.image is not None:  # targets inside the image: the report still names it by its digest and tags
        report.targets.append(Target("image", shown(options.image.name), {"confined": True, **options.image.details()}))
    # Targets inside an image or a root are read through it, confined to it.
    inside = options.image_view if options.image_view is not None else (
        View(options.root, image=True, display_top="/") if options.root else None)
    for path in options.paths:
        found = Collected()
        location, problem = _scan_target(path, scan, found, inside=inside)
        collected.extend(found)
        if problem is None:
            readable += 1
        else:
            report.targets = [t for t in report.targets if t.location != location]
            report.targets.append(Target("unreadable", location, {"reason": problem}))
    if readable == 0:
        raise NothingScanned("; ".join(f"{e.location}: {e.message}" for e in collected.errors) or "no target could be read")
    resolved = len(collected.errors)
    _resolve_trust(options, report, collected, process)
    if options.probe is not None:
        from auditor.runs.scan_probes import probe_scan

        image = options.system_view() if options.whole_image else None  # its stores are read inside it, never here
        collected.components += probe_scan(options.probe, collected.components, options.environment(), image)
    asked = [t.location for t in report.targets if "searched" in t.details]
    if len(asked) == 1:  # what trust resolution could not read belongs to the one target asked for
        _stamped(collected, asked[0], resolved)
    # A file included by two lockfiles is one fact, not two.
    unique = {c.id: c for c in reversed(collected.components)}
    report.components = [_with_release_date(c, dates) for c in unique.values()]
    report.errors = list({(e.location, e.message): e for e in collected.errors}.values()) + table_errors
    _count_not_scanned(report)
    report.findings = list(evaluate(options.packs, report.components, dates))
    report.verdicts = judge_clients(report.components, report.findings, options.packs)
    report.sort()
    return report


def _count_not_scanned(report: Report) -> None:
    """Each target the user asked for says how many parts of it were not scanned (its error entries)."""
    counts: dict[str, int] = {}
    for error in report.errors:
        if error.target:
            counts[error.target] = counts.get(error.target, 0) + 1
    for target in report.targets:
        if "searched" in target.details:
            target.details["not_scanned"] = counts.get(target.location, 0)


def _stamped(found: Collected, target: str, start: int = 0) -> None:
    """Error entries from `start` on belong to `target` (the place the user asked for) unless they name one."""
    found.errors[start:] = [e if e.target else records.replace(e, target=target) for e in found.errors[start:]]


def _image_process(options: ScanOptions, system: View | None) -> ImageProcess | None:
    """What the container image's config runs (its Entrypoint and Cmd, in its WorkingDir), when one is scanned."""
    if options.image is None or system is None:
        return None
    from auditor.collect.platform.image_process import image_process

    return image_process(system, options.image.config, options.environment().variables, shown(options.image.name))


def _resolve_trust(options: ScanOptions, report: Report, collected: Collected, process: ImageProcess | None) -> None:
    whole = not options.paths  # this machine or an image as a whole, not targets in them
    bundles = any(client.bundle for client in collected.sdk_clients)  # a Ruby gem's own CA file, installed in the target
    if not (whole or collected.python_paths or collected.cli_v2 or options.environ or bundles):
        return  # lockfiles only: no installed client, no environment to judge
    from auditor.collect.config.trust_settings import TrustSettings, read_trust_settings
    from auditor.trust.resolve import Subject, TrustScope, resolve_trust

    host = options.system_view() or View("/", display_top="/")  # targets in an image run on the image
    contexts: list[TrustSettings] = []
    if not whole:
        settings = read_trust_settings(host, options.environment())
    else:  # the system's services, logins and homes, each with its own environment and home
        from auditor.collect.config.run_contexts import system_contexts

        run_as = options.image.config.get("User") if options.image is not None else None
        settings, contexts = system_contexts(host, options.environment(), options.whole_image, collected.python_paths,
                                             run_as=run_as if isinstance(run_as, str) else None, process=process)
    subject = (Subject.IMAGE if options.whole_image else Subject.MACHINE) if whole else Subject.TARGETS
    scope = TrustScope(subject, host, _system_label(options) if whole else ", ".join(map(shown, options.paths)),
                       report.as_of, environment_named=options.environ is not None or options.image is not None,
                       runtime=options.runtime)
    os_component = next((c for c in collected.components if c.kind == "os"), None)
    collected.extend(resolve_trust(scope, settings, paths=collected.python_paths, cli_v2=collected.cli_v2,
                                   sdk_clients=collected.sdk_clients, os_component=os_component, contexts=contexts))


def _system_label(options: ScanOptions) -> str:
    if options.image is not None:
        return f"image {shown(options.image.name)}"
    return f"image {shown(options.root)}" if options.root else "this machine"


def _add_layer_problems(view: View, image: Image, collected: Collected) -> None:
    """What the image's layers hold that could not be applied (a '..' entry, a device, a link out): error entries."""
    from auditor.image.view import LayeredView

    if isinstance(view, LayeredView):
        target = shown(image.name)  # as the image target's location, which the scan's other error entries name
        collected.errors.extend(ScanError(path, message, target=target) for path, message in view.problems())


def _with_release_date(component: Component, dates: ReleaseDates) -> Component:
    if component.kind != "python-package" or not component.version:
        return component
    released = dates.released(component.name, component.version)
    if released is None and dates.fetched_at and dates.newer_than_every_release(component.name, component.version):
        # Not a blank cell: released after the table's date, so not before any cutoff earlier than it.
        return records.replace(component, released_after=dates.fetched_at)
    return records.replace(component, released=released)


def _scan_target(path: str, scan: _Scan, found: Collected, *, inside: View | None) -> tuple[str, str | None]:
    """Scan one target named on the command line (a path inside the image or root `inside`, if given); (its location
    as shown, why it could not be read or None)."""
    image = inside
    host = image.locate(image.top, "/" + path.lstrip("/")) if image else path
    location = image.display(host) if image else shown(path)  # a name that is not UTF-8 is shown escaped
    problem = _unreadable(image, host)
    if problem is not None:
        found.errors.append(ScanError(location, problem, target=location))
        return location, problem
    kind = image.kind(host) if image else ("dir" if os.path.isdir(path) else "file")
    if kind == "dir":
        view, start = (image, host) if image else _tree_view(path)
        details = _scan_tree(view, start, location, scan, found, exclude=scan.exclude)
        scan.report.targets.append(Target("tree", location, details))
        _stamped(found, location)
        listed = not any(e.location == location and e.message.startswith("cannot list") for e in found.errors)
        return location, None if listed else "cannot list directory"
    if image is not None:
        view, file = image, host
    else:
        # The file the user named may be a symlink; its includes are read beside the file it points to.
        real = os.path.realpath(path)
        shown_dir = os.path.dirname(path) if real == os.path.abspath(path) else os.path.dirname(real)
        view = View(os.path.dirname(real), display_top=shown_dir)
        file = os.path.join(view.top, os.path.basename(real))
    result = _scan_file(view, file, location, scan)
    found.extend(result)
    _stamped(found, location)
    unread = result.nothing_read(view.display(file))
    return location, next(e.message for e in result.errors if e.location == view.display(file)) if unread else None


def _unreadable(image: View | None, host: str) -> str | None:
    """Why a target cannot be scanned at all (missing, no permission, a link out of the image), or None."""
    if image is not None:
        return image.unreachable(host)
    try:
        os.stat(host)  # through a link: a dangling one is as good as missing
    except FileNotFoundError:
        return "no such file or directory (a dangling link)" if os.path.islink(host) else "no such file or directory"
    except PermissionError:
        return "permission denied (a folder on the way cannot be searched)"
    except OSError as exc:
        return exc.strerror or str(exc)
    if os.path.isdir(host) and not os.access(host, os.R_OK | os.X_OK):
        return "permission denied: cannot list directory"
    return None


def _tree_view(path: str) -> tuple[View, str]:
    """The view of a directory target and where its walk starts. A vendored SDK copy named as the target
    (vendor/botocore) is seen from the folder holding it, which is what its imports search."""
    trimmed = path.rstrip("/") or "/"
    name = os.path.basename(os.path.abspath(path))
    if name in VENDORED_PACKAGES and os.path.isfile(os.path.join(path, "__init__.py")):
        view = View(os.path.dirname(os.path.abspath(path)), display_top=os.path.dirname(trimmed) or ".")
        return view, os.path.join(view.top, name)
    view = View(path, display_top=trimmed)
    return view, view.top


def _scan_file(view: View, file: str, location: str, scan: _Scan) -> Collected:
    """A file target: an archive, another language's manifest, a lockfile, or declared dependencies."""
    name = os.path.basename(file)
    report = scan.report
    if label := archive_format(name):
        report.targets.append(Target("archive", location, {"format": label, "searched": [f"the {label} archive's members"]}))
        return collect_archive(view, file, location, scan.watched, report.as_of, packaged_trust)
    if (manifest := manifest_format(name)) and not lockfile_format(name):
        return _add_manifests(view, [(file, manifest)], location, scan, Collected(), prefer_lock=False)
    label = lockfile_format(name)
    if label is None and _json_object(view, file):
        return _add_sbom(view, file, location, scan, frozenset(), searched=True)
    searched = f"the file, read as {label or 'requirements (its name announces no format)'}"
    report.targets.append(Target("lockfile", location, {"format": label or "requirements", "searched": [searched]}))
    found = collect_lockfile(view, file, location, scan.watched, label or "requirements")
    if label is None:
        found.errors.extend(_not_requirements(view, file))
    return found


def _not_requirements(view: View, file: str) -> list[ScanError]:
    """An error entry when a file read as requirements only for want of a known name is not one (a lockfile of
    another tool renamed, a README): what it pins was not understood, so it must not pass as pinning nothing."""
    from auditor.collect.python.lockfiles import LOCK_CAP
    from auditor.collect.python.lockfiles.requirements import first_foreign_line

    try:
        foreign = first_foreign_line(view.read_text(file, LOCK_CAP))
    except (FsError, OSError):
        return []  # the reader has said why it could not read the file
    if foreign is None:
        return []
    number, text = foreign
    return [ScanError(view.display(file), f"line {number}: {text!r} is not a requirement: the file's name is not one "
                                          f"the auditor knows, and it is not a requirements file either; not judged "
                                          f"(name it as its tool does, e.g. poetry.lock, or requirements-*.txt)")]


def _scan_tree(view: View, start: str, location: str, scan: _Scan, collected: Collected, *,
               limits: WalkLimits | None = None, skip: frozenset[str] = frozenset(),
               skip_names: frozenset[str] = SKIP_DIRS, on_system: bool = False, read_code: bool = True,
               exclude: Exclusion | None = None) -> dict[str, Any]:
    """Everything below `start` read as a tree target reads it; the tree target's details. `on_system`: the tree is
    part of the machine or image scanned, whose stores its SDKs of other languages use; `read_code`: its code and
    scripts are the user's own, whose trust settings count (not a product's that vendors an SDK)."""
    def settings_in(source: str, label: str) -> None:
        collected.extend(collect_trust_config(view, source, location, label, scan.databases))

    def bundle_in(path: str) -> None:
        from auditor.trust.db_bundles import read_db_bundle

        collected.extend(read_db_bundle(view, path, location))

    discovery = walk(view, start, scan.progress, settings_in if read_code else None, limits, skip, skip_names,
                     databases=scan.databases and read_code, on_pem=bundle_in if scan.databases else None,
                     exclude=exclude)
    collected.errors.extend(discovery.errors)
    for environment in discovery.environments:
        _scan_environment(view, environment, location, scan, collected)
    for lockfile, label in discovery.lockfiles:
        scan.report.targets.append(Target("lockfile", view.display(lockfile), {"format": label}))
        collected.extend(collect_lockfile(view, lockfile, location, scan.watched, label))
    _add_manifests(view, discovery.manifests, location, scan, collected, on_system=on_system)
    for archive, label in discovery.archives:
        scan.report.targets.append(Target("archive", view.display(archive), {"format": label}))
        collected.extend(collect_archive(view, archive, location, scan.watched, scan.report.as_of, packaged_trust))
    # Read last: a package the tree shows another way (installed, locked) is not made again from an SBOM beside it.
    shown_otherwise = frozenset((c.kind, c.name, c.version) for c in collected.components
                                if c.kind in ("python-package", "sdk-manifest"))
    for sbom in discovery.sboms:
        collected.extend(_add_sbom(view, sbom, location, scan, shown_otherwise, on_system=on_system))
    found = {"environments": len(discovery.environments), "lockfiles": len(discovery.lockfiles),
             "manifests": len(discovery.manifests), "archives": len(discovery.archives)}
    if discovery.sboms:
        found["sboms"] = len(discovery.sboms)
    searched = [*TREE_SEARCHES, *(DATABASE_SEARCHES if scan.databases else ())]
    details = {"directories": discovery.directories, "source_files": discovery.source_files, "searched": searched,
               "found": found}
    if discovery.excluded:  # left out as the user asked: listed, so that nothing unread goes unmentioned
        details["excluded"] = [view.display(path) for path in discovery.excluded]
    return details


def _json_object(view: View, file: str) -> bool:
    """Whether a file not named as any format is read is a JSON object (its first character is '{'): an SBOM, whatever
    its name (bom.json, image.cdx.json, sbom.spdx.json, syft-output.json …), or a JSON file that is not one."""
    try:
        head = view.read_bytes(file, 64, head=True)
    except FsError:
        return False  # the requirements reader says why it cannot be read
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def _add_sbom(view: View, file: str, target: str, scan: _Scan, shown_otherwise: frozenset[tuple[str, str, str | None]],
              *, searched: bool = False, on_system: bool = False) -> Collected:
    """An SBOM read into the report's targets; its components. `shown_otherwise`: packages the scan found another way."""
    from auditor.collect.sbom import collect_sbom

    sbom = collect_sbom(view, file, target, scan.watched, on_system, shown_otherwise)
    assert sbom.target is not None
    if searched:
        sbom.target.details["searched"] = [f"the file, read as {sbom.target.details['format']}"]
    scan.report.targets.append(sbom.target)
    return sbom


def _scan_environment(view: View, environment: Environment, target: str, scan: _Scan, collected: Collected) -> None:
    location = view.display(environment.prefix)
    if environment.kind == "aws-cli-v2":
        scan.report.targets.append(Target("environment", location, {"layout": "aws-cli-v2"}))
        component = collect_cli_v2(view, environment.prefix, target)
        collected.components.append(component)
        collected.cli_v2.append(CliV2(view, environment.prefix, component))
        return
    if environment.kind == "virtualenv" and not environment.site_dirs:
        environment.site_dirs = venv_site_dirs(view, environment.prefix)
    sys_path = environment_path(view, environment.site_dirs)
    result = collect_environment(view, sys_path.entries, target, scan.watched)
    details: dict[str, Any] = {"layout": environment.kind, "site_dirs": [view.display(d) for d in environment.site_dirs],
                               "distributions": result.distributions}
    if environment.python:
        details["python"] = environment.python
    scan.report.targets.append(Target("environment", location, details))
    collected.errors.extend(sys_path.errors)
    collected.extend(result)
    collected.python_paths.append(PythonPath(view, [e.host for e in sys_path.entries], result.components))
    for site_dir in environment.site_dirs:  # OpenSSL bundled in wheels
        collected.extend(library_openssl(view, SITE_LIBRARY_GLOBS, target, base=site_dir))
    interpreter = _interpreter(view, environment) if scan.runtime else None
    if interpreter:
        collected.extend(runtime_openssl(interpreter, view.display(interpreter), target))


def _interpreter(view: View, environment: Environment) -> str | None:
    """The environment's own interpreter, for --runtime: bin/python of a venv, bin/pythonX.Y of a prefix.
    A venv's bin/python links to its base interpreter outside the venv; running it is what --runtime asks."""
    names = [f"python{environment.python}"] if environment.python else []
    names += ["python3", "python", "python.exe"]
    for folder in ("bin", "Scripts"):
        for name in names:
            candidate = os.path.join(environment.prefix, folder, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


def _scan_system(view: View, scan: _Scan, collected: Collected, *, running: bool, image: Image | None = None,
                 process: ImageProcess | None = None) -> None:
    """This machine (`running`: with the running interpreter's sys.path), or an OS image: its install locations,
    then the folders where applications live, each walked as a tree is (bounded). `process`: what a container
    image runs, whose virtualenvs and working directory are read too."""
    from auditor.collect.platform.accounts import home_directories
    from auditor.collect.platform.services import virtualenv_of
    from auditor.collect.machine import (APPLICATION_LIMITS, APPLICATION_SKIP, PRODUCT_FOLDERS,
                                                  application_folders, other_environments, running_interpreter_path)

    label = "this machine" if running else f"image {shown(image.name if image else view.top)}"
    found = Collected()
    _identify_system(view, label, found, running=running)
    report = scan.report
    skip: set[str] = set()
    homes_read = home_directories(view)
    found.errors.extend(homes_read.errors)
    homes = homes_read.folders
    if running:
        path = running_interpreter_path()
        entries = [PathEntry(p, "sys.path of the running interpreter") for p in path]
        result = collect_environment(view, entries, label, scan.watched)
        target = Target("machine", host_name() or "localhost", {"python": sys.executable})
        report.targets.append(Target("environment", sys.prefix, {"layout": "running interpreter",
                                                                 "python": platform.python_version(),
                                                                 "distributions": result.distributions}))
        found.extend(result)
        found.python_paths.append(PythonPath(view, [e.host for e in entries], result.components))
        skip = {os.path.realpath(p) for p in path} | set(path)
        own = os.path.expanduser("~")
        homes += [] if own in homes or view.kind(own) != "dir" else [own]
        found.components.append(running_openssl(label))
        binary = shutil.which("openssl") if scan.runtime else None
        if binary:
            found.extend(command_openssl(binary, label))
    else:
        runs = {"runs": process.shown()} if process and process.command else {}
        target = Target("image", shown(image.name if image else view.top),
                        {"confined": True, **(image.details() if image else {}), **runs})
    found.extend(library_openssl(view, LIBRARY_GLOBS, label))
    found.errors.extend(process.errors if process else ())
    run_by = [venv for venv in (virtualenv_of(view, p) for p in (process.programs if process else ())) if venv]
    installs_read = other_environments(view, skip, homes, run_by)
    found.errors.extend(installs_read.errors)
    installs = installs_read.environments
    # An image's interpreters are another machine's programs: never run here.
    inside = records.replace(scan, runtime=scan.runtime and running)
    for environment in installs:
        _scan_environment(view, environment, label, inside, found)
    searched = _resolved(view, skip | {e.prefix for e in installs} | {d for e in installs for d in e.site_dirs})
    working = [process.working_dir] if process and process.working_dir not in ("", "/") else []
    applications_read = application_folders(view, homes, working)
    found.errors.extend(applications_read.errors)
    applications = applications_read.folders
    for folder in applications:
        _scan_tree(view, folder, label, inside, found, limits=APPLICATION_LIMITS, skip=searched,
                   skip_names=APPLICATION_SKIP, on_system=True, read_code=os.path.basename(folder) not in PRODUCT_FOLDERS)
    details = dict(target.details, searched=["install locations: system and user site directories, pipx, conda, "
                                             "pyenv, AWS CLI v2", *(f"application folder {view.display(f)}" for f in applications)])
    report.targets.append(Target(target.kind, target.location, details))
    _stamped(found, target.location)
    collected.extend(found)


def _resolved(view: View, paths: set[str]) -> frozenset[str]:
    """The paths and their real paths inside the view: a walk lists folders by the real path of where it goes."""
    real = set()
    for path in paths:
        try:
            real.add(view.resolve(path))
        except FsError:
            pass  # a place that cannot be resolved was not read either: the walk may try it and say why
    return frozenset(paths | real)


def _add_manifests(view: View, found: list[tuple[str, str]], target: str, scan: _Scan, collected: Collected, *,
                   on_system: bool = False, prefer_lock: bool = True) -> Collected:
    """Other languages' manifests (host path, format) read into the report's targets and `collected`; what they gave."""
    manifests = scan_manifests(view, found, target, on_system=on_system, prefer_lock=prefer_lock)
    scan.report.targets.extend(manifests.targets)
    collected.extend(manifests)
    return manifests


def _identify_system(view: View, label: str, collected: Collected, *, running: bool) -> None:
    """The operating system: Windows from the running interpreter, any other from its identity files."""
    from auditor.collect.platform.os_identity import read_os_identity, running_windows_identity

    if running and sys.platform == "win32":
        collected.extend(running_windows_identity(label))
    else:
        collected.extend(read_os_identity(view, label))
