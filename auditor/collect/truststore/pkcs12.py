"""PKCS#12 trust stores as Java's keytool writes them, read with `cryptography`.

keytool stores each trusted certificate in a certificate bag. It encrypts the bags and
adds a MAC under the store password unless told not to (JDK 18+:
-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE -J-Dkeystore.pkcs12.macAlgorithm=NONE),
so most stores need the password even to list their certificates.
"""

from __future__ import annotations

import warnings

from auditor.collect.truststore.jks import Keystore


def is_pkcs12(data: bytes) -> bool:
    """A DER SEQUENCE whose first element is INTEGER 3, the PFX version."""
    if len(data) < 5 or data[0] != 0x30:
        return False
    header = 2 if data[1] < 0x80 else 2 + (data[1] & 0x7F)
    return data[header:header + 3] == b"\x02\x01\x03"


def read_pkcs12(data: bytes, password: str | None = None) -> Keystore:
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

    store = Keystore("pkcs12")
    try:
        # Old roots (Starfield Services G2) carry a serial number RFC 5280 now disallows; cryptography warns.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = pkcs12.load_pkcs12(data, password.encode("utf-8") if password is not None else None)
    except ValueError:
        store.integrity = "failed"
        store.problems.append("this PKCS#12 store is password-protected: give its password with --storepass "
                              "(Java's default is changeit)" if password is None else
                              "keystore password incorrect, or the file is not a readable PKCS#12 store")
        return store
    store.integrity = "verified" if password is not None else "none (no password protection)"
    if loaded.cert is not None:
        store.certificates.append(loaded.cert.certificate.public_bytes(Encoding.DER))
        store.entries["private key"] = 1
    store.certificates += [bag.certificate.public_bytes(Encoding.DER) for bag in loaded.additional_certs]
    if loaded.additional_certs:
        store.entries["certificate"] = len(loaded.additional_certs)
    return store
