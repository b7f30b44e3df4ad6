"""A terminal report: summary, findings, components and errors as plain tables."""

from __future__ import annotations

from tabulate import tabulate

from auditor.redact import redact


def render(report) -> str:
    components = {c.id: c for c in report.components}
    counts = report.counts()
    failing = len(report.failing())
    lines = [
        f"auditor {report.tool_version} · rule packs: {', '.join(p['id'] + ' ' + p['version'] for p in report.packs)} · as of {report.as_of}",
        "targets: " + ", ".join(f"{t.kind} {t.location}" for t in report.targets),
        "findings: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) if report.findings else "findings: none",
        f"result: {'FAIL' if failing else 'PASS'} ({failing} at or above '{report.fail_on}')",
        "",
    ]
    shown = [f for f in report.findings if f.severity != "info"]
    if shown:
        rows = []
        for f in shown:
            c = components.get(f.component)
            where = f"{c.location}:{c.line}" if c and c.line else (c.location if c else "")
            rows.append([f.severity.upper(), f.title, where, f.remediation])
        lines += ["Findings", tabulate(rows, headers=["severity", "finding", "where", "remediation"], tablefmt="simple",
                                       maxcolwidths=[None, 50, 50, 60]), ""]
    if len(shown) < len(report.findings):
        lines += [f"({len(report.findings) - len(shown)} info findings, stores that hold an anchor: see the tables below "
                  f"or --format json)", ""]
    packages = [c for c in report.components if c.kind == "python-package"]
    stores = [c for c in report.components if c.kind == "trust-store"]
    if packages:
        rows = [[c.name, c.version or c.details.get("specifier") or "any", (c.released or "")[:10], c.source,
                 "" if c.details.get("active", True) else "inactive", c.location + (f":{c.line}" if c.line else "")]
                for c in packages]
        lines += ["Components", tabulate(rows, headers=["package", "version", "released (UTC)", "found by", "state", "location"],
                                         tablefmt="simple"), ""]
    elif not stores and not any(c.kind == "probe" for c in report.components):
        lines += ["Components: no AWS SDK or CLI package found", ""]
    lines += _platform_table(report)
    lines += _trust_tables(report, stores)
    lines += _probe_table(report)
    if report.errors:
        rows = [[e.location, e.message] for e in report.errors]
        lines += ["Errors (parts that could not be scanned)", tabulate(rows, headers=["location", "reason"], tablefmt="simple",
                                                                        maxcolwidths=[60, 80]), ""]
    return redact("\n".join(lines)) + "\n"


def _platform_table(report) -> list[str]:
    platform = [c for c in report.components if c.kind in ("os", "java", "openssl")]
    if not platform:
        return []
    rows = [[c.kind, _platform_name(c), c.source, c.location] for c in platform]
    return ["Platform", tabulate(rows, headers=["kind", "what", "found by", "location"], tablefmt="simple",
                                 maxcolwidths=[8, 40, 40, 60]), ""]


def _platform_name(component) -> str:
    """"Debian GNU/Linux 12 (bookworm), 12.11", "java 17.0.15 (OpenJDK)", "openssl 3.0.19"."""
    version = component.version or "(version unknown)"
    pretty = component.details.get("pretty_name")
    if pretty:
        return pretty if version in pretty else f"{pretty}, {version}"
    vendor = component.details.get("vendor")
    return f"{component.name} {version}" + (f" ({vendor})" if vendor else "")


def _trust_tables(report, stores) -> list[str]:
    lines: list[str] = []
    clients = [c for c in report.components if "trust_reasons" in c.details and c.kind != "trust-config"]
    if clients:
        rows = [[f"{c.name} {c.version or ''}".strip(), _store_cell(c), c.details["trust_reasons"][0]] for c in clients]
        lines += ["Clients and the trust store each would use",
                  tabulate(rows, headers=["client", "store", "why"], tablefmt="simple", maxcolwidths=[20, 50, 70]), ""]
    settings = [c for c in report.components if c.kind == "trust-config"]
    if settings:
        # One cell for name and value: tabulate's wrapping turns a lone "False" cell into True.
        rows = [[c.name + (f"={c.details['value']}" if "value" in c.details else ""), c.details.get("effect", ""),
                 c.location + (f":{c.line}" if c.line else "")] for c in settings]
        lines += ["Trust configuration", tabulate(rows, headers=["setting", "effect", "where"], tablefmt="simple",
                                                  maxcolwidths=[60, 14, 60]), ""]
    if stores:
        rows = [[c.location, c.details.get("format", "") + (f"\nintegrity {c.details['integrity']}" if "integrity" in c.details else ""),
                 c.details.get("certificates", 0),
                 "\n".join(c.details.get("anchors", [])) or "NONE",
                 "\n".join(c.details.get("expired", []) + [f"{n} (distrusted)" for n in c.details.get("distrusted", [])]),
                 len(c.details.get("impostors", [])), len(c.details.get("users", []))] for c in stores]
        lines += ["Trust stores", tabulate(rows, headers=["store", "format", "certificates", "valid ATS anchors",
                                                         "expired or distrusted", "impostors", "users"], tablefmt="simple"), ""]
    return lines


def _probe_table(report) -> list[str]:
    probes = [c for c in report.components if c.kind == "probe"]
    if not probes:
        return []
    rows = []
    for c in probes:
        details = c.details
        if details.get("failure"):
            result, what = f"FAIL {details['failure']}", details.get("detail", "")
        else:
            result = "pass"
            what = f"{details.get('tls_version')} {details.get('cipher')}; anchor: " + _anchor_cell(details.get("anchor"))
        if details.get("http"):
            http = details["http"]
            what += "; GET / " + (f"failed: {http['error']}" if "error" in http else
                                  f"{http['status']}, " + ("healthy" if http["healthy"] else "not 'healthy: host'"))
        route = details.get("connect_to") or (f"proxy {details['proxy']}" if details.get("proxy") else "direct")
        attempts = len(details.get("attempts", []))
        rows.append([c.name, route, c.location, result, what,
                     f"{details.get('elapsed_ms', 0):g}" + (f" ({attempts} tries)" if attempts > 1 else "")])
    return ["Live probes", tabulate(rows, headers=["endpoint", "via", "store", "result", "what was seen", "ms"],
                                    tablefmt="simple", maxcolwidths=[30, 22, 40, 22, 60, 12]), ""]


def _anchor_cell(anchor) -> str:
    if not anchor:
        return "not shown"
    return anchor.get("ats_anchor") or f"{anchor['name']} (not an ATS anchor)"


def _store_cell(component) -> str:
    details = component.details
    if details.get("certificate_validation") == "off":
        return "none: certificate validation is off"
    return details.get("trust_store", "none found")
