"""How a command ends: its report rendered and written (standard output or -o), or one line of error; and
the exit code it returns."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from auditor.cli.options import Output
    from auditor.model import Report

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + 2, 128 + 15  # SIGINT, SIGTERM: as a shell reports a process they ended


def emit(report: Report, output: Output, as_of: str | None = None, stamp: bool = True, waive: bool = True) -> int:
    """Waivers applied (judged on `as_of`), rendered, written; the exit code. `stamp`: record this command line in
    the report (not when re-rendering a saved one). `waive`: apply the --waivers (not when they already were)."""
    from auditor.output import write_atomically
    from auditor.report import render

    if waive and output.waivers is not None:
        from auditor.checks.waivers import apply_waivers

        apply_waivers(report, list(output.waivers), as_of)
    if stamp:
        report.run["command"] = list(output.command_line)
    text = render(report, output.format, table_width(output.width, output.file) if output.format == "table" else None)
    if output.file:
        try:
            write_atomically(output.file, text)
        except OSError as exc:
            return fail(f"cannot write {output.file}: {exc.strerror or exc}")
        if not output.quiet:
            from auditor.report.common import plural

            print(f"auditor: report written to {output.file} ({plural(len(report.findings), 'finding')}, "
                  f"{plural(len(report.errors), 'error')})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_FINDINGS if report.failing() else EXIT_OK


def table_width(asked: int | None, file: str | None) -> int:
    """The table format's width: --width; else COLUMNS; else the terminal's width when standard output is a
    terminal and the report goes there; else a fixed width, so a report saved or piped reads the same on every
    machine and in every log."""
    import os

    from auditor.report.fit import DEFAULT_WIDTH, MIN_WIDTH

    if asked:
        return asked
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    if file is None and sys.stdout.isatty():
        # As shutil.get_terminal_size((DEFAULT_WIDTH, 24)) answers, without importing shutil (and bz2 and lzma).
        try:
            size = int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            size = 0
        if size <= 0:
            try:
                size = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
            except (AttributeError, ValueError, OSError):
                size = 0
        return max(size or DEFAULT_WIDTH, MIN_WIDTH)
    return DEFAULT_WIDTH


def fail(message: str) -> int:
    from auditor.report.escape import terminal

    # It may quote a path or URL with credentials, or a name with a terminal's control sequences.
    print(f"auditor: error: {terminal(message)}", file=sys.stderr)
    return EXIT_UNUSABLE
