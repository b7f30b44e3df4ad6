"""Merge saved JSON reports into one, in memory bounded by the largest single report, for any output format.

Each input is read, checked, labelled with its host and counted, and its items are written to spill files before the
next input is read: one file per section (findings one per severity, so that they come out worst first, each with
its component) and one of each host's part (for the formats that show host by host), only those the renderer reads;
for the JSON and HTML reports, the items as those reports write them (the HTML report's host sections, the JSON
report's sections: text, copied at the end, never read back as data).
What the renderers show before the items (totals, rule packs, rule texts, the fleet's counters) is counted on the way.
`merged()` then gives a ReportView that reads the spill files back, and any renderer writes the merged report from it:
the same text as rendering the merged JSON report held whole.

Identity: every target, component, verdict and error carries `host`, the `run.host` of the report it came from (a
second report from the same host is `host#2`, so nothing is merged away silently). A component's id includes its
host, so ids stay unique across hosts; findings, verdicts and the details that name a component are relinked.

The inputs are handled as JSON data, not as the model: a merge of a thousand reports spent most of its time making
the model of each and writing it back. Each item is written as the model would write it (auditor.model.saved_record),
and its secrets are redacted where a renderer writes it (every renderer redacts what it writes).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import marshal
import os
import pickle
import re
import tempfile
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Collection, Iterable, Iterator, Optional, Protocol

from auditor.model import (ANSWERS, SCHEMA_VERSION, SEVERITIES, ClientVerdict, Component, Finding, Report, RuleText,
                           ScanError, Target, component_from_dict, component_ids, error_from_dict, finding_from_dict,
                           finding_id, saved_record, severity_rank, target_from_dict, verdict_from_dict)
from auditor.redact import may_change, redact, redact_tree
from auditor.report.fleet import Fleet, HostSummary
from auditor.report.json_text import Stream
from auditor.report.saved import SavedReportError, load_data
from auditor.report.view import ReportView, Totals

if TYPE_CHECKING:
    from auditor.report.html import HostSections

SECTIONS = ("verdicts", "targets", "components", "findings", "errors")
# What a renderer may ask of the merged view (each module's READS): a section's items, the hosts' parts, or each
# section's items as the JSON report writes them.
SPILLS = frozenset({*SECTIONS, "parts", "json"})
Part = dict[str, list[dict[str, Any]]]
PIECE = 1 << 18  # bytes of a spilled text read at a time
_HASH = re.compile("[0-9a-f]{12}")  # the hash that ends an id (auditor.model.short_hash)


class Waivers(Protocol):
    """What the merge needs of a waiver book (auditor.checks.waivers.WaiverBook, a stage this one does not import)."""

    def apply(self, report: Report) -> None: ...

    def finish(self, report: Report) -> None: ...


@contextlib.contextmanager
def merged(paths: list[str], *, reads: Collection[str] = SPILLS, fail_on: str = "high", as_of: Optional[str] = None,
           book: Optional[Waivers] = None, run: Optional[dict[str, Any]] = None) -> Iterator[ReportView]:
    """The merged report of `paths`, as a view that lasts as long as the block. `reads`: what the renderer will read
    (SPILLS); only that is spilled. `book` (a WaiverBook) applies waivers to each report before it is counted;
    `as_of` overrides the merged report's date. SavedReportError names an input that is not a report."""
    with tempfile.TemporaryDirectory(prefix="auditor-merge-") as folder:
        merge = _Merge(folder, frozenset(reads), fail_on, book, fleet=len(paths) > 1)
        try:
            for path in paths:
                merge.add_report(path)
            merge.add_waivers()
        finally:
            merge.spill.close()
        yield merge.view(as_of, run or {})


