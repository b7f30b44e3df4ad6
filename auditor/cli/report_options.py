"""What each `auditor report` action was asked, as auditor.cli.options gives the other commands': defined only when
a report action runs, so that no other command's start-up pays for their classes."""

from __future__ import annotations

from auditor.cli.options import ActionMissing, Output, WaiversAsked, command_output, load_waivers
from auditor.records import record

TYPE_CHECKING = False  # not typing's: start-up

if TYPE_CHECKING:
    import argparse
    from typing import Union


@record
class RenderArgs:
    report: str
    as_of: str | None
    fail_on: str | None  # None: the saved report's own
    output: Output


@record
class MergeArgs:
    reports: tuple[str, ...]
    as_of: str | None
    fail_on: str | None
    output: Output


@record
class DiffArgs:
    before: str
    after: str
    format: str
    output: str | None
    fail_on: str
    width: int | None


@record
class KeygenArgs:
    private: str
    public: str
    passphrase_env: str | None


@record
class SignArgs:
    report: str
    key: str
    output: str | None  # None: REPORT.sig
    passphrase_env: str | None


@record
class VerifyArgs:
    report: str
    signature: str
    public_key: str


if TYPE_CHECKING:
    ReportArgs = Union[RenderArgs, MergeArgs, DiffArgs, KeygenArgs, SignArgs, VerifyArgs]


def report_options(args: argparse.Namespace, command_line: list[str],
                   waivers: WaiversAsked | None = None) -> ReportArgs | ActionMissing:
    """The action's value from the parsed command line (ActionMissing when none was given). The --waivers file of
    an action that writes a report is loaded here: OptionsError when it cannot be."""

    def output() -> Output:
        return command_output(args, command_line, load_waivers(getattr(args, "waivers", None), waivers))

    action = args.report_command
    if action == "render":
        return RenderArgs(args.report, args.as_of, args.fail_on, output())
    if action == "merge":
        return MergeArgs(tuple(args.reports), args.as_of, args.fail_on, output())
    if action == "diff":
        return DiffArgs(args.before, args.after, args.format, args.output, args.fail_on, args.width)
    if action == "keygen":
        return KeygenArgs(args.private, args.public, args.passphrase_env)
    if action == "sign":
        return SignArgs(args.report, args.key, args.output, args.passphrase_env)
    if action == "verify":
        return VerifyArgs(args.report, args.signature, args.public_key)
    return ActionMissing("report")
