"""The package index's JSON API (PyPI's https://pypi.org/pypi/NAME/json and NAME/VERSION/json): the newest
release, a release's upload date and the SHA-256 of its files. Used only with --online: the scan never is."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

from auditor.records import field, mutable_record


DEFAULT_INDEX = "https://pypi.org/pypi"
INDEX_VARIABLE = "AUDITOR_INDEX_URL"  # another index with the same JSON API (a mirror, a test's local server)
MAX_ANSWER = 32 * 1024 * 1024  # boto3's whole-project document is some megabytes


class IndexFailure(Exception):
    """The index could not answer (network, HTTP status, not the JSON API's shape); the message says which."""


def index_url(given: str | None) -> str:
    return (given or os.environ.get(INDEX_VARIABLE) or DEFAULT_INDEX).rstrip("/")


@mutable_record
class PackageIndex:
    url: str
    timeout: float = 30.0
    _answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def latest(self, name: str) -> str:
        version = self._get(f"{quote(name)}/json").get("info", {}).get("version")
        if not isinstance(version, str) or not version:
            raise IndexFailure(f"{self.url}: no version in the answer for {name}")
        return version

    def uploaded(self, name: str, version: str) -> str | None:
        """The first upload (UTC, ISO 8601) of a release's files; None when the index has no such release."""
        try:
            files = self._files(name, version)
        except IndexFailure:
            return None
        times = [str(f["upload_time_iso_8601"]) for f in files if isinstance(f.get("upload_time_iso_8601"), str)]
        return min(times) if times else None

    def sha256s(self, name: str, version: str) -> list[str]:
        """The SHA-256 of every file of the release (sdist and wheels), as pip-compile --generate-hashes lists them."""
        digests = [f.get("digests", {}).get("sha256") for f in self._files(name, version)]
        if not digests or not all(isinstance(d, str) and len(d) == 64 and _hex(d) for d in digests):
            raise IndexFailure(f"{self.url}: no SHA-256 for every file of {name} {version}")
        return sorted(str(d) for d in digests)

    def _files(self, name: str, version: str) -> list[dict[str, Any]]:
        files = self._get(f"{quote(name)}/{quote(version)}/json").get("urls")
        if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
            raise IndexFailure(f"{self.url}: no file list for {name} {version}")
        return files

    def _get(self, path: str) -> dict[str, Any]:
        if path in self._answers:
            return self._answers[path]
        import urllib.error
        import urllib.request

        address = f"{self.url}/{path}"
        try:
            with urllib.request.urlopen(urllib.request.Request(address, headers={"Accept": "application/json"}),
                                        timeout=self.timeout) as answer:
                body = answer.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as exc:
            raise IndexFailure(f"{address}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise IndexFailure(f"{address}: {getattr(exc, 'reason', None) or exc}") from None
        if len(body) > MAX_ANSWER:
            raise IndexFailure(f"{address}: the answer is over {MAX_ANSWER // (1024 * 1024)} MB")
        try:
            data = json.loads(body)
        except ValueError:
            raise IndexFailure(f"{address}: not JSON") from None
        if not isinstance(data, dict):
            raise IndexFailure(f"{address}: not the JSON API's document")
        self._answers[path] = data
        return data


def _hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text.lower())
