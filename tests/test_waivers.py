"""Waivers: matched by rule and component, judged on the report's as-of date, expired and stale ones reported."""

import textwrap

import pytest

from conftest import ENVS, run
from auditor.checks.location_glob import PathGlob as path_glob
from auditor.checks.waivers import WaiverError, load_waivers

OLD = ENVS / "py3-old-botocore"
SDK_RULE = "ats-python-sdk-before-cutoff"

WAIVERS = """\
# Accepted risks of the legacy batch environment; reviewed monthly by the platform team.

[[waivers]]
rule = "ats-python-sdk-before-cutoff"
component = "botocore"
location = "py3-old-botocore/**"
reason = "Batch job retired in Q1 2027; replacement tracked in OPS-1234"
owner = "platform-team@example.com"
expires = 2026-12-31

[[waivers]]
rule = "ats-*"                      # any rule of the ATS pack
component = "awscli"
reason = "awscli 1.2.1 only runs offline packaging steps"
owner = "alice@example.com"
expires = "2026-12-31"

[[waivers]]
rule = "ats-python-sdk-before-cutoff"
component = "boto"
location = "/srv/decommissioned/**"
reason = "host decommissioned"
owner = "bob@example.com"
expires = 2027-06-30
"""


@pytest.fixture
def waivers(tmp_path):
    path = tmp_path / "waivers.toml"
    path.write_text(WAIVERS)
    return path


def scan(*args):
    result = run("scan", "-q", "--format", "json", OLD, *args)
    assert result.code in (0, 1), result.err
    return result, result.json


def by_rule(report, rule):
    return [f for f in report["findings"] if f["rule"] == rule]


def sdk_finding(report, name):
    components = {c["id"]: c for c in report["components"]}
    return next(f for f in by_rule(report, SDK_RULE) if components[f["component"]]["name"] == name)


def test_a_waiver_expiring_in_the_future_waives_and_marks_and_fail_on_ignores_it(waivers):
    result, report = scan("--waivers", waivers, "--as-of", "2026-11-28")
    assert result.code == 0  # both high findings are waived
    botocore = sdk_finding(report, "botocore")
    assert botocore["waived"] is True and botocore["severity"] == "high"  # stays in the report, marked
    assert botocore["waiver"] == {"status": "active", "reason": "Batch job retired in Q1 2027; replacement tracked in OPS-1234",
                                  "owner": "platform-team@example.com", "expires": "2026-12-31",
                                  "file": str(waivers), "line": 3}
    assert sdk_finding(report, "awscli")["waiver"]["line"] == 11
    assert report["summary"] == {"findings": report["summary"]["findings"], "failing": 0, "not_scanned": 0,
                                 "verdicts": {"no": 0, "at risk": 2, "cannot tell": 0, "yes": 0}}  # a waiver changes no answer
    assert report["summary"]["findings"]["high"] == 2
    assert {"waivers"} <= {p["id"] for p in report["rule_packs"]}
    table = run("scan", "-q", OLD, "--waivers", waivers, "--as-of", "2026-11-28")
    assert "HIGH (waived)" in table.out and "result: PASS" in table.out


def test_a_waiver_is_active_through_its_expiry_date_and_expired_the_day_after(waivers):
    _, on_the_day = scan("--waivers", waivers, "--as-of", "2026-12-31")
    assert sdk_finding(on_the_day, "botocore")["waived"] is True
    assert by_rule(on_the_day, "waiver-expired") == []

    result, day_after = scan("--waivers", waivers, "--as-of", "2027-01-01")
    assert result.code == 1
    botocore = sdk_finding(day_after, "botocore")
    assert botocore["waived"] is False and botocore["waiver"]["status"] == "expired"
    expired = by_rule(day_after, "waiver-expired")
    assert len(expired) == 2 and {f["severity"] for f in expired} == {"medium"}
    components = {c["id"]: c for c in day_after["components"]}
    places = sorted((components[f["component"]]["kind"], components[f["component"]]["location"],
                     components[f["component"]]["line"]) for f in expired)
    assert places == [("waiver", str(waivers), 3), ("waiver", str(waivers), 11)]
    assert "expired on 2026-12-31" in expired[0]["title"]
    assert any("judged on 2027-01-01" in e["summary"] for e in expired[0]["evidence"])
    assert day_after["summary"]["failing"] == 2


