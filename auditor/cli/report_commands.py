"""`auditor report …`: saved JSON reports rendered, merged, compared, signed and verified.

auditor.cli.parser parses and auditor.cli.options gives each action its typed value; this module does the work and
returns the exit code.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, cast

from auditor.cli.emit import EXIT_FINDINGS, EXIT_OK, emit, fail, table_width
from auditor.cli.report_options import DiffArgs, KeygenArgs, MergeArgs, RenderArgs, SignArgs, VerifyArgs
from auditor.report.saved import SavedReportError
from auditor.report.signing import SigningError

if TYPE_CHECKING:
    from auditor.cli.report_options import ReportArgs


def run(args: ReportArgs) -> int:
    try:
        if isinstance(args, RenderArgs):
            return _render(args)
        if isinstance(args, MergeArgs):
            return _merge(args)
        if isinstance(args, DiffArgs):
            return _diff(args)
        if isinstance(args, KeygenArgs):
            return _keygen(args)
        if isinstance(args, SignArgs):
            return _sign(args)
        return _verify(args)
    except (SavedReportError, SigningError) as exc:
        return fail(str(exc))


def _render(args: RenderArgs) -> int:
    """The saved report as it was (run and generated_at kept), in any format; waivers and --fail-on re-judge it."""
    from auditor.report.saved import load_report

    report = load_report(args.report)
    report.fail_on = args.fail_on or report.fail_on
    return emit(report, args.output, args.as_of, stamp=False)


def _merge(args: MergeArgs) -> int:
    """Every format is written from the merge's spill files, one item at a time: memory stays bounded by the largest
    input report however many hosts are merged."""
    from auditor.checks.waivers import WaiverBook
    from auditor.model import host_name
    from auditor.report import reads, write
    from auditor.report.merge import merged

    output = args.output
    reports = list(args.reports)
    book = WaiverBook(list(output.waivers), args.as_of) if output.waivers is not None else None
    width = table_width(output.width, output.file) if output.format == "table" else None
    with merged(reports, reads=reads(output.format), fail_on=args.fail_on or "high", as_of=args.as_of, book=book,
                run={"host": host_name() or "localhost", "command": list(output.command_line)}) as view:
        if not output.file:
            write(view, output.format, sys.stdout, width)
            return EXIT_FINDINGS if view.totals.failing else EXIT_OK
        from auditor.output import atomic_output

        try:
            with atomic_output(output.file) as out:
                write(view, output.format, cast("IO[str]", out), width)  # a text handle: not binary=True
        except OSError as exc:
            return fail(f"cannot write {output.file}: {exc.strerror or exc}")
        totals = view.totals
    if not output.quiet:
        from auditor.report.common import plural

        print(f"auditor: merged {plural(len(reports), 'report')} into {output.file} "
              f"({plural(totals.finding_count, 'finding')})", file=sys.stderr)
    return EXIT_FINDINGS if totals.failing else EXIT_OK


def _diff(args: DiffArgs) -> int:
    from auditor.output import write_atomically
    from auditor.report.diff import diff_reports, render_diff
    from auditor.report.saved import load_report

    diff = diff_reports(load_report(args.before), load_report(args.after), args.before, args.after)
    text = render_diff(diff, args.format, args.fail_on, table_width(args.width, args.output))
    if args.output:
        try:
            write_atomically(args.output, text)
        except OSError as exc:
            return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    else:
        sys.stdout.write(text)
    return EXIT_FINDINGS if diff.failing(args.fail_on) else EXIT_OK


def _keygen(args: KeygenArgs) -> int:
    from auditor.report.signing import keygen

    keygen(args.private, args.public, _passphrase(args.passphrase_env))
    print(f"auditor: wrote private key {args.private} (mode 0600{', encrypted' if args.passphrase_env else ''}) "
          f"and public key {args.public}", file=sys.stderr)
    return EXIT_OK


def _sign(args: SignArgs) -> int:
    from auditor.report.signing import sign, write_signature

    output = args.output or f"{args.report}.sig"
    write_signature(output, sign(args.report, args.key, _passphrase(args.passphrase_env)))
    print(f"auditor: signed {args.report}: signature in {output}", file=sys.stderr)
    return EXIT_OK


def _verify(args: VerifyArgs) -> int:
    from auditor.report.signing import verify

    if verify(args.report, args.signature, args.public_key):
        print(f"OK: {args.signature} is a valid signature of {args.report} by {args.public_key}")
        return EXIT_OK
    print(f"FAIL: {args.signature} does not match {args.report} and {args.public_key}: the report was changed after "
          f"signing, or another key signed it")
    return EXIT_FINDINGS


def _passphrase(name: str | None) -> bytes | None:
    """The value of the variable --passphrase-env names; None without the option."""
    if not name:
        return None
    value = os.environ.get(name)
    if not value:
        raise SigningError(f"--passphrase-env: the variable {name} is not set or empty")
    return os.fsencode(value)  # the variable's own bytes, UTF-8 or not, as `openssl -pass env:NAME` takes them
