"""What each command was asked, as one typed value built from the parsed command line in one place
(`command_options`); the commands take these values, and nothing is added to argparse's Namespace.

The values are frozen records (auditor.records); those of `auditor report`'s actions are defined in
auditor.cli.report_options, only when such an action runs.
"""

from __future__ import annotations

from auditor.records import record, replace



TYPE_CHECKING = False  # not typing's: start-up

if TYPE_CHECKING:
    import argparse
    from typing import Union

    from auditor.checks.waivers import Waiver


class OptionsError(Exception):
    """A value the parser took that cannot be used (a --waivers file that cannot be loaded): one line for the user."""


class WaiversAsked:
    """Where the waiver file in force was asked for: `label` starts its error messages (--waivers, or a
    configuration file's line); `in_config`: the file is the configuration itself, whose other keys are settings."""

    __slots__ = ("label", "in_config")

    def __init__(self, label: str, in_config: bool) -> None:
        self.label, self.in_config = label, in_config


@record
class Output:
    """Where and how a command's report is written (see emit)."""

    format: str
    file: str | None  # -o; None: standard output
    quiet: bool
    waivers: tuple[Waiver, ...] | None  # --waivers, loaded before the command runs; None: not given
    command_line: tuple[str, ...]  # as a report may show it (shown_command_line)
    width: int | None  # --width; None: see emit.table_width


@record
class ProbeRun:
    """How a probe run goes, for `probe` and `scan --probe`; None: not given, the default applies."""

    connect_to: str | None
    timeout: float | None
    retries: int | None
    jobs: int | None
    deadline: float | None
    http: bool

    def given(self) -> list[str]:
        """The options given on the command line, as written there, in the order of the help."""
        values = [("--connect-to", self.connect_to), ("--timeout", self.timeout), ("--retries", self.retries),
                  ("--jobs", self.jobs), ("--deadline", self.deadline), ("--http", self.http)]
        return [option for option, value in values if value not in (None, False)]


@record
class ScanArgs:
    targets: tuple[str, ...]
    env_files: tuple[str, ...]
    root: str | None
    strict: bool
    runtime: bool
    probe: bool
    probe_endpoints: tuple[str, ...]
    probe_run: ProbeRun
    as_of: str | None
    fail_on: str
    packs: tuple[str, ...]
    output: Output
    image: str | None = None
    platform: str | None = None
    host_name: str | None = None  # --host-name; None: this machine's
    exclude: tuple[str, ...] = ()  # --exclude patterns: what a DIR target's walk leaves out


@record
class TruststoreArgs:
    stores: tuple[str, ...]
    storepass: str | None  # a secret: never shown (see __repr__)
    storepass_env: str | None
    as_of: str | None
    fail_on: str
    packs: tuple[str, ...]
    output: Output

    def __repr__(self) -> str:
        return _without_storepass(self)


@record
class ProbeArgs:
    endpoints: tuple[str, ...]
    ca_files: tuple[str, ...]
    ca_dirs: tuple[str, ...]
    truststores: tuple[str, ...]
    storepass: str | None  # a secret: never shown (see __repr__)
    storepass_env: str | None
    probe_run: ProbeRun
    fail_on: str
    packs: tuple[str, ...]
    output: Output

    def __repr__(self) -> str:
        return _without_storepass(self)


def _without_storepass(args: TruststoreArgs | ProbeArgs) -> str:
    shown = replace(args, storepass=None if args.storepass is None else "***")
    return f"{type(args).__name__}({', '.join(f'{name}={value!r}' for name, value in vars(shown).items())})"


@record
class FixArgs:
    targets: tuple[str, ...]
    apply: bool
    to: str
    online: bool
    index_url: str | None
    backup_suffix: str
    env_files: tuple[str, ...]
    packs: tuple[str, ...]
    format: str


@record
class RulesListArgs:
    pass


@record
class RulesShowArgs:
    pack: str
    format: str  # text | json


@record
class RulesRefreshArgs:
    output: str | None  # None: the table in use
    timeout: float


@record
class SchemaArgs:
    pass


@record
class ConfigArgs:
    format: str  # text | json
    config: str | None
    no_config: bool
    command_line: tuple[str, ...]  # a command line whose settings are shown; empty: every command's, without flags


@record
class ActionMissing:
    """No command, or `rules` or `report` without its action: the help is printed and the exit code is 2."""

    command: str | None


if TYPE_CHECKING:
    CommandArgs = Union[ScanArgs, TruststoreArgs, ProbeArgs, FixArgs, RulesListArgs, RulesShowArgs, RulesRefreshArgs,
                        SchemaArgs, ConfigArgs,
                        ActionMissing]


def command_options(args: argparse.Namespace, command_line: list[str],
                    asked: WaiversAsked | None = None) -> CommandArgs:
    """The command's value from the parsed command line (its settings already filled by auditor.cli.config.settle),
    for every command but `report` (auditor.cli.report_options). Its waiver file is loaded here, before a long scan
    rather than after it: OptionsError when it cannot be."""
    waivers = load_waivers(getattr(args, "waivers", None), asked)
    if args.command == "scan":
        return ScanArgs(tuple(args.targets), tuple(args.env_file), args.root, args.strict, args.runtime, args.probe,
                        tuple(args.probe_endpoint), _probe_run(args), args.as_of, args.fail_on, tuple(args.pack),
                        command_output(args, command_line, waivers), args.image, args.platform, args.host_name,
                        tuple(args.exclude))
    if args.command == "truststore":
        return TruststoreArgs(tuple(args.stores), args.storepass, args.storepass_env, args.as_of, args.fail_on,
                              tuple(args.pack), command_output(args, command_line, waivers))
    if args.command == "probe":
        return ProbeArgs(tuple(args.endpoints), tuple(args.ca_file), tuple(args.ca_dir), tuple(args.truststore),
                         args.storepass, args.storepass_env, _probe_run(args), args.fail_on, tuple(args.pack),
                         command_output(args, command_line, waivers))
    if args.command == "fix":
        return FixArgs(tuple(args.targets), args.apply, args.to, args.online, args.index_url, args.backup_suffix,
                       tuple(args.env_file), tuple(args.pack), args.format)
    if args.command == "rules":
        if args.rules_command == "list":
            return RulesListArgs()
        if args.rules_command == "show":
            return RulesShowArgs(args.pack, args.format)
        if args.rules_command == "refresh":
            return RulesRefreshArgs(args.output, args.timeout)
        return ActionMissing("rules")
    if args.command == "schema":
        return SchemaArgs()
    if args.command == "config":
        return ConfigArgs(args.format, args.config, args.no_config, tuple(args.command_line))
    return ActionMissing(None)


def command_output(args: argparse.Namespace, command_line: list[str], waivers: tuple[Waiver, ...] | None) -> Output:
    return Output(args.format, args.output, args.quiet, waivers, tuple(command_line), args.width)


def _probe_run(args: argparse.Namespace) -> ProbeRun:
    return ProbeRun(args.connect_to, args.timeout, args.retries, args.jobs, args.deadline, args.http)


def load_waivers(path: str | None, asked: WaiversAsked | None = None) -> tuple[Waiver, ...] | None:
    if not path:
        return None
    from auditor.checks.waivers import WaiverError, load_waivers

    asked = asked or WaiversAsked("--waivers", False)
    try:
        return tuple(load_waivers(path, settings_file=asked.in_config))
    except WaiverError as exc:
        raise OptionsError(f"{asked.label} {exc}") from None  # "--waivers waivers.toml:3: …": the option and its file
