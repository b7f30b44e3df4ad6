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
READS = frozenset({"json"})  # a merge's view: each section's items as this report writes them (json_items_text)
ITEMS = "\n    "  # the line break and indentation of a section's items: an array of the top-level object
SEPARATOR = "," + ITEMS  # what stands between two items of a section


def render(report: Report) -> str:
    from auditor.report import json_text

    return json_text.dumps(to_json_data(report)) + "\n"


def write(view: ReportView, out: IO[str]) -> None:
    """The report, its items written one at a time as the view gives them, or as it holds them written."""
    from auditor.report.json_text import Stream, Written, write

    totals = view.totals
    summary = {"findings": totals.findings, "failing": totals.failing, "not_scanned": totals.errors,
               "verdicts": totals.answers}
    document: dict[str, Any] = {**view.json_header(), "summary": summary}
    for section in SECTIONS:
        written = view.json_items_text(section)
        document[section] = (Written(_given(written), ITEMS) if written is not None
                             else Stream(_records(view, section), final=True, texts=view.record_text))
    write(out, document, string=view.json_text)
    out.write("\n")


def items_text(items: list[dict[str, Any]], texts: Callable[[str], str]) -> str:
    """The text of a section's items as write() writes them, each string made texts(string) (`items` are changed in
    place), joined as json_items_text's are: by SEPARATOR."""
    from auditor.report import json_text

    return json_text.items_text(items, ITEMS, texts)


def _records(view: ReportView, section: str) -> Callable[[], Iterable[dict[str, Any]]]:
    return lambda: view.json_records(section)


def _given(pieces: Iterable[bytes]) -> Callable[[], Iterable[bytes]]:
    return lambda: pieces


def schema() -> dict[str, Any]:
    with open(SCHEMA_PATH, encoding="utf-8") as file:
        loaded: dict[str, Any] = json.loads(file.read())
    return loaded
