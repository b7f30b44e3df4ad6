"""PKCS#12 trust stores as Java's keytool writes them, read with `cryptography`.

A PKCS#12 file (PFX) is a DER SEQUENCE { version INTEGER 3, authSafe ContentInfo,
macData OPTIONAL }. keytool puts each trusted certificate in a certificate bag. It
encrypts the bags and adds the MAC under the store password unless told not to (JDK 18+:
-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE -J-Dkeystore.pkcs12.macAlgorithm=NONE),
so most stores need the password even to list their certificates. The MAC is what a
password verifies: a store without one has no integrity to check, whatever password is given.
"""

from __future__ import annotations

import warnings

from auditor.trust.formats.jks import Keystore

NO_MAC = "none (the store has no MAC)"
# Java's own limit (PKCS12KeyStore): OpenSSL runs whatever count a store asks for, and 2^31 iterations of the
# MAC's key derivation alone take minutes.
MAX_ITERATIONS = 5_000_000
_MAX_DEPTH = 64


def is_pkcs12(data: bytes) -> bool:
    """A DER SEQUENCE whose first element is INTEGER 3, the PFX version."""
    outer = _header(data, 0) if data[:1] == b"\x30" else None
    return outer is not None and data[outer[0]:outer[0] + 3] == b"\x02\x01\x03"


def read_pkcs12(data: bytes, password: str | None = None) -> Keystore:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
    from cryptography.x509 import InvalidVersion

    store = Keystore("pkcs12")
    outer = _header(data, 0) if is_pkcs12(data) else None
    if outer is None:
        store.problems.append("not a PKCS#12 store (no PFX header)")
        return store
    declared = outer[1]
    if declared > len(data):
        store.problems.append(f"truncated: the store declares {declared} bytes, the file has {len(data)}")
        return store
    iterations = _iteration_counts(data, 0, len(data), 0)
    if iterations is None:
        store.problems.append("not a DER-encoded PKCS#12 store: its structure cannot be walked")
        return store
    if max(iterations, default=0) > MAX_ITERATIONS:
        store.problems.append(f"asks for {max(iterations):,} iterations of key derivation, more than Java's limit "
                              f"of {MAX_ITERATIONS:,}: not read")
        return store
    if password is not None and not _usable(password):
        store.integrity = "failed"
        store.problems.append("the password holds a NUL or bytes that are not UTF-8 text: a PKCS#12 store cannot "
                              "be opened with it")
        return store
    try:
        # Old roots (Starfield Services G2) carry a serial number RFC 5280 now disallows; cryptography warns.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = pkcs12.load_pkcs12(data, password.encode("utf-8") if password is not None else None)
    except (ValueError, UnsupportedAlgorithm, InvalidVersion):  # InvalidVersion (a bag holds X.509 v2) is no ValueError
        if password is None:
            store.problems.append("this PKCS#12 store is password-protected: give its password with --storepass "
                                  "(Java's default is changeit)")
        else:
            store.integrity = "failed"
            store.problems.append("keystore password incorrect, or the file is not a readable PKCS#12 store")
        return store
    store.integrity = "verified" if _has_mac(data) else NO_MAC
    # cryptography hands back one private key at most (its certificate is `cert`); the certificates of
    # any other key come with the rest, so only certificate bags can be counted, not entry kinds.
    certificates = ([loaded.cert] if loaded.cert is not None else []) + list(loaded.additional_certs)
    store.certificates = [bag.certificate.public_bytes(Encoding.DER) for bag in certificates]
    if certificates:
        store.entries["certificate bag"] = len(certificates)
    return store


def _usable(password: str) -> bool:
    """Whether cryptography can take the password: UTF-8 text without NUL. It raises TypeError for bytes that
    are not UTF-8 (argv or environment bytes, held as lone surrogates) and panics on a NUL."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\0" not in password


def _iteration_counts(data: bytes, start: int, end: int, depth: int) -> list[int] | None:
    """The cost parameters written in the clear: every INTEGER after an OCTET STRING (a salt) in the same
    SEQUENCE, as in MacData, PBKDF2-params and pkcs-12PbeParams. OCTET STRINGs that hold DER (the authSafe,
    unencrypted SafeContents) are walked into. None when the elements in [start, end) are not whole DER."""
    counts: list[int] = []
    after_salt = False
    while start < end:
        header = _header(data, start)
        if header is None or header[1] > end or depth > _MAX_DEPTH or data[start] & 0x1F == 0x1F:
            return None
        tag, (content, start) = data[start], header
        if tag == 0x02 and after_salt:
            counts.append(int.from_bytes(data[content:start], "big", signed=True))
        elif tag & 0x20:
            inner = _iteration_counts(data, content, start, depth + 1)
            if inner is None:
                return None
            counts += inner
        elif tag == 0x04:
            counts += _iteration_counts(data, content, start, depth + 1) or []  # a salt or ciphertext need not be DER
        after_salt = tag == 0x04 or (after_salt and tag == 0x02)
    return counts


def _has_mac(data: bytes) -> bool:
    """Whether the PFX has a third element, macData, after its version and authSafe."""
    outer = _header(data, 0)
    if outer is None:
        return False
    start, end = outer
    version = _header(data, start)
    auth_safe = _header(data, version[1]) if version is not None else None
    return auth_safe is not None and auth_safe[1] < end


def _header(data: bytes, offset: int) -> tuple[int, int] | None:
    """(content start, content end) of the DER element at `offset`; None if its header is cut short.
    The end may lie past the data."""
    if offset + 2 > len(data):
        return None
    length, start = data[offset + 1], offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            return None
        length, start = int.from_bytes(data[start:start + count], "big"), start + count
    return start, start + length
