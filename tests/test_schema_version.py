"""The JSON report's schema version: bumped whenever report.schema.json changes, and the reports of every earlier
version still read, render, merge and diff (on a report the auditor of schema 1.2 wrote: fixtures/reports)."""

import hashlib
import json
import platform
from pathlib import Path

import auditor.report
from auditor import model
from auditor.model import READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION
from auditor.report.saved import load_data
from conftest import FIXTURES, run

SCHEMA = Path(auditor.report.__file__).parent / "report.schema.json"
REPO = Path(__file__).parents[1]
SAVED_1_2 = FIXTURES / "reports" / "schema-1.2.json"  # tests/fixtures/reports/PROVENANCE.md
AS_OF = "2026-12-01"  # the --as-of it was written with

# SHA-256 of report.schema.json as each version was published. The file changed after 1.2's commit (8b45aaf) without
# a bump, so reports valid then were not all valid as 1.2 any more; what changed then is 1.3.
SCHEMA_DIGESTS = {
    "1.2": "887e3232cbbe3e45a4b518947ae73ab777fe852fb0597dac5e5b98934785230b",
    "1.3": "bfa68680ac754e498382dc2c160ef6043abb6f47165b66db3492c71d253cd483",
}


def test_the_schema_file_is_the_one_its_version_was_published_with():
    digest = hashlib.sha256(SCHEMA.read_bytes()).hexdigest()
    assert SCHEMA_DIGESTS.get(SCHEMA_VERSION) == digest, (
        f"auditor/report/report.schema.json (SHA-256 {digest}) is not the schema {SCHEMA_VERSION} was published with: "
        f"a reader validating against {SCHEMA_VERSION} would see reports it does not know. Bump SCHEMA_VERSION in "
        "auditor/model/__init__.py and add the new version to READABLE_SCHEMA_VERSIONS and to the schema's "
        "schema_version enum, say what it adds in that enum's description and in CHANGELOG.md, then add the new "
        "version and this digest to SCHEMA_DIGESTS in tests/test_schema_version.py (keep the published ones)")


def test_the_schema_names_the_versions_read_and_says_what_the_newest_added():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$id"] == f"urn:auditor:report-schema:{SCHEMA_VERSION}"  # a consumer may cache schemas by $id
    version = schema["properties"]["schema_version"]
    assert tuple(version["enum"]) == READABLE_SCHEMA_VERSIONS
    assert READABLE_SCHEMA_VERSIONS[-1] == SCHEMA_VERSION == "1.3"
    assert f"; {SCHEMA_VERSION} the " in version["description"]


def test_a_1_2_report_reads_and_renders_as_it_was_saved():
    saved = json.loads(SAVED_1_2.read_text(encoding="utf-8"))
    assert saved["schema_version"] == "1.2" and saved["verdicts"] and saved["rules"]  # what 1.1 and 1.2 added
    assert load_data(str(SAVED_1_2))["schema_version"] == "1.2"
    rendered = run("report", "render", SAVED_1_2, "--format", "json")
    assert rendered.code == 1, rendered.err  # its two high findings, at its own fail_on (high)
    again = rendered.json  # valid against the schema of this version
    assert again.pop("schema_version") == SCHEMA_VERSION
    del saved["schema_version"]
    assert again == saved  # everything else read back as written: nothing lost, nothing judged again
    table = run("report", "render", SAVED_1_2)
    assert "AT RISK  awscli 1.2.1 in" in table.out and "2 at risk, 1 yes" in table.out
    for fmt in ("html", "markdown", "sarif", "junit", "csv"):
        assert run("report", "render", SAVED_1_2, "--format", fmt).code == 1, fmt


def _scan_now(tmp_path, monkeypatch, host, *targets):
    monkeypatch.setattr(platform, "node", lambda: host)
    monkeypatch.setattr(model, "host_name", lambda: host)
    monkeypatch.chdir(REPO)  # relative targets, as the 1.2 report's were
    path = tmp_path / "now.json"
    result = run("scan", "-q", "--as-of", AS_OF, "--format", "json", "-o", path, *targets)
    assert result.code in (0, 1), result.err
    return path


def test_a_1_2_report_merges_with_a_report_holding_what_1_3_added(tmp_path, monkeypatch):
    now = _scan_now(tmp_path, monkeypatch, "sbom-host", "tests/fixtures/sbom")
    merged = run("report", "merge", SAVED_1_2, now, "--format", "json")
    assert merged.code == 1, merged.err
    data = merged.json
    assert data["schema_version"] == SCHEMA_VERSION
    assert {v["host"] for v in data["verdicts"] if v["label"].startswith("awscli 1.2.1 in tests/fixtures/envs")} == {"vm"}
    assert {t["host"] for t in data["targets"] if t["kind"] == "sbom"} == {"sbom-host"}  # the kind 1.3 added
    assert [r["host"] for r in data["run"]["merged"]] == ["vm", "sbom-host"]


def test_a_1_2_report_diffs_against_a_scan_of_the_same_targets_now(tmp_path, monkeypatch):
    saved = json.loads(SAVED_1_2.read_text(encoding="utf-8"))
    now = _scan_now(tmp_path, monkeypatch, saved["run"]["host"], *(t["location"] for t in saved["targets"]
                                                                  if t["kind"] == "tree"))
    result = run("report", "diff", SAVED_1_2, now, "--format", "json")
    assert result.code == 0, result.err
    diff = json.loads(result.out)
    assert diff["resolved"] == []  # each finding of the 1.2 report is known as the same one in today's
    assert sorted(f["title"] for f in diff["unchanged"]) == sorted(f["title"] for f in saved["findings"])
