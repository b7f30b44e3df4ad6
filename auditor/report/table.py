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
    if report.findings:
        rows = []
        for f in report.findings:
            c = components.get(f.component)
            where = f"{c.location}:{c.line}" if c and c.line else (c.location if c else "")
            rows.append([f.severity.upper(), f.title, where, f.remediation])
        lines += ["Findings", tabulate(rows, headers=["severity", "finding", "where", "remediation"], tablefmt="simple",
                                       maxcolwidths=[None, 50, 50, 60]), ""]
    packages = [c for c in report.components if c.kind == "python-package"]
    stores = [c for c in report.components if c.kind == "trust-store"]
    if packages:
        rows = [[c.name, c.version or c.details.get("specifier") or "any", (c.released or "")[:10], c.source,
                 "" if c.details.get("active", True) else "inactive", c.location + (f":{c.line}" if c.line else "")]
                for c in packages]
        lines += ["Components", tabulate(rows, headers=["package", "version", "released (UTC)", "found by", "state", "location"],
                                         tablefmt="simple"), ""]
    elif not stores:
        lines += ["Components: no AWS SDK or CLI package found", ""]
    if stores:
        rows = [[c.location, c.details["format"], c.details["certificates"], "\n".join(c.details["anchors"]) or "NONE",
                 "\n".join(c.details["expired"]), len(c.details["impostors"])] for c in stores]
        lines += ["Trust stores", tabulate(rows, headers=["store", "format", "certificates", "valid ATS anchors", "expired anchors",
                                                         "impostors"], tablefmt="simple"), ""]
    if report.errors:
        rows = [[e.location, e.message] for e in report.errors]
        lines += ["Errors (parts that could not be scanned)", tabulate(rows, headers=["location", "reason"], tablefmt="simple",
                                                                        maxcolwidths=[60, 80]), ""]
    return redact("\n".join(lines)) + "\n"
