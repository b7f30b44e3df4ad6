"""Property tests of the trust-store and input parsers: PEM bundles, DER files, hashed directories, JKS/JCEKS and
PKCS#12 keystores, the anchor check, the probe's certificate descriptions and addresses, waiver files and saved
reports. Each parser gets raw bytes and inputs built like the real format (keystores written by keytool, bundles of
real anchors, waiver files and reports as the auditor writes them), mutated so the fuzzer gets past the first
syntax check. The only acceptable outcomes are a result or the parser's documented error."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import socket
import struct
import tempfile
import time
import tracemalloc
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import example, given
from hypothesis import strategies as st

from auditor.trust.anchors import AnchorCheck, check_store, load_anchors
from auditor.trust.formats import Store, read_store
from auditor.trust.formats.jks import Keystore, read_java_keystore
from auditor.trust.formats.pem import certificates_in_file, leading_sequence
from auditor.trust.formats.pkcs12 import MAX_ITERATIONS, read_pkcs12
from auditor.fs import View
from auditor.model import Component, Report, ScanError
from auditor.live_probe import chain
from auditor.runs.probe import parse_address
from auditor.report.saved import SavedReportError, load_report
from auditor.rule_data import rules_dir
from auditor.checks.location_glob import PathGlob as path_glob
from auditor.checks.waivers import Waiver, WaiverError, load_waivers
from conftest import ENVS, FIXTURES, run
from fuzzing import containers, fuzz

# A warning is output too: cryptography's (UserWarnings), about odd certificates, must not reach a user's terminal.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")

KEYSTORES = FIXTURES / "keystores"
JKS = (KEYSTORES / "truststore.jks").read_bytes()
JCEKS = (KEYSTORES / "truststore.jceks").read_bytes()
P12 = (KEYSTORES / "truststore.p12").read_bytes()
OPEN_P12 = (KEYSTORES / "open.p12").read_bytes()
PASSWORDS = st.sampled_from([None, "changeit", "wrong", "", "päss wörd", "\U0001F511", "\udcff", "change\0it"])
ANCHORS = load_anchors()
with warnings.catch_warnings():  # Starfield Class 2 has a serial number RFC 5280 now disallows
    warnings.simplefilter("ignore")
    ANCHOR_DER = [x509.load_pem_x509_certificate(p.read_bytes()).public_bytes(Encoding.DER)
                  for p in sorted((rules_dir() / "anchors").glob("*.pem"))]


# -- certificates used as material ----------------------------------------------------------------------

def _name(text: str) -> x509.Name:
    return x509.Name.from_rfc4514_string(text)


def _key(number: int):
    """A fixed EC key, so that the certificates, and with them the examples, are the same on every run."""
    return ec.derive_private_key(0x5EED + number, ec.SECP256R1())


def _certificate(subject: str, issuer: str | None = None, public_key=None, key=None, dns=(), serial=1) -> bytes:
    key = key or _key(serial)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer or subject))
               .public_key(public_key or key.public_key()).serial_number(serial)
               .not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650)))
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return builder.sign(key, None).public_bytes(Encoding.DER)
    return builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True).public_bytes(Encoding.DER)


AMAZON_SUBJECT = "CN=Amazon Root CA 1,O=Amazon,C=US"
IMPOSTOR = _certificate(AMAZON_SUBJECT, serial=2)
# The anchor's subject and key, signed by someone else: by the anchor data, a re-issue, so it counts.
REISSUE = _certificate(AMAZON_SUBJECT, public_key=x509.load_der_x509_certificate(
    next(d for d in ANCHOR_DER if b"Amazon Root CA 1" in d)).public_key(), serial=3)
# A key on a curve cryptography cannot load, under the anchor's name.
UNKNOWN_CURVE = IMPOSTOR.replace(bytes.fromhex("06082a8648ce3d030107"), bytes.fromhex("06082a8648ce3d030109"))
# An X.509 v2 certificate (version 1), which cryptography refuses with its own exception, not a ValueError.
VERSION_2 = IMPOSTOR.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x01", 1)
# The anchor with its subject's CN written as a BIT STRING: cryptography raises TypeError (found by atheris).
_AMAZON = next(d for d in ANCHOR_DER if b"Amazon Root CA 1" in d)
_CN = b"\x06\x03\x55\x04\x03\x13\x10Amazon Root CA 1"
_AT = _AMAZON.rindex(_CN)  # the subject's, not the issuer's
BIT_STRING_NAME = _AMAZON[:_AT] + _CN.replace(b"\x13\x10", b"\x03\x10") + _AMAZON[_AT + len(_CN):]
LEAF = _certificate("CN=dynamodb.eu-west-3.amazonaws.com", "CN=Amazon RSA 2048 M01,O=Amazon,C=US", serial=4,
                    dns=("dynamodb.eu-west-3.amazonaws.com", "*.ddb.eu-west-3.amazonaws.com"))
OTHERS = [_certificate("CN=Corp Root CA,O=Example Corp", serial=5), LEAF,
          _certificate("OU=Ed25519 Root", key=ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))), serial=6)]
POOL = ANCHOR_DER + [IMPOSTOR, REISSUE, UNKNOWN_CURVE, VERSION_2, BIT_STRING_NAME] + OTHERS


# -- byte-level mutation, shared by every binary format ----------------------------------------------------

BYTE_OPS = st.lists(st.one_of(
    st.tuples(st.just("truncate"), st.integers(0, 1 << 16)),
    st.tuples(st.just("flip"), st.integers(0, 1 << 16), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 16), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("delete"), st.integers(0, 1 << 16), st.integers(1, 64)),
), max_size=3)


def mutate(data: bytes, ops) -> bytes:
    out = bytearray(data)
    for op, where, *arg in ops:
        at = where % (len(out) + 1)
        if op == "truncate":
            del out[at:]
        elif op == "flip" and at < len(out):
            out[at] = arg[0]
        elif op == "insert":
            out[at:at] = arg[0]
        elif op == "delete":
            del out[at:at + arg[0]]
    return bytes(out)


@contextmanager
def in_view(files: dict[str, bytes]):
    """A temporary target holding `files`: (view, top). hypothesis reuses the function-scoped tmp_path across
    examples, so each example makes its own directory."""
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp) / "target"
        top.mkdir()
        for name, data in files.items():
            (top / name).write_bytes(data)
        yield View(str(top)), top


def assert_store(store: Store, top: Path):
    """What every store read must look like, whatever the input: certificates as bytes, and one-line error
    entries located in the target."""
    assert isinstance(store, Store) and store.format in ("pem", "der", "directory", "jks", "jceks", "pkcs12")
    assert all(isinstance(c, bytes) and c for c in store.certificates)
    for error in store.errors:
        assert isinstance(error, ScanError) and error.location.startswith(str(top)), error
        assert error.message and "\n" not in error.message, error
    if store.keystore.get("integrity") == "failed":
        assert store.certificates == [] and store.errors


# -- PEM bundles and DER files ------------------------------------------------------------------------------

KINDS = ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE")


def trust_settings(alias: bytes) -> bytes:
    """What `openssl x509 -addtrust serverAuth -setalias ALIAS -trustout` appends to the certificate."""
    trust = bytes.fromhex("300a06082b06010505070301")
    alias_der = b"\x0c" + bytes([len(alias)]) + alias
    return b"\x30" + bytes([len(trust) + len(alias_der)]) + trust + alias_der


@st.composite
def pem_bundles(draw):
    """(bundle bytes, the DER certificates it holds, in order): blocks of real certificates between comment
    text, as distribution bundles and OpenSSL's -trustout write them, in any line length and line end."""
    parts, expected = [], []
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.booleans()):
            text = draw(st.text(st.characters(blacklist_characters="-", blacklist_categories=("Cs",)), max_size=80))
            parts.append(text.encode("utf-8") + newline)
            continue
        der, kind = draw(st.sampled_from(POOL)), draw(st.sampled_from(KINDS))
        body = der + (trust_settings(b"root") if kind == "TRUSTED CERTIFICATE" else b"")
        encoded, width = base64.b64encode(body), draw(st.sampled_from([64, 76, 1 << 20]))
        lines = [encoded[i:i + width] for i in range(0, len(encoded), width)]
        parts.append(newline.join([b"-----BEGIN " + kind.encode() + b"-----", *lines,
                                   b"-----END " + kind.encode() + b"-----"]) + newline)
        expected.append(der)
    return b"".join(parts), expected


