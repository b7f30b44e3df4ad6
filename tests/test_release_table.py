"""The release-date table in use: `auditor rules refresh` writes the user's copy to the user's data folder (never into
the installed package), scans and `rules list` use it while it is newer than the shipped one, a copy that cannot be
read is an error entry naming the table used instead, and a version newer than the table is said to be so."""

import datetime
import hashlib
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from packaging.version import Version

from conftest import run, scan_json

import auditor.checks.refresh
from auditor.checks.rules import ReleaseDates
from auditor.rule_data import rules_dir, shipped_release_dates

SHIPPED = ReleaseDates.load(shipped_release_dates())
# A botocore release the shipped table cannot know of: the next minor line after its newest release.
NEWEST = max(Version(v) for v in SHIPPED.packages["botocore"])
ADDED = f"{NEWEST.major}.{NEWEST.minor + 1}.0"
# A pack's cutoff after the shipped table's date, and the added release's upload before it.
LATE_CUTOFF = (datetime.date.fromisoformat(SHIPPED.fetched_at[:10]) + datetime.timedelta(days=1)).isoformat()
ADDED_ON = f"{SHIPPED.fetched_at[:10]}T23:20:11Z"


def _pypi_project(name: str, releases: dict[str, str]) -> dict:
    """The shape of https://pypi.org/pypi/<name>/json: an sdist and a later wheel per release, times with microseconds."""
    files = {version: [{"filename": f"{name}-{version}.tar.gz", "packagetype": "sdist",
                        "upload_time_iso_8601": date.replace("Z", ".318274Z")},
                       {"filename": f"{name}-{version}-py3-none-any.whl", "packagetype": "bdist_wheel",
                        "upload_time_iso_8601": date[:4] + "-12-31T23:59:59.000001Z"}]
             for version, date in releases.items()}
    return {"info": {"name": name, "version": max(releases, default="")}, "last_serial": 1, "releases": files, "urls": []}


@pytest.fixture
def pypi(monkeypatch):
    """A local server answering PyPI's JSON API with the shipped table's releases and one botocore release more."""
    projects = {name: _pypi_project(name, dict(releases)) for name, releases in SHIPPED.packages.items()}
    projects["botocore"]["releases"][ADDED] = _pypi_project("botocore", {ADDED: ADDED_ON})["releases"][ADDED]
    asked = []

    class PyPI(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            parts = self.path.split("/")  # /pypi/<name>/json
            name = parts[2] if len(parts) == 4 and parts[1] == "pypi" and parts[3] == "json" else ""
            body = json.dumps(projects[name]).encode() if name in projects else b'{"message": "Not Found"}'
            self.send_response(200 if name in projects else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), PyPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(auditor.checks.refresh, "PYPI_JSON", f"http://127.0.0.1:{server.server_port}/pypi/{{name}}/json")
    yield asked
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """The user's data folder, as platformdirs finds it on Linux."""
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def _fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _botocore(report: dict, version: str) -> dict:
    return next(c for c in report["components"] if c["name"] == "botocore" and c["version"] == version)


def test_refresh_writes_the_users_data_folder_and_the_scan_judges_by_it(pypi, data_home, tmp_path):
    package_rules = _fingerprint(rules_dir())
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"botocore=={ADDED}\n")
    before = _botocore(scan_json(requirements), ADDED)
    assert "released" not in before and before["released_after"] == SHIPPED.fetched_at

    result = run("rules", "refresh")
    table = data_home / "auditor" / "release-dates.json"
    assert result.code == 0, result.err
    assert f"wrote {table}:" in result.out and f"botocore {len(SHIPPED.packages['botocore']) + 1} releases" in result.out
    assert sorted(pypi) == sorted(f"/pypi/{name}/json" for name in SHIPPED.packages)
    assert _fingerprint(rules_dir()) == package_rules, "the installed package's rules/ is never written"
    refreshed = json.loads(table.read_text())
    assert refreshed["fetched_at"] > SHIPPED.fetched_at
    assert refreshed["packages"]["botocore"] == {**SHIPPED.packages["botocore"], ADDED: ADDED_ON}
    assert [p.name for p in table.parent.iterdir()] == ["release-dates.json"], "no temporary file is left behind"

    # The same process: the table is read again because its file changed.
    after = _botocore(scan_json(requirements), ADDED)
    assert after["released"] == ADDED_ON and "released_after" not in after
    listed = run("rules", "list")
    assert listed.code == 0 and f"release dates (refreshed): {table} (fetched {refreshed['fetched_at']})" in listed.out


