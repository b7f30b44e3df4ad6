"""Renderers: every output format is made from the one report model. A format is one module in this
package with `render(report) -> str`; FORMATS maps its name to that module."""

from __future__ import annotations

FORMATS = {
    "table": "auditor.report.table",
    "json": "auditor.report.json_report",
    "html": "auditor.report.html",
    "markdown": "auditor.report.markdown",
    "sarif": "auditor.report.sarif",
    "junit": "auditor.report.junit",
    "csv": "auditor.report.csv_report",
}


def render(report, fmt: str) -> str:
    import importlib  # here, not at the top: the CLI imports FORMATS on every start

    return importlib.import_module(FORMATS[fmt]).render(report)
