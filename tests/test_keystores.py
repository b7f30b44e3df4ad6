"""Java keystores made by keytool: JKS (trusted certificates and a private key's chain), PKCS#12 with and
without a password, and every way such a file can be broken."""

import glob
import os
import shutil
import struct
import subprocess

import pytest

from auditor.collect.truststore.jks import read_java_keystore
from conftest import run
from test_java_trust import keystore
from test_truststore import ANCHORS

pytestmark = pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (a JDK) is not installed")
AMAZON = ANCHORS / "amazon-root-ca-1.pem"
STARFIELD_G2 = ANCHORS / "starfield-services-root-ca-g2.pem"


def truststore(*args):
    result = run("truststore", "--format", "json", "-q", *args)
    return result.code, (result.json if result.out else None), result


@pytest.fixture(scope="module")
def jks(tmp_path_factory):
    """Two trusted roots and a key pair whose self-signed certificate is its chain."""
    path = keystore(tmp_path_factory.mktemp("jks") / "truststore.jks", "JKS", "changeit", AMAZON, STARFIELD_G2)
    subprocess.run(["keytool", "-genkeypair", "-alias", "service", "-keyalg", "EC", "-dname", "CN=orders-service",
                    "-keystore", str(path), "-storetype", "JKS", "-storepass", "changeit", "-keypass", "changeit"],
                   check=True, capture_output=True)
    return path


def test_jks_with_the_password_is_verified(jks):
    code, report, _ = truststore(jks, "--storepass", "changeit")
    (store,) = report["components"]
    details = store["details"]
    assert (details["format"], details["certificates"], details["integrity"]) == ("jks", 3, "verified")
    assert details["entries"] == {"trusted certificate": 2, "private key": 1}
    assert details["anchors"] == ["Amazon Root CA 1", "Starfield Services Root Certificate Authority - G2"]
    assert code == 0


def test_jks_without_a_password_is_read_but_not_verified(jks):
    code, report, _ = truststore(jks)
    assert report["components"][0]["details"]["integrity"] == "not checked"
    assert report["components"][0]["details"]["certificates"] == 3


def test_wrong_password_trusts_nothing_and_says_why(jks, monkeypatch):
    code, _, result = truststore(jks, "--storepass", "not-it")
    assert code == 2 and "keystore password incorrect, or the file was altered" in result.err
    assert "not-it" not in result.err + result.out
    monkeypatch.setenv("KS_PASS", "changeit")
    code, report, _ = truststore(jks, "--storepass-env", "KS_PASS")
    assert report["components"][0]["details"]["integrity"] == "verified"
    assert truststore(jks, "--storepass-env", "UNSET_VARIABLE")[0] == 2


def test_pkcs12_with_a_password(tmp_path):
    store = keystore(tmp_path / "truststore.p12", "PKCS12", "s3cret", AMAZON)
    code, report, _ = truststore(store, "--storepass", "s3cret")
    details = report["components"][0]["details"]
    assert (details["format"], details["integrity"], details["anchors"]) == ("pkcs12", "verified", ["Amazon Root CA 1"])
    code, _, result = truststore(store)
    assert code == 2 and "password-protected: give its password with --storepass" in result.err
    code, _, result = truststore(store, "--storepass", "wrong")
    assert code == 2 and "keystore password incorrect" in result.err


def test_pkcs12_without_a_password(tmp_path):
    """JDK 18 and later can write a PKCS#12 store with neither encryption nor MAC."""
    newer = [k for k in sorted(glob.glob("/usr/lib/jvm/*/bin/keytool")) if "-17-" not in k and "1.17" not in k]
    if not newer:
        pytest.skip("no JDK 18+ keytool here")
    store = tmp_path / "open.p12"
    subprocess.run([newer[-1], "-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE", "-J-Dkeystore.pkcs12.macAlgorithm=NONE",
                    "-importcert", "-noprompt", "-alias", "amazon", "-file", str(AMAZON), "-keystore", str(store),
                    "-storetype", "PKCS12", "-storepass", "changeit"], check=True, capture_output=True)
    code, report, _ = truststore(store)
    details = report["components"][0]["details"]
    assert (details["format"], details["integrity"], details["anchors"]) == (
        "pkcs12", "none (no password protection)", ["Amazon Root CA 1"])


def test_bad_magic(tmp_path):
    bad = tmp_path / "cacerts"
    bad.write_bytes(b"\xfe\xed\xfe\xef" + b"\x00" * 64)
    assert "no certificates found" in truststore(bad)[2].err
    assert read_java_keystore(b"\xfe\xed\xfe\xef" + b"\x00" * 64).problems == ["not a Java KeyStore (magic feedfeef)"]


def test_every_truncation_is_an_error_never_a_crash(jks, tmp_path):
    data = jks.read_bytes()
    for cut in range(1, len(data), 7):
        store = read_java_keystore(data[:cut], "changeit")
        assert store.problems, cut
    path = tmp_path / "cut.jks"
    path.write_bytes(data[: len(data) // 2])
    code, report, result = truststore(path)
    # What was read before the cut is reported with an error entry; if nothing was, the command fails with it.
    messages = result.err if code == 2 else " ".join(e["message"] for e in report["errors"])
    assert "truncated entry at byte" in messages


def test_an_entry_count_in_the_millions_is_refused_at_once(jks):
    data = bytearray(jks.read_bytes())
    data[8:12] = struct.pack(">I", 50_000_000)
    store = read_java_keystore(bytes(data))
    assert store.certificates == [] and "declares 50000000 entries" in store.problems[0]


def test_this_machines_java_cacerts(tmp_path):
    found = [p for p in ["/etc/ssl/certs/java/cacerts", *sorted(glob.glob("/usr/lib/jvm/*/lib/security/cacerts"))]
             if os.path.isfile(p)]
    if not found:
        pytest.skip("no Java cacerts on this machine")
    for password in ([], ["--storepass", "changeit"]):
        code, report, _ = truststore(found[0], *password)
        assert "Amazon Root CA 1" in report["components"][0]["details"]["anchors"]


def test_jceks_trusted_certificates(tmp_path):
    store = keystore(tmp_path / "legacy.jceks", "JCEKS", "changeit", AMAZON)
    code, report, _ = truststore(store, "--storepass", "changeit")
    details = report["components"][0]["details"]
    assert (details["format"], details["integrity"], details["anchors"]) == ("jceks", "verified", ["Amazon Root CA 1"])
