"""The certificates a probe saw, read with `cryptography`: descriptions for the report, which anchor a
verified path ends at, and why an unverified chain failed (untrusted root or incomplete chain)."""

from __future__ import annotations

import datetime as dt
import hashlib
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

from auditor.trust.anchors import Anchor, check_store, load_anchors

if TYPE_CHECKING:
    from cryptography.x509 import Certificate, Name


def parse(der: bytes) -> Certificate | None:
    """A cryptography certificate, or None when it or its names cannot be parsed (cryptography reads the subject
    and issuer only when asked). Old roots (Starfield Class 2) carry a serial number RFC 5280 now disallows, and
    cryptography warns about it: quietly."""
    from cryptography import x509

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            certificate = x509.load_der_x509_certificate(der)
            _ = certificate.subject, certificate.issuer  # parsed here, where a failure is caught
        # InvalidVersion (an X.509 v2 certificate) is no ValueError; TypeError is raised for some odd names
        # (a CN written as a BIT STRING)
        except (ValueError, TypeError, x509.InvalidVersion):
            return None
    return certificate


def describe(der: bytes) -> dict[str, str]:
    """Subject, issuer, SHA-256 of the DER and validity of one certificate."""
    return dict(_describe(der))


@lru_cache(maxsize=1024)  # every probe of an endpoint sees the same certificates
def _describe(der: bytes) -> dict[str, str]:
    sha256 = hashlib.sha256(der).hexdigest()
    certificate = parse(der)
    if certificate is None:
        return {"name": "(not parsable)", "subject": "(not parsable)", "sha256": sha256}
    return {"name": short_name(certificate.subject), "subject": certificate.subject.rfc4514_string(),
            "issuer": certificate.issuer.rfc4514_string(),
            "sha256": sha256, "not_before": _utc(certificate.not_valid_before_utc),
            "not_after": _utc(certificate.not_valid_after_utc)}


def anchor(der: bytes, as_of: str) -> dict[str, str]:
    """The trust anchor a verified path ends at. It is named as an ATS anchor only when it is one by the
    rules' data (fingerprint, or subject and key); a certificate that only carries an anchor's name is
    said to be one that does not count."""
    return dict(_anchor(der, as_of))


@lru_cache(maxsize=256)
def _anchor(der: bytes, as_of: str) -> dict[str, str]:
    described = _describe(der)
    found = {"name": described["name"], "subject": described["subject"], "sha256": described["sha256"]}
    result = check_store([der], _anchors(), as_of)
    if result.anchors or result.expired:
        found["ats_anchor"] = (result.anchors or result.expired)[0]
    elif result.impostors:
        found["note"] = f"named like {result.impostors[0]['name']} but with another key: not the ATS anchor"
    return found


def short_name(name: Name) -> str:
    """A certificate name as people say it: its CN, else its OU, else the whole name."""
    from cryptography.x509.oid import NameOID

    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME):
        attributes = name.get_attributes_for_oid(oid)
        if attributes:
            return str(attributes[0].value)
    return name.rfc4514_string()


def dns_names(der: bytes) -> list[str]:
    """The DNS names a server certificate is valid for (subject alternative names); none when its extensions
    cannot be read (a repeated extension, a malformed name, a kind of name cryptography does not read)."""
    from cryptography import x509

    certificate = parse(der)
    if certificate is None:
        return []
    with warnings.catch_warnings():  # extensions are parsed here, and the old-serial-number warning with them
        warnings.simplefilter("ignore")
        try:
            names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except (x509.ExtensionNotFound, x509.DuplicateExtension, x509.UnsupportedGeneralNameType, ValueError,
                TypeError):  # TypeError: a directory name with a CN written as a BIT STRING
            return []
    return names.get_values_for_type(x509.DNSName)


def validity_problem(sent: list[bytes], expired: bool) -> str:
    """Which certificate the server sent is out of its validity, in words."""
    now = dt.datetime.now(dt.timezone.utc)
    for der in sent:
        certificate = parse(der)
        if certificate is None:
            continue
        if expired and certificate.not_valid_after_utc < now:
            return f"{short_name(certificate.subject)} expired on {_utc(certificate.not_valid_after_utc)}"
        if not expired and certificate.not_valid_before_utc > now:
            return f"{short_name(certificate.subject)} is valid only from {_utc(certificate.not_valid_before_utc)}"
    return ("none of the certificates the server sent is out of its validity: the one OpenSSL rejected comes from "
            "the store (its anchor)")


def why_unverified(sent: list[bytes], store: Sequence[bytes]) -> tuple[str, str]:
    """("incomplete-chain" | "untrusted-root", detail) for a chain whose issuer OpenSSL could not find.

    The chain is followed from the server's certificate through the certificates it sent, by issuer name.
    If it cannot leave the server's own certificate, and the store holds no certificate with the name of
    its issuer either, the server left out its intermediate: incomplete. Otherwise the chain reaches a CA
    certificate (a root or a cross-signed one) whose issuer is not in the store: untrusted root."""
    certificates = [c for c in (parse(der) for der in sent) if c is not None]
    if not certificates:
        return "untrusted-root", "the certificates the server sent cannot be parsed"
    top, steps = certificates[0], 0
    remaining = certificates[1:]
    while top.issuer != top.subject:
        issuer = next((c for c in remaining if c.subject == top.issuer), None)
        if issuer is None:
            break
        remaining.remove(issuer)
        top, steps = issuer, steps + 1
    issuer_name = short_name(top.issuer)
    if steps == 0 and top.issuer != top.subject and not _store_has_subject(store, top.issuer):
        sent_what = "only its own certificate" if len(sent) == 1 else f"{len(sent)} certificates"
        return "incomplete-chain", (f"the server sent {sent_what} but not its issuer {issuer_name}, "
                                    f"and the store does not hold it")
    if top.issuer == top.subject:
        return "untrusted-root", (f"the chain the server sent ends at the self-signed {short_name(top.subject)}, "
                                  f"which the store does not hold")
    return "untrusted-root", (f"the chain the server sent leads to {short_name(top.subject)}, issued by "
                              f"{issuer_name}, which the store does not hold")


def _store_has_subject(store: Sequence[bytes], name: Name) -> bool:
    return any(c is not None and c.subject == name for c in map(parse, store))


@lru_cache(maxsize=1)
def _anchors() -> list[Anchor]:
    return load_anchors()


def _utc(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