def assert_certificates_in_file(data: bytes):
    form, certificates, problems = certificates_in_file(data)
    assert form in ("pem", "der") and isinstance(problems, list)
    assert all(isinstance(p, str) and p for p in problems)
    for der in certificates:
        assert leading_sequence(der) == der  # a whole DER SEQUENCE, nothing more
        assert form == "pem" or data.startswith(der)
    assert certificates or problems  # nothing read is said
    return form, certificates, problems


@fuzz
@given(pem_bundles())
def test_a_clean_bundle_gives_exactly_its_certificates(bundle):
    data, expected = bundle
    form, certificates, problems = certificates_in_file(data)
    assert form == "pem" and certificates == expected
    nothing = "no certificates found (not a PEM bundle, a DER certificate or a keystore)"
    assert problems == ([] if expected else [nothing])


@fuzz
@given(pem_bundles(), BYTE_OPS)
def test_a_damaged_bundle_is_certificates_and_problems(bundle, ops):
    assert_certificates_in_file(mutate(bundle[0], ops))


@fuzz
@given(st.binary(max_size=4096))
@example(b"-----BEGIN CERTIFICATE-----\n" * 3 + b"MIIB\n-----END CERTIFICATE-----")
@example(b"\x30\x84\xff\xff\xff\xff")
@example(b"\x30\x80\x00\x00")
def test_any_bytes_as_a_bundle_or_der_file(data):
    assert_certificates_in_file(data)


@fuzz
@given(st.text(max_size=2048))
def test_any_text_as_a_bundle(text):
    assert_certificates_in_file(text.encode("utf-8", "surrogatepass"))


@fuzz
@given(st.sampled_from(POOL), st.integers(0, 5), st.binary(max_size=8), BYTE_OPS)
def test_der_headers_in_every_length_form(der, extra_length_bytes, trailer, ops):
    """A certificate whose SEQUENCE length is rewritten (long form, padded with leading zeros, short), then damaged."""
    tag_and_length = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
    content = der[tag_and_length:]
    length = len(content).to_bytes(4, "big").lstrip(b"\0")
    header = b"\x30" + bytes([0x80 | (len(length) + extra_length_bytes)]) + b"\0" * extra_length_bytes + length
    data = mutate(header + content + trailer, ops)
    form, certificates, _ = assert_certificates_in_file(data)
    if not ops:
        assert form == "der" and certificates == ([header + content] if len(length) + extra_length_bytes <= 4 else [])


def test_a_bundle_whose_text_starts_with_a_zero_is_still_a_bundle():
    """"0" is 0x30, a DER SEQUENCE's tag: such files were read as a DER certificate of their first bytes."""
    pem = base64.b64encode(ANCHOR_DER[0]).join([b"-----BEGIN CERTIFICATE-----\n", b"\n-----END CERTIFICATE-----\n"])
    assert certificates_in_file(b"0\n" + pem) == ("pem", [ANCHOR_DER[0]], [])
    assert certificates_in_file(b"0 certificates are left in this bundle\n")[:2] == ("pem", [])