def test_a_release_added_by_the_refresh_is_judged_by_its_date(pypi, data_home, tmp_path, monkeypatch):
    """A pack whose cutoff is after the shipped table's date: a release newer than the table cannot be judged until
    the refresh gives its date, which then is before the cutoff."""
    rules = tmp_path / "rules"
    shutil.copytree(rules_dir(), rules)
    cutoff = LATE_CUTOFF
    assert SHIPPED.fetched_at < cutoff and ADDED_ON < cutoff
    (rules / "packs" / "late-cutoff.toml").write_text(f'''
[pack]
id = "late-cutoff"
title = "A migration after the shipped table's date"
version = "1"
default = false
source = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ats-certs.html"

[[rules]]
id = "botocore-before-late-cutoff"
check = "released-before"
applies_to = ["botocore"]
cutoff = "{cutoff}"
severity = "high"
unknown_severity = "medium"
title = "{{name}} {{version}} was released before {{cutoff}}"
documented = "botocore released before {cutoff} must be upgraded."
remediation = "Upgrade botocore."
references = ["https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ats-certs.html"]
''')
    monkeypatch.setenv("AUDITOR_RULES_DIR", str(rules))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"botocore=={ADDED}\n")

    def judged():
        report = scan_json("--pack", "late-cutoff", requirements)
        return [(f["severity"], f["title"]) for f in report["findings"] if f["rule"] == "botocore-before-late-cutoff"]

    assert judged() == [("medium", f"botocore {ADDED}: release date unknown; verify it was built after {cutoff}")]
    assert run("rules", "refresh").code == 0
    assert judged() == [("high", f"botocore {ADDED} was released before {cutoff}")]


def test_a_version_newer_than_the_table_is_said_to_be_released_after_its_date(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"botocore=={ADDED}\nbotocore==0.21.0\nawscli==2.15.30\n")
    report = scan_json(requirements)
    assert _botocore(report, ADDED)["released_after"] == SHIPPED.fetched_at
    # awscli 2.x is the AWS CLI v2, which is not on PyPI at all: no claim about its date.
    awscli = next(c for c in report["components"] if c["name"] == "awscli")
    assert "released" not in awscli and "released_after" not in awscli
    assert not [f for f in report["findings"] if f["component"] == _botocore(report, ADDED)["id"]]
    table = run("scan", "-q", "--width", "400", requirements)  # wide: the row on one line, whatever the path
    row = next(line for line in table.out.splitlines() if line.startswith("botocore") and ADDED in line)
    assert f"after {SHIPPED.fetched_at[:10]} (the table's date)" in row
    html = run("scan", "-q", "--format", "html", requirements).out
    assert f"after {SHIPPED.fetched_at[:10]} (the table&#x27;s date)" in html or f"after {SHIPPED.fetched_at[:10]} (the table's date)" in html


@pytest.mark.parametrize("content, reason", [
    (b'{"fetched_at": "2027-01-01T00:00:00Z", "packages": {"botocore": {"0.21.0": "2013-10-2', "not JSON: Unterminated string"),
    (b'{"fetched_at": "2027-01-01T00:00:00Z", "packages": {"botocore": {"0.21.0": 1382659000}}}', "is not a UTC time"),
    (b'{"fetched_at": "yesterday", "packages": {}}', "fetched_at 'yesterday' is not a UTC time"),
    (b"\xff\xfe not text", "can't decode"),
])
def test_a_corrupt_refreshed_table_is_an_error_entry_and_the_shipped_table_is_used(data_home, tmp_path, content, reason):
    table = data_home / "auditor" / "release-dates.json"
    table.parent.mkdir(parents=True)
    table.write_bytes(content)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("botocore==0.21.0\n")
    report = scan_json(requirements)
    errors = [e for e in report["errors"] if e["location"] == str(table)]
    assert len(errors) == 1 and reason in errors[0]["message"]
    assert f"the shipped table {shipped_release_dates()} (fetched {SHIPPED.fetched_at}) is used" in errors[0]["message"]
    assert _botocore(report, "0.21.0")["released"] == SHIPPED.released("botocore", "0.21.0")
    assert [f["rule"] for f in report["findings"] if f["component"] == _botocore(report, "0.21.0")["id"]] == [
        "ats-python-sdk-before-cutoff"]
    listed = run("rules", "list")
    assert listed.code == 0 and f"release dates (shipped): {shipped_release_dates()}" in listed.out
    assert f"warning: {table}: the refreshed release-date table cannot be used" in listed.err


def test_a_refreshed_table_older_than_the_shipped_one_is_not_used(data_home, tmp_path):
    table = data_home / "auditor" / "release-dates.json"
    table.parent.mkdir(parents=True)
    table.write_text(json.dumps({"fetched_at": "2020-01-01T00:00:00Z", "packages": {"botocore": {"0.21.0": "2019-12-31T00:00:00Z"}}}))
    listed = run("rules", "list")
    assert listed.code == 0 and listed.err == "" and f"release dates (shipped): {shipped_release_dates()}" in listed.out
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("botocore==0.21.0\n")
    report = scan_json(requirements)
    assert _botocore(report, "0.21.0")["released"] == SHIPPED.released("botocore", "0.21.0") and report["errors"] == []


def test_refresh_with_output_writes_that_file_only(pypi, data_home, tmp_path):
    chosen = tmp_path / "chosen.json"
    result = run("rules", "refresh", "--output", chosen)
    assert result.code == 0, result.err
    assert json.loads(chosen.read_text())["packages"]["botocore"][ADDED] == ADDED_ON
    assert not data_home.exists()


def test_refresh_that_cannot_reach_pypi_leaves_the_users_table_alone(data_home, monkeypatch):
    table = data_home / "auditor" / "release-dates.json"
    table.parent.mkdir(parents=True)
    table.write_text('{"packages": {}}')
    monkeypatch.setattr(auditor.checks.refresh, "PYPI_JSON", "http://127.0.0.1:9/pypi/{name}/json")  # discard: refused
    result = run("rules", "refresh", "--timeout", "5")
    assert result.code == 2 and "refresh failed, table unchanged" in result.err
    assert table.read_text() == '{"packages": {}}'
