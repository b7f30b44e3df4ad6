"""Which store each client would use, and why: one test per resolver path, on files copied
from real installs (tests/fixtures/envs/trust, see PROVENANCE.md) and settings given with --env-file."""

import os
import shutil

import pytest
from cryptography import x509

from auditor.collect.config.environ import parse_env_file
from conftest import ENVS, FIXTURES, packages, run, scan_json
from test_hostile_trees import open_tmp, scan_as_nobody  # noqa: F401 (open_tmp is a fixture)
from test_truststore import AMAZON_ROOT_CA_1, pem, self_signed

TRUST = ENVS / "trust"
ALL_THREE = ["Amazon Root CA 1", "Starfield Class 2 Certification Authority",
             "Starfield Services Root Certificate Authority - G2"]
STARFIELD_ONLY = ALL_THREE[1:]


def client(report, name):
    (component,) = [c for c in packages(report) if c["name"] == name and c["details"].get("active", True)]
    return component


def store_of(report, component):
    (store,) = [c for c in report["components"] if c["id"] == component["details"]["trust_store_id"]]
    return store


def findings_of(report, component):
    return sorted((f["rule"], f["severity"]) for f in report["findings"] if f["component"] == component["id"])


def env_file(tmp_path, text):
    path = tmp_path / "service.env"
    path.write_text(text)
    return path


