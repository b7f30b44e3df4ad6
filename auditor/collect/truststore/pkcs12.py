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

from auditor.collect.truststore.jks import Keystore

NO_MAC = "none (the store has no MAC)"


def is_pkcs12(data: bytes) -> bool:
    """A DER SEQUENCE whose first element is INTEGER 3, the PFX version."""
    outer = _header(data, 0) if data[:1] == b"\x30" else None
    return outer is not None and data[outer[0]:outer[0] + 3] == b"\x02\x01\x03"


def read_pkcs12(data: bytes, password: str | None = None) -> Keystore:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

    store = Keystore("pkcs12")
    if not is_pkcs12(data):
        store.problems.append("not a PKCS#12 store (no PFX header)")
        return store
    declared = _header(data, 0)[1]
    if declared > len(data):
        store.problems.append(f"truncated: the store declares {declared} bytes, the file has {len(data)}")
        return store
    try:
        # Old roots (Starfield Services G2) carry a serial number RFC 5280 now disallows; cryptography warns.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = pkcs12.load_pkcs12(data, password.encode("utf-8") if password is not None else None)
    except (ValueError, UnsupportedAlgorithm):
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


def _has_mac(data: bytes) -> bool:
    """Whether the PFX has a third element, macData, after its version and authSafe."""
    start, end = _header(data, 0)
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
