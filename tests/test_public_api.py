"""The library API, used as a program using it would: only the names `import auditor` exports (docs/api.md lists
them; this test holds the list and the docs together). Each function answers as its command does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import auditor
import tls_servers
from conftest import run
from tls_servers import HOST, Peers

PROJECT = Path(__file__).resolve().parents[1]
ANCHORS = PROJECT / "rules" / "anchors"

no_proxy_settings, pki = tls_servers.no_proxy_settings, tls_servers.pki


def pinned(tmp_path: Path, pins: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(pins)
    return path


def test_the_public_names_are_the_documented_ones():
    documented = re.findall(r"^\| `auditor\.(\w+)", (PROJECT / "docs/api.md").read_text(), re.M)
    assert sorted(documented) == sorted(auditor.__all__)
    for name in auditor.__all__:
        assert getattr(auditor, name) is not None


def test_import_auditor_imports_nothing_of_the_scanner():
    code = "import sys, auditor; print(sorted(m for m in sys.modules if m.startswith('auditor')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['auditor', 'auditor.version']"


def test_scan_answers_as_the_command_does(tmp_path):
    requirements = pinned(tmp_path, "boto==2.9.0\nbotocore==1.31.0\n")
    report = auditor.scan(requirements)
    assert isinstance(report, auditor.Report)
    assert [(f.rule, f.severity) for f in report.findings] == [("ats-python-sdk-before-cutoff", "high")]
    (failing,) = report.failing()
    assert isinstance(failing, auditor.Finding)
    components = {c.id: c for c in report.components}
    assert isinstance(components[failing.component], auditor.Component)
    assert (components[failing.component].name, components[failing.component].version) == ("boto", "2.9.0")
    # The same report as `auditor scan --format json`, apart from when and how it was made.
    from_api = json.loads(auditor.render(report, "json"))
    from_cli = json.loads(run("scan", requirements, "--format", "json", "-q").out)
    for data in (from_api, from_cli):
        data.pop("generated_at"), data["run"].pop("command", None)
    assert from_api == from_cli


def test_scan_options_packs_fail_on_as_of_and_waivers(tmp_path):
    requirements = pinned(tmp_path, "boto3==1.0.0\n")  # 2015-06-22: after the DynamoDB cutoff, before none of SES's
    assert not auditor.scan(requirements).findings
    report = auditor.scan(requirements, packs=["ses-ats"], fail_on="critical", as_of="2026-01-01")
    assert report.as_of == "2026-01-01" and report.fail_on == "critical"
    assert [f.rule for f in report.findings] == [] and not report.failing()
    old = pinned(tmp_path, "boto==2.9.0\n")
    waivers = tmp_path / "waivers.toml"
    waivers.write_text('[[waivers]]\nrule = "ats-python-sdk-before-cutoff"\nlocation = "requirements.txt"\n'
                       'reason = "replaced by boto3 in Q1"\nowner = "team-data"\nexpires = "2099-01-01"\n')
    waived = auditor.scan(old, waivers=waivers)
    assert [f.waived for f in waived.findings] == [True] and not waived.failing()


def test_scan_fails_closed(tmp_path):
    with pytest.raises(auditor.AuditorError, match="nothing could be scanned"):
        auditor.scan(tmp_path / "missing")
    with pytest.raises(auditor.IncompleteScan, match="missing") as raised:
        auditor.scan(pinned(tmp_path, "boto==2.9.0\n"), tmp_path / "missing")
    assert [f.rule for f in raised.value.report.findings] == ["ats-python-sdk-before-cutoff"]
    with pytest.raises(auditor.UsageError, match="no-such-pack"):
        auditor.scan(tmp_path, packs=["no-such-pack"])
    with pytest.raises(auditor.UsageError, match="as_of"):
        auditor.scan(tmp_path, as_of="yesterday")
    with pytest.raises(auditor.UsageError, match="root"):
        auditor.scan(root=tmp_path / "missing")


def test_scan_with_an_environment_judges_its_ca_bundle(tmp_path):
    (tmp_path / "app").mkdir()
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    report = auditor.scan(tmp_path / "app", env={"AWS_CA_BUNDLE": str(empty)})
    (setting,) = [c for c in report.components if c.kind == "trust-config"]
    assert setting.name == "AWS_CA_BUNDLE" and "from the env given to auditor.scan" in setting.details["statement"]
    components = {c.id: c for c in report.components}
    assert [(f.rule, components[f.component].location) for f in report.failing()] == [
        ("ats-store-without-anchor", str(empty))]


@pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (a JDK) is not installed")
def test_check_store_of_a_keystore_made_by_keytool(tmp_path):
    store = tmp_path / "cacerts"
    for alias, pem in (("amazon", "amazon-root-ca-1.pem"), ("g2", "starfield-services-root-ca-g2.pem")):
        subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", alias, "-file", ANCHORS / pem, "-keystore",
                        store, "-storetype", "JKS", "-storepass", "changeit"], check=True, capture_output=True)
    report = auditor.check_store(store, password="changeit")
    (component,) = report.components
    assert component.details["anchors"] == ["Amazon Root CA 1", "Starfield Services Root Certificate Authority - G2"]
    assert component.details["integrity"] == "verified" and not report.failing()
    assert "changeit" not in auditor.render(report, "json")
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    with pytest.raises(auditor.AuditorError, match="nothing could be read"):
        auditor.check_store(tmp_path / "missing.pem")
    with pytest.raises(auditor.UsageError):
        auditor.check_store()


def test_probe_verifies_a_live_endpoint_with_a_given_store(pki, no_proxy_settings):
    with Peers() as peers:
        port = peers.add_tls(pki.server_context())
        options = auditor.ProbeOptions(endpoints=(HOST,), connect_to=f"127.0.0.1:{port}", timeout=5.0)
        report = auditor.probe(options, ca_files=[pki.store("amazon")])
        other = auditor.probe(options, ca_files=[pki.store()])  # an empty store verifies nothing
    (passed,) = report.components
    assert passed.details["outcome"] == "pass" and not report.failing()
    (failed,) = other.components
    assert failed.details["outcome"] != "pass" and other.failing()
    with pytest.raises(auditor.UsageError, match="no such file"):
        auditor.probe(options, ca_files=["no-such.pem"])
    with pytest.raises(auditor.UsageError):
        auditor.probe(auditor.ProbeOptions(endpoints=("bad host:x",)))


def test_load_report_reads_back_what_render_wrote(tmp_path):
    report = auditor.scan(pinned(tmp_path, "boto==2.9.0\n"))
    saved = tmp_path / "report.json"
    saved.write_text(auditor.render(report, "json"))
    loaded = auditor.load_report(saved)
    assert [f.id for f in loaded.findings] == [f.id for f in report.findings]
    saved.write_text("{}")
    with pytest.raises(auditor.AuditorError):
        auditor.load_report(saved)
    with pytest.raises(auditor.UsageError, match="format"):
        auditor.render(report, "pdf")


CLIENT = '''
import auditor

def gate(path: str) -> int:
    try:
        report: auditor.Report = auditor.scan(path, fail_on="medium")
    except auditor.IncompleteScan as exc:
        print(len(exc.report.findings))
        return 2
    worst: list[auditor.Finding] = report.failing()
    return 1 if worst else 0
'''


def test_the_api_is_typed_for_its_users(tmp_path):
    """py.typed is shipped and the signatures hold: mypy --strict accepts a client and rejects a wrong call."""
    assert (PROJECT / "auditor" / "py.typed").is_file()
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(CLIENT)
    bad.write_text(CLIENT.replace('fail_on="medium"', "fail_on=3"))
    command = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary",
               "--cache-dir", str(tmp_path / "cache")]
    assert subprocess.run([*command, str(good)], capture_output=True, text=True, cwd=PROJECT).stdout == ""
    wrong = subprocess.run([*command, str(bad)], capture_output=True, text=True, cwd=PROJECT).stdout
    assert 'Argument "fail_on" to "scan" has incompatible type "int"; expected "str"' in wrong
