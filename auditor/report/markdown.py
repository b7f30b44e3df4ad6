"""Markdown for a pull-request comment (GitHub-flavoured): the verdict, a count per severity, the findings
as a table, and each finding's evidence and remediation folded in a <details> block.

Every value from the scanned system is redacted and escaped: HTML metacharacters as entities, Markdown
ones with a backslash, line breaks folded, and "@name" kept from mentioning anyone.
"""

from __future__ import annotations

import io
import re
from typing import IO, Callable, Optional

from auditor.model import SEVERITIES, Component, Finding, Report
from auditor.redact import redact
from auditor.report.common import not_scanned_note, pack_line, plural, waiver_note, where, where_on_host
from auditor.report.escape import markdown as _md, visible
from auditor.report.view import ReportView, memory_view

_URL = re.compile(r"https?://[^\s<>\\`|]+")
READS = frozenset({"verdicts", "findings", "errors"})


def render(report: Report) -> str:
    out = io.StringIO()
    write(memory_view(report), out)
    return out.getvalue()


def write(view: ReportView, out: IO[str]) -> None:
    """The lines of the comment, written as they are made; a report of several hosts names each finding's host."""
    lines = _Lines(out)
    totals = view.totals
    verdict = "❌ FAIL" if totals.failing else "✅ PASS"
    lines.add(f"### auditor: {verdict}, {plural(totals.failing, 'finding')} at or above `{view.fail_on}`{not_scanned_note(view)}", "",
              _md(pack_line(view)) + f" · targets: {totals.targets}", "")
    if view.fleet is not None:
        from auditor.report.markdown_fleet import fleet_lines

        lines.add(*fleet_lines(view.fleet))
    placed = where_on_host if view.fleet is not None else where
    _verdicts(view, lines)
    lines.add(*_counts(view))
    shown = totals.finding_count - totals.findings["info"]
    if shown:
        lines.add("| severity | finding | where |", "| --- | --- | --- |")
        for f, component in view.findings():
            if f.severity != "info":
                lines.add(f"| {_severity(f)} | {_md(f.title)} | {_md(placed(component))} |")
        lines.add("", "<details><summary>Evidence and remediation</summary>", "")
        number = 0
        for finding, component in view.findings():
            if finding.severity != "info":
                number += 1
                lines.add(*_finding_details(number, finding, component, placed))
        lines.add("</details>", "")
    else:
        lines.add("No findings above info.", "")
    passed = totals.findings["info"]
    if passed:
        lines.add(f"{plural(passed, 'info finding')} (checks that passed, such as a store that holds an ATS anchor) are in the "
                  "JSON, SARIF and JUnit reports.", "")
    if totals.errors:
        lines.add(f"<details><summary>{plural(totals.errors, 'part')} could not be scanned</summary>", "")
        for e in view.errors():
            lines.add(f"- {_md(e.location)}: {_md(e.message)}")
        lines.add("", "</details>", "")


class _Lines:
    """Lines written to `out` one by one, a line break between each two (none after the last)."""

    def __init__(self, out: IO[str]) -> None:
        self.out, self.first = out, True

    def add(self, *lines: str) -> None:
        for line in lines:
            self.out.write(line if self.first else "\n" + line)
            self.first = False


def _verdicts(view: ReportView, lines: _Lines) -> None:
    """Will each client trust the ATS-served endpoint: the answers lead, the findings below are their evidence."""
    if not sum(view.totals.answers.values()):
        return
    lines.add("| answer | client | why |", "| --- | --- | --- |")
    for v in view.verdicts():
        lines.add(f"| **{v.answer}** | {_md((f'{v.host}: ' if v.host else '') + v.label)} | {_md(v.chain())} |")
    lines.add("")


def _counts(view: ReportView) -> list[str]:
    counts, waived = view.totals.findings, view.totals.waived
    return (["| severity | findings | waived |", "| --- | ---: | ---: |"]
            + [f"| {s} | {counts[s]} | {waived[s]} |" for s in SEVERITIES] + [""])


def _severity(finding: Finding) -> str:
    text = f"**{finding.severity.upper()}**"
    if finding.waived:
        return f"~~{finding.severity.upper()}~~ waived"
    if finding.waiver:
        return text + " (waiver expired)"
    return text


def _finding_details(number: int, finding: Finding, component: Optional[Component],
                     placed: Callable[[Optional[Component]], str]) -> list[str]:
    lines = [f"**{number}. {finding.severity.upper()}: {_md(finding.title)}**", ""]
    if component is not None:
        version = f" {component.version}" if component.version else ""
        lines.append(f"- component: {_md(component.kind)} {_md(component.name + version)} at {_md(placed(component))} "
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