class _Spill:
    """The spill files: the items of each host written together, one record after another. They are written and read by
    this process only, in a folder only its user can open. The items are JSON data, written with marshal (a record is
    its length, then its bytes), about twice as fast to write as pickle; the hosts' summaries are records, pickled."""

    PICKLED = frozenset({"hosts"})

    def __init__(self, folder: str, reads: frozenset[str], fleet: bool) -> None:
        self.folder = folder
        names = ["sources", "hosts"] + [name for name in ("verdicts", "targets", "components", "errors") if name in reads]
        names += [f"findings-{severity}" for severity in SEVERITIES if "findings" in reads]
        if "parts" in reads:  # the HTML report's: a fleet's host by host as its markup, a single host's as its items
            names.append("sections" if fleet else "parts")
        if "json" in reads:  # the JSON report's: each section's items as it writes them
            names += [f"json-{name}" for name in ("verdicts", "targets", "components", "errors")]
            names += [f"json-findings-{severity}" for severity in SEVERITIES]
        self.files: dict[str, IO[bytes]] = {name: open(self.path(name), "wb") for name in names}

    def path(self, name: str) -> str:
        return os.path.join(self.folder, f"{name}.spill")

    def write(self, name: str, items: list[Any]) -> None:
        """Items at the end of the file, written together (one host's, as a rule)."""
        handle = self.files.get(name)
        if handle is not None and items:
            data = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL) if name in self.PICKLED else marshal.dumps(items)
            handle.write(len(data).to_bytes(8, "little") + data)

    def wants(self, name: str) -> bool:
        return name in self.files

    def write_joined(self, name: str, text: str, separator: str) -> None:
        """A text at the end of the file, after `separator` where the file holds one already."""
        handle = self.files[name]
        handle.write(((separator if handle.tell() else "") + text).encode("utf-8"))

    def joined(self, names: list[str], separator: bytes) -> Iterator[bytes]:
        """The bytes of the files, in large pieces, `separator` between two that are not empty."""
        first = True
        for name in names:
            if os.path.getsize(self.path(name)):
                if not first:
                    yield separator
                yield from self.pieces(name)
                first = False

    def write_text(self, name: str, pieces: list[str]) -> None:
        """Texts at the end of the file, in one write. Each is encoded on its own: one that is all ASCII is copied as
        it is, where the text they make with one non-ASCII character (a host heading's "·") is encoded by character."""
        self.files[name].write(b"".join([piece.encode("utf-8") for piece in pieces]))

    def pieces(self, name: str) -> Iterator[bytes]:
        """The bytes written to the file, in large pieces."""
        with open(self.path(name), "rb") as handle:
            while True:
                piece = handle.read(PIECE)
                if not piece:
                    return
                yield piece

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()

    def items(self, name: str) -> Iterator[Any]:
        if name not in self.files:
            raise ValueError(f"the merge did not keep its {name} (a renderer's READS must name it)")
        loads = pickle.loads if name in self.PICKLED else marshal.loads
        with open(self.path(name), "rb") as handle:
            while True:
                size = handle.read(8)
                if not size:
                    return
                yield from loads(handle.read(int.from_bytes(size, "little")))


