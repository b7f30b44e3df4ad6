"""A terminal report: summary, findings, components and errors as plain tables."""

from __future__ import annotations

from typing import Mapping, Optional

from auditor.facts.client_trust import ClientTrust
from auditor.facts.manifest import ManifestFacts
from auditor.facts.package import PackageFacts
from auditor.facts.setting import SettingFacts
from auditor.facts.trust_store import TrustStoreFacts
from auditor.model import Component, Report
from auditor.redact import redact
from auditor.model import Target
from auditor.report.common import components_by_id, not_scanned_note, plural, released_cell, where, where_on_host
from auditor.report.escape import terminal, visible
from auditor.report.fit import DEFAULT_WIDTH, prose, shorten_middle, table


def render(report: Report, width: int = DEFAULT_WIDTH) -> str:
    """The report as plain tables, no line longer than `width` (cells wrapped or shortened: JSON has them whole)."""
    components = components_by_id(report)
    counts = report.counts()
    failing = len(report.failing())
    lines = [
        *prose(f"auditor {report.tool_version} · rule packs: {', '.join(p['id'] + ' ' + p['version'] for p in report.packs)} "
               f"· as of {report.as_of}", width),
        *prose(_targets_line(report.targets, width), width),
        *prose("findings: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) if report.findings else "findings: none",
               width),
        *prose(f"result: {'FAIL' if failing else 'PASS'} ({failing} at or above '{report.fail_on}')" + not_scanned_note(report),
               width),
        "",
    ]
    lines += _verdict_table(report, width)
    shown = [f for f in report.findings if f.severity != "info"]
    if shown:
        rows: list[list[object]] = []
        for f in shown:
            rows.append([f.severity.upper() + (" (waived)" if f.waived else ""), f.title,
                         where_on_host(components.get(f.component)), f.remediation])
        # The finding's file is what the reader acts on: wrapped whole, not shortened.
        lines += ["Findings", table(rows, ["severity", "finding", "where", "remediation"], width, caps=[None, 50, 50, 60]),
                  ""]
    if len(shown) < len(report.findings):
        lines += [*prose(f"({plural(len(report.findings) - len(shown), 'info finding')}, stores that hold an anchor: see "
                         "the tables below or --format json)", width), ""]
    packages = [c for c in report.components if c.kind == "python-package"]
    stores = [c for c in report.components if c.kind == "trust-store"]
    if packages:
        facts = [c.facts_as(PackageFacts) for c in packages]
        rows = [[c.name, c.version or f.specifier or "any", released_cell(c), c.source,
                 "" if f.loaded else "inactive", c.location + (f":{c.line}" if c.line else "")]
                for c, f in zip(packages, facts)]
        lines += ["Components", table(rows, ["package", "version", "released (UTC)", "found by", "state", "location"], width,
                                      paths={5}), ""]
    elif not stores and not any(c.kind in ("probe", "sdk-manifest") for c in report.components):
        lines += ["Components: no AWS SDK or CLI package found", ""]
    lines += _sdk_table(report, width)
    lines += _platform_table(report, width)
    lines += _trust_tables(report, stores, width)
    lines += _probe_table(report, width)
    if report.errors:
        rows = [[e.location, e.message] for e in report.errors]
        lines += ["Errors (parts that could not be scanned)", table(rows, ["location", "reason"], width, caps=[60, 80]), ""]
    return visible(redact("\n".join(lines)), newlines=True) + "\n"


def _verdict_table(report: Report, width: int) -> list[str]:
    """Verdicts first: will each client trust the ATS-served endpoint, and the reasons why."""
    if not report.verdicts:
        return []
    rows = [[v.answer.upper(), (f"{v.host}: " if v.host else "") + v.label, v.chain()] for v in report.verdicts]
    counts = ", ".join(f"{n} {answer}" for answer, n in report.answer_counts().items() if n)
    return [*prose(f"Verdicts: will each client trust the ATS-served endpoint? ({counts})", width),
            table(rows, headers=["answer", "client", "why"], width=width, caps=[11, 50, None]), ""]