def test_a_bundle_of_unclosed_blocks_is_read_in_linear_time():
    """Every BEGIN without its END used to rescan the rest of the file: 450 kB took 50 s."""
    data = b"-----BEGIN CERTIFICATE-----\n" * 40_000 + b"-----BEGIN TRUSTED CERTIFICATE-----\n" * 40_000
    started = time.process_time()
    form, certificates, problems = certificates_in_file(data + base64.b64encode(ANCHOR_DER[0]).join(
        [b"-----BEGIN X509 CERTIFICATE-----\n", b"\n-----END X509 CERTIFICATE-----\n"]))
    assert time.process_time() - started < 2
    assert certificates == [ANCHOR_DER[0]]


@fuzz
@given(pem_bundles(), BYTE_OPS, st.sampled_from(["ca-bundle.crt", "cert.pem", "AmazonRootCA1.cer", "store"]))
def test_a_bundle_file_read_as_a_scan_reads_it(bundle, ops, name):
    data = mutate(bundle[0], ops)
    with in_view({name: data}) as (view, top):
        store = read_store(view, str(top / name))
    assert_store(store, top)
    if not ops and bundle[1]:
        assert (store.format, store.certificates, store.errors) == ("pem", bundle[1], [])


# -- hashed certificate directories -----------------------------------------------------------------------

OUTSIDE = _certificate("CN=Outside The Target", serial=7)
ENTRY_NAMES = st.sampled_from(["ce5e74ef.0", "ce5e74ef.1", "5ad8a5d6.0", "Amazon_Root_CA_1.pem", "corp.crt", "root.cer",
                               "root.der", "README", "ca-certificates.crt", "00000000.0", "not-hex!.0"])
ENTRY_KINDS = st.one_of(
    st.tuples(st.just("pem"), pem_bundles(), BYTE_OPS),
    st.tuples(st.just("der"), st.sampled_from(POOL)),
    st.tuples(st.just("junk"), st.binary(max_size=256)),
    st.tuples(st.just("link"), ENTRY_NAMES),
    st.tuples(st.just("link"), st.sampled_from(["../outside.pem", "/etc/ssl/certs/ca-certificates.crt",
                                                 "missing.pem", ".", ".."])),
    st.tuples(st.just("fifo")),
    st.tuples(st.just("dir")),
)


@fuzz
@given(st.dictionaries(ENTRY_NAMES, ENTRY_KINDS, max_size=8))
def test_a_hashed_directory_reads_each_certificate_once_and_nothing_outside(entries):
    inside = set()
    with in_view({}) as (view, top):
        (top.parent / "outside.pem").write_bytes(base64.b64encode(OUTSIDE).join(
            [b"-----BEGIN CERTIFICATE-----\n", b"\n-----END CERTIFICATE-----\n"]))
        certs = top / "certs"
        certs.mkdir()
        for name, (kind, *arg) in entries.items():
            path = certs / name
            if kind == "pem":
                path.write_bytes(mutate(arg[0][0], arg[1]))
                inside.update(certificates_in_file(path.read_bytes())[1])
            elif kind == "der":
                path.write_bytes(arg[0])
                inside.add(arg[0])
            elif kind == "junk":
                path.write_bytes(arg[0])
                inside.update(certificates_in_file(arg[0])[1])
            elif kind == "link":
                path.symlink_to(arg[0])
            elif kind == "fifo":
                os.mkfifo(path)
            else:
                path.mkdir()
        store = read_store(view, str(certs))
    assert_store(store, top)
    assert store.format == "directory"
    assert len(set(store.certificates)) == len(store.certificates)
    assert set(store.certificates) <= inside  # never the certificate outside the target, never one made up


# -- Java keystores (JKS, JCEKS) -----------------------------------------------------------------------------