class _Merge:
    """What the merge keeps between inputs: totals, rule packs and rule texts, host labels, the fleet's counters."""

    def __init__(self, folder: str, reads: frozenset[str], fail_on: str, book: Optional[Waivers], fleet: bool) -> None:
        self.spill = _Spill(folder, reads, fleet)
        self.sections: Optional[HostSections] = None
        if self.spill.wants("sections"):
            from auditor.report.html import HostSections  # the HTML report's: rendered host by host as read

            self.sections = HostSections()
        self.fail_on, self.book = fail_on, book
        self.findings = dict.fromkeys(SEVERITIES, 0)
        self.waived = dict.fromkeys(SEVERITIES, 0)
        self.answers = dict.fromkeys(ANSWERS, 0)
        self.counts = dict.fromkeys(("failing", "expired", "targets", "unread", "components", "errors", "inputs"), 0)
        self.packs: list[dict[str, Any]] = []
        self.rules: dict[tuple[str, str], dict[str, Any]] = {}  # the text of each rule with a finding, from the first report that has it
        self.labels: set[str] = set()
        self.tried: dict[str, int] = {}  # a host name met more than once, and the last n of host#n tried for it
        self.kinds: dict[str, int] = {}
        self.as_of = ""
        self.order: dict[str, int] = {}  # each target location, and the place of its first target
        self.fleet = Fleet() if fleet else None
        self.redactor = _Redactor()

    def label(self, host: str) -> str:
        """`host`, or the first of host#2, host#3 … not taken; the search goes on from where it last stopped for that
        host (every label before it is taken), so that thousands of reports of one host name are labelled in linear time."""
        n = self.tried.get(host, 1)
        label = host if n == 1 else f"{host}#{n}"
        while label in self.labels:
            n += 1
            label = f"{host}#{n}"
        if n > 1:  # kept only for a host name met twice: a fleet of distinct names holds just the labels
            self.tried[host] = n
        self.labels.add(label)
        return label

    def add_report(self, path: str) -> None:
        data = load_data(path)
        run = data.get("run", {})
        label = self.label(run.get("host") or Path(path).stem)
        source: dict[str, Any] = {"host": label, "file": path, "generated_at": data["generated_at"], "as_of": data["as_of"]}
        if "command" in run:
            source["command"] = run["command"]
        self.spill.write("sources", [redact_tree(source)])  # its own texts: nothing to remember
        self.as_of = max(self.as_of, data["as_of"])
        part = _relabelled(data, label, path)
        rules = [saved_record("rules", r) for r in data.get("rules", [])]
        if self.book is not None:
            part, rules = _waived(data, part, rules, self.book)
        self._add(part, self.redactor.tree(_used(rules, part)), self.redactor.tree(data["rule_packs"]), label)

    def add_waivers(self) -> None:
        """The expired and stale waivers, as findings of the waivers pack: no host's."""
        if self.book is None:
            return
        waivers = Report("", "", "", [])
        self.book.finish(waivers)
        data = waivers.to_dict()
        part = {section: data[section] for section in SECTIONS}
        self._add(part, self.redactor.tree(data.get("rules", [])), self.redactor.tree(data["rule_packs"]), None)

    def _add(self, part: Part, rules: list[dict[str, Any]], packs: list[dict[str, Any]], host: Optional[str]) -> None:
        for pack in packs:
            if pack not in self.packs:
                self.packs.append(pack)
        for rule in rules:
            self.rules.setdefault((rule["pack"], rule["id"]), rule)
        for verdict in part["verdicts"]:
            self.answers[verdict["answer"]] += 1
        limit = severity_rank(self.fail_on)
        for finding in part["findings"]:
            self.findings[finding["severity"]] += 1
            self.waived[finding["severity"]] += finding["waived"]
            self.counts["failing"] += not finding["waived"] and severity_rank(finding["severity"]) <= limit
            self.counts["expired"] += bool(finding.get("waiver")) and finding["waiver"].get("status") == "expired"
        for target in part["targets"]:
            self.order.setdefault(target["location"], self.counts["targets"])
            self.counts["targets"] += 1
            self.counts["unread"] += target["kind"] == "unreadable"
        self.counts["components"] += len(part["components"])
        for component in part["components"]:
            self.kinds[component["kind"]] = self.kinds.get(component["kind"], 0) + 1
        self.counts["errors"] += len(part["errors"])
        summary = None
        if self.fleet is not None and host is not None:
            summary = self.fleet.add(self.counts["inputs"], host, part, self.fail_on)
            self.spill.write("hosts", [summary])
        self.counts["inputs"] += host is not None
        self._spill(part, host, summary)

    def _spill(self, part: Part, host: Optional[str], summary: Optional[HostSummary]) -> None:
        spill = self.spill
        for section in ("verdicts", "targets", "errors"):
            spill.write(section, part[section])
        if spill.wants("components"):
            spill.write("components", [(component["kind"], component) for component in part["components"]])
        by_severity: dict[str, list[dict[str, Any]]] = {}
        for finding in part["findings"]:
            by_severity.setdefault(finding["severity"], []).append(finding)
        if spill.wants("findings-info"):
            components = {c["id"]: c for c in part["components"]}
            for severity, findings in by_severity.items():
                spill.write(f"findings-{severity}", [(finding, components.get(finding["component"])) for finding in findings])
        if self.sections is not None:
            spill.write_text("sections", self.sections.pieces(host, summary, part))
        spill.write("parts", [(part["targets"], part["components"], part["findings"])])
        if spill.wants("json-verdicts"):  # last: their texts are redacted in place
            from auditor.report.json_report import SEPARATOR, items_text

            text = self.redactor.text
            for section in ("verdicts", "targets", "components", "errors"):
                if part[section]:
                    spill.write_joined(f"json-{section}", items_text(part[section], text), SEPARATOR)
            for severity, findings in by_severity.items():
                spill.write_joined(f"json-findings-{severity}", items_text(findings, text), SEPARATOR)

    def view(self, as_of: Optional[str], run: dict[str, Any]) -> ReportView:
        from auditor.version import __version__

        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        totals = Totals(self.findings, self.waived, self.counts["expired"], self.counts["failing"], self.answers,
                        self.counts["targets"], self.counts["unread"], self.counts["components"], self.counts["errors"],
                        self.kinds)
        return MergedView(self.spill, __version__, now, as_of or self.as_of, self.packs, self.fail_on,
                          dict(redact_tree(run), merged=Stream(self._sources)), list(self.rules.values()), totals,
                          self.fleet, self.order, self.redactor)

    def _sources(self) -> Iterator[dict[str, Any]]:
        return self.spill.items("sources")


