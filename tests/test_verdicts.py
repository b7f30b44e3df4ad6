"""Client verdicts (auditor/checks/verdicts.py): one answer per client to "will it trust the ATS-served endpoint?",
on real fixtures and roots built here, and in every format that leads with them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auditor.checks.verdicts import PROXY_RULE, judge
from auditor.model import Component, Evidence, Finding, Report
from conftest import FIXTURES, run, scan_json

GOLDEN = Path(__file__).parent / "golden"
MODERN_SITE = FIXTURES / "envs" / "trust" / "botocore-1.35.0" / "site-packages"  # botocore 1.35.0, certifi 2024.8.30
BOTO_SITE = FIXTURES / "envs" / "no-metadata" / "lib" / "python2.7" / "site-packages"  # boto 2.9.0 and its cacerts.txt


def _verdict(report: dict, name: str) -> dict:
    ids = {c["id"]: c for c in report["components"]}
    found = [v for v in report["verdicts"] if ids[v["client"]]["name"] == name]
    assert len(found) == 1, report["verdicts"]
    return found[0]


def _kinds(verdict: dict) -> list[str]:
    return [r["kind"] for r in verdict["reasons"]]


def _self_signed_pem(name: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=9000))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def _modern_site(tmp_path: Path) -> Path:
    site = tmp_path / "site-packages"
    shutil.copytree(MODERN_SITE, site)
    return site


def test_pre_cutoff_sdk_whose_store_holds_an_anchor_is_at_risk_with_both_reasons():
    report = scan_json(BOTO_SITE / "boto")
    verdict = _verdict(report, "boto")
    assert verdict["answer"] == "at risk"
    assert _kinds(verdict) == ["rule", "store"]
    assert "released before 2013-10-29" in verdict["reasons"][0]["text"]
    assert "cacerts.txt holds Starfield" in verdict["reasons"][1]["text"]
    rules = {f["id"]: f["rule"] for f in report["findings"]}
    assert sorted(rules[i] for i in verdict["findings"]) == ["ats-python-sdk-before-cutoff", "ats-store-trusted"]
    assert report["summary"]["verdicts"] == {"no": 0, "at risk": 1, "cannot tell": 0, "yes": 0}


def test_current_sdk_with_a_maintained_store_is_yes():
    verdict = _verdict(scan_json(MODERN_SITE), "botocore")
    assert verdict["answer"] == "yes"
    assert verdict["label"].startswith("botocore 1.35.0 in ")
    assert "after the 2013-10-29 cutoff" in verdict["reasons"][0]["text"]
    assert "certifi/cacert.pem holds Amazon Root CA 1" in verdict["reasons"][1]["text"]


def test_a_store_without_the_anchors_is_no(tmp_path):
    site = _modern_site(tmp_path)
    (site / "certifi" / "cacert.pem").write_bytes(_self_signed_pem("Amazon Root CA 1"))  # a name alone is no anchor
    verdict = _verdict(scan_json(site), "botocore")
    assert verdict["answer"] == "no"
    assert "holds none of the ATS anchors (1 certificates read)" in verdict["reasons"][-1]["text"]


def test_a_bundle_without_a_certificate_is_no(tmp_path):
    # The file reads, but holds nothing OpenSSL could load: the client fails, as the store's finding says.
    site = _modern_site(tmp_path)
    (site / "certifi" / "cacert.pem").write_text("this is not a certificate bundle\n")
    report = scan_json(site)
    verdict = _verdict(report, "botocore")
    assert verdict["answer"] == "no"
    assert "holds no usable certificate" in verdict["reasons"][-1]["text"] or \
        "holds none of the ATS anchors (0 certificates read)" in verdict["reasons"][-1]["text"]
    store = next(c for c in report["components"] if c["kind"] == "trust-store" and c["location"].endswith("certifi/cacert.pem"))
    assert store["details"]["problem"].startswith("holds no usable certificate (no certificates found")
    assert "unread" not in store["details"]


def test_a_jvm_whose_cacerts_holds_the_anchors_on_a_supported_java_is_yes(tmp_path):
    root = tmp_path / "root"
    jdk = root / "usr" / "lib" / "jvm" / "java-21-openjdk-amd64"
    (jdk / "bin").mkdir(parents=True)
    (jdk / "bin" / "java").write_text("")
    (jdk / "release").write_text('IMPLEMENTOR="Debian"\nJAVA_VERSION="21.0.5"\n')
    (jdk / "lib" / "security").mkdir(parents=True)
    shutil.copy(FIXTURES / "keystores" / "open.p12", jdk / "lib" / "security" / "cacerts")  # holds Amazon Root CA 1
    report = scan_json("--root", root)
    verdict = _verdict(report, "java")
    assert verdict["answer"] == "yes", verdict
    assert _kinds(verdict) == ["platform", "store"]
    assert "documented by AWS as trusting" in verdict["reasons"][0]["text"]
    assert "holds Amazon Root CA 1" in verdict["reasons"][1]["text"]


def test_a_jvm_without_its_cacerts_is_no(tmp_path):
    root = tmp_path / "root"
    jdk = root / "opt" / "java" / "openjdk"
    (jdk / "bin").mkdir(parents=True)
    (jdk / "bin" / "java").write_text("")
    (jdk / "release").write_text('IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="17.0.9"\n')
    verdict = _verdict(scan_json("--root", root), "java")
    assert verdict["answer"] == "no"
    assert "cannot verify any server" in verdict["reasons"][-1]["text"]


def test_a_pre_cutoff_pin_is_at_risk_and_a_current_pin_gets_no_verdict(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto==2.9.0\nbotocore==1.35.0\n")
    report = scan_json(requirements)
    assert [v["label"] for v in report["verdicts"]] == [f"boto 2.9.0 pinned in {requirements}:1"]
    assert report["verdicts"][0]["answer"] == "at risk"
    assert _kinds(report["verdicts"][0]) == ["rule", "store"]


def test_verdicts_lead_the_table_markdown_and_html(tmp_path):
    saved = tmp_path / "report.json"
    assert run("scan", "--format", "json", "-q", "-o", saved, BOTO_SITE / "boto").code == 1
    table = run("report", "render", saved).out
    assert table.index("Verdicts") < table.index("Findings")
    assert "AT RISK" in table.split("Findings")[0]
    markdown = run("report", "render", "--format", "markdown", saved).out
    assert markdown.index("| **at risk** | boto 2.9.0") < markdown.index("| severity | finding")
    html = run("report", "render", "--format", "html", saved).out
    assert html.index('id="verdicts"') < html.index('id="summary"') < html.index("finding sev-")


def test_a_saved_1_1_report_still_reads_and_renders_without_verdicts(tmp_path):
    saved = json.loads((GOLDEN / "trust-awscli-1.2.11.json").read_text())["report"]
    saved["schema_version"], saved["generated_at"] = "1.1", "2026-12-01T00:00:00Z"
    saved.pop("verdicts", None)
    saved["summary"].pop("verdicts", None)
    path = tmp_path / "old.json"
    path.write_text(json.dumps(saved))
    table = run("report", "render", path)
    assert table.code == 0, table.err
    assert "Verdicts" not in table.out and "Trust stores" in table.out
    again = run("report", "render", "--format", "json", path).json
    assert again["verdicts"] == [] and again["schema_version"] == "1.3"
    for fmt in ("html", "markdown", "sarif", "junit", "csv"):
        assert run("report", "render", "--format", fmt, path).code == 0


# -- the judging alone, on components and findings made here ----------------------------------------------------

def _client_with_store(anchors: list[str]) -> tuple[Component, Component]:
    from auditor.facts.client_trust import ClientTrust
    from auditor.facts.package import OnPath, PackageFacts
    from auditor.facts.trust_store import StoreLinks, TrustStoreFacts

    store = Component("trust-store", "cacert.pem", None, "/srv/app/site-packages/certifi/cacert.pem", "certifi", "/srv/app",
                      facts=TrustStoreFacts(StoreLinks(roles=("certifi",)), "2026-12-01", "pem", 140, tuple(anchors),
                                            "certifi"))
    client = Component("python-package", "botocore", "1.35.0", "/srv/app/site-packages/botocore-1.35.0.dist-info/METADATA",
                       "dist-info METADATA", "/srv/app", released="2024-08-16T19:12:50Z",
                       facts=PackageFacts(on_path=OnPath("/srv/app/site-packages", "site directory"), active=True),
                       trust=ClientTrust(("certifi is importable",), True, store.location, store.id))
    return client, store


def _finding(rule: str, component: Component, title: str) -> Finding:
    return Finding(rule, "proxy", "high", component.id, title, (Evidence("observed", title),), "", ())


def test_a_proxy_that_intercepts_with_a_ca_the_store_lacks_makes_a_current_sdk_no():
    client, store = _client_with_store(["Amazon Root CA 1"])
    assert [v.answer for v in judge([client, store], [], [])] == ["yes"]
    proxy = _finding(PROXY_RULE, client, "behind the proxy http://proxy.internal:3128, botocore 1.35.0 fails: its store "
                                         "lacks the proxy's CA Example Egress CA")
    (verdict,) = judge([client, store], [proxy], [])
    assert verdict.answer == "no"
    assert [r.kind for r in verdict.reasons] == ["store", "proxy"]
    assert verdict.reasons[-1].text == proxy.title and verdict.findings == (proxy.id,)


def test_validation_off_is_at_risk_and_a_failed_probe_of_its_store_is_no():
    from auditor import records

    from auditor.facts.probe import ProbeFacts, ProbeLinks

    client, store = _client_with_store(["Amazon Root CA 1"])
    off = records.replace(client, trust=records.replace(client.trust, validation=False,
                                                        reasons=("AWS_CA_BUNDLE is unset", "verify=False in app.py")))
    (verdict,) = judge([off, store], [], [])
    assert verdict.answer == "at risk" and "verify=False in app.py" in verdict.reasons[-1].text
    probe = Component("probe", "dynamodb.eu-west-3.amazonaws.com:443", None, store.location, "live handshake", "/srv/app",
                      facts=ProbeFacts("dynamodb.eu-west-3.amazonaws.com", 443, store.location, failure="untrusted",
                                       endpoint="dynamodb.eu-west-3.amazonaws.com:443", outcome="fail", remedy="untrusted",
                                       problem="the server's chain ends in a CA the store does not hold",
                                       links=ProbeLinks(store.id, (client.id,))))
    (verdict,) = judge([client, store, probe], [], [])
    assert verdict.answer == "no"
    assert [r.kind for r in verdict.reasons] == ["store", "verification"]


def test_report_reads_back_its_verdicts():
    client, store = _client_with_store([])
    report = Report("0", "2026-12-01T00:00:00Z", "2026-12-01", [], components=[client, store])
    report.verdicts = judge(report.components, report.findings, [])
    assert report.verdicts[0].answer == "no"
    again = Report.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.verdicts == report.verdicts
