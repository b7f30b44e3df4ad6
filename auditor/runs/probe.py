"""`auditor probe`: endpoints and stores from the command line (or the defaults: the DynamoDB eu-west-3
endpoints, and this machine's OS and OpenSSL stores), every endpoint probed with every store, as a report."""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING, Sequence

from auditor.model import Report, ScanError, Target
from auditor.live_probe.handshake import TrustStore
from auditor.live_probe.result import probe_component
from auditor.live_probe.run import ProbeJob, ProbeSettings, run_probes
from auditor.checks.rules import Pack, ReleaseDates, evaluate
from auditor.records import record

if TYPE_CHECKING:
    from auditor.facts.trust_store import LocalCa
    from auditor.live_probe.result import ProbeResult


@record
class StoreToProbe:
    store: TrustStore
    users: tuple[str, ...] = ()  # who uses it


def parse_address(text: str, default_port: int | None = 443) -> tuple[str, int | None]:
    """HOST, HOST:PORT, [IPv6] or [IPv6]:PORT -> (host, port or `default_port`); ValueError, naming the text,
    when it is none of them."""
    try:
        host, port = _host_and_port(text)
        if not host.isprintable() or any(c.isspace() for c in host):
            raise ValueError("a host has no spaces or control characters")
        host.encode("idna")  # a name that cannot be sent on the wire fails here, not in a worker
    except ValueError as exc:  # ipaddress and the idna codec do not say which text they were given
        raise ValueError(f"{text!r}: {exc}") from None
    return host, int(port) if port is not None else default_port


def _host_and_port(text: str) -> tuple[str, str | None]:
    host, port = text, None
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError("expected [ADDRESS]:PORT")
        port = rest[1:] if rest else None
        ipaddress.IPv6Address(host)
    elif text.count(":") == 1:
        host, port = text.split(":")
    elif ":" in text:
        ipaddress.IPv6Address(text)
    if not host or (port is not None and not (port.isascii() and port.isdigit() and len(port) <= 5
                                              and 0 < int(port) < 65536)):
        raise ValueError("expected HOST[:PORT] with a port from 1 to 65535")
    return host, port


def machine_stores(openssl: bool = True) -> list[StoreToProbe]:
    """This machine's stores: the OS bundles and directories, and (`openssl`) OpenSSL's default for this
    interpreter (SSL_CERT_FILE / SSL_CERT_DIR honoured), each file once, with every role it plays."""
    from auditor.trust.system_stores import openssl_default, os_stores
    from auditor.collect.config.trust_settings import TrustSettings
    from auditor.collect.config.environ import Environ
    from auditor.fs import View

    view = View("/", display_top="/")
    choices = os_stores(view)
    if openssl:
        choices += [c for c in [openssl_default(view, TrustSettings(Environ.of_this_process()))] if c]
    roles: dict[str, list[str]] = {}
    for choice in choices:
        if choice.path is None:  # validates nothing: no store to probe with (the OS and OpenSSL stores name one)
            continue
        roles.setdefault(os.path.realpath(choice.path), []).append(choice.role)
    return [StoreToProbe(TrustStore.load(path), tuple(users)) for path, users in roles.items()]


def probe_report(endpoints: list[tuple[str, int]], stores: list[StoreToProbe], packs: list[Pack], fail_on: str, *,
                 connect_to: tuple[str, int | None] | None = None, settings: ProbeSettings = ProbeSettings(),
                 workers: int = 16, deadline: float = 60.0, local_cas: Sequence[LocalCa] = ()) -> Report:
    """Every endpoint probed with every store, judged by the packs' probe rules. A `connect_to` without a
    port keeps each endpoint's. `local_cas`: the CAs added to this machine's OS store (machine_local_cas), which
    a result whose chain leads to one of them names."""
    report = Report.start(packs, fail_on, "")
    jobs = [ProbeJob(host, port, s.store, connect_to, s.users) for host, port in endpoints for s in stores]
    results = run_probes(jobs, settings, workers, deadline)
    link_local_cas(results, local_cas)
    for s in stores:
        report.targets.append(Target("trust-store", s.store.label, {"format": s.store.format,
                                                                     "certificates": len(s.store.certificates)}))
        report.errors.extend(ScanError(s.store.label, problem) for problem in s.store.problems)
    report.components = [probe_component(result, result.store) for result in results]
    report.findings = list(evaluate(packs, report.components, ReleaseDates({})))  # no package: no release dates
    report.sort()
    return report


def machine_local_cas() -> list[LocalCa]:
    """The CAs added to this machine's OS store, as its distribution's record tells them apart."""
    from auditor.fs import View
    from auditor.trust.local_cas import read_local_cas

    return read_local_cas(View("/", display_top="/")).cas


def link_local_cas(results: Sequence[ProbeResult], local_cas: Sequence[LocalCa]) -> None:
    """A result whose verified path ends at (or whose server sent) a CA added to the OS store, not the
    distribution's: what answered is most likely a TLS-inspecting proxy, and the clients whose own store lacks
    that CA fail behind it. Its anchor says where the CA came from, and a note says so. A failed result whose
    certificates are only issued by a name like the local CA's says that, as a name match."""
    by_sha256 = {ca.sha256: ca for ca in local_cas}
    by_subject = {ca.subject: ca for ca in local_cas}
    for result in results:
        anchor = result.anchor or {}
        ca = by_sha256.get(anchor.get("sha256", "")) or next(
            (by_sha256[c["sha256"]] for c in result.chain if c.get("sha256") in by_sha256), None)
        via = f" through {result.proxy}" if result.proxy else ""
        if ca is not None:
            if result.anchor is not None and anchor.get("sha256") == ca.sha256:
                result.anchor = {**result.anchor, "locally_added": ca.source}
            result.notes.append(f"the chain leads to {ca.subject} (SHA-256 {ca.sha256}), a CA added to this machine's OS "
                                f"store, not the distribution's (from {ca.source}): the certificate came from a "
                                f"TLS-inspecting proxy{via}, not from AWS; a client whose own store lacks this CA fails "
                                f"behind it (`auditor scan` names them: proxy-interception-ca-missing)")
            continue
        named = next((by_subject[c["issuer"]] for c in result.chain if c.get("issuer") in by_subject), None)
        if named is not None and result.failure:
            result.notes.append(f"the server's certificate is issued by a CA named {named.subject}, like a CA added to "
                                f"this machine's OS store (SHA-256 {named.sha256}, from {named.source}; matched by "
                                f"name only): most likely a TLS-inspecting proxy{via}, whose CA this store lacks")
