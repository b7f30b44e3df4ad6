"""Waivers: accepted risks, each with a reason, an owner and an end date, applied to a report's findings.

A waiver file holds `[[waivers]]` tables (in pyproject.toml: `[[tool.auditor.waivers]]`). A waiver matches a
finding by `rule` (an id or a glob) and by the finding's component: `component` (its name, exact or a glob),
`location` (a path glob) and, in a merged report, `host` (a glob); at least one of component and location.

Dates: a waiver expiring on D is active through D and expired from D+1, judged on the report's as-of date
(or --as-of), so the same report and waiver file always give the same verdict. A waived finding stays in the
report, marked; an expired waiver leaves its findings unwaived and is itself a finding (waiver-expired); a
waiver that matches nothing is a finding too (waiver-stale), whatever its date.
"""

from __future__ import annotations

import datetime as dt
import re
from fnmatch import fnmatchcase
from functools import cached_property
from typing import Any, Optional

from auditor import records
from auditor.inputs import read_text_input
from auditor.checks.location_glob import PathGlob
from auditor.model import Component, Report
from auditor.records import record

import tomli

MAX_BYTES = 1024 * 1024
FIELDS = ("rule", "component", "location", "host", "reason", "owner", "expires")
REQUIRED = ("rule", "reason", "owner", "expires")


class WaiverError(Exception):
    """A waiver file that cannot be used; the message names the file and line."""


@record
class Waiver:
    rule: str
    reason: str
    owner: str
    expires: str  # YYYY-MM-DD, the last day it applies
    file: str
    line: int
    component: Optional[str] = None
    location: Optional[str] = None
    host: Optional[str] = None

    def status(self, as_of: str) -> str:
        return "active" if as_of <= self.expires else "expired"

    def matches(self, rule: str, component: Optional[Component]) -> bool:
        if component is None or not fnmatchcase(rule, self.rule):
            return False
        return ((self.component is None or fnmatchcase(component.name, self.component))
                and (self.location is None or self._location.fullmatch(component.location))
                and (self.host is None or fnmatchcase(component.host or "", self.host)))

    @cached_property
    def _location(self) -> PathGlob:
        return PathGlob(self.location or "")

    def covers(self) -> str:
        """'botocore in **/legacy/**': what the waiver names, for titles."""
        parts = [self.component or "any component"]
        if self.location:
            parts.append(f"in {self.location}")
        if self.host:
            parts.append(f"on host {self.host}")
        return " ".join(parts)

    def describe(self, status: str) -> dict[str, str | int]:
        """The `waiver` of a finding it matched."""
        return {"status": status, "reason": self.reason, "owner": self.owner, "expires": self.expires,
                "file": self.file, "line": self.line}


# -- loading ------------------------------------------------------------------

def load_waivers(path: str, settings_file: bool = False) -> list[Waiver]:
    """The waivers of a waiver file, or of `[tool.auditor]` when the file is a pyproject.toml, or the `[[waivers]]`
    of a configuration file (`settings_file`, or a file named auditor.toml), whose other keys are settings."""
    text = _read_text(path)
    try:
        data = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise WaiverError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError:  # tomli reads nested arrays and inline tables recursively
        raise WaiverError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    lines = text.splitlines()
    pyproject = path.replace("\\", "/").rsplit("/", 1)[-1] == "pyproject.toml" or "tool" in data
    if pyproject:
        tool = data.get("tool")
        auditor = tool.get("auditor") if isinstance(tool, dict) else None
        entries = auditor.get("waivers") if isinstance(auditor, dict) else None
        header = r"\[\[\s*tool\s*\.\s*auditor\s*\.\s*waivers\s*\]\]"
        if entries is None:
            raise WaiverError(f"{path}: no [[tool.auditor.waivers]] tables")
    else:
        settings = settings_file or path.replace("\\", "/").rsplit("/", 1)[-1] == "auditor.toml"
        for key in data:
            if key != "waivers" and not settings:
                where = _line_of(lines, rf"\[*\s*{re.escape(key)}\s*[\]=.]", 0, len(lines))
                raise WaiverError(f"{_at(path, where)}: unknown key {key!r}: a waiver file holds [[waivers]] tables only")
        entries, header = data.get("waivers", []), r"\[\[\s*waivers\s*\]\]"
    starts = [n for n, line in enumerate(lines) if re.match(rf"\s*{header}\s*(#.*)?$", line)]
    tables = isinstance(entries, list) and all(isinstance(entry, dict) for entry in entries)
    if not tables or len(starts) != len(entries):
        raise WaiverError(f"{path}: write each waiver as its own {'[[tool.auditor.waivers]]' if pyproject else '[[waivers]]'} "
                          f"table (inline arrays cannot be located by line)")
    ends = starts[1:] + [len(lines)]
    return [_waiver(path, entry, lines, start, end) for entry, start, end in zip(entries, starts, ends)]


def _read_text(path: str) -> str:
    return read_text_input(path, MAX_BYTES, WaiverError)


