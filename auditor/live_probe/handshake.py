"""The TLS side of a probe: a client context that trusts exactly one store, the verifying handshake,
the chains it saw, and the optional GET /.

The verdict is OpenSSL's own, from one handshake with verification on (hostname included) against
the store's certificates loaded in memory (`cadata`), so PEM, hashed directories and Java keystores
are tried the same way. The chain the server sent and the path OpenSSL built come from that same
handshake: `SSLSocket.get_unverified_chain()` / `get_verified_chain()` on Python 3.13+, the same
methods of the private `SSLSocket._sslobj` on 3.10-3.12 (the sent chain stays readable after a failed
verification). Python 3.9 has neither: there only the server's own certificate is shown, on success.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
from functools import cached_property

from auditor.records import field, mutable_record
from auditor.version import __version__
from auditor.trust.formats import read_store
from auditor.fs import View
from auditor.live_probe.connect import send_all
from auditor.live_probe.loop import READ, Task, when_ready

MAX_RESPONSE = 64 * 1024
# GET /'s answer: status, status_line, body (its start) and healthy; or error
HttpAnswer = dict[str, "str | int | bool | None"]


@mutable_record
class TrustStore:
    """The certificates of one store (DER) under the name a report shows; its client context is made once
    and shared by every probe that uses the store."""

    label: str
    certificates: list[bytes]
    format: str = "certificates"
    problems: list[str] = field(default_factory=list)
    skipped: int = 0  # certificates OpenSSL could not load, known once the context is made

    @classmethod
    def load(cls, path: str, password: str | None = None, *, view: View | None = None,
             label: str | None = None) -> "TrustStore":
        """Read a PEM or DER file, a hashed directory, or a JKS/JCEKS/PKCS#12 keystore (any format read_store
        knows) through `view` (default: this machine's files); shown as `label` (default: its absolute path)."""
        host = os.path.abspath(path)
        store = read_store(view or View("/", display_top="/"), host, password)
        return cls(label or host, store.certificates, store.format, [e.message for e in store.errors])

    @cached_property
    def context(self) -> ssl.SSLContext:
        """A TLS 1.2+ client context: certificate and hostname verification on, trusting this store only.
        A certificate OpenSSL cannot load is skipped (counted in `skipped`), as OpenSSL skips it in a bundle."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_verify_locations(cadata=b"".join(self.certificates))
        except ssl.SSLError:
            for der in self.certificates:
                try:
                    context.load_verify_locations(cadata=der)
                except ssl.SSLError:
                    self.skipped += 1
        return context


@mutable_record
class Handshake:
    tls: ssl.SSLSocket
    error: OSError | None
    sent: list[bytes] | None  # as the server sent it, its certificate first; None: this Python cannot tell
    verified: list[bytes] | None  # the path OpenSSL built, leaf to anchor; None on failure or Python 3.9


def handshake(sock: socket.socket, store: TrustStore, hostname: str, until: float) -> Task[Handshake]:
    """One verifying handshake with SNI `hostname` on a non-blocking socket, bounded as a whole by `until`,
    however slowly the peer drips its bytes."""
    tls = store.context.wrap_socket(sock, server_hostname=hostname, do_handshake_on_connect=False)
    try:
        yield from when_ready(tls.do_handshake, tls, READ, until)
    except OSError as exc:  # ssl.SSLError and the loop's TimeoutError included
        return Handshake(tls, exc, _chain(tls, "get_unverified_chain"), None)
    sent = _chain(tls, "get_unverified_chain")
    if sent is None:  # Python 3.9: the server's own certificate is all there is
        own = tls.getpeercert(binary_form=True)
        sent = [own] if own is not None else []
    return Handshake(tls, None, sent, _chain(tls, "get_verified_chain"))


def _chain(tls: ssl.SSLSocket, method: str) -> list[bytes] | None:
    public = getattr(tls, method, None)  # Python 3.13+
    if public is not None:
        chain: list[bytes] = public()
        return chain
    private = getattr(tls._sslobj, method, None)  # type: ignore[attr-defined]  # Python 3.10-3.12: private, not in typeshed
    if private is None:
        return None
    import _ssl

    return [certificate.public_bytes(_ssl.ENCODING_DER) for certificate in private() or []]


def get_root(tls: ssl.SSLSocket, host: str, until: float) -> Task[HttpAnswer]:
    """GET / over the verified connection: the status, the start of the body, and whether it reads
    `healthy: <host>` as the DynamoDB endpoints' does. Errors are reported, never raised."""
    request = (f"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: auditor/{__version__} probe\r\nAccept: */*\r\n"
               f"Connection: close\r\n\r\n")
    data = b""
    try:
        yield from send_all(tls, request.encode("ascii"), until)
        while len(data) < MAX_RESPONSE and not _complete(data):
            chunk = yield from when_ready(lambda: tls.recv(16384), tls, READ, until)
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        if not data:
            return {"error": str(exc) or type(exc).__name__}
    head, _, body = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    status = re.match(r"HTTP/\d(?:\.\d)? (\d{3})", status_line)
    text = body.decode("utf-8", "replace")
    return {"status": int(status.group(1)) if status else None, "status_line": status_line,
            "body": text[:200], "healthy": f"healthy: {host}" in text}


def _complete(data: bytes) -> bool:
    """Whether a response with a Content-Length has all of its body."""
    head, separator, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(separator and length and len(body) >= int(length.group(1)))