class _Redactor:
    """redact_tree, changing containers in place and remembering the answers for the LIMIT texts last used: the
    reports of a fleet repeat the same texts."""

    LIMIT = 4096

    def __init__(self) -> None:
        self.text: Callable[[str], str] = functools.lru_cache(maxsize=self.LIMIT)(self._redacted)
        self.id_starts: dict[str, bool] = {}  # an id's text before its hash, and whether redact() may change the id
        # The text redacted and encoded as a JSON string.
        self.json: Callable[[str], str] = functools.lru_cache(maxsize=self.LIMIT)(
            lambda text: str(encode_basestring(self.text(text))))

    def _redacted(self, text: str) -> str:
        """redact(text); an id the merge made (what its fields say, ":", 12 hexadecimal digits of a hash) is looked
        at once per text before its hash: each host's ids are new texts, and every report has hundreds."""
        if len(text) > 13 and text[-13] == ":" and _HASH.fullmatch(text, len(text) - 12) is not None:
            start = text[:-12]
            changes = self.id_starts.get(start)
            if changes is None:
                changes = may_change(start + "0" * 12)  # the same answer for any digits (redact.may_change)
                if len(self.id_starts) < self.LIMIT:
                    self.id_starts[start] = changes
            if not changes:
                return text
        return redact(text)

    def tree(self, value: Any) -> Any:
        if type(value) is str:
            return self.text(value)
        pending = [value]
        while pending:
            container = pending.pop()
            if type(container) is dict:
                for key, item in container.items():
                    if type(item) is str:
                        container[key] = self.text(item)
                    elif type(item) is dict or type(item) is list:
                        pending.append(item)
            elif type(container) is list:
                for n, item in enumerate(container):
                    if type(item) is str:
                        container[n] = self.text(item)
                    elif type(item) is dict or type(item) is list:
                        pending.append(item)
        return value


