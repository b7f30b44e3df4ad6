"""Loopback TLS peers for the probe tests and benchmark, and the test PKI they serve.

The hierarchy mirrors the real one: leaf <- intermediate <- "Amazon Root CA 1" cross-signed by
"Starfield Services Root Certificate Authority - G2" cross-signed by "Starfield Class 2". Each root
also exists self-signed, as a store holds it. Keys are fresh EC keys made at run time: these roots
carry the real names but never the real keys or fingerprints, so nothing outside the tests trusts them.

One thread accepts on every port, so a test or a benchmark can open hundreds of ports cheaply.
Behaviours: a TLS server (any chain, any TLS versions) that answers GET / with
`healthy: <SNI name>`, a peer that accepts and never answers, one that drips its answer a byte at a
time, one that resets, one that sends garbage, and an HTTP CONNECT proxy with Basic credentials.

The fixtures both probe test modules use are defined here once; each module takes them into its own
namespace (`pki = tls_servers.pki`), so a module-scoped one is still made once per module.
"""

from __future__ import annotations

import _thread
import base64
import datetime as dt
import selectors
import socket
import ssl
import struct
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID

HOST = "dynamodb.eu-west-3.amazonaws.com"
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy")
NOW = dt.datetime.now(dt.timezone.utc)
YEAR = dt.timedelta(days=365)

SFC2_NAME = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                       x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Starfield Technologies, Inc."),
                       x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Starfield Class 2 Certification Authority")])
SFSG2_NAME = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Arizona"),
                        x509.NameAttribute(NameOID.LOCALITY_NAME, "Scottsdale"),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Starfield Technologies, Inc."),
                        x509.NameAttribute(NameOID.COMMON_NAME, "Starfield Services Root Certificate Authority - G2")])
ARCA1_NAME = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Amazon"),
                        x509.NameAttribute(NameOID.COMMON_NAME, "Amazon Root CA 1")])
INTERMEDIATE_NAME = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                               x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Amazon"),
                               x509.NameAttribute(NameOID.COMMON_NAME, "Test Amazon RSA 2048 M02")])


