import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import jsonschema
import pytest

from auditor.cli.main import main
from auditor.report.json_report import schema

FIXTURES = Path(__file__).parent / "fixtures"
ENVS = FIXTURES / "envs"
LOCKS = FIXTURES / "lockfiles"

# Variables a developer machine or CI host may set; the scans under test must not depend on them.
CA_VARIABLES = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR",
                "AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "BOTO_CONFIG", "BOTO_PATH", "NODE_EXTRA_CA_CERTS",
                "JAVA_HOME", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")


# Fixture links no sdist carries (pyproject.toml): the AWS CLI v2 installer's absolute links
# (tests/fixtures/envs/PROVENANCE.md, section 7), which a safe unpacker refuses, and links to folders, which hatchling
# does not pack. A checkout unpacked from an sdist gets them here, as git checks them out.
SDIST_LEFT_OUT_LINKS = {
    "envs/aws-cli-v2/usr/local/aws-cli/v2/current": "/usr/local/aws-cli/v2/2.15.30",
    "envs/aws-cli-v2/usr/local/bin/aws": "/usr/local/aws-cli/v2/current/bin/aws",
    "envs/aws-cli-v2/usr/local/bin/aws_completer": "/usr/local/aws-cli/v2/current/bin/aws_completer",
    "envs/py3-old-botocore/lib64": "lib",
    "envs/py3-venv/lib64": "lib",
}


def pytest_sessionstart(session):
    for name, target in SDIST_LEFT_OUT_LINKS.items():
        link = FIXTURES / name
        if not os.path.lexists(link):
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target)


@pytest.fixture(autouse=True)
def controlled_environment(monkeypatch, tmp_path_factory):
    for name in CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AUDITOR_RULES_DIR", raising=False)
    # A release-date table its user refreshed (auditor rules refresh) must not change what the tests judge.
    monkeypatch.delenv("AUDITOR_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    # Parsed rule data is kept in the user's cache folder (auditor.rule_data.parsed_toml): the tests' own, under HOME.
    monkeypatch.delenv("AUDITOR_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    # ~/.aws/config and ~/.boto of whoever runs the tests must not leak in.
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


class Result:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    @property
    def json(self):
        data = json.loads(self.out)
        jsonschema.validate(data, schema())
        ids = {c["id"] for c in data["components"]}
        assert all(f["component"] in ids for f in data["findings"]), "a finding names a component not in the report"
        assert all(c["details"]["trust_store_id"] in ids for c in data["components"] if "trust_store_id" in c["details"])
        return data


def run(*args) -> Result:
    """Run the CLI in-process; JSON output is validated against the published schema by .json."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:
            code = exit_.code
    return Result(code, out.getvalue(), err.getvalue())


def scan_json(*args) -> dict:
    result = run("scan", "--format", "json", "-q", *args)
    assert result.code in (0, 1), result.err
    return result.json


def by_name(report: dict) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for component in report["components"]:
        found.setdefault(component["name"], []).append(component)
    return found


def findings_for(report: dict, component: dict) -> list[dict]:
    return [f for f in report["findings"] if f["component"] == component["id"]]


def packages(report: dict) -> list[dict]:
    return [c for c in report["components"] if c["kind"] == "python-package"]


def package_findings(report: dict) -> list[dict]:
    ids = {c["id"] for c in packages(report)}
    return [f for f in report["findings"] if f["component"] in ids]


def risks(report: dict) -> list[dict]:
    """Findings a reviewer must act on: everything above `info`."""
    return [f for f in report["findings"] if f["severity"] != "info"]
