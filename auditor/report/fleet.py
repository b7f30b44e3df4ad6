"""The fleet view of a report merged from several hosts: hosts counted by their worst verdict, by operating system, by
Java version and by the trust store their clients use, and the worst hosts first.

Counted one host at a time, from the items of that host's report (dicts as the JSON report writes them), so that a
merge of any number of hosts holds only counters: a number per (value, segment), a bounded number of distinct values
(past LIMIT the rest are counted together) and the RANKED worst hosts.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from auditor.model import ANSWERS, SEVERITIES, severity_rank
from auditor.records import field, mutable_record

NO_VERDICT = "no verdict"  # a host (or a JVM) with no client judged
HOST_SEGMENTS = (*ANSWERS, NO_VERDICT)  # a host by its worst verdict, worst first
STORE_STATES = ("no ATS anchor", "missing", "unreadable", "holds an ATS anchor")  # worst first
NOT_FOUND = "not found"
LIMIT = 500  # distinct values counted one by one per view; any more are counted together, as OTHERS
OTHERS = "other values"
RANKED = 25  # hosts in the worst-first table


@mutable_record
class HostSummary:
    """One host of the fleet, as the ranking and the table of contents show it."""

    number: int  # its place among the merged reports, from 0
    host: str
    answers: dict[str, int]  # its clients per answer
    findings: dict[str, int]  # per severity
    failing: int
    not_scanned: int
    targets: int
    components: int
    systems: list[str]  # its operating systems, as "Debian GNU/Linux 12 (bookworm), 12.15"

    @property
    def worst(self) -> str:
        """The worst answer of its clients; NO_VERDICT when none was judged."""
        return next((answer for answer in ANSWERS if self.answers[answer]), NO_VERDICT)

    def rank(self) -> tuple[int, ...]:
        """Worst first: by its worst answer, then by failing findings, by findings of each severity, by parts not
        scanned; ties keep the merge's order."""
        return (HOST_SEGMENTS.index(self.worst), -self.failing, *(-self.findings[s] for s in SEVERITIES[:-1]),
                -self.not_scanned, self.number)


@mutable_record
class Tally:
    """Hosts counted per value (an OS, a Java version, a store) and, within it, per segment (an answer, a state)."""

    segments: tuple[str, ...]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, value: str, segment: str) -> None:
        if value not in self.counts and len(self.counts) >= LIMIT:
            value = OTHERS
        row = self.counts.get(value)
        if row is None:
            row = self.counts[value] = dict.fromkeys(self.segments, 0)
        row[segment] += 1

    def rows(self, shown: int) -> list[tuple[str, dict[str, int]]]:
        """The `shown` values with the most hosts, most first (ties by name); the rest summed into one last row,
        "N other values"."""
        ordered = sorted(((v, row) for v, row in self.counts.items() if v != OTHERS),
                         key=lambda item: (-sum(item[1].values()), item[0]))
        kept, rest = ordered[:shown], ordered[shown:]
        folded = [row for _, row in rest] + ([self.counts[OTHERS]] if OTHERS in self.counts else [])
        if folded:
            total = {s: sum(row[s] for row in folded) for s in self.segments}
            kept.append((OTHERS if OTHERS in self.counts else f"{len(rest)} other values", total))
        return kept


@mutable_record
class Fleet:
    """The fleet's counters, filled one host at a time."""

    hosts: int = 0
    by_verdict: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HOST_SEGMENTS, 0))
    systems: Tally = field(default_factory=lambda: Tally(HOST_SEGMENTS))
    java: Tally = field(default_factory=lambda: Tally(HOST_SEGMENTS))
    stores: Tally = field(default_factory=lambda: Tally(STORE_STATES))
    without_java: int = 0
    ranked: list[HostSummary] = field(default_factory=list)

    def add(self, number: int, host: str, part: dict[str, list[dict[str, Any]]], fail_on: str) -> HostSummary:
        """Counts one host from its items (`part`: its verdicts, targets, components, findings and errors)."""
        summary = summarize(number, host, part, fail_on)
        self.hosts += 1
        self.by_verdict[summary.worst] += 1
        for system in summary.systems or [NOT_FOUND]:
            self.systems.add(system, summary.worst)
        javas = java_versions(part)
        self.without_java += not javas
        for version, answer in javas.items():
            self.java.add(version, answer)
        for store, state in stores_used(part).items():
            self.stores.add(store, state)
        self.ranked.append(summary)
        if len(self.ranked) >= 2 * RANKED:
            self.ranked = sorted(self.ranked, key=HostSummary.rank)[:RANKED]
        return summary

    def worst_hosts(self) -> list[HostSummary]:
        return sorted(self.ranked, key=HostSummary.rank)[:RANKED]


