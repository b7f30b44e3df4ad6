"""SARIF 2.1.0, for code-scanning tools (GitHub code scanning and other SARIF viewers).

Each finding is a result at its component's file and line (a lockfile pin, a setting in a script) or,
for a component with no file, at a logical location. The rules' text comes from the report (written when it
was made), never from the installed packs; a report older than that renders with what its findings say.
Info findings (checks that passed: a store that holds an anchor) are results of kind "pass".
"""

from __future__ import annotations

import io
import re
import shlex
from pathlib import PurePosixPath, PureWindowsPath
from typing import IO, Any, Optional
from urllib.parse import quote

from auditor.model import Component, Evidence, Finding, Report, RuleText, ScanError
from auditor.redact import redact, redact_tree
from auditor.report.common import names_file, sbom_file, waiver_note
from auditor.report.json_text import Stream, write as write_json
from auditor.report.view import ReportView, memory_view

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "none"}
# GitHub code scanning reads `security-severity` (0.0-10.0): over 9.0 critical, 7.0 high, 4.0 medium, else low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0"}
READS = frozenset({"findings", "targets", "errors"})


def render(report: Report) -> str:
    out = io.StringIO()
    write(memory_view(report), out)
    return out.getvalue()


def write(view: ReportView, out: IO[str]) -> None:
    """The SARIF log, its results, notifications and targets written one at a time (Streams) as the view gives them;
    every item redacted on its way out, as the rest of the log is."""
    write_json(out, redact_tree(sarif_log(view)))
    out.write("\n")


def sarif_log(view: ReportView) -> dict[str, Any]:
    rules, index = _rules(view)
    order = view.target_order()
    results = Stream(lambda: (redact_tree(_result(f, c, index, order)) for f, c in view.findings()))
    run = {
        "tool": {"driver": _driver(view, rules)},
        "invocations": [_invocation(view)],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {"as_of": view.as_of, "fail_on": view.fail_on, "failing": view.totals.failing,
                       "rule_packs": view.packs,
                       "targets": Stream(lambda: (redact(f"{t.kind} {t.location}") for t in view.targets()))},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _driver(report: ReportView, rules: list[dict[str, Any]]) -> dict[str, Any]:
    driver: dict[str, Any] = {"name": "auditor", "version": report.tool_version, "rules": rules}
    if re.fullmatch(r"\d+\.\d+\.\d+", report.tool_version):
        driver["semanticVersion"] = report.tool_version
    uri = _project_uri()
    if uri:
        driver["informationUri"] = uri
    return driver


def _project_uri() -> Optional[str]:
    """The project's home page from the installed distribution's metadata (Project-URL), when it names one."""
    from importlib import metadata

    try:
        urls = metadata.metadata("auditor").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    return next((url.strip() for label, _, url in (u.partition(",") for u in urls)
                 if label.strip().lower() in ("homepage", "documentation", "repository", "source")), None)


# -- rules ---------------------------------------------------------------------------------------

def _rules(report: ReportView) -> tuple[list[dict[str, Any]], dict[tuple[str, str], int]]:
    """One reportingDescriptor per (pack, rule) with findings, and the index of each in the list."""
    known = {(text.pack, text.id): text for text in report.rules}
    first: dict[tuple[str, str], Finding] = {}
    for finding, _ in report.findings():
        first.setdefault((finding.pack, finding.rule), finding)
    rules = [_descriptor(pack, rule, known.get((pack, rule)), finding) for (pack, rule), finding in first.items()]
    return rules, {key: i for i, key in enumerate(first)}


def _descriptor(pack: str, rule_id: str, rule: Optional[RuleText], finding: Finding) -> dict[str, Any]:
    """From the rule's text in the report; else (a report written before reports carried it) from the first
    finding, which carries the rule's documented text, remediation and references too."""
    if rule is None:
        documented = next((e.summary for e in finding.evidence if e.type == "documented"), finding.title)
        short, full, severity = finding.title, documented, finding.severity
        remedies, references = {"": finding.remediation}, list(finding.references)
    else:
        short, full, severity = rule.title, rule.documented, rule.severity
        remedies = rule.remediation if isinstance(rule.remediation, dict) else {"": rule.remediation}
        references = list(rule.references)
    descriptor: dict[str, Any] = {
        "id": rule_id, "name": rule_id,
        "shortDescription": {"text": short}, "fullDescription": {"text": full},
        "help": {"text": _help_text(remedies, references), "markdown": _help_markdown(remedies, references)},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"pack": pack, "severity": severity, "security-severity": SECURITY_SEVERITY[severity],
                       "tags": ["security", pack]},
    }
    if references:
        descriptor["helpUri"] = references[0]
    return descriptor


def _help_text(remedies: dict[str, str], references: list[str]) -> str:
    lines = ["Remediation:"] + [f"{name}: {text}" if name else text for name, text in remedies.items()]
    return "\n".join(lines + (["", "References:"] + references if references else []))


