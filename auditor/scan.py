"""Run a scan: targets -> collectors -> components -> rules -> one report."""

from __future__ import annotations

import dataclasses
import os
import platform
import shutil
import sys
from typing import Callable, Optional

from auditor.collect import CliV2, Collected, PythonPath
from auditor.collect.archives import archive_format, collect_archive
from auditor.collect.cli_v2 import collect_cli_v2
from auditor.collect.lockfiles import collect_lockfile, lockfile_format
from auditor.collect.openssl import (LIBRARY_GLOBS, SITE_LIBRARY_GLOBS, command_openssl, library_openssl, running_openssl,
                                     runtime_openssl)
from auditor.collect.python_env import PathEntry, collect_environment, environment_path
from auditor.collect.sdk_manifests import manifest_format, scan_manifests
from auditor.collect.tree import Environment, venv_site_dirs, walk
from auditor.collect.trust_config import collect_trust_config
from auditor.environ import Environ
from auditor.fs import View, shown
from auditor.model import Component, Report, ScanError, Target
from auditor.rules import Pack, ReleaseDates, evaluate


class NothingScanned(Exception):
    """No requested target could be read at all."""


@dataclasses.dataclass
class ScanOptions:
    paths: list[str]
    packs: list[Pack]
    fail_on: str = "high"
    as_of: str = ""
    progress: Optional[Callable[[str], None]] = None
    environ: Optional[Environ] = None  # None: the scanning process's own environment
    root: Optional[str] = None  # an unpacked OS image or mounted disk, scanned like a machine, confined to it
    runtime: bool = False  # may run a target's interpreter (isolated, with a timeout) to read its ssl facts
    probe: object = None  # an auditor.probe.scan_probes.ProbePlan: probe the stores in use (the only network use)

    def system_view(self) -> Optional[View]:
        """The view of the system scanned as a whole: the image, this machine, or none (targets only)."""
        if self.root:
            return View(self.root, image=True, display_top="/")
        return None if self.paths else View("/", display_top="/")

    def environment(self) -> Environ:
        """The environment the scanned clients run with: --env-file's, else this process's (an image's: empty)."""
        return self.environ or (Environ.of_this_process() if self.root is None else Environ.of_an_image())


def run(options: ScanOptions) -> Report:
    dates = ReleaseDates.load()
    watched = dates.tracked() | {n for p in options.packs for r in p.rules for n in r.get("applies_to", ())}
    report = Report.start(options.packs, options.fail_on, options.as_of)
    collected = Collected()
    readable = 0
    system = options.system_view()
    if system is not None:
        _scan_system(system, options.root is None, watched, report, collected, options.runtime)
        readable += 1
    for path in options.paths:
        readable += _scan_target(path, watched, report, collected, options.progress, options.runtime)
    if readable == 0:
        raise NothingScanned("; ".join(f"{e.location}: {e.message}" for e in collected.errors) or "no target could be read")
    _resolve_trust(options, report, collected)
    if options.probe is not None:
        from auditor.probe.scan_probes import probe_scan

        collected.components += probe_scan(options.probe, collected.components, options.environment(), options.root)
    # A file included by two lockfiles is one fact, not two.
    unique = {c.id: c for c in reversed(collected.components)}
    report.components = [_with_release_date(c, dates) for c in unique.values()]
    report.errors = list({(e.location, e.message): e for e in collected.errors}.values())
    report.findings = list(evaluate(options.packs, report.components, dates))
    report.sort()
    return report


def _resolve_trust(options: ScanOptions, report: Report, collected: Collected) -> None:
    system = options.system_view()
    bundles = any(client.bundle for client in collected.sdk_clients)  # a Ruby gem's own CA file, installed in the target
    if not (system or collected.python_paths or collected.cli_v2 or options.environ or bundles):
        return  # lockfiles only: no installed client, no environment to judge
    from auditor.collect.trust_settings import read_trust_settings
    from auditor.trust import resolve_trust

    host = system or View("/", display_top="/")
    settings = read_trust_settings(host, options.environment())
    os_component = next((c for c in collected.components if c.kind == "os"), None)
    collected.extend(resolve_trust(collected.python_paths, collected.cli_v2, settings, report.as_of,
                                   _system_label(options) if system else ", ".join(map(shown, options.paths)), host,
                                   system=system is not None, running=options.root is None and not options.paths,
                                   every_variable=system is not None or options.environ is not None,
                                   os_component=os_component, runtime=options.runtime, sdk_clients=collected.sdk_clients))


def _system_label(options: ScanOptions) -> str:
    return f"image {shown(options.root)}" if options.root else "this machine"


def _with_release_date(component, dates: ReleaseDates):
    if component.kind != "python-package" or not component.version:
        return component
    return dataclasses.replace(component, released=dates.released(component.name, component.version))


