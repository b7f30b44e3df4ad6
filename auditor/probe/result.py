"""A probe's result, the same as a report component of kind `probe`, and the observations its findings cite."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from auditor.model import Component
from auditor.probe.classify import CLASSES
from auditor.probe.connect import host_port


@dataclass
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
    chain: list[dict] = field(default_factory=list)  # as the server sent it, its own certificate first
    path: list[dict] = field(default_factory=list)  # as OpenSSL built it, leaf to anchor
    anchor: dict | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)  # per phase: dns, connect, proxy, handshake, http
    attempts: list[dict] = field(default_factory=list)
    http: dict | None = None
    elapsed_ms: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def endpoint(self) -> str:
        return host_port(self.host, self.port)

    @property
    def ok(self) -> bool:
        return self.failure is None


def probe_component(result: ProbeResult, target: str) -> Component:
    """The result as a component of kind `probe`: name the endpoint, location the store; `details` hold the
    result, its outcome (pass, fail: the store failed verification, error: it could not be tried), and
    `remedy`, the failure class the rule's remediation is keyed by."""
    details = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(result).items()
               if v is not None and v != "" and v != [] and v != ()}
    failure = CLASSES.get(result.failure or "")
    details.update(endpoint=result.endpoint, outcome=failure.outcome if failure else "pass", remedy=result.failure or "pass")
    if failure:
        details.update(problem=failure.title, cause=failure.cause)
    route = f" via {result.connect_to}" if result.connect_to else (f" through proxy {result.proxy}" if result.proxy else "")
    return Component("probe", result.endpoint, None, result.store, "live probe" + route, target, details=details)


def anchor_text(anchor: dict | None) -> str:
    if not anchor:
        return "not shown"
    if anchor.get("ats_anchor"):
        return f"{anchor['ats_anchor']} (ATS anchor, SHA-256 {anchor['sha256'][:16]}…)"
    return f"{anchor['name']} (SHA-256 {anchor['sha256'][:16]}…; " + (anchor.get("note") or "not an ATS anchor") + ")"


def observations(details: dict) -> list[str]:
    """What a probe saw, one sentence each, for a finding's evidence and a reviewer."""
    route = (f"connected to {details['connect_to']}" if details.get("connect_to") else
             f"through proxy {details['proxy']}" if details.get("proxy") else "connected directly")
    count = details.get("store_certificates", 0)
    seen = [f"{details['endpoint']} probed ({route}, SNI {details['host']}) trusting only {details['store']} "
            f"({details.get('store_format', '?')}, {count} certificate{'' if count == 1 else 's'})"]
    if details.get("failure"):
        seen.append(f"{details['problem']}: {details['cause']} Here: {details['detail']}.")
        if details.get("message") and details["message"] not in details["detail"]:
            seen.append(f"error raised: {details['message']}")
    else:
        path = " <- ".join(c["name"] for c in details.get("path", [])) or "not shown by this Python"
        seen.append(f"verified with {details.get('tls_version')} {details.get('cipher')}; path built: {path}; "
                    f"anchor: {anchor_text(details.get('anchor'))}")
    if details.get("chain"):
        seen.append("the server sent: " + "; ".join(f"{c['name']} (SHA-256 {c['sha256'][:16]}…, not after "
                                                     f"{c.get('not_after', '?')})" for c in details["chain"]))
    phases = ", ".join(f"{phase} {ms:g} ms" for phase, ms in details.get("timings_ms", {}).items())
    attempts = details.get("attempts", [])
    seen.append(f"time per phase: {phases or 'none'}" + (
        f"; {len(attempts)} attempts: " + ", ".join(a["result"] for a in attempts) if len(attempts) > 1 else ""))
    http = details.get("http")
    if http:
        seen.append(f"GET / failed: {http['error']}" if "error" in http else
                    f"GET / answered '{http['status_line']}'; the body " + ("reads" if http["healthy"] else "does not read")
                    + f" 'healthy: {details['host']}'")
    seen.extend(details.get("notes", []))
    return seen
