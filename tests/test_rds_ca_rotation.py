"""The rds-ca-rotation pack: database CA bundles that hold only the old RDS CAs, and settings that pin the old CA's
file, in a tree made like a real project's (PEM bundles written with `cryptography`, a libpq connection string in a
config file, PGSSLROOTCERT in an env file). A default scan reads none of it."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auditor.trust.db_bundles import classify
from conftest import scan_json

OLD_ROOT = "Amazon RDS Root 2019 CA"
NEW_ROOTS = ("Amazon RDS us-east-1 Root CA RSA2048 G1", "Amazon RDS eu-west-3 Root CA ECC384 G1")


def _ca(common_name: str, organization: str = "Amazon Web Services, Inc.", unit: str = "Amazon RDS") -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("app")
    (root / "certs").mkdir()
    (root / "certs" / "rds-ca-2019-root.pem").write_bytes(_ca(OLD_ROOT))
    (root / "certs" / "global-bundle.pem").write_bytes(_ca(OLD_ROOT) + b"".join(_ca(cn) for cn in NEW_ROOTS))
    # Named like nothing RDS publishes, but holding the old CA (and another CA beside it).
    (root / "certs" / "db-trust.pem").write_bytes(_ca("Example Corp Root") + _ca("Amazon RDS eu-west-1 2019 CA"))
    (root / "certs" / "unrelated.pem").write_bytes(_ca("Example Corp Root"))
    (root / "config").mkdir()
    (root / "config" / "database.ini").write_text(
        "[postgres]\n# orders database\n"
        "dsn = host=orders.abc.eu-west-1.rds.amazonaws.com dbname=orders user=app password=s3cret-pass "
        "sslmode=verify-full sslrootcert=/app/certs/rds-ca-2019-root.pem\n"
        "replica = postgresql://app:s3cret-pass@replica.example/orders?sslmode=verify-full&sslrootcert=certs/global-bundle.pem\n")
    (root / ".env").write_text("DB_HOST=orders.abc.eu-west-1.rds.amazonaws.com\nPGSSLMODE=verify-full\n"
                               "PGSSLROOTCERT=/app/certs/rds-ca-2019-root.pem\n")
    (root / "my.cnf").write_text("[client]\nssl-ca = /etc/mysql/rds-combined-ca-bundle.pem\nssl-mode = VERIFY_IDENTITY\n")
    return root


def test_classify_tells_old_from_new_by_subject():
    ders = [x509.load_pem_x509_certificate(_ca(cn)).public_bytes(serialization.Encoding.DER)
            for cn in (OLD_ROOT, *NEW_ROOTS, "Amazon RDS us-east-1 Root CA RSA2048 G1 (copy)")]
    ders.append(x509.load_pem_x509_certificate(_ca(NEW_ROOTS[0], organization="Example Corp"))
                .public_bytes(serialization.Encoding.DER))
    held, unparsable = classify(ders)
    # A CN that only starts like one, or the right CN under another organization, is not an RDS CA.
    assert held == {"rds-ca-2019": [OLD_ROOT], "rds-ca-rsa2048-g1": [NEW_ROOTS[0]], "rds-ca-ecc384-g1": [NEW_ROOTS[1]]}
    assert unparsable == 0


def test_bundles_holding_only_the_old_ca_are_found(project):
    report = scan_json("--pack", "rds-ca-rotation", project)
    bundles = {c["name"]: c for c in report["components"] if c["kind"] == "db-ca-bundle"}
    assert set(bundles) == {"rds-ca-2019-root.pem", "global-bundle.pem", "db-trust.pem"}  # unrelated.pem is not one
    assert bundles["global-bundle.pem"]["details"]["new_cas"] == ["rds-ca-ecc384-g1", "rds-ca-rsa2048-g1"]
    assert bundles["db-trust.pem"]["source"] == "certificates held"
    flagged = {f["component"]: f for f in report["findings"] if f["rule"] == "rds-bundle-old-ca-only"}
    assert set(flagged) == {bundles["rds-ca-2019-root.pem"]["id"], bundles["db-trust.pem"]["id"]}
    finding = flagged[bundles["rds-ca-2019-root.pem"]["id"]]
    assert finding["severity"] == "high" and "holds rds-ca-2019 but none of the new RDS CAs" in finding["title"]
    assert "global-bundle.pem" in finding["remediation"]
    assert any("no fingerprint could be verified" in e["summary"] for e in finding["evidence"])


def test_settings_pinning_the_old_ca_point_at_file_and_line(project):
    report = scan_json("--pack", "rds-ca-rotation", project)
    settings = [c for c in report["components"] if c["kind"] == "trust-config"]
    assert sorted((c["name"], c["location"].rsplit("/", 1)[-1], c["line"], c["details"]["found_in"]) for c in settings) == [
        ("PGSSLROOTCERT", ".env", 3, "config file"), ("ssl-ca", "my.cnf", 2, "config file"),
        ("sslrootcert", "database.ini", 3, "config file"), ("sslrootcert", "database.ini", 4, "config file")]
    pinned = [f for f in report["findings"] if f["rule"] == "rds-setting-pins-old-ca"]
    where = {(f["title"].split(" makes")[0], e.get("line")) for f in pinned for e in f["evidence"] if e.get("line")}
    assert where == {("PGSSLROOTCERT=/app/certs/rds-ca-2019-root.pem", 3), ("sslrootcert=/app/certs/rds-ca-2019-root.pem", 3)}
    # The connection string's password never reaches the report.
    assert "s3cret-pass" not in str(report)


def test_a_default_scan_reads_none_of_it(project):
    report = scan_json(project)
    assert not [c for c in report["components"] if c["kind"] in ("db-ca-bundle", "trust-config")]
    tree = next(t for t in report["targets"] if t["kind"] == "tree")
    assert "PEM files (database CA bundles)" not in tree["details"]["searched"]


def test_s3_cloudfront_pack_judges_a_store_without_an_ats_anchor(tmp_path):
    """The 2021 S3/CloudFront pack reuses the store check: a bundle of a self-made CA gets its finding, citing the
    Knowledge Center article; the shipped ATS anchors get none."""
    from auditor.rule_data import rules_dir
    from conftest import run

    bundle = tmp_path / "corp-bundle.pem"
    bundle.write_bytes(_ca("Example Corp Root", organization="Example Corp", unit="IT"))
    report = run("truststore", "--pack", "s3-cloudfront-ats-2021", "--format", "json", bundle).json
    findings = [f for f in report["findings"] if f["rule"] == "s3-cloudfront-store-without-anchor"]
    assert len(findings) == 1 and findings[0]["severity"] == "critical" and findings[0]["pack"] == "s3-cloudfront-ats-2021"
    assert "https://repost.aws/knowledge-center/s3-cloudfront-certificate-migration" in findings[0]["references"]
    anchors = run("truststore", "--pack", "s3-cloudfront-ats-2021", "--format", "json",
                  rules_dir() / "anchors" / "amazon-root-ca-1.pem").json
    assert not [f for f in anchors["findings"] if f["rule"] == "s3-cloudfront-store-without-anchor"]
