"""Renderers: every output format is made from the one report model. A format is one module in this package with
`render(report) -> str`, and `write(view, out)`, which writes a report it reads item by item (a merge of many
hosts' reports, auditor.report.view) and names in READS what it reads of it; FORMATS maps its name to that module.
The table also takes the width of the terminal it is written for."""

from __future__ import annotations


FORMATS = {
    "table": "auditor.report.table",
    "json": "auditor.report.json_report",
    "html": "auditor.report.html",
    "markdown": "auditor.report.markdown",
    "sarif": "auditor.report.sarif",
    "junit": "auditor.report.junit",
    "csv": "auditor.report.csv_report",
    "cyclonedx": "auditor.report.cyclonedx",
}


TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from typing import IO
    from types import ModuleType

    from auditor.model import Report
    from auditor.report.view import ReportView


def _module(fmt: str) -> ModuleType:
    import importlib  # here, not at the top: the CLI imports FORMATS on every start

    return importlib.import_module(FORMATS[fmt])


def render(report: Report, fmt: str, width: int | None = None) -> str:
    module = _module(fmt)
    text: str = module.render(report, width=width) if fmt == "table" and width else module.render(report)
    return text


def reads(fmt: str) -> frozenset[str]:
    """What the format's renderer reads of a view (auditor.report.merge.SPILLS)."""
    names: frozenset[str] = _module(fmt).READS
    return names


def write(view: ReportView, fmt: str, out: IO[str], width: int | None = None) -> None:
    module = _module(fmt)
    if fmt == "table" and width:
        module.write(view, out, width=width)
    else:
        module.write(view, out)