def _waiver(path: str, entry: dict[str, Any], lines: list[str], start: int, end: int) -> Waiver:
    header = _at(path, start)
    for key in entry:
        if key not in FIELDS:
            where = _at(path, _line_of(lines, rf"{re.escape(key)}\s*=", start, end) or start)
            raise WaiverError(f"{where}: unknown key {key!r} in a waiver (known: {', '.join(FIELDS)})")
    missing = [key for key in REQUIRED if key not in entry]
    if missing:
        raise WaiverError(f"{header}: waiver without {', '.join(missing)} (every waiver needs {', '.join(REQUIRED)})")
    for key, value in entry.items():
        if key != "expires" and (not isinstance(value, str) or not value.strip()):
            where = _at(path, _line_of(lines, rf"{key}\s*=", start, end) or start)
            raise WaiverError(f"{where}: {key} must be a non-empty string")
    if "component" not in entry and "location" not in entry:
        raise WaiverError(f"{header}: a waiver names what it covers: give component, location or both")
    try:
        PathGlob(entry.get("location", ""))
    except ValueError as exc:
        where = _at(path, _line_of(lines, r"location\s*=", start, end) or start)
        raise WaiverError(f"{where}: location: {exc}") from None
    line = _line_of(lines, r"expires\s*=", start, end) or start
    fields = {k: v for k, v in entry.items() if k != "expires"}
    return Waiver(**fields, expires=_expiry(entry["expires"], _at(path, line)), file=path, line=start + 1)


def _expiry(value: object, where: str) -> str:
    if isinstance(value, dt.datetime):
        raise WaiverError(f"{where}: expires must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        if isinstance(value, str) and dt.date.fromisoformat(value).isoformat() == value:
            return value
    except ValueError:
        pass
    raise WaiverError(f"{where}: expires {value!r} is not a date like 2026-12-31")


def _line_of(lines: list[str], pattern: str, start: int, end: int) -> Optional[int]:
    """Index of the first line in [start, end) that begins with the pattern."""
    return next((n for n in range(start, end) if re.match(rf"\s*{pattern}", lines[n])), None)


def _at(path: str, index: Optional[int]) -> str:
    return path if index is None else f"{path}:{index + 1}"


# -- applying -----------------------------------------------------------------

class WaiverBook:
    """Applies waivers to one report, or to each of many before they are merged, and then says which
    waivers expired on a finding they matched and which matched nothing."""

    def __init__(self, waivers: list[Waiver], as_of: Optional[str] = None):
        self.waivers = waivers
        self.as_of = as_of  # None: each report's own as-of date
        self.matched = [0] * len(waivers)
        self.expired_on: dict[int, str] = {}  # waiver index -> the date it was judged expired on
        self.findings_seen = 0

    def apply(self, report: Report) -> None:
        """Marks the report's findings; waiver state already in it (a saved report) is replaced."""
        as_of = self.as_of or report.as_of
        report.components = [c for c in report.components if c.kind != "waiver"]
        components = {c.id: c for c in report.components}
        findings = []
        for finding in report.findings:
            if finding.pack == "waivers":
                continue
            self.findings_seen += 1
            matching = [n for n, w in enumerate(self.waivers) if w.matches(finding.rule, components.get(finding.component))]
            for n in matching:
                self.matched[n] += 1
            active = [n for n in matching if self.waivers[n].status(as_of) == "active"]
            chosen = active[0] if active else matching[0] if matching else None
            if chosen is not None and not active:
                self.expired_on[chosen] = as_of
            waiver = None if chosen is None else self.waivers[chosen].describe("active" if active else "expired")
            findings.append(records.replace(finding, waived=bool(active), waiver=waiver))
        report.findings = findings

    def components(self) -> list[Component]:
        """One `waiver` component for each expired or stale waiver; the waivers pack makes them findings."""
        made = []
        for n, waiver in enumerate(self.waivers):
            if self.matched[n] == 0:
                status = "stale"
                judged = f"it matches none of the {self.findings_seen} findings it was applied to"
            elif n in self.expired_on:
                status = "expired"
                judged = (f"judged on {self.expired_on[n]}: it matches {self.matched[n]} findings, which are no longer "
                          f"waived")
            else:
                continue
            summary = (f"rule {waiver.rule}, {waiver.covers()}; reason: {waiver.reason}; owner: {waiver.owner}; "
                       f"expires {waiver.expires}")
            made.append(Component("waiver", waiver.rule, None, waiver.file, "waiver file", waiver.file, line=waiver.line,
                                  details={"status": status, "rule": waiver.rule, "covers": waiver.covers(),
                                           "reason": waiver.reason, "owner": waiver.owner, "expires": waiver.expires,
                                           "summary": summary, "judged": judged}))
        return made

    def finish(self, report: Report) -> None:
        """Adds the expired and stale waivers to the report as findings of the waivers pack."""
        from auditor.checks.rules import ReleaseDates, evaluate, waiver_pack

        pack = waiver_pack()
        made = self.components()
        report.components.extend(made)
        report.findings.extend(evaluate([pack], made, ReleaseDates({})))  # its checks judge no release
        if pack.id not in {p["id"] for p in report.packs}:
            report.packs.append(pack.describe())
        report.add_rules(pack.rule_texts())
        report.sort()


def apply_waivers(report: Report, waivers: list[Waiver], as_of: Optional[str] = None) -> None:
    """The one place waivers meet a report: scan, truststore, probe and report render all come here."""
    book = WaiverBook(waivers, as_of)
    book.apply(report)
    book.finish(report)
