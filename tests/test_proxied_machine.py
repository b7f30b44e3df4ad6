"""The machine of issue 16, end to end: an ordinary, correctly configured Debian host behind a TLS-inspecting egress
proxy. Every CA variable names the OS bundle, the OS bundle holds the proxy's interception CA (made here with
`cryptography`, installed as update-ca-certificates installs it), HTTPS_PROXY is set for every login, a virtualenv's
current botocore prefers certifi (which lacks the proxy's CA), and Debian's own botocore uses the OS bundle.

What a reviewer must read from the terminal report: the verdicts first, the virtualenv's botocore `no` because of
the proxy, Debian's botocore `yes`, no LOW for variables that name the OS's own bundle, and the locally added CA."""

from __future__ import annotations

import pytest

from conftest import run, scan_json
from test_local_cas import DEBIAN_BUNDLE, PROXY_VARIABLES, debian_root, interception_ca
from test_service_env import write

CA_VARIABLES = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def machine(tmp_path):
    pem, sha256 = interception_ca()
    root = debian_root(tmp_path, pem)
    environment = (root / "etc/environment").read_text()
    write(root / "etc/environment", environment + "".join(f"{name}={DEBIAN_BUNDLE}\n" for name in CA_VARIABLES)
          + "SSL_CERT_DIR=/etc/ssl/certs\n")
    # Debian's own PAM lines (libpam-runtime, openssh-server): sshd and login sessions read /etc/environment.
    write(root / "etc/pam.d/sshd", "@include common-auth\naccount    required     pam_nologin.so\n"
          "session    required     pam_env.so # [1]\nsession    required     pam_env.so user_readenv=1 envfile=/etc/default/locale\n")
    write(root / "etc/pam.d/login", "auth       optional   pam_faildelay.so  delay=3000000\n"
          "session       required   pam_env.so readenv=1\nsession       required   pam_env.so readenv=1 envfile=/etc/default/locale\n")
    return root, sha256


def _verdict(report, name, where):
    (verdict,) = [v for v in report["verdicts"] if v["label"].startswith(f"{name} ") and where in v["label"]]
    return verdict


def test_the_proxied_machine_answers_per_client(machine):
    root, sha256 = machine
    report = scan_json("--root", root)

    behind_proxy = _verdict(report, "botocore", "/opt/orders/venv")
    assert behind_proxy["answer"] == "no"
    proxy_reasons = [r["text"] for r in behind_proxy["reasons"] if r["kind"] == "proxy"]
    assert proxy_reasons and "Example Corp Egress Inspection CA" in proxy_reasons[0]
    assert "PAM sessions that load pam_env: login, sshd" in proxy_reasons[0]
    # Its store itself holds an anchor: the proxy is why it fails, and the store reason says so too.
    assert any(r["kind"] == "store" and "certifi/cacert.pem holds" in r["text"] for r in behind_proxy["reasons"])

    os_bundle = _verdict(report, "botocore", "dist-packages")
    assert os_bundle["answer"] == "yes", os_bundle
    assert not [r for r in os_bundle["reasons"] if r["kind"] == "proxy"]

    settings = {c["id"]: c["name"] for c in report["components"] if c["kind"] == "trust-config"}
    variables = [f for f in report["findings"] if f["component"] in settings]
    assert {settings[f["component"]] for f in variables} >= set(CA_VARIABLES)
    assert {f["severity"] for f in variables} == {"info"}, [(f["severity"], f["title"]) for f in variables]

    local = [f for f in report["findings"] if f["rule"] == "os-store-locally-added"]
    assert len(local) == 1 and local[0]["title"].endswith("holds 1 CA added locally, not shipped by the distribution")
    assert any(sha256 in e["summary"] for e in local[0]["evidence"])


def test_the_terminal_report_leads_with_the_verdicts(machine):
    root, sha256 = machine
    result = run("scan", "--root", root, "--width", "120")
    assert result.code == 1, result.err  # the proxy finding is high
    lines = result.out.splitlines()
    verdicts = next(i for i, line in enumerate(lines) if line.startswith("Verdicts:"))
    findings = next(i for i, line in enumerate(lines) if line == "Findings")
    assert verdicts < findings
    section = "\n".join(lines[verdicts:findings])
    assert "NO" in section and "YES" in section and "proxy" in section
    assert not any(line.startswith("LOW") for line in lines)
    local = lines.index("CAs added to the OS store on this system (not the distribution's own)")
    section = "\n".join(lines[local:local + 8])  # named on the terminal, not only in JSON
    assert "CN=Example" in section and sha256[:16] in section and "egress-proxy.crt" in section