def jks_fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of every version, count, tag and length field of a keystore keytool wrote."""
    def u(offset, size):
        return int.from_bytes(data[offset:offset + size], "big")

    fields, offset, version = [(4, 4), (8, 4)], 12, u(4, 4)

    def certificate(offset):
        if version == 2:
            fields.append((offset, 2))
            offset += 2 + u(offset, 2)
        fields.append((offset, 4))
        return offset + 4 + u(offset, 4)

    for _ in range(u(8, 4)):
        tag = u(offset, 4)
        fields += [(offset, 4), (offset + 4, 2)]
        offset += 6 + u(offset + 4, 2) + 8
        if tag == 1:
            fields += [(offset, 4)]
            offset += 4 + u(offset, 4)
            fields.append((offset, 4))
            count, offset = u(offset, 4), offset + 4
            for _ in range(count):
                offset = certificate(offset)
        elif tag == 2:
            offset = certificate(offset)
        else:
            break  # a secret key: a serialized Java object
    return fields


INTERESTING_U32 = st.one_of(st.sampled_from([0, 1, 2, 3, 4, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]),
                            st.integers(0, 0xFFFFFFFF), st.integers(0, 4096))


def resigned(data: bytes, password: str = "changeit") -> bytes:
    """The keystore with its digest recomputed as keytool would for `password`."""
    body = data[:-20]
    return body + hashlib.sha1(password.encode("utf-16-be", "surrogatepass") + b"Mighty Aphrodite" + body).digest()


@st.composite
def java_keystores(draw):
    """(bytes, whether its digest is right for "changeit"): a keytool store with its count and length fields
    rewritten, then damaged, then (often) signed again so the integrity check passes on the damaged body."""
    data = bytearray(draw(st.sampled_from([JKS, JCEKS])))
    fields = jks_fields(bytes(data))
    for _ in range(draw(st.integers(0, 3))):
        offset, size = draw(st.sampled_from(fields))
        data[offset:offset + size] = (draw(INTERESTING_U32) % (1 << 8 * size)).to_bytes(size, "big")
    data = mutate(bytes(data), draw(BYTE_OPS))
    if len(data) >= 20 and draw(st.booleans()):
        return resigned(data), True
    return data, data in (JKS, JCEKS)


def assert_keystore(store: Keystore, data: bytes, password):
    assert isinstance(store, Keystore) and store.format in ("jks", "jceks", "pkcs12")
    assert store.integrity in ("verified", "failed", "not checked", "none (the store has no MAC)")
    assert all(isinstance(p, str) and p for p in store.problems)
    assert all(isinstance(n, int) and n > 0 for n in store.entries.values())
    if password is None:
        assert store.integrity != "failed" or store.format == "pkcs12"


@fuzz
@given(java_keystores(), PASSWORDS)
def test_a_damaged_java_keystore_is_read_or_refused(keystore, password):
    data, signed = keystore  # signed: the digest is right for "changeit"
    store = read_java_keystore(data, password)
    assert_keystore(store, data, password)
    position = 0
    for der in store.certificates:  # every certificate is bytes of the file, in file order
        position = data.index(der, position) + len(der) if der else position
    assert len(store.certificates) <= len(data) // 4
    if password is None:
        assert store.integrity == "not checked"
    elif store.integrity == "verified":
        assert signed and password == "changeit"
    if signed and password == "changeit" and data[4:8] in (b"\0\0\0\1", b"\0\0\0\2"):
        assert store.integrity != "failed"


@fuzz
@given(java_keystores(), PASSWORDS)
def test_a_damaged_java_keystore_file_is_an_error_entry(keystore, password):
    with in_view({"cacerts": keystore[0]}) as (view, top):
        store = read_store(view, str(top / "cacerts"), password)
    assert_store(store, top)


def test_the_keytool_fixtures_read_whole():
    for data, form, entries in ((JKS, "jks", {"trusted certificate": 2, "private key": 1}), (JCEKS, "jceks", {})):
        store = read_java_keystore(data, "changeit")
        assert (store.format, store.integrity, store.entries) == (form, "verified", entries)
    # version and count; the key pair's tag, alias, key, chain length, certificate type and length; each trusted
    # certificate's tag, alias, type and length
    assert len(jks_fields(JKS)) == 2 + 6 + 2 * 4


def test_a_count_of_two_billion_entries_allocates_nothing():
    for offset, value in ((8, 0x80000000), (8, 0xFFFFFFFF)):
        data = bytearray(JKS)
        data[offset:offset + 4] = struct.pack(">I", value)
        tracemalloc.start()
        store = read_java_keystore(bytes(data), "changeit")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert "entries, more than" in store.problems[0] and peak < 1 << 20


def test_a_private_key_claiming_two_billion_certificates_is_bounded_by_the_file():
    (count_field,) = [offset for offset, size in jks_fields(JKS) if size == 4 and JKS[offset:offset + 4] == b"\0\0\0\1"
                      and offset > 12][-1:]
    data = bytearray(JKS)
    data[count_field:count_field + 4] = struct.pack(">I", 0x7FFFFFFF)
    store = read_java_keystore(bytes(data), None)
    assert len(store.certificates) < 10 and any("truncated entry" in p for p in store.problems)


def test_an_empty_certificate_is_skipped_once_per_entry():
    """A key pair's chain of 100,000 zero-length certificates: no empty bytes counted as certificates,
    one problem for the entry."""
    offsets = [offset for offset, size in jks_fields(JKS)]
    key_length_at = offsets[4]  # the key pair is the first entry: tag, alias, key length, chain length
    chain_at = key_length_at + 4 + struct.unpack(">I", JKS[key_length_at:key_length_at + 4])[0]
    chain = struct.pack(">I", 100_000) + b"\0\5X.509\0\0\0\0" * 100_000
    data = JKS[:8] + struct.pack(">I", 1) + JKS[12:chain_at] + chain + b"\0" * 20  # that entry alone
    store = read_java_keystore(data, None)
    assert store.certificates == [] and store.problems == ["entry 'service' holds 100000 empty certificates; "
                                                           "they are skipped"]


@pytest.mark.parametrize("password", ["\udcff", "\ud800x", "p\udc80ss"])
def test_a_password_that_is_not_valid_unicode_is_checked_not_a_crash(password):
    """A password from argv or the environment holds lone surrogates when its bytes are not UTF-8."""
    assert read_java_keystore(resigned(JKS, password), password).integrity == "verified"
    assert read_java_keystore(JKS, password).integrity == "failed"
    assert "not UTF-8" in read_pkcs12(P12, password).problems[0]  # cryptography raised TypeError


def test_a_password_with_a_nul_is_refused_before_cryptography_panics():
    store = read_pkcs12(P12, "change\0it")
    assert (store.integrity, store.certificates) == ("failed", []) and "NUL" in store.problems[0]


# -- PKCS#12 ------------------------------------------------------------------------------------------------

def der_tree(data: bytes):
    """A DER encoding as nested [tag, children or bytes] lists; an OCTET STRING that holds DER is a node too.
    Raises ValueError if `data` is not a sequence of whole DER elements."""
    nodes, i = [], 0
    while i < len(data):
        if i + 2 > len(data):
            raise ValueError("cut short")
        tag, length, i = data[i], data[i + 1], i + 2
        if length & 0x80:
            count = length & 0x7F
            if not 0 < count <= 4:
                raise ValueError("length")
            length, i = int.from_bytes(data[i:i + count], "big"), i + count
        if i + length > len(data):
            raise ValueError("overrun")
        content, i = data[i:i + length], i + length
        if tag & 0x20:
            nodes.append([tag, der_tree(content)])
        elif tag == 0x04:
            try:
                nodes.append([tag, der_tree(content)] if content[:1] == b"\x30" else [tag, content])
            except ValueError:
                nodes.append([tag, content])
        else:
            nodes.append([tag, content])
    return nodes


def der_encode(nodes) -> bytes:
    out = b""
    for tag, value in nodes:
        content = der_encode(value) if isinstance(value, list) else value
        length = len(content).to_bytes(4, "big").lstrip(b"\0")
        out += bytes([tag]) + (bytes([len(content)]) if len(content) < 0x80 else bytes([0x80 | len(length)]) + length)
        out += content
    return out


def all_nodes(nodes):
    for node in nodes:
        yield node
        if isinstance(node[1], list):
            yield from all_nodes(node[1])


def integer(value: int) -> bytes:
    return value.to_bytes(max(1, (value + (value < 0)).bit_length() // 8 + 1), "big", signed=True)


@st.composite
def der_mutated(draw, sources, integers=st.integers(-(1 << 70), 1 << 70)):  # noqa: B008 (a strategy, immutable)
    """A real DER encoding changed in its structure: integers rewritten, contents replaced, elements dropped,
    repeated or nested deep, tags changed (in OCTET STRINGs that hold DER too); then damaged as bytes."""
    tree = der_tree(draw(st.sampled_from(sources)))
    nodes = list(all_nodes(tree))
    for _ in range(draw(st.integers(0, 3))):
        node = draw(st.sampled_from(nodes))
        change = draw(st.sampled_from(["integer", "content", "tag", "drop", "repeat", "nest"]))
        if change == "integer" or (change == "content" and node[0] == 0x02):
            node[:] = [0x02, integer(draw(integers))]
        elif change == "content":
            node[1] = draw(st.binary(max_size=64))
        elif change == "tag":
            node[0] = draw(st.integers(0, 255))
        elif change in ("drop", "repeat") and isinstance(node[1], list) and node[1]:
            index = draw(st.integers(0, len(node[1]) - 1))
            if change == "drop":
                del node[1][index]
            else:
                node[1].insert(index, list(node[1][index]))
        elif change == "nest":
            inner = list(node)
            for _ in range(draw(st.integers(1, 200))):
                inner = [0x30, [inner]]
            node[:] = inner
    return mutate(der_encode(tree), draw(BYTE_OPS))


# Iteration counts small, or over the cap: one in between would make an example take a second of key derivation.
ITERATIONS = st.one_of(st.integers(-(1 << 70), 4096), st.sampled_from(
    [MAX_ITERATIONS + 1, (1 << 31) - 1, 1 << 31, 1 << 32, (1 << 63) - 1, 1 << 64, 10 ** 30]))
# keytool's stores: MAC and encrypted bags, or (JDK 18+ options) neither
PKCS12_STORES = der_mutated([P12, OPEN_P12], ITERATIONS)


@fuzz
@given(PKCS12_STORES, PASSWORDS)
def test_a_damaged_pkcs12_store_is_read_or_refused(data, password):
    store = read_pkcs12(data, password)
    assert_keystore(store, data, password)
    assert store.format == "pkcs12"
    for der in store.certificates:
        assert leading_sequence(der) == der
    if store.certificates:
        assert store.integrity in ("verified", "none (the store has no MAC)") and not store.problems


@fuzz
@given(PKCS12_STORES, PASSWORDS)
def test_a_damaged_pkcs12_file_is_an_error_entry(data, password):
    with in_view({"truststore.p12": data}) as (view, top):
        store = read_store(view, str(top / "truststore.p12"), password)
    assert_store(store, top)


@fuzz
@given(st.binary(max_size=2048), PASSWORDS)
@example(b"\x30\x03\x02\x01\x03", "changeit")
@example(b"\xfe\xed\xfe\xed\0\0\0\2\0\0\0\0" + b"\0" * 20, "\udcff")
def test_any_bytes_as_a_keystore(data, password):
    assert_keystore(read_java_keystore(data, password), data, password)
    assert_keystore(read_pkcs12(data, password), data, password)
    for magic in (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce"):
        assert_keystore(read_java_keystore(magic + data, password), magic + data, password)


def test_a_certificate_bag_cryptography_refuses_with_its_own_exception_is_a_problem():
    """A bag's certificate of X.509 version 35: load_pkcs12 raised InvalidVersion, which is no ValueError
    (found by atheris)."""
    amazon = next(d for d in ANCHOR_DER if b"Amazon Root CA 1" in d)
    assert amazon in OPEN_P12  # a store without encryption holds the certificate as it is
    data = OPEN_P12.replace(amazon, amazon.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x22", 1))
    for password in (None, "changeit"):
        store = read_pkcs12(data, password)
        assert store.certificates == [] and store.problems


def with_mac_iterations(data: bytes, count: int) -> bytes:
    tree = der_tree(data)
    tree[0][1][2][1][2] = [0x02, integer(count)]  # PFX > macData > iterations
    return der_encode(tree)


@pytest.mark.parametrize("count", [(1 << 31) - 1, (1 << 63) - 1, MAX_ITERATIONS + 1])
def test_a_mac_asking_for_billions_of_iterations_is_refused_before_key_derivation(count):
    """OpenSSL would run them all: 2^31 iterations of the MAC's key derivation stalled the read for minutes."""
    assert der_encode(der_tree(P12)) == P12
    started = time.process_time()
    store = read_pkcs12(with_mac_iterations(P12, count), "changeit")
    assert time.process_time() - started < 1
    assert store.certificates == [] and f"{count:,} iterations" in store.problems[0]
    assert read_pkcs12(with_mac_iterations(P12, 10_000), "changeit").integrity == "verified"


