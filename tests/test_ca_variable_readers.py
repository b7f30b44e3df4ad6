"""Which CA variables the AWS clients found really read (rules/ca-variables.toml), at which severity, and a code scan
that judges the user's code, not installed or vendored third-party packages: on a machine like the one that showed
the noise (every CA variable naming the OS bundle, a current botocore, google-cloud-sdk's vendored botocore)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from auditor.trust.variable_readers import VariableDataError, variable_data
from conftest import scan_json
from test_service_env import TRUST, anchor, image, venv, write

OS_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
VARIABLES = {"AWS_CA_BUNDLE": OS_BUNDLE, "REQUESTS_CA_BUNDLE": OS_BUNDLE, "CURL_CA_BUNDLE": OS_BUNDLE,
             "SSL_CERT_FILE": OS_BUNDLE, "SSL_CERT_DIR": "/etc/ssl/certs"}
# What google-cloud-sdk's lib/third_party/botocore/session.py writes in create_client (botocore 1.34.22).
VENDORED_SESSION = """class Session:
    def create_client(self, service_name, region_name=None, api_version=None, use_ssl=True, verify=None):
        client_creator = self._create_client_creator()
        client = client_creator.create_client(
            service_name=service_name,
            region_name=region_name,
            is_secure=use_ssl,
            verify=verify,
        )
        return client
"""
USER_APP = 'import boto3\n\nclient = boto3.client("dynamodb", region_name="eu-west-3", verify=False)\n'


def machine(tmp_path: Path, **variables: str) -> tuple[Path, Path]:
    root = image(tmp_path)
    write(root / OS_BUNDLE.lstrip("/"), anchor())
    venv(root, "/opt/orders/venv")
    for sdk in ("usr/lib/google-cloud-sdk", "opt/tools/google-cloud-sdk"):
        third_party = root / sdk / "lib" / "third_party"
        shutil.copytree(TRUST / "botocore-1.35.0" / "site-packages" / "botocore", third_party / "botocore")
        write(third_party / "botocore" / "__init__.py", "__version__ = '1.34.22'\n")
        write(third_party / "botocore" / "session.py", VENDORED_SESSION)
        # a released package beside the vendored copy: another project's code
        write(third_party / "s3helper" / "__init__.py", "__version__ = '2.0.1'\n")
        write(third_party / "s3helper" / "connect.py", USER_APP)
    write(root / "opt" / "orders" / "app.py", USER_APP)
    env = write(tmp_path / "machine.env", "".join(f"{k}={v}\n" for k, v in {**VARIABLES, **variables}.items()))
    return root, env


def variable(report: dict, name: str) -> tuple[dict, list[dict]]:
    (component,) = [c for c in report["components"] if c["kind"] == "trust-config" and c["name"] == name]
    return component, [f for f in report["findings"] if f["component"] == component["id"]]


def test_os_bundle_variables_are_info_and_say_which_clients_read_them(tmp_path):
    root, env = machine(tmp_path)
    report = scan_json("--root", root, "--env-file", env)
    for name in VARIABLES:
        component, findings = variable(report, name)
        assert component["details"]["points_to_os_store"] is True
        (finding,) = findings
        assert finding["severity"] == "info", (name, finding["title"])
        assert "point it at" not in finding["remediation"] and finding["remediation"].startswith("Nothing to change")
    # botocore 1.35.0 reads AWS_CA_BUNDLE (session.py) and REQUESTS_CA_BUNDLE (endpoint.py) ...
    for name in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        component, (finding,) = variable(report, name)
        assert "for AWS calls" in finding["title"]
        assert any("botocore 1.35.0" in reader for reader in component["details"]["read_by_found"])
    # ... and neither CURL_CA_BUNDLE nor OpenSSL's variables: it hands OpenSSL its own CA file
    for name in ("CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        component, (finding,) = variable(report, name)
        assert component["details"]["read_by_found"] == []
        assert "for AWS calls" not in finding["title"]
        assert "not read by any AWS client found" in finding["title"]


def test_requests_ca_bundle_is_judged_per_botocore_release(tmp_path):
    """botocore first reads REQUESTS_CA_BUNDLE in 0.31.0 (its endpoint.py); 0.23.0 does not."""
    root, env = machine(tmp_path)
    shutil.rmtree(root / "opt" / "orders" / "venv")
    for sdk in ("usr/lib/google-cloud-sdk", "opt/tools"):  # their botocore 1.34.22 reads it
        shutil.rmtree(root / sdk)
    venv(root, "/opt/orders/venv", TRUST / "botocore-0.23.0" / "site-packages")
    report = scan_json("--root", root, "--env-file", env)
    component, (finding,) = variable(report, "REQUESTS_CA_BUNDLE")
    assert component["details"]["read_by_found"] == []
    assert "not read by any AWS client found" in finding["title"]


def test_a_custom_bundle_without_the_anchors_keeps_its_severity(tmp_path):
    root, env = machine(tmp_path, AWS_CA_BUNDLE="/etc/orders/ca.pem")
    write(root / "etc" / "orders" / "ca.pem", _other_ca())
    report = scan_json("--root", root, "--env-file", env)
    component, (finding,) = variable(report, "AWS_CA_BUNDLE")
    assert component["details"]["points_to_os_store"] is False
    assert (finding["rule"], finding["severity"]) == ("ats-custom-bundle", "medium")
    assert "for AWS calls" in finding["title"]


def test_the_code_scan_judges_the_users_code_only(tmp_path):
    root, env = machine(tmp_path)
    report = scan_json("--root", root, "--env-file", env)
    code = [c for c in report["components"] if c["kind"] == "trust-config" and c["details"]["found_in"] == "python"]
    assert [(c["location"], c["line"], c["details"]["effect"]) for c in code] == [("/opt/orders/app.py", 3, "disabled")]
    (finding,) = [f for f in report["findings"] if f["component"] == code[0]["id"]]
    assert finding["severity"] == "high"


def test_the_variable_data_is_validated(monkeypatch, tmp_path):
    from auditor import rule_data

    assert set(variable_data()) >= {"clients", *VARIABLES, "ca_bundle"}
    rules = tmp_path / "rules"
    shutil.copytree(rule_data.rules_dir(), rules)
    text = (rules / "ca-variables.toml").read_text()
    (rules / "ca-variables.toml").write_text(text.replace('reads = "never"', 'reads = "sometimes"', 1))
    monkeypatch.setenv("AUDITOR_RULES_DIR", str(rules))
    with pytest.raises(VariableDataError, match="sometimes|reads"):
        variable_data()


def _other_ca() -> bytes:
    """A self-made CA: a bundle without any ATS anchor."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Orders Internal Root CA")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)
