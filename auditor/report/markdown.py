"""Markdown for a pull-request comment (GitHub-flavoured): the verdict, a count per severity, the findings
as a table, and each finding's evidence and remediation folded in a <details> block.

Every value from the scanned system is redacted and escaped: HTML metacharacters as entities, Markdown
ones with a backslash, line breaks folded, and "@name" kept from mentioning anyone.
"""

from __future__ import annotations

import re
from typing import Optional

from auditor.model import SEVERITIES, Component, Finding, Report
from auditor.redact import redact
from auditor.report.common import components_by_id, not_scanned_note, pack_line, plural, waived_counts, waiver_note, where
from auditor.report.escape import markdown as _md, visible

_URL = re.compile(r"https?://[^\s<>\\`|]+")


def render(report: Report) -> str:
    components = components_by_id(report)
    failing = report.failing()
    verdict = "❌ FAIL" if failing else "✅ PASS"
    lines = [f"### auditor: {verdict}, {plural(len(failing), 'finding')} at or above `{report.fail_on}`{not_scanned_note(report)}", "",
             _md(pack_line(report)) + f" · targets: {len(report.targets)}", ""]
    lines += _verdicts(report)
    lines += _counts(report)
    shown = [f for f in report.findings if f.severity != "info"]
    if shown:
        lines += ["| severity | finding | where |", "| --- | --- | --- |"]
        lines += [f"| {_severity(f)} | {_md(f.title)} | {_md(where(components.get(f.component)))} |" for f in shown]
        lines += ["", "<details><summary>Evidence and remediation</summary>", ""]
        for number, finding in enumerate(shown, 1):
            lines += _finding_details(number, finding, components.get(finding.component))
        lines += ["</details>", ""]
    else:
        lines += ["No findings above info.", ""]
    passed = len(report.findings) - len(shown)
    if passed:
        lines += [f"{plural(passed, 'info finding')} (checks that passed, such as a store that holds an ATS anchor) are in the "
                  "JSON, SARIF and JUnit reports.", ""]
    if report.errors:
        lines += [f"<details><summary>{plural(len(report.errors), 'part')} could not be scanned</summary>", ""]
        lines += [f"- {_md(e.location)}: {_md(e.message)}" for e in report.errors]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def _verdicts(report: Report) -> list[str]:
    """Will each client trust the ATS-served endpoint: the answers lead, the findings below are their evidence."""
    if not report.verdicts:
        return []
    lines = ["| answer | client | why |", "| --- | --- | --- |"]
    lines += [f"| **{v.answer}** | {_md((f'{v.host}: ' if v.host else '') + v.label)} | {_md(v.chain())} |"
              for v in report.verdicts]
    return lines + [""]


def _counts(report: Report) -> list[str]:
    counts = report.counts()
    waived = waived_counts(report.findings)
    return (["| severity | findings | waived |", "| --- | ---: | ---: |"]
            + [f"| {s} | {counts[s]} | {waived[s]} |" for s in SEVERITIES] + [""])


def _severity(finding: Finding) -> str:
    text = f"**{finding.severity.upper()}**"
    if finding.waived:
        return f"~~{finding.severity.upper()}~~ waived"
    if finding.waiver:
        return text + " (waiver expired)"
    return text


def _finding_details(number: int, finding: Finding, component: Optional[Component]) -> list[str]:
    lines = [f"**{number}. {finding.severity.upper()}: {_md(finding.title)}**", ""]
    if component is not None:
        version = f" {component.version}" if component.version else ""
        lines.append(f"- component: {_md(component.kind)} {_md(component.name + version)} at {_md(where(component))} "
                     f"(target {_md(component.target)})")
    note = waiver_note(finding)
    if note:
        lines.append(f"- {_md(note)}")
    for evidence in finding.evidence:
        source = f" ({_link(evidence.source)})" if evidence.source else ""
        lines.append(f"- {evidence.type}: {_md(evidence.summary)}{source}")
    lines.append(f"- remediation: {_md(finding.remediation)}")
    lines += [f"- reference: {_link(reference)}" for reference in finding.references]
    return lines + [""]


def _link(value: str) -> str:
    """A URL as an autolink (escaping would break it), anything else (a control in it too) as text."""
    return f"<{redact(value)}>" if _URL.fullmatch(value) and visible(value) == value else _md(value)