def summarize(number: int, host: str, part: dict[str, list[dict[str, Any]]], fail_on: str) -> HostSummary:
    answers = dict.fromkeys(ANSWERS, 0)
    for verdict in part["verdicts"]:
        answers[verdict["answer"]] += 1
    findings = dict.fromkeys(SEVERITIES, 0)
    limit, failing = severity_rank(fail_on), 0
    for finding in part["findings"]:
        findings[finding["severity"]] += 1
        failing += not finding["waived"] and severity_rank(finding["severity"]) <= limit
    systems = list(dict.fromkeys(system_name(c) for c in part["components"] if c["kind"] == "os"))
    return HostSummary(number, host, answers, findings, failing, len(part["errors"]), len(part["targets"]),
                       len(part["components"]), systems)


def system_name(component: dict[str, Any]) -> str:
    """"Debian GNU/Linux 12 (bookworm), 12.15": the OS's pretty name with its version where the name lacks it."""
    version = component.get("version") or "(version unknown)"
    pretty = component.get("details", {}).get("pretty_name")
    if isinstance(pretty, str) and pretty:
        return pretty if version in pretty else f"{pretty}, {version}"
    return f"{component['name']} {version}"


def java_versions(part: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """Each Java version on the host ("17.0.9 (Eclipse Temurin)") and the worst answer of its JVMs of that version."""
    answers = {v["client"]: v["answer"] for v in part["verdicts"]}
    versions: dict[str, str] = {}
    for component in part["components"]:
        if component["kind"] != "java":
            continue
        vendor = component.get("details", {}).get("vendor")
        version = (component.get("version") or "(version unknown)") + (f" ({vendor})" if isinstance(vendor, str) else "")
        answer = answers.get(component["id"], NO_VERDICT)
        known = versions.get(version)
        if known is None or HOST_SEGMENTS.index(answer) < HOST_SEGMENTS.index(known):
            versions[version] = answer
    return versions


def stores_used(part: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """Each trust store the host's judged clients use (as the report names it) and what it holds; a client that uses
    none counts under NOT_FOUND, one that verifies nothing under "none: certificate validation is off"."""
    judged = {v["client"] for v in part["verdicts"]}
    components = {c["id"]: c for c in part["components"]}
    used: dict[str, str] = {}
    for client in judged:
        component = components.get(client)
        if component is None:
            continue
        details = component.get("details", {})
        if details.get("certificate_validation") == "off":
            name, state = "none: certificate validation is off", STORE_STATES[0]
        elif isinstance(details.get("trust_store"), str):
            name, state = details["trust_store"], store_state(components.get(details.get("trust_store_id", "")))
        else:
            continue  # a client linked to no store (a lockfile's pin, an SDK manifest): its verdict says why
        if name not in used or STORE_STATES.index(state) < STORE_STATES.index(used[name]):
            used[name] = state
    return dict(sorted(used.items()))


def store_state(store: Optional[dict[str, Any]]) -> str:
    if store is None:
        return "missing"
    details = store.get("details", {})
    if details.get("format") == "missing":
        return "missing"
    if details.get("anchors"):
        return "holds an ATS anchor"
    if details.get("unread") or details.get("problem"):
        return "unreadable"
    return "no ATS anchor"


def split_by_host(hosts: Iterable[str], sections: dict[str, list[dict[str, Any]]]
                  ) -> list[tuple[Optional[str], dict[str, list[dict[str, Any]]]]]:
    """A merged report's items, host by host in the merge's order (items of no host, a waiver file's, last)."""
    parts: dict[Optional[str], dict[str, list[dict[str, Any]]]] = {host: _empty() for host in hosts}
    owner = {c["id"]: c.get("host") for c in sections["components"]}
    for section, items in sections.items():
        for item in items:
            # A finding is its component's: the component's id holds the host.
            host = owner.get(item["component"]) if section == "findings" else item.get("host")
            parts.setdefault(host, _empty())[section].append(item)
    by_host = {host: part for host, part in parts.items() if host is not None}
    return [*by_host.items(), *([(None, parts[None])] if None in parts else [])]


def _empty() -> dict[str, list[dict[str, Any]]]:
    return {section: [] for section in ("verdicts", "targets", "components", "findings", "errors")}
