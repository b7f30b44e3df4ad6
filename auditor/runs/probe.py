"""`auditor probe`: endpoints and stores from the command line (or the defaults: the DynamoDB eu-west-3
endpoints, and this machine's OS and OpenSSL stores), every endpoint probed with every store, as a report."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from auditor.model import Report, ScanError, Target
from auditor.probe.handshake import TrustStore
from auditor.probe.result import probe_component
from auditor.probe.run import ProbeJob, ProbeSettings, run_probes
from auditor.checks.rules import Pack, ReleaseDates, evaluate


@dataclass(frozen=True)
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
                 workers: int = 16, deadline: float = 60.0) -> Report:
    """Every endpoint probed with every store, judged by the packs' probe rules. A `connect_to` without a
    port keeps each endpoint's."""
    report = Report.start(packs, fail_on, "")
    jobs = [ProbeJob(host, port, s.store, connect_to, s.users) for host, port in endpoints for s in stores]
    results = run_probes(jobs, settings, workers, deadline)
    for s in stores:
        report.targets.append(Target("trust-store", s.store.label, {"format": s.store.format,
                                                                     "certificates": len(s.store.certificates)}))
        report.errors.extend(ScanError(s.store.label, problem) for problem in s.store.problems)
    report.components = [probe_component(result, result.store) for result in results]
    report.findings = list(evaluate(packs, report.components, ReleaseDates({})))  # no package: no release dates
    report.sort()
    return report
