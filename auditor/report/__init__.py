"""Renderers: every output format is made from the one report model."""

from __future__ import annotations

FORMATS = ("table", "json")


def render(report, fmt: str) -> str:
    if fmt == "json":
        from auditor.report.json_report import render as render_json

        return render_json(report)
    from auditor.report.table import render as render_table

    return render_table(report)
