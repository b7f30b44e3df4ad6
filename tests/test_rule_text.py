"""The rule text a report needs travels in the report: a saved report renders the same wherever it is rendered,
with its own text, and without the installed rule packs (renderers never read rules/)."""

import json

import pytest

from auditor.report.saved import load_data
from auditor.rule_data import rules_dir
from conftest import ENVS, LOCKS, run

EXPIRED = """[[waivers]]
rule = "ats-python-sdk-*"
component = "botocore"
reason = "legacy batch job"
owner = "ops@example.com"
expires = "2020-01-01"
"""


@pytest.fixture
def saved(tmp_path):
    """A scan saved as JSON, with findings of the default pack and of the waiver policy (an expired waiver)."""
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(EXPIRED, encoding="utf-8")
    path = tmp_path / "scan.json"
    result = run("scan", "-q", ENVS / "py3-old-botocore", LOCKS / "legacy", "--waivers", waivers, "--as-of", "2026-11-28", "--format", "json",
                 "-o", path)
    assert result.code == 1, result.err
    return path


def test_the_report_carries_the_text_of_each_rule_with_a_finding(saved):
    data = load_data(str(saved))  # valid against the published schema
    used = {(f["pack"], f["rule"]) for f in data["findings"]}
    carried = [(r["pack"], r["id"]) for r in data["rules"]]
    assert sorted(carried) == sorted(used)  # each once, and no rule without a finding
    assert {("dynamodb-ats", "ats-python-sdk-before-cutoff"), ("waivers", "waiver-expired")} <= used
    cutoff = next(r for r in data["rules"] if r["id"] == "ats-python-sdk-before-cutoff")
    assert cutoff["title"] == "<name> <version> was released before 2013-10-29 and may not trust ATS-issued certificates"
    assert cutoff["severity"] == "high" and cutoff["references"][0].endswith("ats-certs.html")
    assert set(cutoff["remediation"]) == {"boto", "botocore", "awscli"}


def test_sarif_of_a_saved_report_needs_no_rules_directory(saved, tmp_path, monkeypatch):
    with_rules = run("report", "render", saved, "--format", "sarif")
    empty = tmp_path / "empty-rules"
    empty.mkdir()
    monkeypatch.setenv("AUDITOR_RULES_DIR", str(empty))
    assert not list(rules_dir().rglob("*"))
    without = run("report", "render", saved, "--format", "sarif")
    assert (without.code, without.err) == (with_rules.code, "") and with_rules.code == 1
    assert without.out == with_rules.out
    driver = json.loads(without.out)["runs"][0]["tool"]["driver"]
    cutoff = next(r for r in driver["rules"] if r["id"] == "ats-python-sdk-before-cutoff")
    assert cutoff["fullDescription"]["text"].startswith("AWS: the AWS SDK for Python and the AWS CLI released before")
    assert "**botocore**" in cutoff["help"]["markdown"]
    # Waivers are judged again on render by the waiver policy, which ships with the code.
    waivers = tmp_path / "waivers.toml"
    rejudged = run("report", "render", saved, "--waivers", waivers, "--format", "sarif")
    assert rejudged.code == 1 and json.loads(rejudged.out)["runs"][0]["tool"]["driver"]["rules"] == driver["rules"]


def test_a_saved_report_renders_with_its_own_rule_text(saved, tmp_path):
    """Made by another install (or an older pack): its text, not this install's."""
    data = json.loads(saved.read_text(encoding="utf-8"))
    cutoff = next(r for r in data["rules"] if r["id"] == "ats-python-sdk-before-cutoff")
    cutoff.update(title="<name> <version> predates the 2013 cutoff", documented="As the pack said then.",
                  remediation="Upgrade.", references=["https://example.com/then"], severity="medium")
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    rules = json.loads(run("report", "render", other, "--format", "sarif").out)["runs"][0]["tool"]["driver"]["rules"]
    shown = next(r for r in rules if r["id"] == "ats-python-sdk-before-cutoff")
    assert shown["shortDescription"]["text"] == "<name> <version> predates the 2013 cutoff"
    assert shown["fullDescription"]["text"] == "As the pack said then."
    assert shown["help"]["text"] == "Remediation:\nUpgrade.\n\nReferences:\nhttps://example.com/then"
    assert shown["helpUri"] == "https://example.com/then" and shown["defaultConfiguration"]["level"] == "warning"
    rendered = json.loads(run("report", "render", other, "--format", "json").out)
    assert rendered["rules"] == data["rules"]  # kept as it is through a render


def test_a_report_written_before_rule_text_travelled_still_renders(saved, tmp_path, monkeypatch):
    """No "rules" in it: each rule is described from its first finding, never from the installed packs."""
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["schema_version"] == "1.3"
    del data["rules"], data["verdicts"], data["summary"]["verdicts"]
    data["schema_version"] = "1.0"  # as the auditor wrote it then
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    load_data(str(old))  # still valid against the published schema
    monkeypatch.setenv("AUDITOR_RULES_DIR", str(tmp_path / "nowhere"))
    result = run("report", "render", old, "--format", "sarif")
    assert result.code == 1, result.err
    rules = json.loads(result.out)["runs"][0]["tool"]["driver"]["rules"]
    first = next(f for f in data["findings"] if f["rule"] == "ats-python-sdk-before-cutoff")
    shown = next(r for r in rules if r["id"] == "ats-python-sdk-before-cutoff")
    assert shown["shortDescription"]["text"] == first["title"]
    assert shown["fullDescription"]["text"] == first["evidence"][0]["summary"]
    assert "rules" not in json.loads(run("report", "render", old, "--format", "json").out)


def test_a_merged_report_keeps_the_rule_text_of_its_reports(saved, tmp_path):
    other = tmp_path / "tls.json"
    assert run("scan", "-q", ENVS / "py3-old-botocore", "--pack", "ses-ats", "--format", "json", "-o", other).code == 1
    merged = tmp_path / "merged.json"
    assert run("report", "merge", saved, other, "--format", "json", "-o", merged).code == 1
    data = load_data(str(merged))
    texts = {(r["pack"], r["id"]): r for r in data["rules"]}
    assert set(texts) == {(f["pack"], f["rule"]) for f in data["findings"]}
    assert ("ses-ats", "ses-python-sdk-before-cutoff") in texts and ("waivers", "waiver-expired") in texts
