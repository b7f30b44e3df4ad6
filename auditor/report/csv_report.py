"""CSV: one row per finding, stable columns, for spreadsheets and ticket imports.

The cells hold data from scanned systems, so secrets are redacted, controls (an escape sequence, a carriage
return) are shown as their escapes (\\x1b, \\r), a cell that holds a line break is quoted, and each line of a
cell that a spreadsheet would read as a formula (one that starts with =, +, -, @ or a tab) gets a leading
apostrophe.
"""

from __future__ import annotations

import csv
import io
import re
from typing import IO, Optional

from auditor.model import Component, Finding, Report
from auditor.redact import redact
from auditor.report.escape import visible
from auditor.report.view import ReportView, memory_view

COLUMNS = ("finding_id", "severity", "rule", "pack", "title", "component", "version", "kind", "location", "line",
           "target", "remediation", "references", "waived", "waiver_status", "waiver_owner", "waiver_expires",
           "waiver_reason")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A line start in a cell, where a spreadsheet that splits the cell's lines would see a formula.
_FORMULA_LINE = re.compile(f"^(?=[{re.escape(''.join(FORMULA_STARTS))}])", re.MULTILINE)


READS = frozenset({"findings"})


def render(report: Report) -> str:
    out = io.StringIO()
    write(memory_view(report), out)
    return out.getvalue()


def write(view: ReportView, out: IO[str]) -> None:
    # Text mode writes the platform's line ending. The writer quotes a cell that holds "\n" but not one that
    # holds a bare "\r", which every reader takes as a row's end: _cell leaves no "\r" in a cell.
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for finding, component in view.findings():
        writer.writerow([_cell(value) for value in _row(finding, component)])


def _row(finding: Finding, component: Optional[Component]) -> list[object]:
    c, waiver = component, finding.waiver or {}
    about = [c.name, c.version or "", c.kind, c.location, c.line or "", c.target] if c else [""] * 6
    return [finding.id, finding.severity, finding.rule, finding.pack, finding.title, *about,
            finding.remediation, " ".join(finding.references), "yes" if finding.waived else "no",
            *(waiver.get(key, "") for key in ("status", "owner", "expires", "reason"))]


def _cell(value: object) -> str:
    return _FORMULA_LINE.sub("'", visible(redact(str(value)), newlines=True))
