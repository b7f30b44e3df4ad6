"""What a renderer reads of a report: its header, its totals, and its items one at a time.

A report made by a scan, or read from one file, is held whole (`memory_view`). A report merged from many hosts is not:
auditor.report.merge keeps its items in spill files and gives a view that reads them back in the order each
renderer asks for, so that every output format of a merge of thousands of hosts is written in memory bounded by one
host's report. Renderers therefore count from `totals`, iterate items rather than index them, and take a finding
together with its component.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterable, Iterator, Optional

from auditor.model import SEVERITIES, Component, Finding, Report, RuleText, ScanError, Target
from auditor.records import record
from auditor.report.json_text import to_json_data

if TYPE_CHECKING:
    from auditor.model import ClientVerdict
    from auditor.report.fleet import Fleet, HostSummary


@record
class Totals:
    """Counted over the whole report, before any item is written."""

    findings: dict[str, int]  # per severity
    waived: dict[str, int]  # waived findings per severity
    expired: int  # findings whose waiver has expired
    failing: int  # findings at or above fail_on, not waived
    answers: dict[str, int]  # verdicts per answer, worst first
    targets: int
    unread: int  # targets that could not be read at all
    components: int
    errors: int
    kinds: dict[str, int]  # components per kind

    @property
    def finding_count(self) -> int:
        return sum(self.findings.values())


class ReportView(ABC):
    tool_version: str
    generated_at: str
    as_of: str
    packs: list[dict[str, Any]]
    fail_on: str
    run: dict[str, Any]  # a merged report's "merged" may be a json_text.Stream: iterate it, do not index it
    rules: list[RuleText]
    totals: Totals
    fleet: Optional[Fleet]  # a report of several hosts: its fleet's counters
    # What each text of json_records is made before it is written (secrets redacted); None: written as it is.
    record_text: Optional[Callable[[str], str]] = None

    @abstractmethod
    def json_header(self) -> dict[str, Any]:
        """The JSON report's fields before its summary and items, secrets redacted."""

    @abstractmethod
    def json_records(self, section: str) -> Iterable[dict[str, Any]]:
        """The items of a section (verdicts, targets, components, findings, errors) as the JSON report writes them,
        but for their texts, each written as record_text makes it (where it is not None)."""

    def json_items_text(self, section: str) -> Optional[Iterable[bytes]]:
        """A section's items as the JSON report writes them (auditor.report.json_report.items_text, the items joined by
        json_report.SEPARATOR), in UTF-8 pieces of any size, where the view holds them written (a merge writes them
        as it reads each report); None where the JSON report writes json_records."""
        return None

    def json_text(self, text: str) -> str:
        """A text of json_header as the JSON report writes it: secrets redacted, encoded as a JSON string."""
        return str(encode_basestring(text))

    @abstractmethod
    def verdicts(self) -> Iterable[ClientVerdict]: ...

    @abstractmethod
    def targets(self) -> Iterable[Target]: ...

    @abstractmethod
    def components(self, kinds: Collection[str] = ()) -> Iterable[Component]:
        """The components, or only those of `kinds`."""

    @abstractmethod
    def findings(self) -> Iterable[tuple[Finding, Optional[Component]]]:
        """Each finding with its component (None for one whose component is not in the report)."""

    @abstractmethod
    def errors(self) -> Iterable[ScanError]: ...

    @abstractmethod
    def sources(self) -> Iterable[dict[str, Any]]:
        """The reports a merged report was made of (its run's "merged"), in order."""

    @abstractmethod
    def parts(self) -> Iterable[tuple[Optional[str], dict[str, list[dict[str, Any]]]]]:
        """The report host by host, each part holding that host's targets, components and findings as records (as the
        JSON report writes them, their texts not yet redacted): one part (None, the whole report) unless it is a fleet;
        in a fleet, the items of no host (a waiver file's) come last."""

    def host_sections(self) -> Optional[Iterable[bytes]]:
        """A fleet's hosts' sections of the HTML report (UTF-8, in pieces of any size), where the merge rendered them as
        it read each host's report; None where the renderer makes them from parts()."""
        return None

    @abstractmethod
    def hosts(self) -> Iterable[HostSummary]:
        """A fleet's hosts in the merge's order; none for a report of one host."""

    @abstractmethod
    def target_order(self) -> dict[str, int]:
        """Each target location and the place of its first target among the report's targets."""