def _certificate(subject, key, issuer, issuer_key, *, ca: bool, names=(), not_before=None, not_after=None):
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or NOW - YEAR).not_valid_after(not_after or NOW + 10 * YEAR)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False))
    if ca:
        signs_certificates = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                           crl_sign=True, encipher_only=False, decipher_only=False)
        builder = builder.add_extension(signs_certificates, critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _key():
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class Pki:
    """The test hierarchy; `roots` are the self-signed copies a store holds, `sent` what a server sends."""

    directory: Path
    roots: dict[str, x509.Certificate] = field(default_factory=dict)  # "amazon", "starfield-g2", "starfield-class-2"
    intermediate: x509.Certificate | None = None
    crosses: list[x509.Certificate] = field(default_factory=list)  # Amazon Root CA 1 by G2, G2 by Class 2
    leaf_key: ec.EllipticCurvePrivateKey | None = None
    intermediate_key: ec.EllipticCurvePrivateKey | None = None

    @classmethod
    def make(cls, directory: Path) -> "Pki":
        pki = cls(directory)
        sfc2_key, sfsg2_key, arca1_key, pki.intermediate_key, pki.leaf_key = (_key() for _ in range(5))
        pki.roots["starfield-class-2"] = _certificate(SFC2_NAME, sfc2_key, SFC2_NAME, sfc2_key, ca=True)
        pki.roots["starfield-g2"] = _certificate(SFSG2_NAME, sfsg2_key, SFSG2_NAME, sfsg2_key, ca=True)
        pki.roots["amazon"] = _certificate(ARCA1_NAME, arca1_key, ARCA1_NAME, arca1_key, ca=True)
        pki.crosses = [_certificate(ARCA1_NAME, arca1_key, SFSG2_NAME, sfsg2_key, ca=True),
                       _certificate(SFSG2_NAME, sfsg2_key, SFC2_NAME, sfc2_key, ca=True)]
        pki.intermediate = _certificate(INTERMEDIATE_NAME, pki.intermediate_key, ARCA1_NAME, arca1_key, ca=True)
        return pki

    def leaf(self, names=(HOST,), **validity) -> x509.Certificate:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        return _certificate(subject, self.leaf_key, INTERMEDIATE_NAME, self.intermediate_key, ca=False, names=names,
                            **validity)

    def store(self, *roots: str) -> Path:
        """A PEM bundle holding the named roots."""
        path = self.directory / f"store-{'-'.join(roots) or 'empty'}.pem"
        path.write_bytes(b"".join(self.roots[r].public_bytes(Encoding.PEM) for r in roots))
        return path

    def server_context(self, leaf=None, *, intermediates: bool = True, tls10_only: bool = False) -> ssl.SSLContext:
        """A server context sending `leaf` (default: valid for HOST) and, unless told not to, the
        intermediate and both cross-signed certificates, as the real endpoints do."""
        leaf = leaf or self.leaf()
        chain = [leaf] + ([self.intermediate, *self.crosses] if intermediates else [])
        name = f"chain-{len(list(self.directory.glob('chain-*')))}"
        chain_path, key_path = self.directory / f"{name}.pem", self.directory / f"{name}.key"
        chain_path.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
        key_path.write_bytes(self.leaf_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if tls10_only:  # OpenSSL 3 allows TLS 1.0 only at security level 0
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        context.load_cert_chain(chain_path, key_path)
        return context


class Peers:
    """Loopback peers: one thread accepts on every port (selectors), each connection is served by its own
    thread with blocking I/O, so OpenSSL sends its alerts as a real server would. `add_*` returns the port."""

    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self.wake_reader, self.wake_writer = socket.socketpair()
        self.selector.register(self.wake_reader, selectors.EVENT_READ)
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.proxied: list[str] = []  # CONNECT targets the proxy was asked for
        self.names: dict[int, str] = {}  # SNI name of each TLS connection being served
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def __enter__(self) -> "Peers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _listen(self, handler) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(512)
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, handler)
        return listener.getsockname()[1]

    def _accept(self) -> None:
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.wake_reader:
                    return
                try:
                    connection, _ = key.fileobj.accept()
                except BlockingIOError:
                    continue
                connection.setblocking(True)
                with self.lock:
                    self.connections.add(connection)
                _thread.start_new_thread(self._serve, (key.data, connection))

    def _remember_name(self, tls, name, _context) -> None:
        self.names[id(tls)] = name or ""

    def _serve(self, handler, connection: socket.socket) -> None:
        try:
            handler(connection)
        except OSError:  # ssl.SSLError included: a failed handshake is the point of many peers
            pass
        finally:
            with self.lock:
                self.connections.discard(connection)
            connection.close()

    def add_tls(self, context: ssl.SSLContext) -> int:
        """A TLS server: answers GET / with `healthy: <SNI name>`. One context may serve many ports."""
        context.sni_callback = self._remember_name

        def serve(connection):
            with context.wrap_socket(connection, server_side=True) as tls:
                request = b""
                while b"\r\n\r\n" not in request and (data := tls.recv(4096)):
                    request += data
                body = f"healthy: {self.names.pop(id(tls), '')}".encode()
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                            b"Connection: close\r\n\r\n%s" % (len(body), body))

        return self._listen(serve)

    def add_silent(self) -> int:
        """Accepts, reads, and never answers."""
        def serve(connection):
            while connection.recv(4096):
                pass

        return self._listen(serve)

    def add_reset(self) -> int:
        """Reads the ClientHello, then resets the connection (RST)."""
        def serve(connection):
            connection.recv(1)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

        return self._listen(serve)

    def add_garbage(self) -> int:
        """Reads the ClientHello, then answers with something that is not TLS."""
        def serve(connection):
            connection.recv(1)
            connection.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nthis is not TLS\r\n" * 4)

        return self._listen(serve)

    def add_drip(self) -> int:
        """Reads the ClientHello, then starts a TLS handshake record and sends its body a byte at a time,
        every 0.1 s, never finishing: each read gets data, the handshake never ends."""
        def serve(connection):
            connection.recv(4096)
            connection.sendall(b"\x16\x03\x03\x40\x00")  # handshake record of 16 KB
            for _ in range(16 * 1024):
                time.sleep(0.1)
                connection.sendall(b"\x02")

        return self._listen(serve)

    def add_proxy(self, user: str, password: str) -> int:
        """An HTTP CONNECT proxy that requires these Basic credentials and relays to loopback ports."""
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

        def serve(connection):
            head = b""
            while b"\r\n\r\n" not in head and (data := connection.recv(1)):
                head += data
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            if method != "CONNECT" or headers.get("Proxy-Authorization") != expected:
                connection.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                return
            self.proxied.append(target)
            with socket.create_connection(("127.0.0.1", int(target.rsplit(":", 1)[1]))) as upstream:
                connection.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                back = threading.Thread(target=_relay, args=(upstream, connection), daemon=True)
                back.start()
                _relay(connection, upstream)
                back.join(5)

        return self._listen(serve)

    def close(self) -> None:
        self.wake_writer.send(b"x")
        self.thread.join(5)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()
        self.wake_writer.close()
        with self.lock:
            for connection in self.connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv
                except OSError:
                    pass


def _relay(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FullBacklog:
    """A loopback port whose accept queue is full, so the kernel drops further SYNs: a connect there
    times out, as behind a firewall that drops packets (Linux; `works` says whether it did here)."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.works = False
        for _ in range(4):
            attempt = socket.socket()
            attempt.settimeout(0.2)
            try:
                attempt.connect(("127.0.0.1", self.port))
            except OSError:
                attempt.close()
                self.works = True
                break
            self.held.append(attempt)

    def __enter__(self) -> "FullBacklog":
        return self

    def __exit__(self, *exc) -> None:
        for sock in self.held:
            sock.close()
        self.listener.close()


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch):
    """No proxy of the machine running the tests: a probe connects directly unless a test sets one."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki.make(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory):
    """The same names with other keys: its roots are what a store without the right anchor holds."""
    return Pki.make(tmp_path_factory.mktemp("other-pki"))