def test_bag_encryption_asking_for_billions_of_iterations_is_refused():
    tree = der_tree(P12)
    counts = [n for n in all_nodes(tree) if n[0] == 0x02 and n[1] == integer(10_000)]
    assert len(counts) == 3  # the MAC's, the certificate bags' PBKDF2, the key bag's PBKDF2
    counts[0][1] = integer(1 << 40)
    assert "iterations" in read_pkcs12(der_encode(tree), "changeit").problems[0]


# -- the anchor check ---------------------------------------------------------------------------------------

DATES = st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
DAMAGED_CERTIFICATES = der_mutated(POOL)
ANY_CERTIFICATES = st.lists(st.one_of(st.sampled_from(POOL), DAMAGED_CERTIFICATES, st.binary(max_size=64),
                                      st.sampled_from([a.marker for a in ANCHORS]).map(lambda m: b"\x30\x10" + m)),
                            max_size=8)


@fuzz
@given(ANY_CERTIFICATES, DATES, st.sets(st.sampled_from([a.name for a in ANCHORS])))
@example([UNKNOWN_CURVE], "2026-11-28", set())
@example([VERSION_2], "2026-11-28", set())
@example([BIT_STRING_NAME], "2026-11-28", set())
def test_the_anchor_check_takes_any_certificates(certificates, as_of, distrusted):
    result = check_store(certificates, ANCHORS, as_of, frozenset(distrusted))
    assert isinstance(result, AnchorCheck) and result.certificates == len(certificates)
    names = {a.name: a for a in ANCHORS}
    found = result.anchors + result.expired + result.distrusted
    assert len(found) == len(set(found)) and set(found) <= set(names) and set(result.distrusted) <= distrusted
    for anchor in ANCHORS:
        if anchor.sha256 in {hashlib.sha256(c).hexdigest() for c in certificates}:
            expected = ("distrusted" if anchor.name in distrusted else
                        "anchors" if anchor.not_after[:10] > as_of else "expired")
            assert anchor.name in getattr(result, expected)
    if IMPOSTOR in certificates or UNKNOWN_CURVE in certificates:
        assert "Amazon Root CA 1" in {i["name"] for i in result.impostors}
    if REISSUE in certificates and "Amazon Root CA 1" not in distrusted and as_of < "2035-12-30":  # its not_after
        assert "Amazon Root CA 1" in result.anchors
    assert 0 <= result.unparsable <= len(certificates)