def corporate_bundle(tmp_path):
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_bytes(pem(self_signed(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Corp Proxy Root")]))))
    return bundle


def test_modern_botocore_uses_certifi_when_importable():
    report = scan_json(TRUST / "botocore-1.35.0" / "site-packages")
    botocore = client(report, "botocore")
    assert botocore["details"]["trust_store"].endswith("site-packages/certifi/cacert.pem")
    assert any("prefers certifi, and certifi is importable" in r for r in botocore["details"]["trust_reasons"])
    assert any(f.endswith("botocore/cacert.pem if certifi were not importable") for f in botocore["details"]["trust_fallbacks"])
    assert store_of(report, botocore)["details"]["anchors"] == ALL_THREE
    assert findings_of(report, store_of(report, botocore)) == [("ats-store-trusted", "info")]


def test_modern_botocore_without_certifi_uses_its_own_bundle(tmp_path):
    site = shutil.copytree(TRUST / "botocore-1.35.0" / "site-packages", tmp_path / "site-packages")
    shutil.rmtree(site / "certifi")
    report = scan_json(site)
    botocore = client(report, "botocore")
    assert botocore["details"]["trust_store"] == f"{site}/botocore/cacert.pem"
    assert any("certifi is not importable" in r for r in botocore["details"]["trust_reasons"])


def test_botocore_1_10_vendored_requests_prefers_certifi_then_its_own_bundle(tmp_path):
    report = scan_json(TRUST / "botocore-1.10.84" / "site-packages")
    assert client(report, "botocore")["details"]["trust_store"].endswith("site-packages/certifi/cacert.pem")
    site = shutil.copytree(TRUST / "botocore-1.10.84" / "site-packages", tmp_path / "site-packages")
    shutil.rmtree(site / "certifi")
    botocore = client(scan_json(site), "botocore")
    assert botocore["details"]["trust_store"] == f"{site}/botocore/vendored/requests/cacert.pem"
    assert any("vendors requests (0.23.0 to 1.10.x)" in r for r in botocore["details"]["trust_reasons"])


def test_botocore_0_23_vendored_bundle_ignores_certifi_and_the_overrides(tmp_path):
    """0.23.0's vendored certs.py never looks for certifi, and this release reads neither variable."""
    site = TRUST / "botocore-0.23.0" / "site-packages"
    env = env_file(tmp_path, f"AWS_CA_BUNDLE={corporate_bundle(tmp_path)}\nREQUESTS_CA_BUNDLE=/nonexistent.pem\n")
    report = scan_json(site, "--env-file", env)
    botocore = client(report, "botocore")
    assert botocore["details"]["trust_store"] == f"{site}/botocore/vendored/requests/cacert.pem"
    assert store_of(report, botocore)["details"]["anchors"] == STARFIELD_ONLY


def test_botocore_0_21_uses_the_requests_beside_it():
    site = ENVS / "py3-old-botocore" / "lib" / "python3.11" / "site-packages"
    report = scan_json(ENVS / "py3-old-botocore")
    botocore, awscli = client(report, "botocore"), client(report, "awscli")
    assert botocore["details"]["trust_store"] == f"{site}/requests/cacert.pem"
    assert awscli["details"]["trust_store_id"] == botocore["details"]["trust_store_id"]
    assert any("ships no bundle (before 0.23.0): it uses requests" in r for r in botocore["details"]["trust_reasons"])
    store = store_of(report, botocore)
    assert store["details"]["anchors"] == STARFIELD_ONLY
    assert sorted(store["details"]["users"]) == [f"awscli 1.2.1 in {site}", f"botocore 0.21.0 in {site}"]


def test_debian_certifi_patch_points_at_the_os_bundle():
    report = scan_json(TRUST / "debian-bookworm" / "usr" / "lib" / "python3" / "dist-packages")
    botocore = client(report, "botocore")
    assert botocore["details"]["trust_store"] == "/etc/ssl/certs/ca-certificates.crt"
    assert any("is patched to return /etc/ssl/certs/ca-certificates.crt" in r for r in botocore["details"]["trust_reasons"])
    assert store_of(report, botocore)["location"] == "/etc/ssl/certs/ca-certificates.crt"


def test_aws_ca_bundle_without_an_anchor_is_critical_for_the_client_using_it(tmp_path):
    bundle = corporate_bundle(tmp_path)
    env = env_file(tmp_path, f"# service environment\nexport AWS_CA_BUNDLE='{bundle}'\n")
    report = scan_json(TRUST / "botocore-1.35.0" / "site-packages", "--env-file", env)
    botocore = client(report, "botocore")
    assert botocore["details"]["trust_store"] == str(bundle)
    assert botocore["details"]["trust_reasons"][0].startswith(f"AWS_CA_BUNDLE={bundle} (from --env-file {env})")
    certifi, own = botocore["details"]["trust_fallbacks"]
    assert "certifi/cacert.pem without the override, because botocore at " in certifi and "prefers certifi" in certifi
    assert own.endswith("botocore/cacert.pem if certifi were not importable")
    store = store_of(report, botocore)
    (critical,) = [f for f in report["findings"] if f["component"] == store["id"]]
    assert critical["severity"] == "critical" and critical["rule"] == "ats-store-without-anchor"
    assert "custom" in store["details"]["remedy"] and "remove the setting" in critical["remediation"]
    assert any("used by: botocore 1.35.0" in e["summary"] for e in critical["evidence"])


def test_override_order_aws_ca_bundle_then_profile_then_requests(tmp_path):
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = eu-west-3\nca_bundle = /etc/pki/default.pem\n\n"
                      "[profile prod]\nregion = eu-west-3\nca_bundle = /etc/pki/prod.pem\n")
    base = f"AWS_CONFIG_FILE={config}\nAWS_PROFILE=prod\nREQUESTS_CA_BUNDLE=/etc/pki/requests.pem\n"
    site = TRUST / "botocore-1.35.0" / "site-packages"

    report = scan_json(site, "--env-file", env_file(tmp_path, base))
    botocore = client(report, "botocore")
    assert botocore["details"]["trust_store"] == "/etc/pki/prod.pem"
    assert botocore["details"]["trust_reasons"][0] == f"{config}:7: ca_bundle = /etc/pki/prod.pem in profile prod: botocore uses it instead of its default"
    assert "outranked: REQUESTS_CA_BUNDLE=/etc/pki/requests.pem" in botocore["details"]["trust_reasons"][1]
    settings = {(c["name"], c.get("line")) for c in report["components"] if c["kind"] == "trust-config"}
    assert {("ca_bundle [default]", 3), ("ca_bundle [prod]", 7), ("REQUESTS_CA_BUNDLE", None)} <= settings
    missing = store_of(report, botocore)
    assert missing["details"]["problem"] == "does not exist"
    assert findings_of(report, missing) == [("ats-store-missing", "critical")]

    report = scan_json(site, "--env-file", env_file(tmp_path, base + "AWS_CA_BUNDLE=/etc/pki/env.pem\n"))
    assert client(report, "botocore")["details"]["trust_store"] == "/etc/pki/env.pem"
    report = scan_json(site, "--env-file", env_file(tmp_path, base.replace("AWS_PROFILE=prod", "AWS_PROFILE=dev")))
    assert client(report, "botocore")["details"]["trust_store"] == "/etc/pki/requests.pem"


def test_relative_bundle_path_cannot_be_checked(tmp_path):
    report = scan_json(TRUST / "botocore-1.35.0" / "site-packages", "--env-file", env_file(tmp_path, "AWS_CA_BUNDLE=certs/ca.pem\n"))
    botocore = client(report, "botocore")
    assert "trust_store" not in botocore["details"]
    assert any("is a relative path" in r for r in botocore["details"]["trust_reasons"])


def test_boto2_bundle_config_override_and_validation_off(tmp_path):
    site = ENVS / "py3-venv" / "lib" / "python3.11" / "site-packages"
    boto = client(scan_json(ENVS / "py3-venv"), "boto")
    assert boto["details"]["trust_store"] == f"{site}/boto/cacerts/cacerts.txt"

    bundle = corporate_bundle(tmp_path)
    config = tmp_path / "boto.cfg"
    config.write_text(f"[Credentials]\naws_access_key_id = AKIAEXAMPLE\n\n[Boto]\nca_certificates_file = {bundle}\n")
    report = scan_json(ENVS / "py3-venv", "--env-file", env_file(tmp_path, f"BOTO_CONFIG={config}\n"))
    boto = client(report, "boto")
    assert boto["details"]["trust_store"] == str(bundle)
    assert boto["details"]["trust_reasons"][0].startswith(f"{config}:5: ca_certificates_file = {bundle}")
    assert findings_of(report, store_of(report, boto)) == [("ats-store-without-anchor", "critical")]
    assert "AKIAEXAMPLE" not in run("scan", "-q", "--format", "json", ENVS / "py3-venv", "--env-file", tmp_path / "service.env").out

    config.write_text("[Boto]\nhttps_validate_certificates = False\n")
    report = scan_json(ENVS / "py3-venv", "--env-file", tmp_path / "service.env")
    boto = client(report, "boto")
    assert boto["details"]["certificate_validation"] == "off" and "trust_store" not in boto["details"]
    (setting,) = [c for c in report["components"] if c["kind"] == "trust-config"]
    assert (setting["name"], setting.get("line"), setting["details"]["effect"]) == ("https_validate_certificates", 2, "disabled")


def test_aws_cli_v2_uses_the_bundle_its_installer_ships():
    report = scan_json(ENVS / "aws-cli-v2")
    cli = {c["version"]: c for c in packages(report)}["2.15.30"]
    assert cli["details"]["trust_store"].endswith("v2/2.15.30/dist/awscli/botocore/cacert.pem")
    store = store_of(report, cli)
    # The reconstructed fixture's bundle is an empty file: nothing in it to trust.
    assert store["details"]["certificates"] == 0
    assert findings_of(report, store) == [("ats-store-without-anchor", "critical")]


def test_env_file_forms():
    text = ("# comment\n\nexport A=1\nB='two words'\nC=\"line\\nnext\"\nD=plain # trailing comment\nHOME\nE=\n")
    assert parse_env_file(text) == {"A": "1", "B": "two words", "C": "line\nnext", "D": "plain", "E": ""}


def test_bad_env_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.env"
    bad.write_bytes(b"AWS_CA_BUNDLE=/x\nthis is not an assignment\n")
    result = run("scan", "-q", ENVS / "py3-venv", "--env-file", bad)
    assert result.code == 2 and f"{bad}:2: not a NAME=value line" in result.err
    result = run("scan", "-q", ENVS / "py3-venv", "--env-file", tmp_path / "missing.env")
    assert result.code == 2 and f"--env-file {tmp_path / 'missing.env'}: No such file or directory" in result.err


def test_distrust_lists_take_anchors_out_of_os_stores(tmp_path):
    """Debian's `!` lines and a p11-kit blocklist, read inside an image root."""
    from auditor.trust.anchors import check_store, load_anchors
    from auditor.trust.distrust import read_distrust
    from auditor.trust.formats.pem import certificates_in_file
    from auditor.fs import View
    from test_truststore import AMAZON_ROOT_CA_1, STARFIELD_CLASS_2

    root = tmp_path / "image"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "ca-certificates.conf").write_text(
        "# Lines starting with ! are deselected\nmozilla/ACCVRAIZ1.crt\n!mozilla/Amazon_Root_CA_1.crt\nmozilla/Starfield_Class_2_CA.crt\n")
    blocklist = root / "etc" / "pki" / "ca-trust" / "source" / "blocklist"
    blocklist.mkdir(parents=True)
    (blocklist / "renamed-starfield.pem").write_bytes(STARFIELD_CLASS_2)
    anchors = load_anchors()
    distrust = read_distrust(View(str(root), image=True), anchors)
    assert distrust.anchors == {"Amazon Root CA 1": "/etc/ca-certificates.conf:3 (!mozilla/Amazon_Root_CA_1.crt)",
                                "Starfield Class 2 Certification Authority": "p11-kit blocklist /etc/pki/ca-trust/source/blocklist/renamed-starfield.pem"}
    _, bundle, _ = certificates_in_file(AMAZON_ROOT_CA_1 + STARFIELD_CLASS_2)
    result = check_store(bundle, anchors, "2026-11-28", frozenset(distrust.anchors))
    assert (result.anchors, result.distrusted) == ([], ["Amazon Root CA 1", "Starfield Class 2 Certification Authority"])


def machine_scan():
    report = scan_json()
    return report, {c["location"]: c for c in report["components"] if c["kind"] == "trust-store"}


def test_this_machine_ssl_cert_file_moves_openssl_default(monkeypatch, tmp_path):
    bundle = corporate_bundle(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    report, stores = machine_scan()
    store = stores[str(bundle)]
    assert "OpenSSL default file" in store["details"]["roles"]
    assert any(u.startswith("OpenSSL's default for this Python") for u in store["details"]["users"])
    assert findings_of(report, store) == [("ats-store-without-anchor", "critical")]
    (setting,) = [c for c in report["components"] if c["kind"] == "trust-config" and c["name"] == "SSL_CERT_FILE"]
    assert setting["details"]["trust_store_id"] == store["id"] and setting["details"]["points_to_os_store"] is False


def test_node_extra_ca_certs_adds_to_the_built_in_roots(monkeypatch, tmp_path):
    bundle = corporate_bundle(tmp_path)
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(bundle))
    report, stores = machine_scan()
    store = stores[str(bundle)]
    assert "users" not in store["details"] and len(store["details"]["added_by"]) == 2
    assert findings_of(report, store) == [("ats-store-without-anchor", "info")]


def test_a_sparse_2_gb_bundle_is_refused_quickly(tmp_path):
    site = shutil.copytree(TRUST / "botocore-1.35.0" / "site-packages", tmp_path / "site-packages")
    shutil.rmtree(site / "certifi")
    bundle = site / "botocore" / "cacert.pem"
    bundle.unlink()
    with open(bundle, "wb") as handle:
        handle.truncate(2 * 1024**3)
    report = scan_json(site)
    store = store_of(report, client(report, "botocore"))
    assert "over the" in store["details"]["problem"] and "limit" in store["details"]["problem"]
    assert findings_of(report, store) == [("ats-store-without-anchor", "critical")]
    assert any(e["location"] == str(bundle) for e in report["errors"])


def test_boto3_uses_the_store_of_the_botocore_beside_it():
    report = scan_json(ENVS / "py3-venv")
    boto3, botocore = client(report, "boto3"), client(report, "botocore")
    assert boto3["details"]["trust_store_id"] == botocore["details"]["trust_store_id"]
    assert boto3["details"]["trust_store"].endswith("site-packages/certifi/cacert.pem")


def test_boto2_ca_certificates_file_system_means_openssls_default(tmp_path):
    config = tmp_path / "boto.cfg"
    config.write_text("[Boto]\nca_certificates_file = system\n")
    report = scan_json(ENVS / "py3-venv", "--env-file", env_file(tmp_path, f"BOTO_PATH={config}\n"))
    boto = client(report, "boto")
    assert "trust_store" not in boto["details"] and boto["details"]["certificate_validation"] == "on"
    assert "OpenSSL's default store is used" in boto["details"]["trust_reasons"][0]


def test_ssl_cert_dir_is_used_when_there_is_no_file(monkeypatch, tmp_path):
    from test_truststore import AMAZON_ROOT_CA_1

    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "ce5e74ef.0").write_bytes(AMAZON_ROOT_CA_1)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(folder))
    report, stores = machine_scan()
    store = stores[str(folder)]
    assert "OpenSSL default directory" in store["details"]["roles"]
    assert store["details"]["anchors"] == ["Amazon Root CA 1"]
    curl = [c for c in report["components"] if c["kind"] == "trust-config" and c["details"]["found_in"] == "environment"]
    assert {c["name"] for c in curl} == {"SSL_CERT_FILE", "SSL_CERT_DIR"}