def _relabelled(data: dict[str, Any], host: str, path: str) -> Part:
    """Every item of one report with its host; components get new ids, and what links to them follows: findings,
    verdicts, and details that name another component (trust_store_id, used_by, shadowed_by …). The items are
    `data`'s own, changed in place (the report is read for this merge alone). Each component's and finding's stored id
    is checked on the way, as auditor.report.saved.check_ids checks it (same order, same messages)."""
    renamed: dict[str, str] = {}
    components = []
    for stored in data["components"]:
        stored_id = stored["id"]
        if "version" not in stored:
            raise SavedReportError(f"{path}: a field the auditor writes is missing (component {stored_id} has no "
                                   f"version; null where it has none)")
        made, relabelled = component_ids(stored["kind"], stored["name"], stored["version"], stored["location"],
                                         stored.get("line"), stored["source"], stored.get("host"), host)
        if stored_id != made:
            raise SavedReportError(f"{path}: component {stored_id} does not match its fields (edited after the scan?)")
        component = saved_record("components", stored, copy=False)
        component["host"] = stored.get("host") or host
        component["id"] = relabelled
        renamed[stored_id] = relabelled
        components.append(component)
    for component in components:
        details = component.get("details")
        if details:
            for key, value in details.items():  # values replaced, keys kept: the dict keeps its order
                if type(value) is str:
                    if value in renamed:
                        details[key] = renamed[value]
                elif type(value) is list:
                    details[key] = [renamed.get(v, v) if isinstance(v, str) else v for v in value]
    findings: dict[str, dict[str, Any]] = {}  # by the stored id: a repeated finding is one
    for stored in data["findings"]:
        stored_id, rule, stored_component = stored["id"], stored["rule"], stored["component"]
        if stored_id != _stored_finding_id(rule, stored_component) or stored_component not in renamed:
            raise SavedReportError(f"{path}: finding {stored_id} does not match its rule and component "
                                   f"(edited after the scan?)")
        finding = saved_record("findings", stored, copy=False)
        finding["component"] = renamed[stored_component]
        finding["id"] = finding_id(finding["rule"], finding["component"])
        findings[stored_id] = finding
    verdicts = []
    for stored in data.get("verdicts", []):
        stored_findings, client = stored["findings"], stored["client"]
        verdict = saved_record("verdicts", stored, copy=False)
        verdict["client"] = renamed.get(client, client)
        verdict["findings"] = [findings[i]["id"] if i in findings else i for i in stored_findings]
        verdict["host"] = stored.get("host") or host
        verdicts.append(verdict)
    part: Part = {"verdicts": verdicts, "targets": [], "components": components, "findings": list(findings.values()),
                  "errors": []}
    for section in ("targets", "errors"):
        for stored in data[section]:
            item = saved_record(section, stored, copy=False)
            item["host"] = stored.get("host") or host
            part[section].append(item)
    return part


# The ids a finding has in the reports of a fleet's hosts: hosts made from one image hold the same components, and their
# findings the same ids (only the merge's ids name the host), so most are checked against a hash already made.
_stored_finding_id = functools.lru_cache(maxsize=4096)(finding_id)


def _waived(data: dict[str, Any], part: Part, rules: list[dict[str, Any]], book: Waivers
            ) -> tuple[Part, list[dict[str, Any]]]:
    """The part with the waivers applied to its findings, through the model (the waiver book judges components)."""
    report = Report.from_dict({**data, **part, "rules": rules})
    book.apply(report)
    written = report.to_dict()
    return {section: written[section] for section in SECTIONS}, written.get("rules", [])


def _used(rules: list[dict[str, Any]], part: Part) -> list[dict[str, Any]]:
    """The texts of the rules with a finding in the part, once each, as Report.used_rules keeps them."""
    used = {(f["pack"], f["rule"]) for f in part["findings"]}
    kept: dict[tuple[str, str], dict[str, Any]] = {}
    for rule in rules:
        key = (rule["pack"], rule["id"])
        if key in used:
            kept.setdefault(key, rule)
    return list(kept.values())


