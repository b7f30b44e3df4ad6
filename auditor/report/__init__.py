"""Renderers: every output format is made from the one report model. A format is one module in this
package with `render(report) -> str`; FORMATS maps its name to that module. The table also takes the width of
the terminal it is written for."""

from __future__ import annotations

from typing import TYPE_CHECKING

FORMATS = {
    "table": "auditor.report.table",
    "json": "auditor.report.json_report",
    "html": "auditor.report.html",
    "markdown": "auditor.report.markdown",
    "sarif": "auditor.report.sarif",
    "junit": "auditor.report.junit",
    "csv": "auditor.report.csv_report",
}


if TYPE_CHECKING:
    from auditor.model import Report


def render(report: Report, fmt: str, width: int | None = None) -> str:
    import importlib  # here, not at the top: the CLI imports FORMATS on every start

    module = importlib.import_module(FORMATS[fmt])
    text: str = module.render(report, width=width) if fmt == "table" and width else module.render(report)
    return text