def _help_markdown(remedies: dict[str, str], references: list[str]) -> str:
    lines = ["**Remediation**", ""] + [f"- **{name}**: {text}" if name else text for name, text in remedies.items()]
    return "\n".join(lines + (["", "**References**", ""] + [f"- <{r}>" for r in references] if references else []))


# -- results -------------------------------------------------------------------------------------

def _result(finding: Finding, component: Optional[Component], index: dict[tuple[str, str], int],
            targets: dict[str, int]) -> dict[str, Any]:
    note = waiver_note(finding)
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[(finding.pack, finding.rule)],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.title + (f" ({note})" if note and not finding.waived else "")},
        "locations": [_location(component, finding, targets)],
        "partialFingerprints": {"auditorFindingId/v1": finding.id},
        "properties": {"severity": finding.severity, "security-severity": SECURITY_SEVERITY[finding.severity],
                       "pack": finding.pack, "component": finding.component,
                       "evidence": [_evidence(e) for e in finding.evidence], "remediation": finding.remediation,
                       "references": list(finding.references)},
    }
    if finding.severity == "info":
        result["kind"] = "pass"
    if finding.waiver:
        result["properties"]["waiver"] = dict(finding.waiver)
    if finding.waived:
        result["suppressions"] = [_suppression(finding.waiver or {}, note)]
    return result


def _location(component: Optional[Component], finding: Finding, targets: dict[str, int]) -> dict[str, Any]:
    """The component's file and line; for one with no file (a setting in the environment), a logical location,
    placed in the target it was found for, since GitHub code scanning rejects a result with no file at all."""
    if component is not None and names_file(component.location):
        # A component an SBOM names is at its purl's line of the SBOM file; its location adds the bom-ref or SPDXID.
        physical: dict[str, Any] = {"artifactLocation": _artifact(sbom_file(component) or component.location)}
        if component.line:
            physical["region"] = {"startLine": component.line}
        return {"physicalLocation": physical, "message": {"text": f"{component.name} ({component.source})"}}
    name, where = (component.name, component.location) if component else (finding.component, finding.component)
    location: dict[str, Any] = {"logicalLocations": [{"name": name, "fullyQualifiedName": where, "kind": "resource"}]}
    # The first of the component's targets, in the report's order, that names a file.
    among = [t for t in component.target.split(", ") if t in targets and names_file(t)] if component else []
    target = min(among, key=targets.__getitem__, default=None)
    if target:
        location["physicalLocation"] = {"artifactLocation": _artifact(target)}
    return location


def _artifact(path: str) -> dict[str, str]:
    """A file URI for an absolute path; a relative reference against %SRCROOT% (where the scan ran) otherwise."""
    path = redact(path)  # before percent-encoding, which would hide a name's ?X-Amz-Signature= from redact_tree
    if re.match(r"^[A-Za-z]:[\\/]", path):
        return {"uri": PureWindowsPath(path).as_uri()}
    if path.startswith("/"):
        return {"uri": PurePosixPath(path).as_uri()}
    return {"uri": quote(path.replace("\\", "/"), safe="/"), "uriBaseId": "%SRCROOT%"}


def _evidence(evidence: Evidence) -> dict[str, object]:
    data: dict[str, object] = {"type": evidence.type, "summary": evidence.summary}
    if evidence.source:
        data["source"] = evidence.source
    if evidence.line:
        data["line"] = evidence.line
    return data


def _suppression(waiver: dict[str, Any], note: Optional[str]) -> dict[str, Any]:
    suppression: dict[str, Any] = {"kind": "external", "status": "accepted", "justification": note or "waived",
                   "properties": {k: v for k, v in waiver.items() if k in ("owner", "expires", "reason", "status")}}
    if waiver.get("file"):
        physical: dict[str, Any] = {"artifactLocation": _artifact(waiver["file"])}
        if waiver.get("line"):
            physical["region"] = {"startLine": waiver["line"]}
        suppression["location"] = {"physicalLocation": physical}
    return suppression


def _invocation(report: ReportView) -> dict[str, Any]:
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "startTimeUtc": report.generated_at,
        "machine": report.run.get("host", ""),
        "toolExecutionNotifications": Stream(lambda: (redact_tree(_notification(e)) for e in report.errors())),
    }
    command = report.run.get("command")
    if command:
        invocation["commandLine"] = shlex.join(command)
        invocation["arguments"] = list(command[1:])
    return invocation


def _notification(error: ScanError) -> dict[str, object]:
    notification: dict[str, object] = {"level": "warning", "message": {"text": f"could not be scanned: {error.message}"},
                    "descriptor": {"id": "scan-error"}}
    if names_file(error.location):
        notification["locations"] = [{"physicalLocation": {"artifactLocation": _artifact(error.location)}}]
    else:
        notification["locations"] = [{"logicalLocations": [{"name": error.location}]}]
    return notification
