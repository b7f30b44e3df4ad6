"""Java keystores made by keytool: JKS (trusted certificates and a private key's chain), PKCS#12 with and
without a password, and every way such a file can be broken."""

from __future__ import annotations

import glob
import os
import shutil
import struct
import subprocess
import time

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from auditor.trust.formats import read_store
from auditor.trust.formats.jks import read_java_keystore
from auditor.trust.formats.pkcs12 import read_pkcs12
from auditor.fs import View
from conftest import run
from test_java_trust import keystore
from test_truststore import AMAZON_NAME, ANCHORS, self_signed

pytestmark = pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (a JDK) is not installed")
AMAZON = ANCHORS / "amazon-root-ca-1.pem"
STARFIELD_G2 = ANCHORS / "starfield-services-root-ca-g2.pem"


def newer_keytool() -> str | None:
    """A keytool of JDK 18 or later, which can write PKCS#12 stores without encryption or MAC."""
    newer = [k for k in sorted(glob.glob("/usr/lib/jvm/*/bin/keytool")) if "-17-" not in k and "1.17" not in k]
    return newer[-1] if newer else None


def genkeypair(path, store_type, alias="service"):
    subprocess.run(["keytool", "-genkeypair", "-alias", alias, "-keyalg", "EC", "-dname", f"CN={alias}",
                    "-keystore", str(path), "-storetype", store_type, "-storepass", "changeit", "-keypass", "changeit"],
                   check=True, capture_output=True)


def truststore(*args):
    result = run("truststore", "--format", "json", "-q", *args)
    return result.code, (result.json if result.out else None), result


@pytest.fixture(scope="module")
def jks(tmp_path_factory):
    """Two trusted roots and a key pair whose self-signed certificate is its chain."""
    path = keystore(tmp_path_factory.mktemp("jks") / "truststore.jks", "JKS", "changeit", AMAZON, STARFIELD_G2)
    genkeypair(path, "JKS")
    return path


def test_jks_with_the_password_is_verified(jks):
    code, report, _ = truststore(jks, "--storepass", "changeit")
    (store,) = report["components"]
    details = store["details"]
    assert (details["format"], details["certificates"], details["integrity"]) == ("jks", 3, "verified")
    assert details["entries"] == {"trusted certificate": 2, "private key": 1}
    assert details["anchors"] == ["Amazon Root CA 1", "Starfield Services Root Certificate Authority - G2"]
    assert code == 0
    # The key pair's certificate, its one-certificate chain, is read with the trusted ones.
    certificates = read_java_keystore(jks.read_bytes(), "changeit").certificates
    assert any(b"service" in der and b"Amazon" not in der for der in certificates)


def test_a_made_up_amazon_root_in_a_jks_is_an_impostor(tmp_path):
    pem = tmp_path / "fake.pem"
    pem.write_bytes(self_signed(AMAZON_NAME).public_bytes(Encoding.PEM))
    code, report, _ = truststore(keystore(tmp_path / "fake.jks", "JKS", "changeit", pem), "--storepass", "changeit")
    details = report["components"][0]["details"]
    assert (details["anchors"], [i["name"] for i in details["impostors"]]) == ([], ["Amazon Root CA 1"])


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


def test_a_wrong_password_next_to_another_store_is_an_error_entry(jks):
    """The report goes on with the other stores; the keystore is listed only as an error, none of it trusted."""
    code, report, result = truststore(jks, AMAZON, "--storepass", "not-it")
    assert [c["details"]["format"] for c in report["components"]] == ["pem"]
    assert [e["location"] for e in report["errors"]] == [str(jks)]
    assert "integrity check failed" in report["errors"][0]["message"]
    assert "not-it" not in result.out + result.err


def test_the_password_is_never_printed(jks, monkeypatch):
    for output in ("table", "json"):
        result = run("truststore", jks, "--storepass", "Sekrit-42", "--format", output)
        assert "Sekrit-42" not in result.out + result.err
    monkeypatch.setenv("KS_PASS", "changeit")
    result = run("truststore", jks, "--storepass-env", "KS_PASS", "--format", "json")
    assert result.code == 0 and "changeit" not in result.out + result.err


def test_pkcs12_with_a_password(tmp_path):
    store = keystore(tmp_path / "truststore.p12", "PKCS12", "s3cret", AMAZON)
    code, report, _ = truststore(store, "--storepass", "s3cret")
    details = report["components"][0]["details"]
    assert (details["format"], details["integrity"], details["anchors"]) == ("pkcs12", "verified", ["Amazon Root CA 1"])
    code, _, result = truststore(store)
    assert code == 2 and "password-protected: give its password with --storepass" in result.err
    code, _, result = truststore(store, "--storepass", "wrong")
    assert code == 2 and "keystore password incorrect" in result.err


def test_pkcs12_with_a_private_key(tmp_path):
    store = keystore(tmp_path / "keys.p12", "PKCS12", "changeit", AMAZON)
    genkeypair(store, "PKCS12")
    details = truststore(store, "--storepass", "changeit")[1]["components"][0]["details"]
    assert (details["certificates"], details["entries"], details["anchors"]) == (
        2, {"certificate bag": 2}, ["Amazon Root CA 1"])