# -- a store whose file is not there, and one that cannot be read -------------------------------------------------

def missing_findings(report, store):
    return [f for f in report["findings"] if f["component"] == store["id"]]


def test_aws_ca_bundle_naming_a_missing_file_fails_every_call_and_is_its_own_finding(tmp_path):
    missing = tmp_path / "certs" / "corp-ca.pem"
    env = env_file(tmp_path, f"AWS_CA_BUNDLE={missing}\n")
    report = scan_json(TRUST / "botocore-1.35.0" / "site-packages", "--env-file", env)
    botocore = client(report, "botocore")
    store = store_of(report, botocore)
    assert (store["location"], store["details"]["format"], store["details"]["problem"]) == (str(missing), "missing", "does not exist")
    (finding,) = missing_findings(report, store)
    assert (finding["rule"], finding["severity"]) == ("ats-store-missing", "critical")
    assert finding["title"] == f"{missing} named by AWS_CA_BUNDLE does not exist: botocore fails every HTTPS call"
    observed = [e["summary"] for e in finding["evidence"] if e["type"] == "observed"]
    assert observed[1].startswith(f"botocore 1.35.0 in {TRUST / 'botocore-1.35.0' / 'site-packages'}: botocore fails every HTTPS call: ")
    assert "No such file or directory" in observed[1]
    assert observed[2].startswith("the AWS_CA_BUNDLE setting: botocore, boto3 and the AWS CLI fail every HTTPS call")
    assert "unset the setting" in finding["remediation"] and "Add Amazon Root CA 1 to it" not in finding["remediation"]
    assert not [f for f in report["findings"] if f["rule"] == "ats-store-without-anchor"]


