"""Command line: argument parsing, signals and exit codes, and which command runs. The grammar is in
auditor.cli.parser, what each command was asked in auditor.cli.options, the commands in auditor.cli.commands and
auditor.cli.report_commands.

Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it;
2 usage error, or nothing could be scanned; 130 and 143 ended by SIGINT and SIGTERM.
"""

from __future__ import annotations

import sys

from auditor.version import __version__

TYPE_CHECKING = False  # not typing's: `auditor --version` imports nothing it does not need

if TYPE_CHECKING:
    from auditor.cli.report_options import ReportArgs


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if list(argv) == ["--version"]:  # answered before anything else is imported: it is start-up time alone
        print(f"auditor {__version__}")
        return 0
    from auditor.cli.emit import EXIT_INTERRUPTED, EXIT_TERMINATED
    from auditor.output import Terminated, terminate_raises

    try:
        with terminate_raises():  # so that an output file's temporary is removed on SIGTERM too
            return _command(list(argv))
    except KeyboardInterrupt:
        print("auditor: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("auditor: terminated", file=sys.stderr)
        return EXIT_TERMINATED


def _command(argv: list[str]) -> int:
    from auditor.cli import commands, options
    from auditor.cli.emit import EXIT_UNUSABLE, fail
    from auditor.cli.parser import build_parser, command_word, secret_values, shown_command_line

    parsers = build_parser(secret_values(argv), only=command_word(argv))
    args = parsers.root.parse_args(argv)
    command_line = shown_command_line(["auditor", *argv])
    waivers = options.WaiversAsked("--waivers", False)
    try:
        if args.command in ("scan", "truststore", "probe", "report"):
            from auditor.cli.config import settle

            settled = settle(args)  # the settings no flag gave, from the configuration or built in
            if settled is not None:
                waivers = options.WaiversAsked(settled.waivers_label(), settled.waivers_in_config())
        if args.command == "report":
            from auditor.cli.report_options import report_options

            asked: options.CommandArgs | ReportArgs = report_options(args, command_line, waivers)
        else:
            asked = options.command_options(args, command_line, waivers)
    except options.OptionsError as exc:
        return fail(str(exc))
    if isinstance(asked, options.ActionMissing):
        if asked.command is None:
            parsers.root.print_help()
        else:
            parsers.needing_action[asked.command].print_help(sys.stderr)
        return EXIT_UNUSABLE
    if isinstance(asked, options.ScanArgs):
        return commands.scan(asked)
    if isinstance(asked, options.TruststoreArgs):
        return commands.truststore(asked)
    if isinstance(asked, options.ProbeArgs):
        return commands.probe(asked)
    if isinstance(asked, options.FixArgs):
        return commands.fix(asked)
    if isinstance(asked, options.RulesListArgs):
        return commands.rules_list()
    if isinstance(asked, options.RulesShowArgs):
        return commands.rules_show(asked)
    if isinstance(asked, options.RulesRefreshArgs):
        return commands.rules_refresh(asked)
    if isinstance(asked, options.SchemaArgs):
        return commands.schema()
    if isinstance(asked, options.ConfigArgs):
        return commands.config(asked)
    from auditor.cli import report_commands

    return report_commands.run(asked)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
