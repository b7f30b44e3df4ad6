"""JUnit XML for CI test reports (Jenkins, GitLab, GitHub test-report actions).

One testsuite per rule pack, because a pack is what defines the checks, and a component can belong to
several targets at once (its target reads "a, b"), which would split or repeat it. One testcase per
check that ran, that is per finding (rule × component): a finding at or above --fail-on that is not
waived is a <failure>, a waived one is <skipped> with its waiver, any other (info findings, the
passing checks, and findings below --fail-on) passes. Parts that could not be scanned are <error>
test cases in a last suite, "scan errors".
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from typing import IO, Iterator, Optional

from auditor.model import Component, Finding, Report
from auditor.redact import redact
from auditor.report.common import is_failing, pack_line, waiver_note, where
from auditor.report.view import ReportView, memory_view

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
READS = frozenset({"findings", "errors"})
_INDENT = "  "


def render(report: Report) -> str:
    out = io.StringIO()
    write(memory_view(report), out)
    return out.getvalue()


def write(view: ReportView, out: IO[str]) -> None:
    """The document ElementTree would write for the whole tree (indented by ET.indent), written a test case at a time:
    each suite's counts are counted first, in a pass over the findings."""
    counts: dict[str, dict[str, int]] = {}
    for finding, _ in view.findings():
        tally = counts.setdefault(finding.pack, dict.fromkeys(("tests", "failures", "errors", "skipped"), 0))
        tally["tests"] += 1
        tally["skipped"] += finding.waived
        tally["failures"] += is_failing(finding.severity, finding.waived, view.fail_on)
    pack_ids = [p["id"] for p in view.packs]
    pack_ids += sorted(set(counts) - set(pack_ids))
    suites = [(pack_id, counts.get(pack_id, dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)))
              for pack_id in pack_ids]
    if view.totals.errors:
        errors = view.totals.errors
        suites.append(("scan errors", {"tests": errors, "failures": 0, "errors": errors, "skipped": 0}))
    root = _element("testsuites", name="auditor")
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(c[key] for _, c in suites)))
    empty = ET.tostring(root, encoding="unicode")  # <testsuites … />
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    if not suites:
        out.write(empty + "\n")
        return
    out.write(empty[:-len(" />")] + ">\n" + _INDENT)
    for n, (name, suite_counts) in enumerate(suites):
        cases = _testcases(view, name)
        suite = _suite(None, view, name)
        for key, value in suite_counts.items():
            suite.set(key, str(value))
        ET.indent(suite, level=1)
        if suite_counts["tests"]:
            suite[-1].tail = "\n" + _INDENT * 2  # test cases follow the properties
        out.write(ET.tostring(suite, encoding="unicode")[:-len("</testsuite>")])
        pending = next(cases, None)
        while pending is not None:
            case, pending = pending, next(cases, None)
            ET.indent(case, level=2)
            case.tail = "\n" + _INDENT * (2 if pending is not None else 1)
            out.write(ET.tostring(case, encoding="unicode"))
        out.write("</testsuite>" + ("\n" + _INDENT if n < len(suites) - 1 else "\n"))
    out.write("</testsuites>\n")


def _testcases(view: ReportView, suite: str) -> Iterator[ET.Element]:
    if suite == "scan errors":
        for error in view.errors():
            case = _element("testcase", classname="auditor.runs.scan", name=f"scan {error.location}", time="0")
            _element("error", case, message=error.message, type="scan-error").text = _text(error.message)
            yield case
        return
    for finding, component in view.findings():
        if finding.pack == suite:
            yield _testcase(view, finding, component)


def _suite(root: Optional[ET.Element], report: ReportView, name: str) -> ET.Element:
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


def _testcase(report: ReportView, finding: Finding, component: Optional[Component]) -> ET.Element:
    location = where(component)
    case = _element("testcase", classname=f"{finding.pack}.{finding.rule}", time="0",
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
        return case
    _element("system-out", case).text = body
    return case


def _element(tag: str, parent: Optional[ET.Element] = None, **attributes: object) -> ET.Element:
    texts = {key: _text(value) for key, value in attributes.items()}
    return ET.Element(tag, texts) if parent is None else ET.SubElement(parent, tag, texts)


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", redact(str(value)))
