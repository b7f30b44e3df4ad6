"""The JSON report: the model as published in report.schema.json, secrets redacted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from auditor.model import Report

from auditor.redact import redact_tree

SCHEMA_PATH = Path(__file__).with_name("report.schema.json")


def to_json_data(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = redact_tree(report.to_dict())
    return data


def render(report: Report) -> str:
    return json.dumps(to_json_data(report), indent=2, ensure_ascii=False) + "\n"


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded
