"""A terminal report: summary, findings, components and errors as plain tables."""

from __future__ import annotations

from typing import Mapping, Optional

from auditor.facts.manifest import ManifestFacts
from auditor.facts.package import PackageFacts
from auditor.facts.setting import SettingFacts
from auditor.model import Component, Report
from auditor.redact import redact
from auditor.report.common import components_by_id, not_scanned_note, redacted_table, released_cell, where, where_on_host
from auditor.report.escape import terminal, visible


def render(report: Report) -> str:
    components = components_by_id(report)
    counts = report.counts()
    failing = len(report.failing())
    lines = [
        f"auditor {report.tool_version} · rule packs: {', '.join(p['id'] + ' ' + p['version'] for p in report.packs)} · as of {report.as_of}",
        "targets: " + ", ".join(f"{t.kind} {terminal(t.location)}" for t in report.targets),
        "findings: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) if report.findings else "findings: none",
        f"result: {'FAIL' if failing else 'PASS'} ({failing} at or above '{report.fail_on}')" + not_scanned_note(report),
        "",
    ]
    lines += _verdict_table(report)
    shown = [f for f in report.findings if f.severity != "info"]
    if shown:
        rows: list[list[object]] = []
        for f in shown:
            rows.append([f.severity.upper() + (" (waived)" if f.waived else ""), f.title,
                         where_on_host(components.get(f.component)), f.remediation])
        lines += ["Findings", redacted_table(rows, headers=["severity", "finding", "where", "remediation"], tablefmt="simple",
                                        maxcolwidths=[None, 50, 50, 60]), ""]
    if len(shown) < len(report.findings):
        lines += [f"({len(report.findings) - len(shown)} info findings, stores that hold an anchor: see the tables below "
                  f"or --format json)", ""]
    packages = [c for c in report.components if c.kind == "python-package"]
    stores = [c for c in report.components if c.kind == "trust-store"]
    if packages:
        facts = [c.facts_as(PackageFacts) for c in packages]
        rows = [[c.name, c.version or f.specifier or "any", released_cell(c), c.source,
                 "" if f.loaded else "inactive", c.location + (f":{c.line}" if c.line else "")]
                for c, f in zip(packages, facts)]
        lines += ["Components", redacted_table(rows, headers=["package", "version", "released (UTC)", "found by", "state", "location"],
                                          tablefmt="simple"), ""]
    elif not stores and not any(c.kind in ("probe", "sdk-manifest") for c in report.components):
        lines += ["Components: no AWS SDK or CLI package found", ""]
    lines += _sdk_table(report)
    lines += _platform_table(report)
    lines += _trust_tables(report, stores)
    lines += _probe_table(report)
    if report.errors:
        rows = [[e.location, e.message] for e in report.errors]
        lines += ["Errors (parts that could not be scanned)", redacted_table(rows, headers=["location", "reason"], tablefmt="simple",
                                                                         maxcolwidths=[60, 80]), ""]
    return visible(redact("\n".join(lines)), newlines=True) + "\n"


def _verdict_table(report: Report) -> list[str]:
    """Verdicts first: will each client trust the ATS-served endpoint, and the reasons why."""
    if not report.verdicts:
        return []
    rows = [[v.answer.upper(), (f"{v.host}: " if v.host else "") + v.label, v.chain()] for v in report.verdicts]
    counts = ", ".join(f"{n} {answer}" for answer, n in report.answer_counts().items() if n)
    return [f"Verdicts: will each client trust the ATS-served endpoint? ({counts})",
            redacted_table(rows, headers=["answer", "client", "why"], tablefmt="simple", maxcolwidths=[11, 50, 90]), ""]


def _sdk_table(report: Report) -> list[str]:
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
    return ["AWS SDKs of other languages", redacted_table(rows, headers=["SDK", "packages", "trust from", "store", "where"],
                                                     tablefmt="simple", maxcolwidths=[28, 40, 8, 40, None]), ""]


def _platform_table(report: Report) -> list[str]:
    platform = [c for c in report.components if c.kind in ("os", "java", "openssl")]
    if not platform:
        return []
    rows = [[c.kind, _platform_name(c), c.source, c.location] for c in platform]
    return ["Platform", redacted_table(rows, headers=["kind", "what", "found by", "location"], tablefmt="simple",
                                  maxcolwidths=[8, 40, 40, 60]), ""]


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


def _trust_tables(report: Report, stores: list[Component]) -> list[str]:
    lines: list[str] = []
    clients = [c for c in report.components if "trust_reasons" in c.details and c.kind != "trust-config"]
    if clients:
        rows = [[f"{c.name} {c.version or ''}".strip(), _store_cell(c), c.details["trust_reasons"][0]] for c in clients]
        lines += ["Clients and the trust store each would use",
                  redacted_table(rows, headers=["client", "store", "why"], tablefmt="simple", maxcolwidths=[20, 50, 70]), ""]
    settings = [c for c in report.components if c.kind == "trust-config"]
    if settings:
        # One cell for name and value: tabulate's wrapping turns a lone "False" cell into True.
        facts = [c.facts_as(SettingFacts) for c in settings]
        rows = [[c.name + (f"={f.value}" if f.value is not None else ""), f.effect,
                 c.location + (f":{c.line}" if c.line else "")] for c, f in zip(settings, facts)]
        lines += ["Trust configuration", redacted_table(rows, headers=["setting", "effect", "where"], tablefmt="simple",
                                                   maxcolwidths=[60, 14, 60]), ""]
    if stores:
        rows = [[c.location, c.details.get("format", "") + (f"\nintegrity {c.details['integrity']}" if "integrity" in c.details else ""),
                 c.details.get("certificates", 0),
                 "\n".join(c.details.get("anchors", [])) or "NONE",
                 "\n".join(c.details.get("expired", []) + [f"{n} (distrusted)" for n in c.details.get("distrusted", [])]),
                 len(c.details.get("impostors", [])), len(c.details.get("users", []))] for c in stores]
        lines += ["Trust stores", redacted_table(rows, headers=["store", "format", "certificates", "valid ATS anchors",
                                                          "expired or distrusted", "impostors", "users"], tablefmt="simple"), ""]
    return lines


def _probe_table(report: Report) -> list[str]:
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
    return [f"Live probes: each store alone against each endpoint ({summary})",
            redacted_table(rows, headers=headers, tablefmt="simple", maxcolwidths=widths), ""]


def _anchor_cell(anchor: Optional[Mapping[str, str]]) -> str:
    if not anchor:
        return "not shown"
    return anchor.get("ats_anchor") or f"{anchor['name']} (not an ATS anchor)"


def _store_cell(component: Component) -> str:
    details = component.details
    if details.get("certificate_validation") == "off":
        return "none: certificate validation is off"
    store: str = details.get("trust_store", "none found")
    return store
