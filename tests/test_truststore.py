"""Trust stores against the ATS anchors: real anchor copies, and certificates made with cryptography and openssl."""

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from auditor.trust.anchors import check_store, load_anchors
from auditor.trust.formats.pem import certificates_in_file
from auditor.rule_data import rules_dir
from conftest import FIXTURES, run

ANCHORS = rules_dir() / "anchors"
AMAZON_ROOT_CA_1 = (ANCHORS / "amazon-root-ca-1.pem").read_bytes()
STARFIELD_CLASS_2 = (ANCHORS / "starfield-class-2-ca.pem").read_bytes()
AMAZON_NAME = x509.Name([x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "US"),
                         x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Amazon"),
                         x509.NameAttribute(x509.NameOID.COMMON_NAME, "Amazon Root CA 1")])


def self_signed(name: x509.Name, key=None, days=3650) -> x509.Certificate:
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.PEM)


def truststore_json(*args):
    result = run("truststore", "--format", "json", "-q", *args)
    return result.code, result.json


def test_real_bundle_text_between_blocks_and_crlf(tmp_path):
    bundle = tmp_path / "ca-bundle.crt"
    other = pem(self_signed(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Corp Root")])))
    text = b"# Corporate bundle\r\nAmazon Root CA 1\r\n=================\r\n" + AMAZON_ROOT_CA_1.replace(b"\n", b"\r\n") + b"\r\n" + other
    bundle.write_bytes(text)
    code, report = truststore_json(bundle)
    assert code == 0
    (store,) = report["components"]
    assert store["kind"] == "trust-store"
    assert store["details"]["format"] == "pem" and store["details"]["certificates"] == 2
    assert store["details"]["anchors"] == ["Amazon Root CA 1"]
    assert [(f["rule"], f["severity"]) for f in report["findings"]] == [("ats-store-trusted", "info")]


def test_store_without_anchor_and_with_an_impostor(tmp_path):
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pem(self_signed(AMAZON_NAME)))  # named like the anchor, another key
    code, report = truststore_json(bundle)
    assert code == 1
    (store,) = report["components"]
    assert store["details"]["anchors"] == []
    assert [i["name"] for i in store["details"]["impostors"]] == ["Amazon Root CA 1"]
    assert sorted((f["rule"], f["severity"]) for f in report["findings"]) == [
        ("ats-store-impostor", "high"), ("ats-store-without-anchor", "critical")]
    critical = next(f for f in report["findings"] if f["severity"] == "critical")
    assert "https://www.amazontrust.com/repository/" in critical["remediation"]


def test_expired_anchor_does_not_count(tmp_path):
    bundle = tmp_path / "only-starfield-class-2.pem"
    bundle.write_bytes(STARFIELD_CLASS_2)
    assert truststore_json(bundle, "--as-of", "2034-06-28")[1]["components"][0]["details"]["anchors"] == [
        "Starfield Class 2 Certification Authority"]
    code, report = truststore_json(bundle, "--as-of", "2034-06-30")
    details = report["components"][0]["details"]
    assert code == 1
    assert details["anchors"] == [] and details["expired"] == ["Starfield Class 2 Certification Authority"]
    assert run("truststore", "--as-of", "tomorrow", bundle).code == 2


def test_der_file_trusted_certificate_block_and_hashed_directory(tmp_path):
    der = tmp_path / "AmazonRootCA1.cer"
    der.write_bytes(x509.load_pem_x509_certificate(AMAZON_ROOT_CA_1).public_bytes(Encoding.DER))
    trusted = tmp_path / "trusted.pem"
    (tmp_path / "anchor.pem").write_bytes(AMAZON_ROOT_CA_1)
    subprocess.run(["openssl", "x509", "-in", tmp_path / "anchor.pem", "-addtrust", "serverAuth", "-trustout", "-out", trusted], check=True)
    assert b"BEGIN TRUSTED CERTIFICATE" in trusted.read_bytes()
    hashed = tmp_path / "certs"
    hashed.mkdir()
    shutil.copy(tmp_path / "anchor.pem", hashed / "Amazon_Root_CA_1.pem")
    (hashed / "corp.pem").write_bytes(pem(self_signed(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Corp")]))))
    subprocess.run(["openssl", "rehash", hashed], check=True)
    assert any(p.name.endswith(".0") and p.is_symlink() for p in hashed.iterdir())
    code, report = truststore_json(der, trusted, hashed)
    assert code == 0
    found = {c["location"].rsplit("/", 1)[1]: c["details"] for c in report["components"]}
    assert found["AmazonRootCA1.cer"]["format"] == "der"
    assert found["trusted.pem"]["anchors"] == ["Amazon Root CA 1"]
    assert found["certs"]["format"] == "directory"
    assert found["certs"]["certificates"] == 2  # each certificate once, though linked under two names
    assert all(d["anchors"] == ["Amazon Root CA 1"] for d in found.values())


def test_bad_input_is_an_error_entry(tmp_path):
    truncated = tmp_path / "truncated.pem"
    truncated.write_bytes(b"\n".join(AMAZON_ROOT_CA_1.split(b"\n")[:5]) + b"\n-----END CERTIFICATE-----\n" + STARFIELD_CLASS_2)
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
    code, report = truststore_json(truncated, garbage)
    messages = {e["location"].rsplit("/", 1)[1]: e["message"] for e in report["errors"]}
    assert "truncated DER" in messages["truncated.pem"]
    assert "invalid base64" in messages["garbage.pem"]
    assert report["components"][0]["details"]["anchors"] == ["Starfield Class 2 Certification Authority"]
    assert run("truststore", tmp_path / "missing.pem").code == 2


def test_reissued_anchor_with_the_same_subject_and_key_counts(tmp_path):
    """The anchor check on a test anchor set whose private key we hold."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Test Root CA 1")])
    original, reissued = self_signed(name, key), self_signed(name, key, days=7000)
    (tmp_path / "anchors").mkdir()
    (tmp_path / "anchors" / "test.pem").write_bytes(pem(original))
    sha = hashlib.sha256(original.public_bytes(Encoding.DER)).hexdigest()
    key_sha = hashlib.sha256(key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    (tmp_path / "anchors.toml").write_text(f'[[anchors]]\nname = "Test Root CA 1"\nsha256 = "{sha}"\n'
                                           f'not_after = "2099-01-01T00:00:00Z"\nfile = "test.pem"\n'
                                           f'subject = [["2.5.4.3", "Test Root CA 1"]]\npublic_key_sha256 = "{key_sha}"\n')
    anchors = load_anchors(tmp_path)
    issued_by_it = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "leaf")]))
                    .issuer_name(name).public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
                    .serial_number(1).not_valid_before(original.not_valid_before_utc)
                    .not_valid_after(original.not_valid_after_utc).sign(key, hashes.SHA256()))
    result = check_store([reissued.public_bytes(Encoding.DER), issued_by_it.public_bytes(Encoding.DER)], anchors, "2026-11-28")
    assert result.anchors == ["Test Root CA 1"]
    assert result.impostors == []  # the leaf names the anchor as issuer only


@pytest.mark.parametrize("data,expected", [(b"\x30\x82\xff\xff\x00", "der"), (b"not a certificate", "pem")])
def test_files_that_are_no_store(data, expected):
    fmt, certificates, problems = certificates_in_file(data)
    assert (fmt, certificates) == (expected, []) and problems


def test_a_certificate_cryptography_refuses_is_counted_unparsable(tmp_path):
    """Named like an anchor (so it must be parsed to be judged), but its signature algorithm field is mangled."""
    der = bytearray(self_signed(AMAZON_NAME).public_bytes(Encoding.DER))
    oid = der.find(bytes.fromhex("06082a8648ce3d040302"))  # ecdsa-with-SHA256
    der[oid + 2:oid + 10] = b"\xff" * 8
    bundle = tmp_path / "bundle.der"
    bundle.write_bytes(bytes(der))
    code, report = truststore_json(bundle)
    details = report["components"][0]["details"]
    assert (details["certificates"], details["unparsable"], details["anchors"], details["impostors"]) == (1, 1, [], [])
    assert code == 1


def test_the_shipped_anchor_data_matches_the_certificate_copies():
    """rules/anchors.toml carries each anchor's fingerprint, subject and key hash, so runs need not parse
    the copies; they must agree with the PEM files beside it."""
    import warnings

    import tomli

    for entry in tomli.loads((rules_dir() / "anchors.toml").read_text())["anchors"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Starfield Class 2's serial number
            certificate = x509.load_pem_x509_certificate((ANCHORS / entry["file"]).read_bytes())
        spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        assert hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest() == entry["sha256"]
        assert hashlib.sha256(spki).hexdigest() == entry["public_key_sha256"]
        assert [[a.oid.dotted_string, a.value] for a in certificate.subject] == entry["subject"]
        assert certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ") == entry["not_after"]
        assert entry["subject"][-1][1] == entry["name"]


def test_a_directory_of_100000_files_is_bounded_work(tmp_path):
    """The cap on certificate files read, and one summary entry for the problems past the first 20."""
    from auditor.trust.formats import MAX_DIRECTORY_FILES

    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "00000000.0").write_bytes(AMAZON_ROOT_CA_1)
    for number in range(100_000):
        (folder / f"junk-{number:06}.pem").touch()
    code, report = truststore_json(folder)
    details = report["components"][0]["details"]
    assert (details["certificates"], details["anchors"]) == (1, ["Amazon Root CA 1"])
    messages = [e["message"] for e in report["errors"]]
    assert f"100001 certificate files; only the first {MAX_DIRECTORY_FILES} (by name) are read" in messages
    assert len(messages) == 22 and messages.count(f"{MAX_DIRECTORY_FILES - 21} more problems in its files, not listed") == 1


def test_truststore_command_imports_no_scan_probe_or_report_machinery_it_does_not_use(tmp_path):
    """Start-up is most of a short command's time: `auditor truststore` loads what reading and judging a store
    needs, not the scan, the probe, the other report formats, packaging or an X.509 parser for exact anchors."""
    store = FIXTURES / "keystores" / "truststore.jks"
    out = tmp_path / "report.json"
    code = ("import sys\nfrom auditor.cli.main import main\n"
            f"code = main(['truststore', {str(store)!r}, '--storepass', 'changeit', '-q', '--format', 'json', '-o', {str(out)!r}])\n"
            "print(code, ' '.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    status, modules = done.stdout.split(" ", 1)
    modules = set(modules.split())
    assert status == "0" and json.loads(out.read_text())["summary"]
    assert "auditor.runs.truststore" in modules  # the command did run
    unused = {"auditor.runs.scan", "auditor.live_probe", "auditor.collect.tree", "auditor.collect.python.lockfiles",
              "auditor.collect.python.python_env", "auditor.report.html", "auditor.report.sarif", "packaging", "cryptography",
              "ssl", "socket", "concurrent.futures",
              "dataclasses", "inspect", "typing"}  # records (auditor.records) and annotations only: start-up time
    assert sorted(unused & modules) == []
