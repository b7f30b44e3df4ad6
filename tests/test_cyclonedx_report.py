"""--format cyclonedx: a CycloneDX 1.5 SBOM of what the scan found, its findings as VEX-style vulnerabilities,
validated against the official CycloneDX 1.5 JSON schema (shipped by cyclonedx-python-lib)."""

import hashlib
import json

import pytest

from auditor.report.cyclonedx import STATES
from conftest import ENVS, FIXTURES, run

SBOM = FIXTURES / "sbom" / "image.cdx.json"
OLD_ENV = ENVS / "py3-old-botocore"


@pytest.fixture(scope="module")
def schema_errors():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    validator = JsonStrictValidator(SchemaVersion.V1_5)
    return lambda text: validator.validate_str(text)


def cyclonedx(schema_errors, *args) -> dict:
    result = run(*args, "--format", "cyclonedx", "-q")
    assert result.code in (0, 1), result.err
    assert schema_errors(result.out) is None
    return json.loads(result.out)


def by_ref(bom: dict) -> dict:
    return {c["bom-ref"]: c for c in bom["components"]}


def prop(item: dict, name: str):
    values = [p["value"] for p in item.get("properties", ()) if p["name"] == name]
    return values[0] if values else None


def test_scan_writes_every_component_with_its_purl_or_hash_and_every_finding_as_a_vulnerability(schema_errors, tmp_path):
    saved = tmp_path / "scan.json"
    assert run("scan", OLD_ENV, SBOM, "--format", "json", "-q", "-o", saved).code == 1
    report = json.loads(saved.read_text())
    bom = cyclonedx(schema_errors, "report", "render", saved)
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.5")
    components = by_ref(bom)
    assert set(components) == {c["id"] for c in report["components"]}
    # The purls written are the purls the SBOM read said (its bom-refs are its purls, but for syft's package-id).
    for component in report["components"]:
        ref = component["details"].get("bom_ref")
        if ref:
            assert components[component["id"]]["purl"] == ref.split("?")[0]
            assert prop(components[component["id"]], "auditor:sbom_bom_ref") == ref
    installed = [c for c in report["components"] if c["kind"] == "python-package" and "bom_ref" not in c["details"]]
    assert {components[c["id"]]["purl"] for c in installed} == {f"pkg:pypi/{c['name']}@{c['version']}" for c in installed}
    (store,) = [c for c in report["components"] if c["kind"] == "trust-store"]
    written = components[store["id"]]
    store_file = OLD_ENV / "lib/python3.11/site-packages/requests/cacert.pem"
    assert written["type"] == "file"
    assert written["hashes"] == [{"alg": "SHA-256", "content": hashlib.sha256(store_file.read_bytes()).hexdigest()}]
    # One vulnerability a finding: the rule's id, its severity, its component.
    vulnerabilities = {v["bom-ref"]: v for v in bom["vulnerabilities"]}
    assert set(vulnerabilities) == {f["id"] for f in report["findings"]}
    for finding in report["findings"]:
        written = vulnerabilities[finding["id"]]
        assert written["id"] == finding["rule"] and written["ratings"][0]["severity"] == finding["severity"]
        assert written["affects"] == [{"ref": finding["component"]}]
        assert written["analysis"]["state"] == ("not_affected" if finding["severity"] == "info" else "in_triage")
    # The same saved report renders the same document (its serial number included).
    assert run("report", "render", saved, "--format", "cyclonedx", "-q").out == json.dumps(bom, indent=2) + "\n"


def test_a_client_whose_verdict_is_no_makes_its_findings_exploitable(schema_errors):
    bom = cyclonedx(schema_errors, "scan", ENVS / "aws-cli-v2")
    report = run("scan", ENVS / "aws-cli-v2", "--format", "json", "-q").json
    no = {f for v in report["verdicts"] if v["answer"] == "no" for f in v["findings"]}
    assert no  # the CLI v2 2.0.30's own store lacks every ATS anchor
    states = {v["bom-ref"]: v["analysis"]["state"] for v in bom["vulnerabilities"]}
    assert {states[f] for f in no} == {"exploitable"}


def test_a_waived_finding_is_not_affected_with_the_waivers_reason(schema_errors, tmp_path):
    waivers = tmp_path / "waivers.toml"
    waivers.write_text('[[waivers]]\nrule = "ats-python-sdk-before-cutoff"\ncomponent = "boto"\n'
                       'reason = "the batch image is retired in Q1"\nowner = "ops@example.com"\nexpires = 2099-12-31\n')
    bom = cyclonedx(schema_errors, "scan", SBOM, "--waivers", waivers)
    (boto,) = [v for v in bom["vulnerabilities"] if v["id"] == "ats-python-sdk-before-cutoff"]
    assert boto["analysis"] == {"state": "not_affected",
                                "detail": "waived: the batch image is retired in Q1 (owner ops@example.com, until 2099-12-31)"}
    assert prop(boto, "auditor:waiver_status") == "active"
    assert dict(STATES)["waived"] == "not_affected"


def test_a_merge_of_hosts_reports_is_one_valid_document(schema_errors, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    run("scan", OLD_ENV, "--format", "json", "-q", "-o", first)
    run("scan", SBOM, "--format", "json", "-q", "-o", second)
    bom = cyclonedx(schema_errors, "report", "merge", first, second)
    hosts = {prop(c, "auditor:host") for c in bom["components"]}
    assert len(hosts) == 2 and None not in hosts
    refs = [c["bom-ref"] for c in bom["components"]]
    assert len(refs) == len(set(refs))
    assert {a["ref"] for v in bom["vulnerabilities"] for a in v["affects"]} <= set(refs)
