"""CSV: one row per finding, stable columns, for spreadsheets and ticket imports.

The cells hold data from scanned systems, so a cell a spreadsheet would read as a formula (one that
starts with =, +, -, @, a tab or a carriage return) gets a leading apostrophe, secrets are redacted, and
controls (an escape sequence, a carriage return) are shown as their escapes (\\x1b, \\r).
"""

from __future__ import annotations

import csv
import io

from auditor.redact import redact
from auditor.report.common import components_by_id
from auditor.report.escape import visible

COLUMNS = ("finding_id", "severity", "rule", "pack", "title", "component", "version", "kind", "location", "line",
           "target", "remediation", "references", "waived", "waiver_status", "waiver_owner", "waiver_expires",
           "waiver_reason")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def render(report) -> str:
    components = components_by_id(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # text mode writes the platform's line ending
    writer.writerow(COLUMNS)
    for finding in report.findings:
        writer.writerow([_cell(value) for value in _row(finding, components.get(finding.component))])
    return out.getvalue()


def _row(finding, component) -> list:
    c, waiver = component, finding.waiver or {}
    about = [c.name, c.version or "", c.kind, c.location, c.line or "", c.target] if c else [""] * 6
    return [finding.id, finding.severity, finding.rule, finding.pack, finding.title, *about,
            finding.remediation, " ".join(finding.references), "yes" if finding.waived else "no",
            *(waiver.get(key, "") for key in ("status", "owner", "expires", "reason"))]


def _cell(value) -> str:
    text = visible(redact(str(value)), newlines=True)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
