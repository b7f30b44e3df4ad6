"""Refresh the release-date table from PyPI (written to the user's data folder, see auditor.rule_data): the only code
here that uses the network."""

from __future__ import annotations

import datetime as _dt
import json
import urllib.request
from typing import Any, Sequence

from auditor.output import atomic_output

PYPI_JSON = "https://pypi.org/pypi/{name}/json"
TRACKED = ("awscli", "boto", "boto3", "botocore", "s3transfer")
MAX_ANSWER = 256 * 1024 * 1024  # far above any real project page; a runaway answer is refused


def first_upload_times(project_json: dict[str, Any]) -> dict[str, str]:
    """Map each release to the earliest upload time of its files (UTC, ISO 8601, 'Z')."""
    dates = {}
    for version, files in project_json.get("releases", {}).items():
        times = [f["upload_time_iso_8601"] for f in files if f.get("upload_time_iso_8601")]
        if times:
            earliest = min(_parse_utc(t) for t in times)
            dates[version] = earliest.strftime("%Y-%m-%dT%H:%M:%SZ")
    return dict(sorted(dates.items(), key=lambda item: (item[1], item[0])))


def _parse_utc(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(_dt.timezone.utc)


def fetch(name: str, timeout: float = 30.0) -> dict[str, Any]:
    request = urllib.request.Request(PYPI_JSON.format(name=name), headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - fixed https URL
        data = response.read(MAX_ANSWER + 1)
    if len(data) > MAX_ANSWER:
        raise ValueError(f"PyPI's answer for {name} is larger than {MAX_ANSWER:,} bytes; not used")
    project: dict[str, Any] = json.loads(data)  # PyPI's JSON API answers with an object
    return project


def refresh(output: str, names: Sequence[str] = TRACKED, timeout: float = 30.0) -> dict[str, int]:
    """Fetch every tracked project, write the table atomically, return release counts."""
    packages = {name: first_upload_times(fetch(name, timeout)) for name in names}
    table = {
        "source": "PyPI JSON API (https://pypi.org/pypi/<name>/json), earliest upload_time_iso_8601 per release",
        "fetched_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "packages": packages,
    }
    with atomic_output(output) as handle:
        json.dump(table, handle, indent=1, sort_keys=False)
        handle.write("\n")
    return {name: len(dates) for name, dates in packages.items()}