def test_a_waiver_that_matches_nothing_is_reported_as_stale(waivers):
    _, report = scan("--waivers", waivers, "--as-of", "2026-11-28")
    stale = by_rule(report, "waiver-stale")
    assert len(stale) == 1 and stale[0]["severity"] == "low"
    assert stale[0]["title"] == ("Waiver for ats-python-sdk-before-cutoff on boto in /srv/decommissioned/** "
                                 "matches no finding")
    component = next(c for c in report["components"] if c["id"] == stale[0]["component"])
    assert (component["kind"], component["location"], component["line"]) == ("waiver", str(waivers), 18)
    assert component["details"]["owner"] == "bob@example.com"
    table = run("scan", "-q", OLD, "--waivers", waivers, "--as-of", "2026-11-28").out
    assert "LOW" in table and "matches no finding" in table


def test_location_globs_keep_star_inside_a_directory():
    assert path_glob("py3-old-botocore/**").fullmatch("/src/envs/py3-old-botocore/lib/x/METADATA")
    assert path_glob("/srv/*/requirements.txt").fullmatch("/srv/api/requirements.txt")
    assert not path_glob("/srv/*/requirements.txt").fullmatch("/srv/api/v2/requirements.txt")
    assert path_glob("/srv/**/requirements.txt").fullmatch("/srv/api/v2/requirements.txt")
    assert path_glob("/srv/**/requirements.txt").fullmatch("/srv/requirements.txt")
    assert not path_glob("/srv/*").fullmatch("/opt/srv/x")  # a leading / anchors at the root
    assert path_glob("requirements-[!d]*.txt").fullmatch("/a/requirements-prod.txt")
    assert not path_glob("requirements-[!d]*.txt").fullmatch("/a/requirements-dev.txt")


def test_a_location_that_does_not_match_leaves_the_finding_unwaived(tmp_path):
    path = tmp_path / "waivers.toml"
    path.write_text(WAIVERS.replace('location = "py3-old-botocore/**"', 'location = "py3-old-botocore/*/METADATA"'))
    _, report = scan("--waivers", path, "--as-of", "2026-11-28")
    assert sdk_finding(report, "botocore")["waived"] is False
    assert len(by_rule(report, "waiver-stale")) == 2