def test_a_profiles_missing_ca_bundle_is_critical_only_where_the_profile_is_active(tmp_path):
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = eu-west-3\nca_bundle = /etc/pki/default.pem\n\n"
                      "[profile prod]\nregion = eu-west-3\nca_bundle = /etc/pki/prod.pem\n")
    env = env_file(tmp_path, f"AWS_CONFIG_FILE={config}\nAWS_PROFILE=prod\n")
    report = scan_json(TRUST / "botocore-1.35.0" / "site-packages", "--env-file", env)
    stores = {c["location"]: c for c in report["components"] if c["kind"] == "trust-store"}
    (active,) = missing_findings(report, stores["/etc/pki/prod.pem"])
    assert (active["rule"], active["severity"]) == ("ats-store-missing", "critical")
    assert active["title"] == "/etc/pki/prod.pem named by ca_bundle [prod] does not exist: botocore fails every HTTPS call"
    (idle,) = missing_findings(report, stores["/etc/pki/default.pem"])
    assert (idle["rule"], idle["severity"]) == ("ats-store-missing", "high")  # no client found here uses that profile
    assert idle["title"] == ("/etc/pki/default.pem named by ca_bundle [default] does not exist: "
                             "botocore, boto3 and the AWS CLI with profile default fail every HTTPS call")