def memory_view(report: Report) -> ReportView:
    return _MemoryView(report)


def totals_of(report: Report) -> Totals:
    waived = dict.fromkeys(SEVERITIES, 0)
    for finding in report.findings:
        waived[finding.severity] += finding.waived
    kinds: dict[str, int] = {}
    for component in report.components:
        kinds[component.kind] = kinds.get(component.kind, 0) + 1
    return Totals(report.counts(), waived, sum(1 for f in report.findings if f.waiver and f.waiver.get("status") == "expired"),
                  len(report.failing()), report.answer_counts(), len(report.targets), len(report.unread_targets()),
                  len(report.components), len(report.errors), kinds)


class _MemoryView(ReportView):
    """A report held whole: its lists, as they are."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.tool_version, self.generated_at, self.as_of = report.tool_version, report.generated_at, report.as_of
        self.packs, self.fail_on, self.run, self.rules = report.packs, report.fail_on, report.run, report.rules
        self.totals = totals_of(report)
        self._data: Optional[dict[str, Any]] = None
        self._components: Optional[dict[str, Component]] = None
        self._hosts: list[HostSummary] = []
        self.fleet = self._fleet() if len(report.run.get("merged") or ()) > 1 else None

    def _fleet(self) -> Fleet:
        from auditor.report.fleet import Fleet, split_by_host  # a merged report's only: start-up time

        fleet = Fleet()
        labels = [s.get("host", "") for s in self.report.run["merged"]]
        sections = {name: self.data()[name] for name in ("verdicts", "targets", "components", "findings", "errors")}
        for number, (host, part) in enumerate(p for p in split_by_host(labels, sections) if p[0] is not None):
            self._hosts.append(fleet.add(number, str(host), part, self.fail_on))
        return fleet

    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = to_json_data(self.report)
        return self._data

    def json_header(self) -> dict[str, Any]:
        return {key: value for key, value in self.data().items()
                if key not in ("summary", "verdicts", "targets", "components", "findings", "errors")}

    def json_records(self, section: str) -> Iterable[dict[str, Any]]:
        records: list[dict[str, Any]] = self.data()[section]  # redacted already
        return records

    def verdicts(self) -> Iterable[ClientVerdict]:
        return self.report.verdicts

    def targets(self) -> Iterable[Target]:
        return self.report.targets

    def components(self, kinds: Collection[str] = ()) -> Iterable[Component]:
        return [c for c in self.report.components if c.kind in kinds] if kinds else self.report.components

    def findings(self) -> Iterator[tuple[Finding, Optional[Component]]]:
        if self._components is None:
            self._components = {c.id: c for c in self.report.components}
        components = self._components
        return ((f, components.get(f.component)) for f in self.report.findings)

    def errors(self) -> Iterable[ScanError]:
        return self.report.errors

    def sources(self) -> Iterable[dict[str, Any]]:
        sources: list[dict[str, Any]] = self.report.run.get("merged", [])
        return sources

    def parts(self) -> Iterator[tuple[Optional[str], dict[str, list[dict[str, Any]]]]]:
        data = self.report.to_dict()  # not redacted: a renderer redacts what it writes
        sections = {name: data[name] for name in ("targets", "components", "findings")}
        if self.fleet is None:
            yield None, sections
            return
        from auditor.report.fleet import split_by_host

        yield from split_by_host([h.host for h in self._hosts], sections)

    def hosts(self) -> Iterable[HostSummary]:
        return self._hosts

    def target_order(self) -> dict[str, int]:
        order: dict[str, int] = {}
        for index, target in enumerate(self.report.targets):
            order.setdefault(target.location, index)
        return order