def test_pkcs12_without_a_password(tmp_path):
    """JDK 18 and later can write a PKCS#12 store with neither encryption nor MAC: there is nothing
    a password could verify, so none is asked for and a given one changes nothing."""
    if newer_keytool() is None:
        pytest.skip("no JDK 18+ keytool here")
    store = tmp_path / "open.p12"
    subprocess.run([newer_keytool(), "-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE",
                    "-J-Dkeystore.pkcs12.macAlgorithm=NONE", "-importcert", "-noprompt", "-alias", "amazon",
                    "-file", str(AMAZON), "-keystore", str(store), "-storetype", "PKCS12", "-storepass", "changeit"],
                   check=True, capture_output=True)
    for password in ([], ["--storepass", "changeit"], ["--storepass", "anything"]):
        code, report, _ = truststore(store, *password)
        details = report["components"][0]["details"]
        assert (details["format"], details["integrity"], details["anchors"]) == (
            "pkcs12", "none (the store has no MAC)", ["Amazon Root CA 1"])


def test_pkcs12_with_a_mac_and_clear_certificates_still_needs_the_password(tmp_path):
    if newer_keytool() is None:
        pytest.skip("no JDK 18+ keytool here")
    store = tmp_path / "mac-only.p12"
    subprocess.run([newer_keytool(), "-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE", "-importcert", "-noprompt",
                    "-alias", "amazon", "-file", str(AMAZON), "-keystore", str(store), "-storetype", "PKCS12",
                    "-storepass", "changeit"], check=True, capture_output=True)
    assert "give its password with --storepass" in truststore(store)[2].err
    assert truststore(store, "--storepass", "changeit")[1]["components"][0]["details"]["integrity"] == "verified"


def test_bad_magic(tmp_path):
    bad = tmp_path / "cacerts"
    bad.write_bytes(b"\xfe\xed\xfe\xef" + b"\x00" * 64)
    assert "no certificates found (not a PEM bundle, a DER certificate or a keystore)" in truststore(bad)[2].err
    assert read_java_keystore(b"\xfe\xed\xfe\xef" + b"\x00" * 64).problems == ["not a Java KeyStore (magic feedfeef)"]


def test_every_truncation_is_an_error_never_a_crash(jks, tmp_path):
    data = jks.read_bytes()
    for cut in range(0, len(data)):
        assert read_java_keystore(data[:cut]).problems, cut
        assert read_java_keystore(data[:cut], "changeit").problems, cut
    view, path = View(str(tmp_path)), tmp_path / "cut.jks"
    for cut in range(0, len(data), 97):
        path.write_bytes(data[:cut])
        assert read_store(view, str(path)).errors, cut
    path = tmp_path / "cut.jks"
    path.write_bytes(data[: len(data) // 2])
    code, report, result = truststore(path)
    # What was read before the cut is reported with an error entry; if nothing was, the command fails with it.
    messages = result.err if code == 2 else " ".join(e["message"] for e in report["errors"])
    assert "truncated entry at byte" in messages


def test_a_truncated_pkcs12_is_an_error_never_a_crash(tmp_path):
    data = keystore(tmp_path / "truststore.p12", "PKCS12", "changeit", AMAZON).read_bytes()
    for cut in range(0, len(data), 13):
        assert read_pkcs12(data[:cut], "changeit").problems, cut
    assert read_pkcs12(data[:600]).problems == [f"truncated: the store declares {len(data)} bytes, the file has 600"]


def test_an_unknown_entry_tag_stops_reading(jks):
    data = bytearray(jks.read_bytes())
    data[12:16] = struct.pack(">I", 9)
    assert read_java_keystore(bytes(data)).problems == ["unknown entry tag 9 at byte 12; entries after it are not read"]


def test_an_entry_count_in_the_millions_is_refused_at_once(jks):
    data = bytearray(jks.read_bytes())
    data[8:12] = struct.pack(">I", 50_000_000)
    start = time.process_time()
    store = read_java_keystore(bytes(data))
    assert time.process_time() - start < 0.1
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


def test_a_jceks_secret_key_stops_reading_cleanly(tmp_path):
    store = keystore(tmp_path / "secrets.jceks", "JCEKS", "changeit", AMAZON)
    subprocess.run(["keytool", "-genseckey", "-alias", "db-secret", "-keyalg", "AES", "-keysize", "128",
                    "-keystore", str(store), "-storetype", "JCEKS", "-storepass", "changeit"],
                   check=True, capture_output=True)
    read = read_java_keystore(store.read_bytes(), "changeit")
    # The digest covers the whole file, so the integrity is known even though the secret key is not read.
    assert read.integrity == "verified"
    assert read.problems == ["entry 'db-secret' is a secret key (a serialized Java object), not supported; "
                             "entries after it are not read"]