# -- the probe's certificate descriptions, and addresses -------------------------------------------------------

@fuzz
@given(st.one_of(st.sampled_from(POOL), DAMAGED_CERTIFICATES, st.binary(max_size=512)), DATES)
@example(UNKNOWN_CURVE, "2026-11-28")
@example(VERSION_2, "2026-11-28")
@example(BIT_STRING_NAME, "2026-11-28")
def test_any_certificate_is_described(der, as_of):
    described = chain.describe(der)
    assert described["sha256"] == hashlib.sha256(der).hexdigest()
    assert isinstance(described["name"], str) and isinstance(described["subject"], str)
    if chain.parse(der) is None:
        assert described["name"] == "(not parsable)"
    else:
        assert {"issuer", "not_before", "not_after"} <= set(described)
    assert chain.anchor(der, as_of)["sha256"] == described["sha256"]
    assert all(isinstance(n, str) for n in chain.dns_names(der))


def with_extensions(der: bytes, change) -> bytes:
    tree = der_tree(der)
    (extensions,) = [node for node in tree[0][1][0][1] if node[0] == 0xA3]  # Certificate > TBSCertificate > [3]
    change(extensions[1][0][1])
    return der_encode(tree)


@pytest.mark.parametrize("change", [
    lambda e: e.append(list(e[0])),  # the SAN extension twice
    lambda e: e[0][1][-1].__setitem__(1, b"\x30\x03\x82\x01\xff"),  # a DNS name that is not IA5
    # an x400Address, which cryptography refuses with UnsupportedGeneralNameType (found by atheris)
    lambda e: e[0][1][-1].__setitem__(1, b"\x30\x04\xa3\x02\x30\x00"),
    # a directory name whose CN is a BIT STRING: TypeError (found by atheris)
    lambda e: e[0][1][-1].__setitem__(1, bytes.fromhex("3010a40e300c310a30080603550403030100")),
])
def test_a_server_certificate_with_unreadable_names_is_described_not_a_crash(change):
    der = with_extensions(LEAF, change)
    assert chain.parse(der) is not None and chain.dns_names(der) == []
    assert chain.describe(der)["name"] == "dynamodb.eu-west-3.amazonaws.com"
    assert chain.dns_names(LEAF) == ["dynamodb.eu-west-3.amazonaws.com", "*.ddb.eu-west-3.amazonaws.com"]


@fuzz
@given(st.lists(st.one_of(st.sampled_from(POOL), DAMAGED_CERTIFICATES), min_size=1, max_size=4),
       st.lists(st.sampled_from(POOL), max_size=4), st.booleans())
def test_a_chain_a_server_sent_is_explained(sent, store, expired):
    verdict, detail = chain.why_unverified(sent, store)
    assert verdict in ("incomplete-chain", "untrusted-root") and detail
    assert isinstance(chain.validity_problem(sent, expired), str)


HOSTS = st.one_of(st.just("dynamodb.eu-west-3.amazonaws.com"), st.ip_addresses().map(str),
                  st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]{1,10}){0,3}", fullmatch=True),
                  st.text(max_size=20))
PORTS = st.one_of(st.integers(-1, 70000).map(str), st.sampled_from(["", "٣", "²", "0443", "+443", " 443", "1e3"]))


@st.composite
def addresses(draw):
    host, port = draw(HOSTS), draw(PORTS)
    form = draw(st.sampled_from(["host", "host:port", "[host]", "[host]:port", "[host", "host]:port"]))
    return form.replace("host", host).replace("port", port)


def assert_address(text: str):
    try:
        host, port = parse_address(text)
    except ValueError as exc:
        assert str(exc)
        return None
    assert host and (port is None or 0 < port < 65536)
    try:  # what a probe will do with it: numeric lookups only, so nothing leaves this machine
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV)
    except socket.gaierror:
        pass
    return host, port


@fuzz
@given(st.one_of(addresses(), st.text(max_size=40)))
@example("a:٣")
@example("[::1")
@example("host\0name:443")
@example("[fe80::1%eth0]:443")
def test_any_address_is_a_host_and_port_or_a_usage_error(text):
    assert_address(text)