def test_boto2_ca_certificates_file_naming_a_missing_file(tmp_path):
    config = tmp_path / "boto.cfg"
    config.write_text(f"[Boto]\nca_certificates_file = {tmp_path / 'gone.pem'}\n")
    report = scan_json(ENVS / "py3-venv", "--env-file", env_file(tmp_path, f"BOTO_CONFIG={config}\n"))
    (finding,) = missing_findings(report, store_of(report, client(report, "boto")))
    assert (finding["rule"], finding["severity"]) == ("ats-store-missing", "critical")
    assert finding["title"].endswith("named by ca_certificates_file does not exist: boto 2 fails every HTTPS call")


def test_node_extra_ca_certs_naming_a_missing_file_is_ignored_by_node(monkeypatch, tmp_path):
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(tmp_path / "extra.pem"))
    _, stores = machine_scan()
    store = stores[str(tmp_path / "extra.pem")]
    assert store["details"]["format"] == "missing"
    report, _ = machine_scan()
    (finding,) = [f for f in report["findings"] if f["component"] == store["id"]]
    assert (finding["rule"], finding["severity"]) == ("ats-store-missing", "low")
    assert finding["title"].endswith("does not exist: Node.js warns once and goes on with its built-in roots")


def java_image(tmp_path, homes):
    """An image with JDKs (path -> JAVA_VERSION), each with a release file and a cacerts holding Amazon Root CA 1
    (a password-less PKCS#12, the format of the JDK's cacerts since Java 18; see fixtures/keystores)."""
    root = tmp_path / "image"
    for path, version in homes.items():
        home = root / path.lstrip("/")
        (home / "bin").mkdir(parents=True)
        (home / "bin" / "java").write_text("")
        (home / "release").write_text(f'IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="{version}"\n')
        security = home / ("jre/lib" if version.startswith("1.") else "lib") / "security"  # Java 8 and older nest a JRE
        security.mkdir(parents=True)
        shutil.copy(FIXTURES / "keystores" / "open.p12", security / "cacerts")
    return root


