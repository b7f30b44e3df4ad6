"""Certificates in a PEM bundle or a DER file, as DER bytes, without parsing them as X.509.

PEM bundles hold text between blocks, CRLF line ends, and OpenSSL's `TRUSTED
CERTIFICATE` blocks, whose DER is the certificate followed by its trust settings:
the certificate is the leading DER SEQUENCE, cut out by its length.
"""

from __future__ import annotations

import base64
import binascii
import re

_BLOCK = re.compile(rb"-----BEGIN (TRUSTED CERTIFICATE|CERTIFICATE|X509 CERTIFICATE)-----(.*?)-----END \1-----", re.S)


def certificates_in_file(data: bytes) -> tuple[str, list[bytes], list[str]]:
    """(format, certificates, problems) for a file's bytes."""
    if data[:1] == b"\x30":
        der = leading_sequence(data)
        if der is None:
            return "der", [], ["not a PEM bundle, and not a complete DER certificate"]
        return "der", [der], []
    certificates, problems = [], []
    for number, match in enumerate(_BLOCK.finditer(data), 1):
        try:
            der = base64.b64decode(b"".join(match.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            problems.append(f"certificate block {number}: invalid base64; skipped")
            continue
        certificate = leading_sequence(der)
        if certificate is None:
            problems.append(f"certificate block {number}: truncated DER; skipped")
            continue
        certificates.append(certificate)
    if not certificates and not problems:
        problems.append("no certificates found (not a PEM bundle, a DER certificate or a keystore)")
    return "pem", certificates, problems


def leading_sequence(der: bytes) -> bytes | None:
    """The DER SEQUENCE at the start of `der` (tag, length, content), or None if it is cut short."""
    if len(der) < 2 or der[0] != 0x30:
        return None
    length, offset = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or len(der) < 2 + count:
            return None
        length, offset = int.from_bytes(der[2:2 + count], "big"), 2 + count
    end = offset + length
    return der[:end] if end <= len(der) else None
