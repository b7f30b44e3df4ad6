"""The commands `scan`, `truststore`, `probe`, `rules` and `schema`: each takes what it was asked (auditor.cli.options),
checks what the parser cannot, runs its stage and returns the exit code. Stages are imported when run: start-up
time matters."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from auditor.cli.emit import EXIT_OK, emit, fail

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from typing import Any, Literal
    from types import TracebackType

    from auditor.api import ProbeOptions
    from auditor.cli.options import (ConfigArgs, FixArgs, ProbeArgs, ProbeRun, RulesRefreshArgs, RulesShowArgs,
                                     ScanArgs, TruststoreArgs)
    from auditor.model import Report
    from auditor.runs.scan_probes import ProbePlan


def scan(args: ScanArgs) -> int:
    from auditor.api import UsageError, open_image, select_packs, subject_problem
    from auditor.collect.config.environ import EnvFileError, load_env_files
    from auditor.runs.scan import NothingScanned, ScanOptions, run

    problem = subject_problem(args.root, args.image, args.platform, args.runtime, named=lambda name: f"--{name}")
    if problem:
        return fail(problem)
    try:
        packs = select_packs(list(args.packs))
        environ = load_env_files(list(args.env_files)) if args.env_files else None
        probe = _probe_plan(args)
        image, image_view = open_image(args.image, args.platform, "--image") if args.image is not None else (None, None)
    except EnvFileError as exc:
        return fail(f"--env-file {exc}")  # "--env-file app.env:3: not a NAME=value line": which option, which file
    except UsageError as exc:
        return fail(str(exc))
    try:
        with _Progress(enabled=not args.output.quiet) as tick:
            try:
                report = run(ScanOptions(list(args.targets), packs, fail_on=args.fail_on, as_of=args.as_of or "",
                                         progress=tick, environ=environ, root=args.root, runtime=args.runtime,
                                         probe=probe, image=image, image_view=image_view, exclude=args.exclude))
            except NothingScanned as exc:
                return fail(f"nothing could be scanned: {exc}")
    finally:
        if image_view is not None:
            image_view.close()  # the image's temporary index of names removed, on an interrupt too
    if args.host_name:
        report.run["host"] = args.host_name
    code = emit(report, args.output, args.as_of)
    return _fail_closed(report, args.strict) or code


def fix(args: FixArgs) -> int:
    """auditor fix: 0 nothing to fix or all applied; 1 something left (a dry run's changes, commands, refusals)."""
    from auditor.checks.rules import RulesError, select_packs
    from auditor.cli.emit import EXIT_FINDINGS
    from auditor.collect.config.environ import EnvFileError, load_env_files
    from auditor.fix.index import PackageIndex, index_url
    from auditor.fix.render import fix_json, fix_text
    from auditor.fix.run import FixOptions, run_fix
    from auditor.runs.scan import NothingScanned

    if args.index_url and not args.online:
        return fail("--index-url names the index --online asks: add --online, or leave it out")
    try:
        packs = select_packs(list(args.packs))
        environ = load_env_files(list(args.env_files)) if args.env_files else None
    except EnvFileError as exc:
        return fail(f"--env-file {exc}")
    except RulesError as exc:
        return fail(str(exc))
    index = PackageIndex(index_url(args.index_url)) if args.online else None
    try:
        result = run_fix(FixOptions(args.targets, packs, environ, args.to, index, args.apply, args.backup_suffix))
    except NothingScanned as exc:
        return fail(f"nothing could be scanned: {exc}")
    sys.stdout.write(fix_json(result) if args.format == "json" else fix_text(result, args.apply, args.backup_suffix))
    return EXIT_FINDINGS if result.pending() else EXIT_OK


def _fail_closed(report: Report, strict: bool) -> int:
    """EXIT_UNUSABLE, said on standard error, when a target named could not be read, or (--strict) when any part
    of what was scanned could not be: a result that covers less than was asked is not a pass."""
    from auditor.api import not_scanned, unread

    if problem := unread(report):
        return fail(problem)
    if strict and (parts := not_scanned(report)):
        return fail(f"--strict: {parts}")
    return EXIT_OK


def _probe_plan(args: ScanArgs) -> ProbePlan | None:
    """What `scan --probe` probes and how (None without --probe); UsageError for bad input, or for a probe
    option given without --probe."""
    from auditor.api import UsageError, probe_plan

    if not args.probe:
        given = (["--probe-endpoint"] if args.probe_endpoints else []) + args.probe_run.given()
        if given:
            raise UsageError(f"{given[0]} is an option of --probe: add --probe, or leave it out")
        return None
    return probe_plan(_probe_options(args.probe_run, tuple(args.probe_endpoints)))


def _probe_options(options: ProbeRun, endpoints: tuple[str, ...]) -> ProbeOptions:
    """The library's probe options from the command line's (the parser checked their ranges)."""
    from auditor.api import ProbeOptions

    return ProbeOptions(endpoints, options.timeout, options.retries, options.jobs, options.deadline,
                        options.connect_to or None, options.http)


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
    from auditor.api import AuditorError, probe as probe_stores

    try:
        password = _keystore_password(args.storepass, args.storepass_env)
    except ValueError as exc:
        return fail(str(exc))
    for paths, exists, option in ((args.ca_files, os.path.isfile, "--ca-file"), (args.ca_dirs, os.path.isdir, "--ca-dir"),
                                  (args.truststores, os.path.isfile, "--truststore")):
        for path in paths:
            if not exists(path):
                return fail(f"{option} {path}: no such {'directory' if option == '--ca-dir' else 'file'}")
    try:
        report = probe_stores(_probe_options(args.probe_run, tuple(args.endpoints)), ca_files=args.ca_files,
                              ca_dirs=args.ca_dirs, truststores=args.truststores, password=password,
                              packs=list(args.packs), fail_on=args.fail_on)
    except AuditorError as exc:
        return fail(str(exc))
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


def rules_show(args: RulesShowArgs) -> int:
    """One pack as text or JSON; an unknown pack is an error that lists the known ones (exit 2)."""
    import json

    from auditor.checks.rules import RulesError, load_packs

    try:
        packs = load_packs()
    except (RulesError, OSError) as exc:
        return fail(str(exc))
    pack = packs.get(args.pack)
    if pack is None:
        return fail(f"unknown rule pack {args.pack!r}; known packs: {', '.join(sorted(packs))}")
    shown = pack.shown()
    if args.format == "json":
        sys.stdout.write(json.dumps(shown, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    from auditor.report.escape import terminal

    lines = [f"{shown['id']} {shown['version']}{' (default)' if shown['default'] else ''}: {shown['title']}",
             f"source: {shown['source'] or '(none given)'}"]
    for rule in shown["rules"]:
        lines += ["", f"{rule['id']} [{rule['severity']}] check {rule['check']}"
                  + (f" ({rule['component_kind']})" if rule["component_kind"] else ""),
                  f"  title: {rule['title']}", f"  documented: {rule['documented']}"]
        lines += [f"  reference: {reference}" for reference in rule["references"]]
    sys.stdout.write("".join(terminal(line) + "\n" for line in lines))
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


def config(args: ConfigArgs) -> int:
    """`auditor config`: each command's settings in force and where each came from (default, file:line, flag)."""
    from auditor.cli.config import APPLIES, Settled, config_in_force, settle, settle_values
    from auditor.cli.options import OptionsError
    from auditor.cli.parser import build_parser, command_word

    settled: list[Settled]
    try:
        if args.command_line:
            word = command_word(args.command_line)
            parsed = build_parser(only=word).root.parse_args(list(args.command_line))
            if getattr(parsed, "config", None) is None and not getattr(parsed, "no_config", False):
                parsed.config, parsed.no_config = args.config, args.no_config  # config's own, before COMMAND
            one = settle(parsed)
            if one is None:
                return fail(f"{' '.join(args.command_line[:2])}: takes no settings; those that do: "
                            f"{', '.join(APPLIES)}")
            settled = [one]
        else:
            in_force = config_in_force(args.config, args.no_config)
            settled = [settle_values(command, in_force, {}) for command in APPLIES]
    except OptionsError as exc:
        return fail(str(exc))
    configuration = settled[0].config
    if args.format == "json":
        import json

        commands = {s.command: {setting.key: {"value": list(setting.value) if isinstance(setting.value, tuple)
                                              else setting.value, "source": setting.source.kind,
                                              **({"file": setting.source.file, "line": setting.source.line}
                                                 if setting.source.kind == "file" else {})}
                                for setting in s.settings} for s in settled}
        sys.stdout.write(json.dumps({"configuration": configuration, "commands": commands}, indent=2) + "\n")
        return EXIT_OK
    from auditor.report.escape import terminal

    found = configuration or ("none (--no-config)" if args.no_config else
                              "none found from the working directory up to the repository root")
    lines = [f"configuration: {terminal(found)}"]
    for one in settled:
        lines.append("")
        lines.append(one.command)
        shown = [(setting.key, terminal(_setting_text(one.command, setting.key, setting.value)), terminal(setting.source))
                 for setting in one.settings]
        width = max(len(value) for _, value, _ in shown)
        lines.extend(f"  {key:<8} {value:<{width}}  {source}" for key, value, source in shown)
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


def _setting_text(command: str, key: str, value: Any) -> str:
    if value is None:
        return {"fail-on": "the saved report's own", "waivers": "none", "output": "standard output",
                "as-of": "each report's own" if command.startswith("report") else "today (UTC)"}[key]
    if key == "packs":
        return ", ".join(value) if value else "the default packs"
    if key == "exclude":
        return ", ".join(value) if value else "nothing"
    return str(value)
