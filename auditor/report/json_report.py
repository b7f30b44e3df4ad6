"""The JSON report: the model as published in report.schema.json, secrets redacted."""

from __future__ import annotations

import json
import os

from auditor.model import Report
from auditor.report.json_text import to_json_data

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from typing import IO, Any, Callable, Iterable
    from auditor.report.view import ReportView

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "report.schema.json")  # not pathlib: start-up time
SECTIONS = ("verdicts", "targets", "components", "findings", "errors")
READS = frozenset(SECTIONS)


def render(report: Report) -> str:
    from auditor.report import json_text

    return json_text.dumps(to_json_data(report)) + "\n"


def write(view: ReportView, out: IO[str]) -> None:
    """The report, its items written one at a time as the view gives them."""
    from auditor.report.json_text import Stream, write

    totals = view.totals
    summary = {"findings": totals.findings, "failing": totals.failing, "not_scanned": totals.errors,
               "verdicts": totals.answers}
    document = {**view.json_header(), "summary": summary,
                **{section: Stream(_records(view, section), final=True, texts=view.record_text) for section in SECTIONS}}
    write(out, document, string=view.json_text)
    out.write("\n")


def _records(view: ReportView, section: str) -> Callable[[], Iterable[dict[str, Any]]]:
    return lambda: view.json_records(section)


def schema() -> dict[str, Any]:
    with open(SCHEMA_PATH, encoding="utf-8") as file:
        loaded: dict[str, Any] = json.loads(file.read())
    return loaded
