"""Facts the finding-list formats (Markdown, SARIF, JUnit XML, CSV) all show, read from the report model:
where a component is, what a waiver says, whether a finding fails the run. Nothing here looks at the
scanned system again."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional

from auditor.model import Component, Finding, Report, severity_rank

if TYPE_CHECKING:
    from auditor.report.view import ReportView

# Locations that name no file: "environment (the scanning process's environment)", "platform.win32_ver()".
_NOT_A_FILE = re.compile(r"^[\w.]+ ?\(.*\)$", re.DOTALL)


def components_by_id(report: Report) -> dict[str, Component]:
    return {c.id: c for c in report.components}


def where(component: Optional[Component]) -> str:
    """"path:line", or the location alone; "" for a finding whose component is not in the report."""
    if component is None:
        return ""
    return f"{component.location}:{component.line}" if component.line else component.location


def where_on_host(component: Optional[Component]) -> str:
    """where(), led by "host: " for a component of a merged report."""
    return f"{component.host}: {where(component)}" if component is not None and component.host else where(component)


def released_cell(component: Component) -> str:
    """The release date a components table shows: the first upload, or for a version newer than the release-date
    table, that it came after the table's date (and so after every cutoff before it)."""
    if component.released:
        return component.released[:10]
    after = component.released_after
    return f"after {after[:10]} (the table's date)" if after else ""


def names_file(location: str) -> bool:
    return bool(location) and not _NOT_A_FILE.match(location)


def sbom_file(component: Component) -> Optional[str]:
    """The SBOM file a component read from one names ("FILE#bom-ref", "FILE#SPDXID"); None for another component.
    The SBOM is the scan's file target, or one a tree walk found, whose names all end in .json."""
    if component.source not in ("CycloneDX SBOM", "SPDX SBOM"):
        return None
    if component.location.startswith(component.target + "#"):
        return component.target
    end = component.location.find(".json#")
    return component.location[:end + len(".json")] if end >= 0 else None


def is_failing(severity: str, waived: bool, fail_on: str) -> bool:
    """The same test as Report.failing(), for one finding (or a diff's change, or a merged finding's data)."""
    return not waived and severity_rank(severity) <= severity_rank(fail_on)


def waiver_note(finding: Finding) -> Optional[str]:
    """"waived by alice until 2027-01-31: reason (waivers.toml:3)", or "waiver expired on …", or None."""
    waiver = finding.waiver
    if not waiver:
        return None
    owner = waiver.get("owner") or "an unnamed owner"
    expires = waiver.get("expires")
    if waiver.get("status") == "expired":
        text = f"waiver by {owner} expired on {expires}"
    else:
        text = f"waived by {owner}" + (f" until {expires}" if expires else "")
    if waiver.get("reason"):
        text += f": {waiver['reason']}"
    if waiver.get("file"):
        text += f" ({waiver['file']}" + (f":{waiver['line']}" if waiver.get("line") else "") + ")"
    return text


def pack_line(report: ReportView) -> str:
    """"auditor 0.1.0 · rule packs: dynamodb-ats 2026.11.28 · as of 2026-11-28"."""
    packs = ", ".join(f"{p['id']} {p['version']}" for p in report.packs) or "none"
    return f"auditor {report.tool_version} · rule packs: {packs} · as of {report.as_of}"


def plural(count: int, noun: str, many: Optional[str] = None) -> str:
    """"1 info finding", "2 info findings"; `many` where the plural is not the noun and an s ("1 part not
    scanned", "2 parts not scanned")."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def not_scanned_note(report: ReportView) -> str:
    """' · 3 parts not scanned' after a result, or nothing: a PASS covers only what was read."""
    count = report.totals.errors
    unread = report.totals.unread
    note = f" · {plural(count, 'part not scanned', 'parts not scanned')}" if count else ""
    return note + (f" · {plural(unread, 'target not read', 'targets not read')}" if unread else "")
