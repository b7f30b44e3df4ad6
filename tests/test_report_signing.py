"""Signing keys the auditor cannot or must not use: clear one-line errors, never a traceback or a forged OK."""

import os
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from conftest import ENVS, run

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command makes the keys cryptography refuses to")


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "scan.json"
    assert run("scan", "-q", "--format", "json", "-o", path, ENVS / "py3-old-botocore").code == 1
    return path


def openssl(*args, env=None):
    done = subprocess.run([OPENSSL, *map(str, args)], capture_output=True, env=env)
    if done.returncode and b"unknown curve" in done.stderr.lower():
        pytest.skip(f"this openssl has no {args}")
    assert done.returncode == 0, done.stderr


def one_line_error(result, *fragments):
    assert result.code == 2 and "Traceback" not in result.err and result.err.count("\n") == 1, result.err
    assert result.err.startswith("auditor: error: ") and all(f in result.err for f in fragments), result.err


@needs_openssl
@pytest.mark.parametrize("curve, oid", [("secp112r1", "1.3.132.0.6"), ("sect163k1", "1.3.132.0.1")])
def test_a_key_on_a_curve_cryptography_cannot_use_is_a_clear_error(tmp_path, saved, curve, oid):
    key, pkcs8, pub = tmp_path / f"{curve}.key", tmp_path / f"{curve}.p8", tmp_path / f"{curve}.pub"
    openssl("ecparam", "-name", curve, "-genkey", "-noout", "-out", key)
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", key, "-out", pkcs8)
    openssl("ec", "-in", key, "-pubout", "-out", pub)
    for private in (key, pkcs8):
        one_line_error(run("report", "sign", saved, "--key", private), f"{private}: ", f"Curve {oid} is not supported",
                       "Ed25519")
    signature = tmp_path / "scan.json.sig"
    signature.write_bytes(bytes(64))
    one_line_error(run("report", "verify", saved, "--signature", signature, "--public-key", pub), f"{pub}: ",
                   f"Curve {oid} is not supported")


@needs_openssl
def test_a_passphrase_that_is_not_utf8_is_used_as_its_bytes(tmp_path, saved, monkeypatch):
    passphrase = b"caf\xe9 \xff latin-1"
    monkeypatch.setenv("AUDIT_KEY_PASS", os.fsdecode(passphrase))
    key = tmp_path / "openssl.key"
    openssl("genpkey", "-algorithm", "ed25519", "-aes256", "-pass", "env:AUDIT_KEY_PASS", "-out", key, env=os.environ)
    public = serialization.load_pem_private_key(key.read_bytes(), password=passphrase).public_key()
    pub = tmp_path / "openssl.pub"
    pub.write_bytes(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

    signed = run("report", "sign", saved, "--key", key, "--passphrase-env", "AUDIT_KEY_PASS")
    assert signed.code == 0, signed.err
    verified = run("report", "verify", saved, "--signature", f"{saved}.sig", "--public-key", pub)
    assert verified.code == 0 and verified.out.startswith("OK: ")

    made, made_pub = tmp_path / "made.key", tmp_path / "made.pub"
    assert run("report", "keygen", "--private", made, "--public", made_pub, "--passphrase-env", "AUDIT_KEY_PASS").code == 0
    openssl("pkey", "-in", made, "-passin", "env:AUDIT_KEY_PASS", "-noout", env=os.environ)  # openssl reads it too

    monkeypatch.setenv("AUDIT_KEY_PASS", os.fsdecode(b"caf\xe9 \xfe latin-1"))
    one_line_error(run("report", "sign", saved, "--key", key, "--passphrase-env", "AUDIT_KEY_PASS"),
                   "passphrase is wrong")


# edwards25519 (RFC 8032), to find its small-order points independently of the auditor's list.
P = 2**255 - 19
D = -121665 * pow(121666, -1, P) % P
ORDER = 2**252 + 27742317777372353535851937790883648493
IDENTITY = (0, 1)


def add(a, b):
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return (x1 * y2 + x2 * y1) * pow(1 + t, -1, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P


def times(n, point):
    result = IDENTITY
    while n:
        if n & 1:
            result = add(result, point)
        point, n = add(point, point), n >> 1
    return result


def point_with_y(y):
    u = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
    x = pow(u, (P + 3) // 8, P)
    if x * x % P != u:
        x = x * pow(2, (P - 1) // 4, P) % P
    return (x, y) if x * x % P == u else None


def small_order_points():
    for y in range(2, 100):
        point = point_with_y(y)
        torsion = point and times(ORDER, point)  # [order]P lies in the 8-torsion
        if torsion and times(4, torsion) != IDENTITY:  # of order 8: it generates all eight
            return {times(i, torsion) for i in range(8)}
    raise AssertionError("no point of order 8 found")


def encodings(x, y):
    """Every 32-byte string that decodes to (x, y) or is meant to: both sign bits, and y + p where it fits."""
    return {(v | sign << 255).to_bytes(32, "little") for v in (y, y + P) if v < 2**255 for sign in (0, 1)}


def test_small_order_ed25519_public_keys_are_refused_by_their_encoding(tmp_path, saved):
    points = small_order_points()
    assert len(points) == 8 and IDENTITY in points
    refused = set().union(*(encodings(x, y) for x, y in points))
    assert len(refused) == 14  # 5 y values, both signs; 0 and 1 also as p and p + 1

    identity = (1).to_bytes(32, "little")
    forged = tmp_path / "forged.sig"
    forged.write_bytes(identity + bytes(32))  # R = the identity, S = 0: made without any private key
    for number, raw in enumerate(sorted(refused)):
        pub = tmp_path / f"small-{number}.pub"
        pub.write_bytes(Ed25519PublicKey.from_public_bytes(raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        one_line_error(run("report", "verify", saved, "--signature", forged, "--public-key", pub),
                       f"{pub}: an Ed25519 public key of small order")

    genuine = Ed25519PrivateKey.generate()
    pub = tmp_path / "genuine.pub"
    pub.write_bytes(genuine.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    signature = tmp_path / "genuine.sig"
    signature.write_bytes(genuine.sign(saved.read_bytes()))
    assert run("report", "verify", saved, "--signature", signature, "--public-key", pub).code == 0
    assert run("report", "verify", saved, "--signature", forged, "--public-key", pub).code == 1