def test_waivers_in_pyproject_tool_auditor(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(textwrap.dedent("""\
        [project]
        name = "batch-jobs"
        version = "3.1.0"

        [tool.auditor]
        fail_on = "medium"

        [[tool.auditor.waivers]]
        rule = "ats-python-sdk-before-cutoff"
        component = "botocore"
        reason = "pinned by the vendor appliance, upgrade in OPS-99"
        owner = "ops@example.com"
        expires = 2027-03-31
        """))
    waivers = load_waivers(str(pyproject))
    assert [(w.component, w.expires, w.line) for w in waivers] == [("botocore", "2027-03-31", 8)]
    _, report = scan("--waivers", pyproject, "--as-of", "2026-11-28")
    assert sdk_finding(report, "botocore")["waived"] is True
    assert sdk_finding(report, "awscli")["waived"] is False


@pytest.mark.parametrize("text, message", [
    ('[[waivers]]\nrule = "x"\ncomponent = "boto"\nowner = "a"\nexpires = 2027-01-01\n',
     "waivers.toml:1: waiver without reason"),
    ('[[waivers]]\nrule = "x"\ncomponent = "boto"\nreason = "r"\nowner = "a"\nexpires = "31/12/2026"\n',
     "waivers.toml:6: expires '31/12/2026' is not a date like 2026-12-31"),
    ('[[waivers]]\nrule = "x"\ncomponent = "boto"\nreason = "r"\nowner = "a"\nexpires = 2026-02-30\n',
     "waivers.toml: not valid TOML: Invalid date or datetime (at line 6"),
    ('[[waivers]]\nrule = "x"\ncomponent = "boto"\nreason = "r"\nowner = "a"\nexpires = 2026-12-31T12:00:00\n',
     "waivers.toml:6: expires must be a date (YYYY-MM-DD), not a date and time"),
    ('[[waivers]]\nrule = "x"\ncomponent = "boto"\nreason = "r"\nowner = "a"\nexpires = 2027-01-01\nexpiry = 2027-01-01\n',
     "waivers.toml:7: unknown key 'expiry' in a waiver"),
    ('[[waivers]]\nrule = "x"\nreason = "r"\nowner = "a"\nexpires = 2027-01-01\n',
     "waivers.toml:1: a waiver names what it covers"),
    ('[[waivers]]\nrule = "x"\ncomponent = "boto"\nreason = ""\nowner = "a"\nexpires = 2027-01-01\n',
     "waivers.toml:4: reason must be a non-empty string"),
    ('[[waivers]\nrule = "x"\n', "waivers.toml: not valid TOML"),
    ('waivers = [{rule = "x", component = "boto", reason = "r", owner = "a", expires = 2027-01-01}]\n',
     "write each waiver as its own [[waivers]] table"),
    ('[[waiver]]\nrule = "x"\n', "waivers.toml:1: unknown key 'waiver'"),
])
def test_bad_waiver_files_are_refused_with_file_and_line(tmp_path, text, message):
    path = tmp_path / "waivers.toml"
    path.write_text(text)
    result = run("scan", "-q", OLD, "--waivers", path)
    assert result.code == 2 and result.out == ""
    assert message in result.err and "Traceback" not in result.err


def test_missing_waiver_file_and_pyproject_without_waivers(tmp_path):
    assert "no such file" in run("scan", "-q", OLD, "--waivers", tmp_path / "nope.toml").err.lower()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n')
    with pytest.raises(WaiverError, match=r"no \[\[tool.auditor.waivers\]\] tables"):
        load_waivers(str(pyproject))


def test_truststore_and_saved_reports_use_the_same_waivers(tmp_path):
    bundle = ENVS / "py3-venv/lib/python3.11/site-packages/botocore/cacert.pem"
    path = tmp_path / "waivers.toml"
    path.write_text(textwrap.dedent(f"""\
        [[waivers]]
        rule = "ats-store-*"
        location = "{bundle.parent}/*.pem"
        reason = "the vendored bundle is replaced at deploy time"
        owner = "sre@example.com"
        expires = 2027-01-31
        """))
    stores = run("truststore", bundle, "--format", "json", "--waivers", path, "--as-of", "2026-11-28").json
    assert [(f["rule"], f["waived"]) for f in stores["findings"]] == [("ats-store-trusted", True)]

    saved = tmp_path / "scan.json"
    assert run("scan", "-q", OLD, "--format", "json", "-o", saved).code == 1
    waivers = tmp_path / "sdk.toml"
    waivers.write_text(WAIVERS)
    rendered = run("report", "render", saved, "--format", "json", "--waivers", waivers, "--as-of", "2026-11-28")
    assert rendered.code == 0
    assert sdk_finding(rendered.json, "botocore")["waived"] is True
    # Applied again to a report that already carries waivers: the new file replaces the old verdicts.
    again = tmp_path / "again.json"
    again.write_text(rendered.out)
    later = run("report", "render", again, "--format", "json", "--waivers", waivers, "--as-of", "2027-02-01")
    assert later.code == 1
    assert len(by_rule(later.json, "waiver-expired")) == 2 and len(by_rule(later.json, "waiver-stale")) == 1