# Shown with the first of their kind named while the line has room; every target is in the JSON report.
_TARGET_KINDS = {"machine": "machines", "image": "images", "tree": "trees", "environment": "environments",
                 "trust-store": "trust stores", "lockfile": "lockfiles", "archive": "archives", "unreadable": "unreadable"}
_KIND_ORDER = list(_TARGET_KINDS)


def _targets_line(targets: list[Target], width: int) -> str:
    """"targets: a, b, c" where that fits; else each kind once, counted, its first target named while there is
    room: "targets: machine vm, 16 environments (/usr/local, …), 969 archives, … (--format json lists them all)"."""
    whole = "targets: " + ", ".join(f"{t.kind} {terminal(t.location)}" for t in targets)
    if len(whole) <= width:
        return whole
    kinds: dict[str, list[Target]] = {}
    for target in sorted(targets, key=lambda t: _KIND_ORDER.index(t.kind) if t.kind in _KIND_ORDER else len(_KIND_ORDER)):
        kinds.setdefault(target.kind, []).append(target)
    parts = [f"{kind} {terminal(group[0].location)}" if len(group) == 1 else
             plural(len(group), kind, _TARGET_KINDS.get(kind)) for kind, group in kinds.items()]
    end = " (--format json lists them all)"
    line = "targets: " + ", ".join(parts)
    for i, group in enumerate(kinds.values()):
        room = width - len(line) - len(end) - len(" (, …)")
        if len(group) > 1 and room >= 12:
            first = shorten_middle(terminal(group[0].location), min(room, 40))
            parts[i] += f" ({first}, …)"
            line = "targets: " + ", ".join(parts)
    return line + end


def _sdk_table(report: Report, width: int) -> list[str]:
    """AWS SDKs of other languages: one row per file and trust source (the component its finding is on)."""
    rows: list[list[object]] = []
    for c in report.components:
        if c.kind != "sdk-manifest" or (sdk := c.facts_as(ManifestFacts)).reported_with is not None:
            continue
        more = len(sdk.same_file_packages)
        what = f"{c.name} {c.version or sdk.constraint or ''}".strip() + (f" (+{more} more)" if more else "")
        rows.append([sdk.sdk, what, sdk.trust_from, c.details.get("trust_store", ""), where(c)])
    if not rows:
        return []
    return ["AWS SDKs of other languages", table(rows, ["SDK", "packages", "trust from", "store", "where"], width,
                                                 caps=[28, 40, 8, 40, None], paths={3, 4}), ""]


def _platform_table(report: Report, width: int) -> list[str]:
    platform = [c for c in report.components if c.kind in ("os", "java", "openssl")]
    if not platform:
        return []
    rows = [[c.kind, _platform_name(c), c.source, c.location] for c in platform]
    return ["Platform", table(rows, ["kind", "what", "found by", "location"], width, caps=[8, 40, 40, 60], paths={3}), ""]


def _platform_name(component: Component) -> str:
    """"Debian GNU/Linux 12 (bookworm), 12.11", "java 17.0.15 (OpenJDK)", "openssl 3.0.19"."""
    from auditor.facts.java import JavaFacts
    from auditor.facts.operating_system import OsFacts

    version = component.version or "(version unknown)"
    pretty = component.facts_as(OsFacts).pretty_name if component.kind == "os" else None
    if pretty:
        return pretty if version in pretty else f"{pretty}, {version}"
    vendor = component.facts_as(JavaFacts).vendor if component.kind == "java" else None
    return f"{component.name} {version}" + (f" ({vendor})" if vendor else "")


