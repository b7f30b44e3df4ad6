"""Failure classes of a probe, each with a plain-language cause, and the mapping from what the socket,
the proxy or OpenSSL raised (in which phase) to a class. Remediation per class is rule data
(rules/packs/dynamodb-ats.toml, rule ats-probe)."""

from __future__ import annotations

import socket
import ssl
from typing import Sequence

from auditor.live_probe import chain
from auditor.records import record


@record
class FailureClass:
    id: str
    title: str
    outcome: str  # "fail": the store was tried and failed verification; "error": the store could not be tried
    cause: str


CLASSES = {c.id: c for c in (
    FailureClass("dns", "DNS failure", "error",
                 "The endpoint's name did not resolve to an address, so no connection was tried."),
    FailureClass("refused", "connection refused", "error",
                 "The address answered that nothing listens on this port (TCP reset on connect)."),
    FailureClass("connect-timeout", "connect timeout", "error",
                 "The TCP connection got no answer in time: a firewall that drops packets, a wrong address or no route."),
    FailureClass("connect-failed", "connection failed", "error",
                 "The TCP connection could not be opened (the operating system's reason is below)."),
    FailureClass("stalled", "handshake stalled", "error",
                 "The TCP connection opened but the TLS handshake did not finish in time. This is the 'long delay' "
                 "symptom: a client waits here for as long as its own timeouts and retries allow, then fails."),
    FailureClass("reset", "connection reset", "error",
                 "The peer reset or closed the connection during the handshake without a TLS alert: a firewall, "
                 "TLS-inspecting middlebox or overloaded server cut it."),
    FailureClass("protocol-version", "protocol version refused", "error",
                 "The peer refused the TLS versions offered (the probe offers TLS 1.2 and 1.3, which AWS endpoints "
                 "require): a server, proxy or client without TLS 1.2 fails like this."),
    FailureClass("not-tls", "not TLS", "error",
                 "The peer answered with something that is not TLS: another protocol on this port, or a proxy or "
                 "captive portal in between."),
    FailureClass("tls-failed", "TLS handshake failed", "error",
                 "The TLS handshake failed for a reason other than the certificate (OpenSSL's reason is below)."),
    FailureClass("proxy-failed", "proxy failed", "error",
                 "The HTTPS proxy in use (HTTPS_PROXY) could not be reached or did not open a tunnel to the endpoint."),
    FailureClass("deadline", "run deadline passed", "error",
                 "The whole run's time bound (--deadline) ran out before this probe finished."),
    FailureClass("store-unusable", "store unusable", "fail",
                 "The trust store holds no certificate the probe could load: a client using it trusts nothing."),
    FailureClass("untrusted-root", "untrusted root", "fail",
                 "The server's chain leads to a root that no certificate in the store vouches for: the store holds "
                 "none of the roots this chain reaches (for AWS: Amazon Root CA 1, Starfield Services Root "
                 "Certificate Authority - G2, Starfield Class 2 Certification Authority)."),
    FailureClass("incomplete-chain", "incomplete chain", "fail",
                 "The server did not send the intermediate CA certificate that issued its own, and the store does not "
                 "hold it, so no chain can be built. AWS endpoints send their intermediates: a server or "
                 "TLS-inspecting proxy in between is misconfigured."),
    FailureClass("expired", "certificate expired", "fail",
                 "A certificate of the chain is past its end of validity, or this machine's clock is wrong."),
    FailureClass("not-yet-valid", "certificate not yet valid", "fail",
                 "A certificate of the chain is not valid yet: this machine's clock is probably behind."),
    FailureClass("hostname-mismatch", "hostname mismatch", "fail",
                 "The certificate is valid, but not for the name asked: the connection reached another server "
                 "(a wrong --connect-to address, /etc/hosts or DNS override) or a TLS-inspecting proxy."),
    FailureClass("certificate-rejected", "certificate rejected", "fail",
                 "OpenSSL rejected the chain for a reason other than trust, validity or name (its reason is below)."),
)}

# Worth another attempt: the network may behave differently. A certificate verdict never changes on retry.
RETRYABLE = frozenset({"dns", "refused", "connect-timeout", "connect-failed", "stalled", "reset"})