class MergedView(ReportView):
    """The merged report, read back from the spill files each time a renderer asks for a section."""

    def __init__(self, spill: _Spill, tool_version: str, generated_at: str, as_of: str, packs: list[dict[str, Any]],
                 fail_on: str, run: dict[str, Any], rules: list[dict[str, Any]], totals: Totals, fleet: Optional[Fleet],
                 order: dict[str, int], redactor: _Redactor) -> None:
        self.spill, self.redactor = spill, redactor
        self.tool_version, self.generated_at, self.as_of, self.packs = tool_version, generated_at, as_of, packs
        self.fail_on, self.run, self.totals, self.fleet, self.order = fail_on, run, totals, fleet, order
        self.rule_records = rules
        self.record_text = redactor.text  # the spill files hold the items as read: redacted on the way out
        self.rules = [RuleText(**dict(r, references=tuple(r["references"]))) for r in rules]

    def json_records(self, section: str) -> Iterator[dict[str, Any]]:
        if section == "findings":
            for severity in SEVERITIES:
                for finding, _ in self.spill.items(f"findings-{severity}"):
                    yield finding
        elif section == "components":
            for _, component in self.spill.items("components"):
                yield component
        else:
            yield from self.spill.items(section)

    def json_text(self, text: str) -> str:
        return self.redactor.json(text)

    def json_items_text(self, section: str) -> Optional[Iterator[bytes]]:
        names = [f"json-findings-{severity}" for severity in SEVERITIES] if section == "findings" else [f"json-{section}"]
        if not self.spill.wants(names[0]):
            return None
        from auditor.report.json_report import SEPARATOR

        return self.spill.joined(names, SEPARATOR.encode("utf-8"))

    def verdicts(self) -> Iterator[ClientVerdict]:
        return (verdict_from_dict(v) for v in self.spill.items("verdicts"))

    def targets(self) -> Iterator[Target]:
        return (target_from_dict(t) for t in self.spill.items("targets"))

    def components(self, kinds: Collection[str] = ()) -> Iterator[Component]:
        for kind, component in self.spill.items("components"):
            if not kinds or kind in kinds:
                yield component_from_dict(component, id_checked=True)

    def findings(self) -> Iterator[tuple[Finding, Optional[Component]]]:
        for severity in SEVERITIES:
            for finding, component in self.spill.items(f"findings-{severity}"):
                yield (finding_from_dict(finding, id_checked=True),
                       component_from_dict(component, id_checked=True) if component else None)

    def errors(self) -> Iterator[ScanError]:
        return (error_from_dict(e) for e in self.spill.items("errors"))

    def sources(self) -> Iterable[dict[str, Any]]:
        sources: Iterable[dict[str, Any]] = self.run["merged"]
        return sources

    def parts(self) -> Iterator[tuple[Optional[str], Part]]:
        if self.fleet is not None:
            raise ValueError("a fleet's parts are rendered as the merge reads them: see host_sections()")
        whole: Part = {"targets": [], "components": [], "findings": []}  # one host: one part, as its own report is
        for targets, components, findings in self.spill.items("parts"):
            whole["targets"] += targets
            whole["components"] += components
            whole["findings"] += findings
        yield None, whole

    def host_sections(self) -> Optional[Iterator[bytes]]:
        return self.spill.pieces("sections") if self.fleet is not None else None

    def hosts(self) -> Iterator[HostSummary]:
        summaries: Iterator[HostSummary] = self.spill.items("hosts")
        return summaries

    def target_order(self) -> dict[str, int]:
        return self.order

    def json_header(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "tool": {"name": "auditor", "version": self.tool_version},
                "generated_at": self.generated_at, "as_of": self.as_of, "rule_packs": self.packs,
                **({"rules": self.rule_records} if self.rule_records else {}), "fail_on": self.fail_on, "run": self.run}