def _trust_tables(report: Report, stores: list[Component], width: int) -> list[str]:
    lines: list[str] = []
    rows: list[list[object]]
    clients = [(c, t) for c in report.components if c.kind != "trust-config"
               for t in [c.client_trust()] if t is not None and t.reasons is not None]
    if clients:
        rows = [[f"{c.name} {c.version or ''}".strip(), _store_cell(t), (t.reasons or ("",))[0]] for c, t in clients]
        lines += ["Clients and the trust store each would use",
                  table(rows, ["client", "store", "why"], width, caps=[20, 50, 70], paths={1}), ""]
    settings = [c for c in report.components if c.kind == "trust-config"]
    if settings:
        facts = [c.facts_as(SettingFacts) for c in settings]
        rows = [[c.name + (f"={f.value}" if f.value is not None else ""), f.effect,
                 c.location + (f":{c.line}" if c.line else "")] for c, f in zip(settings, facts)]
        lines += ["Trust configuration", table(rows, ["setting", "effect", "where"], width, caps=[60, 14, 60], paths={2}), ""]
    if stores:
        store_facts = [c.facts_as(TrustStoreFacts) for c in stores]
        rows = [[c.location, f.format + (f"\nintegrity {f.keystore.integrity}" if f.keystore else ""), f.certificates,
                 "\n".join(f.anchors) or "NONE", "\n".join(f.expired + tuple(f"{n} (distrusted)" for n in f.distrusted)),
                 len(f.impostors), len(f.links.users)] for c, f in zip(stores, store_facts)]
        lines += ["Trust stores", table(rows, ["store", "format", "certificates", "valid ATS anchors", "expired or distrusted",
                                               "impostors", "users"], width, paths={0}), ""]
        local = [(c, ca) for c, f in zip(stores, store_facts) for ca in f.locally_added]
        if local:
            # Named on the terminal, not only in an info finding: behind a TLS-inspecting proxy, one of these is why
            # clients with a store of their own fail.
            rows = [[c.location, ca.subject, ca.sha256, ca.source] for c, ca in local]
            lines += ["CAs added to the OS store on this system (not the distribution's own)",
                      table(rows, ["store", "subject", "SHA-256", "from"], width, caps=[40, 40, 64, None], paths={0, 3}), ""]
    return lines


def _probe_table(report: Report, width: int) -> list[str]:
    """One row per store and endpoint, grouped by store: who uses the store, pass or FAIL (the store was
    tried and failed) or ERROR (it could not be tried: network, proxy, TLS version), and the class."""
    probes = [c for c in report.components if c.kind == "probe"]
    if not probes:
        return []
    users = any(c.details.get("users") for c in probes)
    rows: list[list[object]] = []
    for c in probes:
        details = c.details
        if details.get("failure"):
            result, what = f"{details.get('outcome', 'fail').upper()} {details['failure']}", details.get("detail", "")
        else:
            result = "pass"
            what = f"{details.get('tls_version')} {details.get('cipher')}; anchor: " + _anchor_cell(details.get("anchor"))
        if details.get("http"):
            http = details["http"]
            what += "; GET / " + (f"failed: {http['error']}" if "error" in http else
                                  f"{http['status']}, " + ("healthy" if http["healthy"] else "not 'healthy: host'"))
        route = details.get("connect_to") or (f"proxy {details['proxy']}" if details.get("proxy") else "")
        attempts = len(details.get("attempts", []))
        rows.append([c.location, *(["\n".join(details.get("users", []))] if users else []),
                     c.name + (f"\nvia {route}" if route else ""), result, what,
                     f"{details.get('elapsed_ms', 0):g}" + (f" ({attempts} tries)" if attempts > 1 else "")])
    headers = ["store", *(["used by"] if users else []), "endpoint", "result", "what was seen", "ms"]
    widths = [40, *([40] if users else []), 40, 22, 50, 12]
    outcomes = [c.details.get("outcome", "fail") for c in probes]
    summary = ", ".join(f"{outcomes.count(o)} {o}" for o in ("pass", "fail", "error") if o in outcomes)
    return [*prose(f"Live probes: each store alone against each endpoint ({summary})", width),
            table(rows, headers, width, caps=widths, paths={0}), ""]


def _anchor_cell(anchor: Optional[Mapping[str, str]]) -> str:
    if not anchor:
        return "not shown"
    return anchor.get("ats_anchor") or f"{anchor['name']} (not an ATS anchor)"


def _store_cell(trust: ClientTrust) -> str:
    if trust.validation is False:
        return "none: certificate validation is off"
    return trust.store or "none found"
