"""Ed25519 detached signatures over the exact bytes of a saved report.

The signature file holds the raw 64-byte signature, so it can also be checked without auditor:
`openssl pkeyutl -verify -pubin -inkey PUB -rawin -in REPORT -sigfile REPORT.sig`.
"""

from __future__ import annotations

import os
from typing import Optional

from auditor.inputs import read_input

MAX_BYTES = 256 * 1024 * 1024  # a merged fleet report may be large; the signature covers it whole

_P = 2**255 - 19
# The y coordinates of edwards25519's eight points of small order (the identity, order 2, the two of order 4, the
# four of order 8), and the non-canonical p and p + 1 (0 and 1 again). A public key that is one of them, with either
# sign bit, makes [k]A vanish, so a signature made without any private key (R = the identity, S = 0) verifies for
# every report; OpenSSL accepts it. Refused by encoding, before any verification.
_Y_ORDER_8 = int.from_bytes(bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), "little")
SMALL_ORDER_Y = frozenset({0, 1, _Y_ORDER_8, _P - _Y_ORDER_8, _P - 1, _P, _P + 1})


class SigningError(Exception):
    """A key, report or signature that cannot be used; never includes key material or passphrases."""


def keygen(private_path: str, public_path: str, passphrase: Optional[bytes]) -> None:
    """A new key pair as PEM: the private key (PKCS#8, encrypted when a passphrase is given) written 0600."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise SigningError(f"{path} exists; not overwritten")
    key = Ed25519PrivateKey.generate()
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(private_path, private, 0o600)
    _write_new(public_path, public, 0o644)


def sign(report_path: str, key_path: str, passphrase: Optional[bytes]) -> bytes:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = _read(key_path, 64 * 1024)
    try:
        key = load_pem_private_key(pem, password=passphrase)
    except UnsupportedAlgorithm as exc:
        raise SigningError(_not_readable(key_path, exc)) from None
    except TypeError as exc:
        # cryptography says "Password was not given but private key is encrypted" or the reverse.
        hint = "give --passphrase-env" if passphrase is None else "it is not encrypted: drop --passphrase-env"
        raise SigningError(f"{key_path}: {exc}; {hint}") from exc
    except ValueError as exc:
        raise SigningError(f"{key_path}: not a PEM private key, or the passphrase is wrong") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{key_path}: not an Ed25519 key (make one with 'auditor report keygen')")
    return key.sign(_read(report_path, MAX_BYTES))


def verify(report_path: str, signature_path: str, public_key_path: str) -> bool:
    """True when the signature is the key's over the report's exact bytes."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

    try:
        key = load_pem_public_key(_read(public_key_path, 64 * 1024))
    except UnsupportedAlgorithm as exc:
        raise SigningError(_not_readable(public_key_path, exc)) from None
    except ValueError as exc:
        raise SigningError(f"{public_key_path}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{public_key_path}: not an Ed25519 public key")
    if int.from_bytes(key.public_bytes(Encoding.Raw, PublicFormat.Raw), "little") & ~(1 << 255) in SMALL_ORDER_Y:
        raise SigningError(f"{public_key_path}: an Ed25519 public key of small order, which any forged signature "
                           f"matches: not a key anyone signs with")
    signature = _read(signature_path, 1024)
    if len(signature) != 64:
        raise SigningError(f"{signature_path}: {len(signature)} bytes; an Ed25519 signature is 64 bytes")
    try:
        key.verify(signature, _read(report_path, MAX_BYTES))
    except InvalidSignature:
        return False
    return True


def _not_readable(path: str, exc: Exception) -> str:
    # cryptography names the curve or algorithm it lacks (secp112r1 is "Curve 1.3.132.0.6 is not supported").
    return f"{path}: a kind of key this auditor cannot use ({exc}); reports are signed with Ed25519 keys " \
           f"(make one with 'auditor report keygen')"


def _read(path: str, limit: int) -> bytes:
    return read_input(path, limit, SigningError)


def write_signature(path: str, signature: bytes) -> None:
    from auditor.output import write_atomically

    try:
        write_atomically(path, signature)
    except OSError as exc:
        raise SigningError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _write_new(path: str, data: bytes, mode: int) -> None:
    """Created with its final mode (never world-readable, even for a moment) and never over an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise SigningError(f"cannot write {path}: {exc.strerror or exc}") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)  # the umask may have narrowed or (for 0644) kept it; set exactly