@fuzz
@given(HOSTS.filter(lambda h: h and h.isascii() and h.isprintable() and " " not in h), st.integers(1, 65535))
def test_an_address_written_as_people_write_it_reads_back(host, port):
    written = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    parsed = assert_address(written)
    if parsed is not None:
        assert parsed == (host, port)
        assert parse_address(written.rsplit(":", 1)[0]) == (host, 443)


@pytest.mark.parametrize("text", ["a:٣", "a:²", "[::1", "host\0name", "host name:443", "[::1]]:443"])
def test_addresses_a_probe_cannot_use_are_refused(text):
    with pytest.raises(ValueError):
        parse_address(text)


# -- waiver files ---------------------------------------------------------------------------------------------

def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, dt.date)):
        return value.isoformat() if isinstance(value, dt.date) else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)  # TOML has no surrogate-pair escapes


TEXTS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip)
GOOD_FIELDS_KEYS = ("rule", "reason", "owner", "expires", "component", "location", "host")
GOOD_FIELDS = st.fixed_dictionaries(
    {"rule": st.sampled_from(["ats-python-sdk-before-cutoff", "ats-*", "*"]), "reason": TEXTS, "owner": TEXTS,
     "expires": st.one_of(st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
                          st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)).map(dt.date.isoformat))},
    optional={"component": st.sampled_from(["botocore", "boto*", "awscli"]),
              "location": st.one_of(st.sampled_from(["**/legacy/**", "/srv/app/.venv/**", "py3-old-botocore/[a-z]*"]),
                                    st.text(st.sampled_from("ab/.*?[]!"), min_size=1, max_size=40)),
              "host": st.sampled_from(["web-*", "db-1"])}).map(
    lambda fields: fields if "component" in fields or "location" in fields else dict(fields, component="botocore"))
ODD_VALUES = st.one_of(st.integers(-(1 << 70), 1 << 70), st.booleans(), st.just(""), st.just("  "), TEXTS,
                       st.datetimes().map(lambda d: d.replace(microsecond=0)), st.lists(st.integers(), max_size=2),
                       st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2),
                       st.sampled_from(["2026-02-30", "2026-1-1", "tomorrow", "2026-12-31T00:00:00", "[z-a]"]))


@st.composite
def waiver_files(draw):
    """(file name, text, the waivers it must give or None): files as people write them, in a waiver file or a
    pyproject.toml, with comments and blank lines; or with fields of the wrong type, unknown keys, missing ones."""
    pyproject = draw(st.booleans())
    header = "[[tool.auditor.waivers]]" if pyproject else "[[waivers]]"
    lines = ["[project]", 'name = "service"', "", "[tool.auditor]"] if pyproject else ["# accepted risks"]
    expected, broken = [], False
    for _ in range(draw(st.integers(0, 4))):
        fields = draw(GOOD_FIELDS)
        if draw(st.integers(0, 4)) == 0:
            broken = True
            key = draw(st.sampled_from([*GOOD_FIELDS_KEYS, "extra"]))
            if draw(st.booleans()):
                fields.pop(key, None)
            else:
                fields[key] = draw(ODD_VALUES)
        lines.append(draw(st.sampled_from(["", "# reviewed monthly"])))
        lines.append(header + draw(st.sampled_from(["", "  # legacy batch"])))
        expected.append((len(lines), fields))
        lines += [f"{key} = {toml_value(value)}" for key, value in fields.items()]
    name = "pyproject.toml" if pyproject else draw(st.sampled_from(["waivers.toml", "auditor-waivers.toml"]))
    return name, "\n".join(lines) + "\n", None if broken or (pyproject and not expected) else expected


def load(name: str, data: bytes):
    with in_view({name: data}) as (_, top):
        path = str(top / name)
        try:
            return path, load_waivers(path)
        except WaiverError as exc:
            message = str(exc)
            assert message.startswith(path) and "\n" not in message.strip() or "not valid TOML" in message
            return path, exc


@fuzz
@given(waiver_files())
def test_a_waiver_file_gives_its_waivers_or_one_error_naming_the_file(document):
    name, text, expected = document
    path, waivers = load(name, text.encode("utf-8"))
    if expected is None:
        return
    assert not isinstance(waivers, WaiverError), waivers
    assert [(w.line, w.rule, w.reason, w.owner, w.component, w.location, w.host) for w in waivers] == [
        (line, f["rule"], f["reason"], f["owner"], f.get("component"), f.get("location"), f.get("host"))
        for line, f in expected]
    assert all(dt.date.fromisoformat(w.expires) for w in waivers)
    component = Component("python-package", "botocore", "0.21.0", "/srv/app/legacy/.venv/lib/python3.11/site-packages/"
                          "botocore-0.21.0.dist-info/METADATA", "dist-info METADATA", "/srv/app", host="web-1")
    for waiver in waivers:
        assert waiver.matches("ats-python-sdk-before-cutoff", component) in (True, False)


@fuzz
@given(waiver_files(), BYTE_OPS)
def test_a_damaged_waiver_file_is_waivers_or_a_waiver_error(document, ops):
    name, text, _ = document
    path, waivers = load(name, mutate(text.encode("utf-8"), ops))
    assert isinstance(waivers, WaiverError) or all(isinstance(w, Waiver) for w in waivers)


@fuzz
@given(st.sampled_from(["waivers.toml", "pyproject.toml"]),
       st.one_of(st.binary(max_size=512), st.text(max_size=512).map(lambda t: t.encode("utf-8", "surrogatepass"))))
@example("pyproject.toml", b"tool = 1\n")
@example("pyproject.toml", b"[tool]\nauditor = []\n")
@example("pyproject.toml", b"[tool.auditor]\nwaivers = {}\n")
@example("waivers.toml", b"waivers = [1]\nx = '''\n[[waivers]]\n'''\n")
@example("pyproject.toml", b"[[tool.auditor.waivers]]\n[tool.auditor]\nwaivers = 3\n")
@example("waivers.toml", b"a = " + b"[" * 5000)
@example("waivers.toml", b"\xef\xbb\xbf[[waivers]]\n")
def test_any_bytes_as_a_waiver_file(name, data):
    load(name, data)