def _scan_target(path, watched, report, collected: Collected, progress, runtime: bool) -> bool:
    location = shown(path)  # a name that is not UTF-8 is shown escaped, as every path in the report
    if not os.path.lexists(path):
        collected.errors.append(ScanError(location, "no such file or directory"))
        return False
    if os.path.isdir(path):
        view = View(path, display_top=path.rstrip("/") or "/")
        discovery = walk(view, view.top, progress,
                         lambda source, label: collected.extend(collect_trust_config(view, source, location, label)))
        report.targets.append(Target("tree", location, {"directories": discovery.directories,
                                                        "source_files": discovery.source_files}))
        collected.errors.extend(discovery.errors)
        for environment in discovery.environments:
            _scan_environment(view, environment, location, report, collected, watched, runtime)
        for lockfile, label in discovery.lockfiles:
            report.targets.append(Target("lockfile", view.display(lockfile), {"format": label}))
            collected.extend(collect_lockfile(view, lockfile, location, watched, label))
        _add_manifests(report, collected, view, discovery.manifests, location)
        for archive, label in discovery.archives:
            report.targets.append(Target("archive", view.display(archive), {"format": label}))
            collected.extend(collect_archive(view, archive, location, watched, report.as_of))
        return True
    # The file the user named may be a symlink; its includes are read beside the file it points to.
    real = os.path.realpath(path)
    shown_dir = os.path.dirname(path) if real == os.path.abspath(path) else os.path.dirname(real)
    view = View(os.path.dirname(real), display_top=shown_dir)
    host = os.path.join(view.top, os.path.basename(real))
    if label := archive_format(path):
        report.targets.append(Target("archive", location, {"format": label}))
        result = collect_archive(view, host, location, watched, report.as_of)
        collected.extend(result)
        return not any(e.location == view.display(host) for e in result.errors)
    if (manifest := manifest_format(path)) and not lockfile_format(path):
        manifests = _add_manifests(report, collected, view, [(host, manifest)], location, prefer_lock=False)
        return not any(e.location == view.display(host) for e in manifests.errors)
    label = lockfile_format(path) or "requirements"
    report.targets.append(Target("lockfile", location, {"format": label}))
    result = collect_lockfile(view, host, location, watched, label)
    collected.extend(result)
    return bool(result.components) or not any(e.location == view.display(host) for e in result.errors)


def _scan_environment(view, environment: Environment, target, report, collected, watched, runtime: bool) -> None:
    location = view.display(environment.prefix)
    if environment.kind == "aws-cli-v2":
        report.targets.append(Target("environment", location, {"layout": "aws-cli-v2"}))
        component = collect_cli_v2(view, environment.prefix, target)
        collected.components.append(component)
        collected.cli_v2.append(CliV2(view, environment.prefix, component))
        return
    if environment.kind == "virtualenv" and not environment.site_dirs:
        environment.site_dirs = venv_site_dirs(view, environment.prefix)
    errors: list[ScanError] = []
    entries = environment_path(view, environment.site_dirs, errors)
    result, count = collect_environment(view, entries, target, watched)
    details = {"layout": environment.kind, "site_dirs": [view.display(d) for d in environment.site_dirs], "distributions": count}
    if environment.python:
        details["python"] = environment.python
    report.targets.append(Target("environment", location, details))
    collected.errors.extend(errors)
    collected.extend(result)
    collected.python_paths.append(PythonPath(view, [e.host for e in entries], result.components))
    for site_dir in environment.site_dirs:  # OpenSSL bundled in wheels
        collected.extend(library_openssl(view, SITE_LIBRARY_GLOBS, target, base=site_dir))
    interpreter = _interpreter(view, environment) if runtime else None
    if interpreter:
        fact = runtime_openssl(interpreter, view.display(interpreter), target)
        (collected.components if isinstance(fact, Component) else collected.errors).append(fact)


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


def _scan_system(view: View, running: bool, watched, report, collected, runtime: bool) -> None:
    """This machine (`running`: with the running interpreter's sys.path), or an OS image's install locations."""
    from auditor.collect.machine import home_directories, other_environments, running_interpreter_path

    label = "this machine" if running else f"image {shown(view.top)}"
    _identify_system(view, running, label, collected)
    skip: set[str] = set()
    if running:
        path = running_interpreter_path()
        entries = [PathEntry(p, "sys.path of the running interpreter") for p in path]
        result, count = collect_environment(view, entries, label, watched)
        report.targets.append(Target("machine", platform.node() or "localhost", {"python": sys.executable}))
        report.targets.append(Target("environment", sys.prefix, {"layout": "running interpreter",
                                                                 "python": platform.python_version(), "distributions": count}))
        collected.extend(result)
        collected.python_paths.append(PythonPath(view, [e.host for e in entries], result.components))
        skip = {os.path.realpath(p) for p in path}
        homes = [os.path.expanduser("~")]
        collected.components.append(running_openssl(label))
        binary = shutil.which("openssl") if runtime else None
        if binary:
            fact = command_openssl(binary, label)
            (collected.components if isinstance(fact, Component) else collected.errors).append(fact)
    else:
        report.targets.append(Target("image", shown(view.top), {"confined": True}))
        homes = home_directories(view, collected.errors)
    collected.extend(library_openssl(view, LIBRARY_GLOBS, label))
    for environment in other_environments(view, skip, homes, collected.errors):
        # An image's interpreters are another machine's programs: never run here.
        _scan_environment(view, environment, label, report, collected, watched, runtime and running)
    from auditor.collect.sdk_manifests.discover import app_manifests

    found, errors = app_manifests(view, homes)
    _add_manifests(report, collected, view, found, label, on_system=True)
    collected.errors.extend(errors)


def _add_manifests(report: Report, collected: Collected, view: View, found: list, target: str, **options) -> Collected:
    """Other languages' manifests (host path, format) read into the report's targets and `collected`; what they gave."""
    manifests, targets = scan_manifests(view, found, target, **options)
    report.targets.extend(targets)
    collected.extend(manifests)
    return manifests


def _identify_system(view: View, running: bool, label: str, collected: Collected) -> None:
    """The operating system: Windows from the running interpreter, any other from its identity files."""
    from auditor.collect.os_identity import read_os_identity, running_windows_identity

    if running and sys.platform == "win32":
        component, errors = running_windows_identity(label), []
    else:
        component, errors = read_os_identity(view, label)
    collected.errors.extend(errors)
    if component is not None:
        collected.components.append(component)