def test_a_missing_java_trust_store_option_is_skipped_by_java_11_and_later_but_not_by_java_8(tmp_path):
    root = java_image(tmp_path, {"/opt/java/openjdk": "17.0.9", "/usr/lib/jvm/temurin-8-jdk-amd64": "1.8.0_392"})
    env = env_file(tmp_path, "JAVA_TOOL_OPTIONS=-Djavax.net.ssl.trustStore=/etc/pki/java/service.jks\n")
    report = scan_json("--root", root, "--env-file", env)
    javas = {c["location"]: c for c in report["components"] if c["kind"] == "java"}
    stores = {c["location"]: c for c in report["components"] if c["kind"] == "trust-store"}
    modern, old = javas["/opt/java/openjdk"], javas["/usr/lib/jvm/temurin-8-jdk-amd64"]
    # Java 17 skips the file that is not there and verifies with its own cacerts, which holds Amazon Root CA 1.
    assert modern["details"]["trust_store"] == "/opt/java/openjdk/lib/security/cacerts"
    assert "names a file that does not exist: Java 11 and later skip" in modern["details"]["trust_reasons"][0]
    assert [f["rule"] for f in missing_findings(report, stores["/opt/java/openjdk/lib/security/cacerts"])] == ["ats-store-trusted"]
    # Java 8 loads an empty trust store instead (before its updates took Java 11's code): it uses the missing file.
    assert old["details"]["trust_store"] == "/etc/pki/java/service.jks"
    missing = stores["/etc/pki/java/service.jks"]
    (finding,) = missing_findings(report, missing)
    assert (finding["rule"], finding["severity"]) == ("ats-store-missing", "critical")
    assert finding["title"] == ("/etc/pki/java/service.jks named by javax.net.ssl.trustStore does not exist: "
                                "Java 1.8.0_392 may fail every TLS connection")
    observed = [e["summary"] for e in finding["evidence"] if e["type"] == "observed"]
    assert observed[1].startswith("Java 1.8.0_392 at /usr/lib/jvm/temurin-8-jdk-amd64: Java 1.8.0_392 may fail every TLS connection: ")
    assert observed[2].startswith("Java 17.0.9 at /opt/java/openjdk: Java 17.0.9 skips it and uses /opt/java/openjdk/lib/security/cacerts")
    assert "unset the setting" in finding["remediation"]

    only_modern = java_image(tmp_path / "modern", {"/opt/java/openjdk": "17.0.9"})
    report = scan_json("--root", only_modern, "--env-file", env)
    missing = {c["location"]: c for c in report["components"] if c["kind"] == "trust-store"}["/etc/pki/java/service.jks"]
    (finding,) = missing_findings(report, missing)
    assert (finding["rule"], finding["severity"]) == ("ats-store-missing", "medium")
    assert finding["title"].endswith("does not exist: Java 17.0.9 skips it and uses /opt/java/openjdk/lib/security/cacerts")


