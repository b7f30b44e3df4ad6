"""Anchor check of a 10,000-certificate PEM bundle, in process (each the best of 5 runs), against
- 'base64 + SHA-256 loop': decode every block and hash it, nothing else (target: within 1.5x);
- 'full parse': load every certificate with cryptography and read its fingerprint, subject and expiry
  (reported, not a target). cryptography's own bundle loader rejects a whole bundle for one bad block,
  which is why the auditor splits blocks itself."""

import base64
import datetime as dt
import hashlib
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from auditor.trust.anchors import check_store, load_anchors
from auditor.trust.formats.pem import certificates_in_file
from auditor.rule_data import rules_dir
from _common import best_in_process

COUNT = 10_000
BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def make_bundle() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    parts = [(rules_dir() / "anchors" / "amazon-root-ca-1.pem").read_bytes()]
    for i in range(COUNT - 1):
        name = x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "Bench CA"),
                          x509.NameAttribute(x509.NameOID.COMMON_NAME, f"Bench Root {i}")])
        certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                       .serial_number(i + 1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
                       .sign(key, hashes.SHA256()))
        parts.append(certificate.public_bytes(Encoding.PEM))
    return b"".join(parts)




def main() -> None:
    bundle = make_bundle()
    anchors = load_anchors()

    def ours():
        _, certificates, _ = certificates_in_file(bundle)
        assert check_store(certificates, anchors, "2026-11-28").anchors == ["Amazon Root CA 1"]

    def bare():
        for match in BLOCK.finditer(bundle):
            hashlib.sha256(base64.b64decode(b"".join(match.group(1).split()))).hexdigest()

    def full_parse():
        # What a check that parses everything does: fingerprint, subject and expiry of each certificate.
        for certificate in x509.load_pem_x509_certificates(bundle):
            certificate.fingerprint(hashes.SHA256()), certificate.subject.rfc4514_string(), certificate.not_valid_after_utc

    measured, baseline, parsed = best_in_process(ours), best_in_process(bare), best_in_process(full_parse, 3)
    print(f"anchor check of {COUNT} certificates: {measured * 1000:.1f} ms; baseline 'base64 + SHA-256 loop': "
          f"{baseline * 1000:.1f} ms; ratio {measured / baseline:.2f}x (target <= 1.5x)")
    print(f"  full parse with cryptography: {parsed * 1000:.1f} ms; ratio to the anchor check {parsed / measured:.2f}")


if __name__ == "__main__":
    main()
