"""JUnit XML for CI test reports (Jenkins, GitLab, GitHub test-report actions).

One testsuite per rule pack, because a pack is what defines the checks, and a component can belong to
several targets at once (its target reads "a, b"), which would split or repeat it. One testcase per
check that ran, that is per finding (rule × component): a finding at or above --fail-on that is not
waived is a <failure>, a waived one is <skipped> with its waiver, any other (info findings, the
passing checks, and findings below --fail-on) passes. Parts that could not be scanned are <error>
test cases in a last suite, "scan errors".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Optional

from auditor.model import Component, Finding, Report
from auditor.redact import redact
from auditor.report.common import components_by_id, is_failing, pack_line, waiver_note, where

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def render(report: Report) -> str:
    components = components_by_id(report)
    root = _element("testsuites", name="auditor")
    pack_ids = [p["id"] for p in report.packs]
    pack_ids += sorted({f.pack for f in report.findings} - set(pack_ids))
    for pack_id in pack_ids:
        findings = [f for f in report.findings if f.pack == pack_id]
        suite = _suite(root, report, pack_id)
        for finding in findings:
            _testcase(suite, report, finding, components.get(finding.component))
    if report.errors:
        suite = _suite(root, report, "scan errors")
        for error in report.errors:
            case = _element("testcase", suite, classname="auditor.runs.scan", name=f"scan {error.location}", time="0")
            _element("error", case, message=error.message, type="scan-error").text = _text(error.message)
    _count(root)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(root: ET.Element, report: Report, name: str) -> ET.Element:
    suite = _element("testsuite", root, name=name, timestamp=report.generated_at.rstrip("Z"),
                     hostname=report.run.get("host", "localhost"), time="0")
    properties = _element("properties", suite)
    pack: dict[str, str] = next((p for p in report.packs if p["id"] == name), {})
    for key, value in (("auditor.version", report.tool_version), ("auditor.summary", pack_line(report)),
                       ("fail_on", report.fail_on), ("as_of", report.as_of), ("pack.title", pack.get("title")),
                       ("pack.version", pack.get("version")), ("pack.sha256", pack.get("sha256"))):
        if value:
            _element("property", properties, name=key, value=value)
    return suite


def _testcase(suite: ET.Element, report: Report, finding: Finding, component: Optional[Component]) -> None:
    location = where(component)
    case = _element("testcase", suite, classname=f"{finding.pack}.{finding.rule}", time="0",
                    name=f"{finding.title} [{location}]" if location else finding.title)
    if component is not None and component.line:
        case.set("file", _text(component.location))
        case.set("line", str(component.line))
    details = "\n".join([f"severity: {finding.severity}", f"finding: {finding.id}", f"component: {finding.component}",
                         *(f"{e.type}: {e.summary}" + (f" ({e.source})" if e.source else "") for e in finding.evidence),
                         f"remediation: {finding.remediation}", *(f"reference: {r}" for r in finding.references)])
    note = waiver_note(finding)
    body = _text(details + (f"\n{note}" if note else ""))
    if finding.waived:
        _element("skipped", case, message=note or "waived")
    elif is_failing(finding.severity, finding.waived, report.fail_on):
        _element("failure", case, message=f"{finding.severity.upper()}: {finding.title}", type=finding.severity).text = body
        return
    _element("system-out", case).text = body


def _count(root: ET.Element) -> None:
    """tests, failures, errors and skipped on every suite and on the root, as the readers expect them."""
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        counts = {"tests": len(suite.findall("testcase")), "failures": len(suite.findall("testcase/failure")),
                  "errors": len(suite.findall("testcase/error")), "skipped": len(suite.findall("testcase/skipped"))}
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))


def _element(tag: str, parent: Optional[ET.Element] = None, **attributes: object) -> ET.Element:
    texts = {key: _text(value) for key, value in attributes.items()}
    return ET.Element(tag, texts) if parent is None else ET.SubElement(parent, tag, texts)


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", redact(str(value)))