def test_a_location_glob_of_many_stars_matches_in_linear_time():
    """As a regular expression, four `*` took 33 s on a 300-character path that does not match."""
    started, path = time.process_time(), "/" + "/".join(["a" * 20] * 50)
    for pattern, then in (("*a" * 12 + "*b", "b"), ("**a" * 12 + "**b", "b"), ("**/a" * 12 + "**/b", "/b")):
        assert not path_glob(pattern).fullmatch(path)
        assert path_glob(pattern).fullmatch(path + then)
    assert time.process_time() - started < 2


def test_a_location_glob_with_a_backwards_range_is_an_error_at_its_line():
    """[z-a] raised re.error when the waiver was applied; now the file is refused when it is loaded."""
    text = ('[[waivers]]\nrule = "*"\nlocation = "/srv/[z-a]*/**"\nreason = "r"\nowner = "o"\n'
            'expires = 2030-01-01\n')
    path, error = load("waivers.toml", text.encode())
    assert isinstance(error, WaiverError) and str(error) == f"{path}:3: location: the range z-a in [z-a] runs backwards"


# -- saved reports ------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def saved_report_text() -> str:
    """A JSON report as `auditor scan` writes it: packages, trust stores, findings with evidence, errors."""
    result = run("scan", "-q", "--format", "json", ENVS / "py3-old-botocore")
    assert result.code in (0, 1), result.err
    return result.out


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(1 << 80), 1 << 80), st.floats(allow_nan=True),
              st.text(max_size=20), st.sampled_from(["\ud800", "high", "1.0", "2026-11-28", "", "python-package"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)


@st.composite
def saved_reports(draw):
    """A real report, with values replaced, keys removed or added anywhere in it, then damaged as bytes."""
    data = json.loads(saved_report_text())
    for _ in range(draw(st.integers(0, 3))):
        node = draw(st.sampled_from(containers(data)))
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        change = draw(st.sampled_from(["replace", "remove", "add"]))
        if change == "add" or not keys:
            key = draw(st.text(max_size=8)) if isinstance(node, dict) else len(node)
            if isinstance(node, dict):
                node[key] = draw(JSON_VALUES)
            else:
                node.append(draw(JSON_VALUES))
        elif change == "remove":
            del node[draw(st.sampled_from(keys))]
        else:
            node[draw(st.sampled_from(keys))] = draw(JSON_VALUES)
    text = json.dumps(data, indent=draw(st.sampled_from([None, 2])), ensure_ascii=draw(st.booleans()))
    return mutate(text.encode("utf-8", "surrogatepass"), draw(BYTE_OPS))


def assert_loads(data: bytes):
    with in_view({"report.json": data}) as (_, top):
        path = str(top / "report.json")
        try:
            report = load_report(path)
        except SavedReportError as exc:
            assert str(exc).startswith(path)
            return None
    assert isinstance(report, Report)
    return report


@fuzz
@given(saved_reports())
def test_an_edited_saved_report_is_a_report_or_refused(data):
    assert_loads(data)


@fuzz
@given(st.binary(max_size=1024))
@example(b"[" * 100_000)
@example(b'{"schema_version": "1.0", "n": ' + b"9" * 5000 + b"}")
@example(b'{"schema_version": "1.0", "tool": NaN}')
def test_any_bytes_as_a_saved_report(data):
    assert_loads(data)


def test_a_component_without_a_version_is_refused_not_a_crash():
    """The schema does not require a component's version; the model does (Component.__init__ raised TypeError)."""
    data = json.loads(saved_report_text())
    del data["components"][0]["version"]
    with in_view({"report.json": json.dumps(data).encode()}) as (_, top):
        result = run("report", "render", top / "report.json")
    assert result.code == 2 and "a field the auditor writes is missing" in result.err


@pytest.mark.parametrize("command", ["render", "merge", "diff"])
def test_a_lone_surrogate_in_a_saved_report_is_refused_not_written_out(command):
    """JSON's "\\ud800" decodes to a lone surrogate, which no UTF-8 output can hold: rendering it raised
    UnicodeEncodeError. A surrogate pair is a character and stays."""
    data = json.loads(saved_report_text())
    data["errors"] = [{"location": "/srv/app/\U0001F600", "message": "cannot read: \ud800"}]
    with in_view({"report.json": json.dumps(data).encode()}) as (_, top):
        path = top / "report.json"
        result = run("report", command, *([path] if command == "render" else [path, path]))
        assert result.code == 2 and "'cannot read: \\\\ud800' holds a lone surrogate" in result.err
        data["errors"][0]["message"] = "cannot read: \U0001F600"
        path.write_text(json.dumps(data))  # ensure_ascii: the pair \ud83d\ude00
        assert run("report", command, *([path] if command == "render" else [path, path])).code in (0, 1)


@fuzz
@given(saved_reports(), st.sampled_from(["render", "merge", "diff"]),
       st.sampled_from(["table", "json", "markdown", "html", "sarif", "junit", "csv"]))
def test_report_commands_on_an_edited_report_answer_or_fail_in_one_line(data, command, output):
    with in_view({"report.json": data}) as (_, top):
        path = top / "report.json"
        args = {"render": [path], "merge": [path, path], "diff": [path, path]}[command]
        if command == "diff" and output not in ("table", "json", "markdown"):
            output = "json"
        result = run("report", command, *args, "--format", output)
        if result.code == 2:
            assert result.err.strip() and str(path) in result.err
        else:
            assert result.code in (0, 1), result.err
            result.out.encode("utf-8")  # what a terminal or file will be given