@pytest.mark.parametrize("locked", ["the file", "its folder"])
def test_a_store_that_cannot_be_read_says_so_and_is_not_missing(open_tmp, locked):  # noqa: F811 (a fixture)
    """Run as the user nobody (CI runs as root): a bundle named by AWS_CA_BUNDLE that exists but cannot be read."""
    site = shutil.copytree(TRUST / "botocore-1.35.0" / "site-packages", open_tmp / "site-packages")
    for folder, _, files in os.walk(open_tmp):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    bundle = open_tmp / "certs" / "corp-ca.pem"
    bundle.parent.mkdir(mode=0o755)
    bundle.write_bytes(AMAZON_ROOT_CA_1)
    env = open_tmp / "service.env"
    env.write_text(f"AWS_CA_BUNDLE={bundle}\n")
    env.chmod(0o644)
    os.chmod(bundle if locked == "the file" else bundle.parent, 0)
    report = scan_as_nobody(open_tmp, site, "--env-file", env).json
    store = store_of(report, client(report, "botocore"))
    assert store["details"]["format"] != "missing"
    assert store["details"]["problem"] == "could not be read: Permission denied"
    assert store["details"]["unread"] is True  # what it holds is not known: the client's answer cannot be told
    verdict = next(v for v in report["verdicts"] if v["client"] == client(report, "botocore")["id"])
    assert verdict["answer"] == "cannot tell" and "could not be read: Permission denied" in verdict["reasons"][-1]["text"]
    assert [f["rule"] for f in missing_findings(report, store)] == ["ats-store-without-anchor"]
    assert any(e["location"] == str(bundle) and "Permission denied" in e["message"] for e in report["errors"])
