"""The commands `scan`, `truststore`, `probe`, `rules` and `schema`: each takes what it was asked (auditor.cli.options),
checks what the parser cannot, runs its stage and returns the exit code. Stages are imported when run: start-up
time matters."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, cast

from auditor.cli.emit import EXIT_OK, emit, fail

if TYPE_CHECKING:
    from types import TracebackType

    from auditor.cli.options import ProbeArgs, ProbeRun, RulesRefreshArgs, ScanArgs, TruststoreArgs
    from auditor.model import Report
    from auditor.probe.run import ProbeSettings
    from auditor.runs.scan_probes import ProbePlan


def scan(args: ScanArgs) -> int:
    from auditor.collect.config.environ import EnvFileError, load_env_files
    from auditor.checks.rules import RulesError, select_packs
    from auditor.runs.scan import NothingScanned, ScanOptions, run

    if args.root is not None and not args.root:
        return fail("--root needs a directory: an empty value would scan this machine's / as an image")
    if args.root and not os.path.isdir(args.root):
        return fail(f"--root {args.root}: not a directory")
    if args.runtime and (args.root is not None or args.image is not None):
        return fail(f"--runtime runs interpreters of this machine, and nothing in an image is ever run: leave out "
                    f"--runtime with {'--image' if args.image is not None else '--root'} (its interpreters' facts are "
                    f"read from their files)")
    if args.image is not None and (args.root is not None or args.targets):
        return fail("--image scans the image as a whole: not with --root or TARGETs (not yet)")
    if args.platform is not None and args.image is None:
        return fail("--platform chooses the image of a multi-platform --image")
    try:
        packs = select_packs(list(args.packs))
        environ = load_env_files(list(args.env_files)) if args.env_files else None
        probe = _probe_plan(args)
    except EnvFileError as exc:
        return fail(f"--env-file {exc}")  # "--env-file app.env:3: not a NAME=value line": which option, which file
    except (RulesError, ValueError) as exc:
        return fail(str(exc))
    image, image_view = None, None
    if args.image is not None:
        from auditor.fs import FsError
        from auditor.image.source import ImageError, open_image
        from auditor.image.view import LayeredView

        try:
            image = open_image(args.image, args.platform)
            image_view = LayeredView(image.layers)
        except (ImageError, FsError) as exc:
            return fail(f"--image {exc}")
        except OSError as exc:  # a layer's file that cannot be opened
            return fail(f"--image {args.image}: {exc.strerror or exc}")
    with _Progress(enabled=not args.output.quiet) as tick:
        try:
            report = run(ScanOptions(list(args.targets), packs, fail_on=args.fail_on, as_of=args.as_of or "",
                                     progress=tick, environ=environ, root=args.root, runtime=args.runtime,
                                     probe=probe, image=image, image_view=image_view))
        except NothingScanned as exc:
            return fail(f"nothing could be scanned: {exc}")
    if args.host_name:
        report.run["host"] = args.host_name
    code = emit(report, args.output, args.as_of)
    return _fail_closed(report, args.strict) or code


def _fail_closed(report: Report, strict: bool) -> int:
    """EXIT_UNUSABLE, said on standard error, when a target named could not be read, or (--strict) when any part
    of what was scanned could not be: a result that covers less than was asked is not a pass."""
    unread = report.unread_targets()
    if unread:
        return fail("; ".join(f"{t.location}: {t.details.get('reason', 'could not be read')}" for t in unread)
                    + " (the report covers only the other targets)")
    if strict and report.not_scanned():
        from auditor.report.common import plural

        return fail(f"--strict: {plural(report.not_scanned(), 'part')} could not be scanned "
                    "(see the report's errors)")
    return EXIT_OK


def _probe_plan(args: ScanArgs) -> ProbePlan | None:
    """What `scan --probe` probes and how (None without --probe); ValueError for bad input, or for a probe
    option given without --probe."""
    if not args.probe:
        given = (["--probe-endpoint"] if args.probe_endpoints else []) + args.probe_run.given()
        if given:
            raise ValueError(f"{given[0]} is an option of --probe: add --probe, or leave it out")
        return None
    from auditor.probe import DEFAULT_ENDPOINTS
    from auditor.runs.scan_probes import ProbePlan

    connect_to, settings, jobs, deadline = _probe_run(args.probe_run)
    endpoints = tuple(_endpoint(text) for text in args.probe_endpoints) or DEFAULT_ENDPOINTS
    return ProbePlan(endpoints, settings, connect_to, jobs, deadline)


def _endpoint(text: str) -> tuple[str, int]:
    """HOST[:PORT] of an endpoint to probe; ValueError for a bad one."""
    from auditor.runs.probe import parse_address

    return cast("tuple[str, int]", parse_address(text))  # with its default port, 443, it always has a port


def _probe_run(options: ProbeRun) -> tuple[tuple[str, int | None] | None, ProbeSettings, int, float]:
    """(connect_to, ProbeSettings, jobs, deadline), defaults filled in (the ranges are checked by the parser);
    ValueError with the message for the user for a bad address."""
    from auditor.runs.probe import parse_address
    from auditor.probe.run import DEFAULT_DEADLINE, DEFAULT_JOBS, DEFAULT_TIMEOUT, ProbeSettings

    timeout = DEFAULT_TIMEOUT if options.timeout is None else options.timeout
    retries = 0 if options.retries is None else options.retries
    jobs = DEFAULT_JOBS if options.jobs is None else options.jobs
    deadline = DEFAULT_DEADLINE if options.deadline is None else options.deadline
    connect_to = parse_address(options.connect_to, None) if options.connect_to else None
    return connect_to, ProbeSettings(timeout, retries, options.http), jobs, deadline


def truststore(args: TruststoreArgs) -> int:
    from auditor.checks.rules import RulesError, select_packs
    from auditor.runs.truststore import NothingRead, inspect_stores

    try:
        password = _keystore_password(args.storepass, args.storepass_env)
    except ValueError as exc:
        return fail(str(exc))
    try:
        packs = select_packs(list(args.packs))
        report = inspect_stores(list(args.stores), packs, args.fail_on, args.as_of or "", password)
    except RulesError as exc:
        return fail(str(exc))
    except NothingRead as exc:
        return fail(f"nothing could be read: {exc}")
    return emit(report, args.output, args.as_of)


def _keystore_password(storepass: str | None, storepass_env: str | None) -> str | None:
    """--storepass, or the value of the variable --storepass-env names; ValueError when it is not set."""
    if not storepass_env:
        return storepass
    password = os.environ.get(storepass_env)
    if password is None:
        raise ValueError(f"--storepass-env: the variable {storepass_env} is not set")
    return password


def probe(args: ProbeArgs) -> int:
    from auditor.probe import DEFAULT_ENDPOINTS, TrustStore
    from auditor.runs.probe import StoreToProbe, machine_local_cas, machine_stores, probe_report
    from auditor.checks.rules import RulesError, select_packs

    try:
        connect_to, settings, jobs, deadline = _probe_run(args.probe_run)
        endpoints = [_endpoint(text) for text in args.endpoints] or list(DEFAULT_ENDPOINTS)
        password = _keystore_password(args.storepass, args.storepass_env)
    except ValueError as exc:
        return fail(str(exc))
    named: list[tuple[str, Callable[[str], bool], str, str | None]] = (
        [(p, os.path.isfile, "--ca-file", None) for p in args.ca_files]
        + [(p, os.path.isdir, "--ca-dir", None) for p in args.ca_dirs]
        + [(p, os.path.isfile, "--truststore", password) for p in args.truststores])
    for path, exists, option, _ in named:
        if not exists(path):
            return fail(f"{option} {path}: no such {'directory' if option == '--ca-dir' else 'file'}")
    unique = {os.path.abspath(path): secret for path, _, _, secret in named}
    stores = [StoreToProbe(TrustStore.load(path, secret)) for path, secret in unique.items()] or machine_stores()
    if not stores:
        return fail("no trust store found on this machine: name one with --ca-file, --ca-dir or --truststore")
    try:
        packs = select_packs(list(args.packs))
    except RulesError as exc:
        return fail(str(exc))
    report = probe_report(endpoints, stores, packs, args.fail_on, connect_to=connect_to, settings=settings,
                          workers=jobs, deadline=deadline, local_cas=machine_local_cas())
    return emit(report, args.output)


def rules_refresh(args: RulesRefreshArgs) -> int:
    from auditor.rule_data import user_release_dates
    from auditor.checks.refresh import refresh

    # The user's data folder by default: the installed package may be read-only, shared or replaced by an upgrade.
    output = args.output or str(user_release_dates())
    try:
        if not args.output:
            os.makedirs(os.path.dirname(output), exist_ok=True)
        counts = refresh(output, timeout=args.timeout)
    except (OSError, ValueError) as exc:  # network and file errors; an answer too large or not JSON
        return fail(f"refresh failed, table unchanged: {exc}")
    from auditor.report.common import plural

    print(f"wrote {output}: " + ", ".join(f"{name} {plural(n, 'release')}" for name, n in sorted(counts.items())))
    return EXIT_OK


def rules_list() -> int:
    from auditor.rule_data import shipped_release_dates
    from auditor.checks.rules import RulesError, load_packs, release_dates_in_use

    try:
        packs = load_packs()
        dates, problems = release_dates_in_use()
    except (RulesError, OSError, ValueError) as exc:
        return fail(str(exc))
    for pack in packs.values():
        print(f"{pack.id} {pack.version}{' (default)' if pack.default else ''}: {pack.title}")
        for rule in pack.rules:
            print(f"  {rule.id} [{rule.severity}] {rule.check} {', '.join(rule.applies_to or ())}"
                  + (f" before {rule.cutoff}" if rule.cutoff else ""))
    which = "shipped" if dates.path == shipped_release_dates() else "refreshed"
    print(f"release dates ({which}): {dates.path} (fetched {dates.fetched_at}): "
          + ", ".join(f"{n} {len(v)}" for n, v in sorted(dates.packages.items())))
    for problem in problems:
        from auditor.report.escape import terminal

        print(f"auditor: warning: {terminal(problem.location)}: {terminal(problem.message)}", file=sys.stderr)
    return EXIT_OK


def schema() -> int:
    from auditor.report.json_report import SCHEMA_PATH

    with open(SCHEMA_PATH, encoding="utf-8") as file:
        sys.stdout.write(file.read())
    return EXIT_OK


class _Progress:
    """A live counter of directories walked, on standard error when it is a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None  # a tqdm bar, which ships no type information

    def __enter__(self) -> Callable[[str], None] | None:
        if not self.enabled:
            return None
        import shutil

        from tqdm import tqdm

        # A terminal that reports no size (a fresh pty, some CI consoles) would make tqdm draw nothing.
        size = shutil.get_terminal_size(fallback=(80, 24))
        self.bar = tqdm(unit=" dirs", desc="scanning", file=sys.stderr, leave=False, mininterval=0.2,
                        ncols=size.columns or 80, nrows=size.lines or 24)
        return lambda _directory: self.bar.update(1)

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> Literal[False]:
        if self.bar is not None:
            self.bar.close()
        return False
