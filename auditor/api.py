"""The library API: what `auditor scan`, `auditor truststore` and `auditor probe` do, as functions that return the
report model (auditor.model.Report) instead of writing it. The names exported by the `auditor` package are the
stable surface (docs/api.md says what the promise covers); everything else is internal.

Each function fails closed as the commands do: bad arguments raise UsageError (the commands' exit 2), a scan that
could read nothing raises AuditorError, and a scan that read less than it was asked raises IncompleteScan, which
carries the report of what was read."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Union

from auditor.records import record


if TYPE_CHECKING:
    from auditor.checks.rules import Pack
    from auditor.checks.waivers import Waiver
    from auditor.collect.config.environ import Environ
    from auditor.fs import View
    from auditor.image.source import Image
    from auditor.model import Report
    from auditor.runs.scan_probes import ProbePlan

PathLike = Union[str, "os.PathLike[str]"]


class AuditorError(Exception):
    """The auditor could not do what it was asked; the message says why."""


class UsageError(AuditorError, ValueError):
    """An argument that cannot be used (a missing --root, an unknown rule pack, a bad endpoint)."""


class IncompleteScan(AuditorError):
    """A named target could not be read, or (strict) part of a target could not be: the report covers less than
    was asked, so it is not a pass. `report` holds what was read."""

    def __init__(self, message: str, report: Report):
        super().__init__(message)
        self.report = report


@record
class ProbeOptions:
    """How to probe: endpoints as "HOST" or "HOST:PORT" (default: the DynamoDB eu-west-3 endpoints), seconds per
    phase (default 5), further attempts after a network failure (0), probes at a time (16), seconds for the whole
    run (60), an address to connect to instead ("ADDRESS[:PORT]", the endpoint's name stays the one checked), and
    a GET / once verified. None: the default."""

    endpoints: tuple[str, ...] = ()
    timeout: float | None = None
    retries: int | None = None
    jobs: int | None = None
    deadline: float | None = None
    connect_to: str | None = None
    http: bool = False


def scan(*targets: PathLike, root: PathLike | None = None, image: str | None = None, platform: str | None = None,
         env: Mapping[str, str] | None = None, env_files: Sequence[PathLike] = (), packs: Sequence[str] = (),
         fail_on: str = "high", as_of: str | None = None, runtime: bool = False, probe: ProbeOptions | None = None,
         waivers: PathLike | None = None, strict: bool = False, host_name: str | None = None,
         exclude: Sequence[str] = (), progress: Callable[[str], None] | None = None) -> Report:
    """Scan targets (folders, lockfiles, manifests, archives), or this machine when none is given, or an unpacked
    root (`root`) or a container image (`image`: an OCI layout or a docker-archive tar, "PATH:REF" to choose one,
    `platform` as "linux/amd64"); with either, targets are paths inside it and only they are scanned. `env` / `env_files`: the
    environment the scanned clients run with (default: this process's; with both, `env` wins). `packs`: rule pack
    ids (default: the default packs). `as_of`: "YYYY-MM-DD" (default: today, UTC). `runtime`: may run this machine's
    interpreters (isolated) for their ssl facts. `probe`: then verify the stores in use live (network). `waivers`: a
    waiver file applied to the findings. `strict`: raise IncompleteScan when any part could not be scanned.
    `exclude`: patterns of what the walk of a folder target leaves out (listed in the report, as --exclude).
    `progress` is called with each directory walked."""
    from auditor.runs.scan import NothingScanned, ScanOptions, run

    paths = [os.fspath(t) for t in targets]
    root_path = os.fspath(root) if root is not None else None
    problem = subject_problem(root_path, image, platform, runtime)
    if problem:
        raise UsageError(problem)
    severity, date = _severity(fail_on), _date(as_of)  # every argument checked before an image is opened
    chosen = select_packs(packs)
    accepted = _load_waivers(waivers)
    environ = _environment(env, env_files)
    plan = probe_plan(probe) if probe is not None else None
    opened, view = None, None
    if image is not None:
        opened, view = open_image(image, platform)
    try:
        report = run(ScanOptions(paths, chosen, fail_on=severity, as_of=date, progress=progress,
                                 environ=environ, root=root_path, runtime=runtime, probe=plan, image=opened,
                                 image_view=view, exclude=tuple(exclude)))
    except NothingScanned as exc:
        raise AuditorError(f"nothing could be scanned: {exc}") from None
    finally:
        if view is not None:
            view.close()  # the image's temporary index of names removed
    if host_name:
        report.run["host"] = host_name
    _waive(report, accepted, as_of)
    problem = unread(report)
    if problem is None and strict and (parts := not_scanned(report)):
        problem = f"strict: {parts}"
    if problem:
        raise IncompleteScan(problem, report)
    return report


def check_store(*paths: PathLike, password: str | None = None, packs: Sequence[str] = (), fail_on: str = "high",
                as_of: str | None = None, waivers: PathLike | None = None) -> Report:
    """Check CA bundles, certificate directories and Java keystores (JKS, JCEKS, PKCS#12) for the ATS anchors;
    `password` opens a keystore (never stored in the report)."""
    from auditor.runs.truststore import NothingRead, inspect_stores

    if not paths:
        raise UsageError("check_store needs at least one store path")
    chosen = select_packs(packs)
    accepted = _load_waivers(waivers)
    try:
        report = inspect_stores([os.fspath(p) for p in paths], chosen, _severity(fail_on), _date(as_of), password)
    except NothingRead as exc:
        raise AuditorError(f"nothing could be read: {exc}") from None
    _waive(report, accepted, as_of)
    return report


def probe(options: ProbeOptions = ProbeOptions(), *, ca_files: Iterable[PathLike] = (), ca_dirs: Iterable[PathLike] = (),
          truststores: Iterable[PathLike] = (), password: str | None = None, packs: Sequence[str] = (),
          fail_on: str = "high", waivers: PathLike | None = None) -> Report:
    """Connect to each endpoint and verify its certificate with each store given (a PEM file, a certificate
    directory, a Java keystore opened with `password`), or with this machine's OS and OpenSSL stores when none is
    given: one bounded TLS handshake per store and endpoint (network)."""
    from auditor.live_probe import TrustStore
    from auditor.runs.probe import StoreToProbe, machine_local_cas, machine_stores, probe_report

    plan, severity = probe_plan(options), _severity(fail_on)  # checked before any store is loaded
    named = ([(os.fspath(p), os.path.isfile, "ca file", None) for p in ca_files]
             + [(os.fspath(p), os.path.isdir, "ca directory", None) for p in ca_dirs]
             + [(os.fspath(p), os.path.isfile, "truststore", password) for p in truststores])
    for path, exists, what, _ in named:
        if not exists(path):
            raise UsageError(f"{what} {path}: no such {'directory' if what == 'ca directory' else 'file'}")
    unique = {os.path.abspath(path): secret for path, _, _, secret in named}
    stores = [StoreToProbe(TrustStore.load(path, secret)) for path, secret in unique.items()] or machine_stores()
    if not stores:
        raise AuditorError("no trust store found on this machine: name a CA file, a CA directory or a keystore to probe with")
    chosen = select_packs(packs)
    accepted = _load_waivers(waivers)
    report = probe_report(list(plan.endpoints), stores, chosen, severity, connect_to=plan.connect_to,
                          settings=plan.settings, workers=plan.workers, deadline=plan.deadline,
                          local_cas=machine_local_cas())
    _waive(report, accepted, None)
    return report


def render(report: Report, format: str = "json") -> str:
    """The report as the command would write it: "table", "json", "html", "markdown", "sarif", "junit" or "csv"."""
    from auditor.report import FORMATS, render as render_as

    if format not in FORMATS:
        raise UsageError(f"format {format!r}: one of {', '.join(FORMATS)}")
    return render_as(report, format)


def load_report(path: PathLike) -> Report:
    """A saved JSON report (any schema version this release reads), checked as `auditor report render` checks it."""
    from auditor.report.saved import SavedReportError, load_report as load

    try:
        return load(os.fspath(path))
    except (SavedReportError, OSError, ValueError) as exc:
        raise AuditorError(str(exc)) from None


def select_packs(ids: Sequence[str]) -> list[Pack]:
    """The rule packs by id (none: the default ones); UsageError for an unknown id or a pack that does not load."""
    from auditor.checks.rules import RulesError, select_packs as select

    try:
        return select(list(ids))
    except RulesError as exc:
        raise UsageError(str(exc)) from None


def probe_plan(options: ProbeOptions) -> ProbePlan:
    """The endpoints and settings of a probe, checked; UsageError, naming the value, for a bad one."""
    from auditor.live_probe import DEFAULT_ENDPOINTS
    from auditor.live_probe.run import DEFAULT_DEADLINE, DEFAULT_JOBS, DEFAULT_TIMEOUT, ProbeSettings
    from auditor.runs.probe import parse_address
    from auditor.runs.scan_probes import ProbePlan

    timeout = DEFAULT_TIMEOUT if options.timeout is None else options.timeout
    retries = 0 if options.retries is None else options.retries
    jobs = DEFAULT_JOBS if options.jobs is None else options.jobs
    deadline = DEFAULT_DEADLINE if options.deadline is None else options.deadline
    if not (timeout > 0 and deadline > 0 and 0 <= retries <= 100 and 1 <= jobs <= 1000):
        raise UsageError("probe options: timeout and deadline above 0, retries 0-100, jobs 1-1000")
    try:
        endpoints = tuple((host, port or 443) for host, port in map(parse_address, options.endpoints))
        connect_to = parse_address(options.connect_to, None) if options.connect_to else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return ProbePlan(endpoints or DEFAULT_ENDPOINTS, ProbeSettings(timeout, retries, options.http), connect_to, jobs,
                     deadline)


def subject_problem(root: str | None, image: str | None, platform: str | None, runtime: bool,
                    named: Callable[[str], str] = str) -> str | None:
    """What is wrong with the system a scan is asked to read, each argument named by `named` (the command line's
    --root, the library's root); None: nothing."""
    if root is not None and not root:
        return f"{named('root')} needs a directory: an empty value would scan this machine's / as an image"
    if root and not os.path.isdir(root):
        return f"{named('root')} {root}: not a directory"
    if runtime and (root is not None or image is not None):
        return (f"{named('runtime')} runs interpreters of this machine, and nothing in an image is ever run: leave out "
                f"{named('runtime')} with {named('image') if image is not None else named('root')} (its interpreters' "
                f"facts are read from their files)")
    if image is not None and root is not None:
        return f"{named('image')} and {named('root')} each name the system to scan: give one"
    if platform is not None and image is None:
        return f"{named('platform')} chooses the image of a multi-platform {named('image')}"
    return None


def open_image(image: str, platform: str | None, named_by: str = "image") -> tuple[Image, View]:
    """The image and the view of its layers applied; UsageError naming the image (and `named_by`, the argument
    that named it) when it cannot be opened."""
    from auditor.fs import FsError
    from auditor.image.source import ImageError, open_image as open_source
    from auditor.image.view import LayeredView

    try:
        opened = open_source(image, platform)
        return opened, LayeredView(opened.layers)
    except (ImageError, FsError) as exc:
        raise UsageError(f"{named_by} {exc}") from None
    except OSError as exc:  # a layer's file that cannot be opened
        raise UsageError(f"{named_by} {image}: {exc.strerror or exc}") from None


def unread(report: Report) -> str | None:
    """Which named targets could not be read, and why; None when all were."""
    targets = report.unread_targets()
    if not targets:
        return None
    return ("; ".join(f"{t.location}: {t.details.get('reason', 'could not be read')}" for t in targets)
            + " (the report covers only the other targets)")


def not_scanned(report: Report) -> str | None:
    """How many parts of the targets could not be scanned (the report's errors say which); None when none."""
    if not report.not_scanned():
        return None
    from auditor.report.common import plural

    return f"{plural(report.not_scanned(), 'part')} could not be scanned (see the report's errors)"


def _environment(env: Mapping[str, str] | None, env_files: Sequence[PathLike]) -> Environ | None:
    from auditor.collect.config.environ import Environ, EnvFileError, load_env_files

    if env is None and not env_files:
        return None
    try:
        loaded = load_env_files([os.fspath(p) for p in env_files]) if env_files else Environ({}, "")
    except EnvFileError as exc:
        raise UsageError(f"env file {exc}") from None
    if env is None:
        return loaded
    origin = " and ".join(part for part in (loaded.origin, "the env given to auditor.scan") if part)
    return Environ({**loaded.variables, **env}, origin)


def _load_waivers(path: PathLike | None) -> list[Waiver] | None:
    """A waiver file, read before the work starts (a bad one is a usage error, not a lost scan)."""
    if path is None:
        return None
    from auditor.checks.waivers import WaiverError, load_waivers

    try:
        return load_waivers(os.fspath(path))
    except WaiverError as exc:
        raise UsageError(str(exc)) from None


def _waive(report: Report, waivers: list[Waiver] | None, as_of: str | None) -> None:
    if waivers is not None:
        from auditor.checks.waivers import apply_waivers

        apply_waivers(report, waivers, as_of)


def _severity(fail_on: str) -> str:
    from auditor.model import SEVERITIES

    if fail_on not in SEVERITIES:
        raise UsageError(f"fail_on {fail_on!r}: one of {', '.join(SEVERITIES)}")
    return fail_on


def _date(as_of: str | None) -> str:
    import datetime

    if not as_of:
        return ""
    try:
        return datetime.date.fromisoformat(as_of).isoformat()
    except ValueError:
        raise UsageError(f"as_of {as_of!r}: not a YYYY-MM-DD date") from None
