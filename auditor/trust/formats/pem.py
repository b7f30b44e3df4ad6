"""Certificates in a PEM bundle or a DER file, as DER bytes, without parsing them as X.509.

PEM bundles hold text between blocks, CRLF line ends, and OpenSSL's `TRUSTED
CERTIFICATE` blocks, whose DER is the certificate followed by its trust settings:
the certificate is the leading DER SEQUENCE, cut out by its length.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterator



@functools.cache
def _begin() -> re.Pattern[bytes]:
    """Compiled when a PEM file is first read: a keystore-only command (`auditor truststore cacerts`) never needs it."""
    return re.compile(rb"-----BEGIN (TRUSTED CERTIFICATE|CERTIFICATE|X509 CERTIFICATE)-----")


MEMO_LIMIT = 1024 * 1024  # a CA bundle is a few hundred kilobytes; larger files are parsed each time, never held


def certificates_in_file(data: bytes) -> tuple[str, list[bytes], list[str]]:
    """(format, certificates, problems) for a file's bytes. The same bundle shipped many times (botocore's and
    certifi's cacert.pem in every environment, a Lambda package's copies) is parsed once."""
    if len(data) > MEMO_LIMIT:
        return _certificates_in(data)
    store_format, certificates, problems = _remembered(data)
    return store_format, list(certificates), list(problems)


@functools.lru_cache(maxsize=32)
def _remembered(data: bytes) -> tuple[str, tuple[bytes, ...], tuple[str, ...]]:
    store_format, certificates, problems = _certificates_in(data)
    return store_format, tuple(certificates), tuple(problems)


def _certificates_in(data: bytes) -> tuple[str, list[bytes], list[str]]:
    # A certificate is a SEQUENCE of more than 127 bytes, so its length is in the long form (0x81-0x84): a
    # bundle whose text starts with "0" (0x30) is no DER.
    if data[:1] == b"\x30" and data[1:2] > b"\x80":
        der = leading_sequence(data)
        if der is None:
            return "der", [], ["not a PEM bundle, and not a complete DER certificate"]
        return "der", [der], []
    certificates, problems = [], []
    for number, text in enumerate(_blocks(data), 1):
        try:
            der = base64.b64decode(b"".join(text.split()), validate=True)
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


def _blocks(data: bytes) -> Iterator[bytes]:
    """The text of each BEGIN … END block of the same kind. A BEGIN whose END never comes is looked for once
    per kind, not once per BEGIN: a file of unclosed BEGIN lines would otherwise take quadratic time."""
    position, unclosed = 0, set[bytes]()
    while True:
        begin = _begin().search(data, position)
        if begin is None:
            return
        end_line = b"-----END " + begin.group(1) + b"-----"
        end = -1 if begin.group(1) in unclosed else data.find(end_line, begin.end())
        if end < 0:
            unclosed.add(begin.group(1))
            position = begin.start() + 1
            continue
        yield data[begin.end():end]
        position = end + len(end_line)


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