# OpenSSL's X509_V_ERR_* codes, as SSLCertVerificationError.verify_code gives them.
_NOT_YET_VALID, _EXPIRED, _HOSTNAME = 9, 10, 62
_NO_ISSUER = frozenset({2, 18, 19, 20, 21})  # issuer not found, self-signed leaf or root in chain, leaf not verifiable
_PROTOCOL_VERSION = frozenset({"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE",
                               "VERSION_TOO_LOW", "WRONG_SSL_VERSION"})
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "UNKNOWN_PROTOCOL",
                      "HTTP_REQUEST", "RECORD_LENGTH_MISMATCH"})
_EOF = frozenset({"UNEXPECTED_EOF_WHILE_READING"})  # OpenSSL 3's name for a peer gone without close_notify
_TIMEOUT_CLASS = {"dns": "dns", "connect": "connect-timeout", "proxy": "proxy-failed", "handshake": "stalled"}


class ProbeFailure(Exception):
    """A probe's failure: its class, what exactly happened (plain language) and the raw error text."""

    def __init__(self, failure: str, detail: str, message: str = ""):
        super().__init__(detail)
        self.failure, self.detail, self.message = failure, detail, message


class TunnelError(Exception):
    """The proxy could not be used: an unsupported URL, or an answer other than 200 to CONNECT."""


def classify(phase: str, exc: BaseException, *, timeout: float, by_run_deadline: bool, proxy: str | None = None,
             sent: list[bytes] | None = None, store: Sequence[bytes] = (), host: str = "") -> ProbeFailure:
    """What went wrong in `phase` (dns, connect, proxy, handshake), told from the exception raised.
    `by_run_deadline`: the phase was cut short by the run's deadline, not by its own timeout; `proxy`: the
    (redacted) proxy the connection went through; `sent`: the chain the server sent, when the handshake
    got that far (for certificate errors)."""
    message = _text(exc)
    if isinstance(exc, TunnelError):
        return ProbeFailure("proxy-failed", message, message)
    if proxy and phase in ("dns", "connect"):
        return ProbeFailure("proxy-failed", f"proxy {proxy}: {'resolving' if phase == 'dns' else 'connecting'} "
                                            f"failed: {message}", message)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        if by_run_deadline:
            return ProbeFailure("deadline", f"the run's deadline passed during the {phase} phase", message)
        waited = f"no answer within {timeout:g} s"
        return ProbeFailure(_TIMEOUT_CLASS.get(phase, "stalled"), waited + (" after the TCP connection opened"
                                                                            if phase == "handshake" else ""), message)
    if isinstance(exc, socket.gaierror):
        return ProbeFailure("dns", f"the resolver said: {exc.strerror or message}", message)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _certificate(exc, sent, store, host)
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)) or getattr(exc, "reason", "") in _EOF:
        return ProbeFailure("reset", "the peer closed the connection without a TLS alert", message)
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "reason", "") or ""
        if reason in _PROTOCOL_VERSION:
            return ProbeFailure("protocol-version", f"OpenSSL: {reason}", message)
        if reason in _NOT_TLS:
            return ProbeFailure("not-tls", f"OpenSSL: {reason}", message)
        return ProbeFailure("tls-failed", f"OpenSSL: {reason or message}", message)
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return ProbeFailure("reset", "the peer reset the connection (TCP RST)", message)
    if isinstance(exc, ConnectionRefusedError):
        return ProbeFailure("refused", "connection refused", message)
    return ProbeFailure({"dns": "dns", "connect": "connect-failed"}.get(phase, "tls-failed"), message, message)


def _certificate(exc: ssl.SSLCertVerificationError, sent: list[bytes] | None, store: Sequence[bytes], host: str) -> ProbeFailure:
    code, message = exc.verify_code, _text(exc)
    unseen = "this Python cannot show the chain the server sent (3.10 and later can)"
    if code == _HOSTNAME:
        names = (", ".join(chain.dns_names(sent[0])) or "no DNS name") if sent else unseen
        return ProbeFailure("hostname-mismatch", f"asked for {host}; the certificate names {names}", message)
    if code in (_EXPIRED, _NOT_YET_VALID):
        failure = "expired" if code == _EXPIRED else "not-yet-valid"
        detail = chain.validity_problem(sent, expired=code == _EXPIRED) if sent is not None else unseen
        return ProbeFailure(failure, detail, message)
    if code in _NO_ISSUER:
        if sent is None:
            return ProbeFailure("untrusted-root", f"{unseen}, so an incomplete chain cannot be told apart", message)
        failure, detail = chain.why_unverified(sent, store)
        return ProbeFailure(failure, detail, message)
    return ProbeFailure("certificate-rejected", exc.verify_message or message, message)


def _text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
