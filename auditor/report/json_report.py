"""The JSON report: the model as published in report.schema.json, secrets redacted."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.redact import redact_tree

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


def to_json_data(report) -> dict:
    return redact_tree(report.to_dict())


def render(report) -> str:
    return json.dumps(to_json_data(report), indent=2, ensure_ascii=False) + "\n"


def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
