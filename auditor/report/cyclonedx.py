"""CycloneDX 1.5 JSON: the components found as an SBOM, the findings as VEX-style vulnerabilities.

Each component keeps its report id as its bom-ref; Python packages and other languages' AWS SDKs carry their package
URL, a trust store file its SHA-256. Each finding is a vulnerability whose id is the rule's, rated with the
finding's severity, affecting its component's bom-ref, its analysis state taken from the waiver and the client's
verdict (STATES, docs/reports.md). What has no CycloneDX field (where a component was found, the rule pack, the
error entries' count) is kept in `properties` named `auditor:…`. Every text is redacted on its way out.
"""

from __future__ import annotations

import io
import uuid
from typing import IO, Any, Optional

from packageurl import PackageURL

from auditor.model import ANSWERS, Component, Finding, Report
from auditor.redact import redact, redact_tree
from auditor.report.json_text import Stream, write as write_json
from auditor.report.view import ReportView, memory_view

SPEC_VERSION = "1.5"
SCHEMA_URI = "http://cyclonedx.org/schema/bom-1.5.schema.json"
READS = frozenset({"components", "findings", "verdicts"})
# The analysis state of a finding (CycloneDX impactAnalysisState), first match wins: an active waiver is the user's
# statement that it does not apply (and, as a VEX not_affected statement, silences it in the tools that read VEX); a
# check that passed (info) found nothing; a client whose verdict is "no" has the proof (its store lacks every ATS
# anchor, a handshake failed); anything else (released before the cutoff, a platform to verify) is to be looked into.
STATES = (("waived", "not_affected"), ("info", "not_affected"), ("verdict no", "exploitable"), ("otherwise", "in_triage"))
# sdk-manifest ecosystem -> purl type (the purl specification names no type for vcpkg: none is written)
PURL_TYPES = {"npm": "npm", "maven": "maven", "rubygems": "gem", "go": "golang", "nuget": "nuget", "composer": "composer"}
_TYPES = {"python-package": "library", "sdk-manifest": "library", "openssl": "library", "os": "operating-system",
          "java": "platform", "trust-config": "data", "probe": "data", "waiver": "data"}


def render(report: Report) -> str:
    out = io.StringIO()
    write(memory_view(report), out)
    return out.getvalue()


def write(view: ReportView, out: IO[str]) -> None:
    answers = _answers(view)
    bom = {
        "$schema": SCHEMA_URI,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": _serial_number(view),
        "version": 1,
        "metadata": _metadata(view),
        "components": Stream(lambda: (redact_tree(_component(c)) for c in view.components())),
        "vulnerabilities": Stream(lambda: (redact_tree(_vulnerability(f, c, answers)) for f, c in view.findings())),
    }
    write_json(out, bom)
    out.write("\n")


def _answers(view: ReportView) -> dict[str, str]:
    """Finding id or client component id -> the worst verdict answer that names it: a verdict's evidence is often a
    finding on the store the client uses, not on the client."""
    answers: dict[str, str] = {}
    for verdict in view.verdicts():
        for key in (verdict.client, *verdict.findings):
            if key not in answers or ANSWERS.index(verdict.answer) < ANSWERS.index(answers[key]):
                answers[key] = verdict.answer
    return answers


def _serial_number(view: ReportView) -> str:
    """The same report renders with the same serial number; another report (made at another time or host) another."""
    seed = "\x1f".join((view.tool_version, view.generated_at, str(view.run.get("host", "")), view.as_of))
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'auditor-report:' + seed)}"


def _metadata(view: ReportView) -> dict[str, Any]:
    properties = [("auditor:as_of", view.as_of), ("auditor:fail_on", view.fail_on),
                  ("auditor:failing", str(view.totals.failing)), ("auditor:errors", str(view.totals.errors))]
    properties += [("auditor:rule_pack", f"{pack['id']} {pack['version']}") for pack in view.packs]
    metadata: dict[str, Any] = redact_tree({
        "timestamp": view.generated_at,
        "tools": {"components": [{"type": "application", "name": "auditor", "version": view.tool_version}]},
        "properties": _properties(properties),
    })
    return metadata


