"""The ATS trust anchors (rules/anchors.toml) and the check of a store against them.

Certificates are matched on the SHA-256 of their DER first. Only a certificate
whose bytes contain the most specific value of an anchor's subject (its CN or OU
text, the same bytes whatever string type encodes it) is parsed with
`cryptography`, to tell a re-issued anchor (same subject and key: it counts) from
an impostor (same subject, another key: it never counts). Subjects are compared
attribute by attribute, so a copy that encodes the name as UTF8String instead of
PrintableString is still recognised.
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings

from auditor.records import field, mutable_record, record
from auditor.rule_data import parsed_toml, rules_path

TYPE_CHECKING = False  # not typing's: start-up (typing costs every command about 4 ms)

if TYPE_CHECKING:
    from pathlib import Path

    from cryptography.x509 import Certificate, Name


@record
class Anchor:
    """An ATS trust anchor as rules/anchors.toml describes it."""

    name: str
    sha256: str
    not_after: str  # UTC, ISO 8601
    subject: tuple[tuple[str, str | bytes], ...]  # ((oid, value), …)
    marker: bytes  # the subject's last attribute value, searched for before parsing
    public_key_sha256: str  # of the SubjectPublicKeyInfo DER
    debian_file: str = ""  # its name in /etc/ca-certificates.conf
    file: str = ""  # its shipped PEM copy, beside anchors.toml in anchors/


@record
class ShippedCopy:
    """An anchor's PEM copy that ships with the rules, checked against its fingerprint when read."""

    anchor: Anchor
    path: Path
    pem: bytes  # one certificate, as the file holds it


@mutable_record
class AnchorCheck:
    """Which anchors a store holds, valid, expired or distrusted, and the impostors of any."""

    certificates: int
    anchors: list[str] = field(default_factory=list)  # valid anchors present
    expired: list[str] = field(default_factory=list)
    distrusted: list[str] = field(default_factory=list)  # present, but on the machine's distrust list
    impostors: list[dict[str, str]] = field(default_factory=list)
    unparsable: int = 0


def _public_key_der(certificate: Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def load_anchors(directory: str | Path | None = None) -> list[Anchor]:
    """The anchors as data: nothing is parsed, so a store that holds only exact copies needs no X.509 parser.
    Read once per rules folder: every archive and every scan's store book asks for them."""
    return list(_anchors_in(str(directory or rules_path())))


@functools.lru_cache(maxsize=4)
def _anchors_in(directory: str) -> tuple[Anchor, ...]:
    with open(os.path.join(directory, "anchors.toml"), encoding="utf-8") as file:
        data = parsed_toml(file.read().encode("utf-8"))  # read as text: its line ends as they always were
    anchors = []
    for entry in data["anchors"]:
        subject = tuple((oid, value) for oid, value in entry["subject"])
        anchors.append(Anchor(entry["name"], entry["sha256"], entry["not_after"], subject, subject[-1][1].encode("utf-8"),
                              entry["public_key_sha256"], entry.get("debian_file", ""), entry.get("file", "")))
    return tuple(anchors)


def shipped_copies(directory: str | Path | None = None) -> list[ShippedCopy]:
    """The shipped PEM copy of every anchor, each checked: ValueError when a copy is missing, holds anything but one
    certificate, or is not the certificate its SHA-256 names (a copy someone edited is never handed out)."""
    import base64
    from pathlib import Path

    folder = Path(directory or rules_path())
    copies = []
    for anchor in load_anchors(folder):
        path = folder / "anchors" / anchor.file
        pem = path.read_bytes()
        blocks = pem.split(b"-----BEGIN CERTIFICATE-----")
        if len(blocks) != 2 or b"-----END CERTIFICATE-----" not in blocks[1]:
            raise ValueError(f"{path}: not one PEM certificate")
        body = blocks[1].split(b"-----END CERTIFICATE-----")[0]
        if hashlib.sha256(base64.b64decode(b"".join(body.split()))).hexdigest() != anchor.sha256:
            raise ValueError(f"{path}: not {anchor.name} (its SHA-256 differs from anchors.toml's)")
        copies.append(ShippedCopy(anchor, path, pem))
    return copies


def check_store(certificates: list[bytes], anchors: list[Anchor], as_of: str,
                distrusted: frozenset[str] = frozenset()) -> AnchorCheck:
    """Which anchors the certificates hold, valid at `as_of` (YYYY-MM-DD) and not in
    `distrusted` (anchor names), and which impostors."""
    by_fingerprint = {a.sha256: a for a in anchors}
    result = AnchorCheck(len(certificates))
    present: dict[str, str] = {}  # anchor name -> not_after of the copy found
    for der in certificates:
        anchor = by_fingerprint.get(hashlib.sha256(der).hexdigest())
        if anchor is not None:
            present[anchor.name] = max(present.get(anchor.name, ""), anchor.not_after)
            continue
        for anchor in anchors:
            if anchor.marker in der:
                _compare(der, anchor, present, result)
    for name, not_after in sorted(present.items()):
        if name in distrusted:
            result.distrusted.append(name)
        else:
            (result.anchors if not_after[:10] > as_of else result.expired).append(name)
    return result


def _compare(der: bytes, anchor: Anchor, present: dict[str, str], result: AnchorCheck) -> None:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm

    # Quietly: old roots such as Starfield Class 2 (2004) carry a serial number RFC 5280 now disallows, and
    # cryptography warns about that, and about odd names when it reads them.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            certificate = x509.load_der_x509_certificate(der)
            if subject_key(certificate.subject) != anchor.subject:
                return  # issued by the anchor, not the anchor itself
            not_after = certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
            try:
                key = hashlib.sha256(_public_key_der(certificate)).hexdigest()
            except UnsupportedAlgorithm:
                key = None  # a key cryptography cannot load (an unknown curve) is not the anchor's, which it can
        # InvalidVersion (an X.509 v2 certificate) is no ValueError; TypeError is raised for some odd names
        # (a CN written as a BIT STRING)
        except (ValueError, TypeError, x509.InvalidVersion):
            result.unparsable += 1
            return
    if key == anchor.public_key_sha256:
        present[anchor.name] = max(present.get(anchor.name, ""), not_after)
    else:
        result.impostors.append({"name": anchor.name, "sha256": hashlib.sha256(der).hexdigest(), "not_after": not_after})


def subject_key(name: Name) -> tuple[tuple[str, str | bytes], ...]:
    """A distinguished name as (OID, value) pairs: equal names compare equal whatever their string encoding."""
    return tuple((attribute.oid.dotted_string, attribute.value) for attribute in name)

