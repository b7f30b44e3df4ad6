"""A probe's result, the same as a report component of kind `probe`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditor.facts.probe import PROBE_RESULT_FIELDS, ProbeFacts, ProbeLinks
from auditor.model import Component
from auditor.live_probe.classify import CLASSES
from auditor.live_probe.connect import host_port
from auditor.records import field, mutable_record

if TYPE_CHECKING:
    from auditor.live_probe.handshake import HttpAnswer


@mutable_record
class ProbeResult:
    host: str  # the name asked for: SNI and the hostname check
    port: int
    store: str  # the trust store's label (its absolute path for a file or directory)
    store_format: str = ""
    store_certificates: int = 0
    users: tuple[str, ...] = ()  # who uses the store (clients), as the caller names them
    connect_to: str | None = None  # the address connected to instead of host:port
    proxy: str | None = None  # the HTTPS proxy used, credentials redacted
    failure: str | None = None  # a class of classify.CLASSES; None when the store verified the endpoint
    detail: str = ""  # what exactly went wrong, in words
    message: str = ""  # the operating system's or OpenSSL's own error text
    tls_version: str | None = None
    cipher: str | None = None
    chain: list[dict[str, str]] = field(default_factory=list)  # as the server sent it, its own certificate first
    path: list[dict[str, str]] = field(default_factory=list)  # as OpenSSL built it, leaf to anchor
    anchor: dict[str, str] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)  # per phase: dns, connect, proxy, handshake, http
    attempts: list[dict[str, str | float]] = field(default_factory=list)  # result and elapsed_ms of each
    http: HttpAnswer | None = None
    elapsed_ms: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return host_port(self.host, self.port)

    @property
    def ok(self) -> bool:
        return self.failure is None


def probe_facts(result: ProbeResult, links: ProbeLinks | None = None) -> ProbeFacts:
    """The result as typed facts: the result itself, its outcome (pass, fail: the store failed verification, error:
    it could not be tried), `remedy`, the failure class the rule's remediation is keyed by, and the store's links."""
    values = {name: getattr(result, name) for name in PROBE_RESULT_FIELDS}
    values.update((name, tuple(values[name])) for name in ("users", "chain", "path", "attempts", "notes"))
    values.update(timings_ms=dict(result.timings_ms), http=dict(result.http) if result.http is not None else None)
    failure = CLASSES.get(result.failure or "")
    return ProbeFacts(**values, endpoint=result.endpoint, outcome=failure.outcome if failure else "pass",
                      remedy=result.failure or "pass", problem=failure.title if failure else None,
                      cause=failure.cause if failure else None, links=links)


def probe_component(result: ProbeResult, target: str, links: ProbeLinks | None = None) -> Component:
    """The result as a component of kind `probe`: name the endpoint, location the store; its details are made
    from its facts (`probe_facts`)."""
    route = f" via {result.connect_to}" if result.connect_to else (f" through proxy {result.proxy}" if result.proxy else "")
    return Component("probe", result.endpoint, None, result.store, "live probe" + route, target,
                     facts=probe_facts(result, links))