def _component(component: Component) -> dict[str, Any]:
    details = component.details
    sha256 = details.get("sha256") if component.kind == "trust-store" else None
    record: dict[str, Any] = {"type": _TYPES.get(component.kind, "data"), "bom-ref": component.id,
                              "name": component.name}
    if component.kind == "trust-store":
        record["type"] = "file" if sha256 else "data"
    if component.version:
        record["version"] = component.version
    if sha256:
        record["hashes"] = [{"alg": "SHA-256", "content": sha256}]
    purl = package_url(component)
    if purl:
        record["purl"] = purl
    properties = [("auditor:kind", component.kind), ("auditor:location", component.location),
                  ("auditor:source", component.source), ("auditor:target", component.target)]
    if component.line:
        properties.append(("auditor:line", str(component.line)))
    if component.host:
        properties.append(("auditor:host", component.host))
    if component.released:
        properties.append(("auditor:released", component.released))
    for key in ("bom_ref", "spdx_id"):  # read from an SBOM: its own reference there
        if isinstance(details.get(key), str):
            properties.append((f"auditor:sbom_{key}", details[key]))
    if component.kind == "trust-store":
        properties += [("auditor:store_format", str(details.get("format", ""))),
                       ("auditor:certificates", str(details.get("certificates", 0))),
                       ("auditor:ats_anchors", ", ".join(details.get("anchors", ())) or "none")]
    record["properties"] = _properties(properties)
    return record


def package_url(component: Component) -> Optional[str]:
    """The package URL of a Python package or another language's AWS SDK; None for other components. Made from the
    redacted name and version: the purl percent-encodes them, and redaction would not know a secret so encoded."""
    version = redact(component.version) if component.version else component.version
    if component.kind == "python-package":
        return str(PackageURL(type="pypi", name=redact(component.name), version=version).to_string())
    purl_type = PURL_TYPES.get(str(component.details.get("ecosystem"))) if component.kind == "sdk-manifest" else None
    if purl_type is None:
        return None
    namespace: Optional[str] = None
    name = redact(component.name)
    if purl_type == "maven":
        namespace, _, name = name.partition(":")
    elif "/" in name:  # @aws-sdk/client-s3, aws/aws-sdk-php, github.com/aws/aws-sdk-go-v2/service/s3
        namespace, _, name = name.rpartition("/")
    return str(PackageURL(type=purl_type, namespace=namespace, name=name, version=version).to_string())


def analysis_state(finding: Finding, answer: Optional[str]) -> str:
    """STATES: the finding's waiver, its severity, and its client's verdict."""
    if finding.waived:
        return "not_affected"
    if finding.severity == "info":
        return "not_affected"
    return "exploitable" if answer == "no" else "in_triage"


def _vulnerability(finding: Finding, component: Optional[Component], answers: dict[str, str]) -> dict[str, Any]:
    answer = answers.get(finding.id, answers.get(finding.component))
    state = analysis_state(finding, answer)
    analysis: dict[str, Any] = {"state": state}
    waiver = finding.waiver or {}
    if finding.waived:
        analysis["detail"] = f"waived: {waiver.get('reason', '')} (owner {waiver.get('owner', '?')}, " \
                             f"until {waiver.get('expires', '?')})"
    elif state == "not_affected":
        analysis["detail"] = "the check passed: " + finding.title
    elif answer is not None:
        analysis["detail"] = f"the client's verdict: {answer}"
    record: dict[str, Any] = {
        "bom-ref": finding.id,
        "id": finding.rule,
        "source": {"name": f"auditor rule pack {finding.pack}"},
        "ratings": [{"source": {"name": f"auditor rule pack {finding.pack}"}, "severity": finding.severity,
                     "method": "other"}],
        "description": finding.title,
        "detail": "\n".join(e.summary for e in finding.evidence),
        "recommendation": finding.remediation,
        "affects": [{"ref": component.id if component is not None else finding.component}],
        "analysis": analysis,
    }
    advisories = [{"url": ref} for ref in finding.references if ref.startswith(("https://", "http://"))]
    if advisories:
        record["advisories"] = advisories
    properties = [("auditor:pack", finding.pack)]
    if waiver:
        properties += [(f"auditor:waiver_{key}", str(waiver[key])) for key in ("status", "owner", "expires", "file")
                       if key in waiver]
    record["properties"] = _properties(properties)
    return record


def _properties(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]
