"""Merge saved JSON reports into one, in memory bounded by the largest single report.

Each input is read, labelled with its host and written out before the next is read: items go to spill files
(one per section, and one per severity so the merged findings are worst first), and the merged JSON is
assembled from them at the end, in exactly the layout the JSON renderer writes.

Identity: every target, component and error carries `host`, the `run.host` of the report it came from (a
second report from the same host is `host#2`, so nothing is merged away silently). A component's id includes
its host, so ids stay unique across hosts; findings are relinked to the new ids.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Optional, Protocol, TypedDict

from auditor.model import ANSWERS, SCHEMA_VERSION, SEVERITIES, Report
from auditor.redact import redact_tree
from auditor.report.common import is_failing
from auditor.report.saved import load_report

SECTIONS = ("verdicts", "targets", "components", *(f"findings-{s}" for s in SEVERITIES), "errors")


class Waivers(Protocol):
    """What the merge needs of a waiver book (auditor.checks.waivers.WaiverBook, a stage this one does not import)."""

    def apply(self, report: Report) -> None: ...

    def finish(self, report: Report) -> None: ...


class MergeSummary(TypedDict):
    findings: dict[str, int]  # per severity
    failing: int
    not_scanned: int
    verdicts: dict[str, int]  # per answer


def merge_reports(paths: list[str], out: IO[str], *, fail_on: str = "high", as_of: Optional[str] = None,
                  book: Optional[Waivers] = None, run: Optional[dict[str, Any]] = None) -> MergeSummary:
    """Writes the merged report's JSON to `out` and returns its summary. `book` (a WaiverBook) applies
    waivers to each report before it is written; `as_of` overrides the merged report's date."""
    from auditor import __version__

    merged = _Merged(fail_on)
    with tempfile.TemporaryDirectory(prefix="auditor-merge-") as spill:
        files: dict[str, IO[str]] = {name: open(os.path.join(spill, name), "w+", encoding="utf-8") for name in SECTIONS}
        try:
            for path in paths:
                report = load_report(path)
                label = merged.label(report.run.get("host") or Path(path).stem)
                merged.sources.append(_source(report, label, path))
                _relabel(report, label)
                if book is not None:
                    book.apply(report)
                merged.add(report, files)
            if book is not None:
                waivers = Report("", "", "", [])
                book.finish(waivers)
                merged.add(waivers, files)
            now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            summary: MergeSummary = {"findings": merged.counts, "failing": merged.failing, "not_scanned": merged.written["errors"],
                                     "verdicts": merged.answers}
            header = {"schema_version": SCHEMA_VERSION, "tool": {"name": "auditor", "version": __version__},
                      "generated_at": now, "as_of": as_of or max(s["as_of"] for s in merged.sources),
                      "rule_packs": merged.packs, **({"rules": list(merged.rules.values())} if merged.rules else {}),
                      "fail_on": fail_on,
                      "run": dict(run or {}, merged=merged.sources),
                      "summary": summary}
            _assemble(out, redact_tree(header), files)
        finally:
            for handle in files.values():
                handle.close()
    return summary


class _Merged:
    """What the merge keeps between inputs: counts, rule packs, host labels and where each section stands."""

    def __init__(self, fail_on: str) -> None:
        self.fail_on = fail_on
        self.counts = {s: 0 for s in SEVERITIES}
        self.failing = 0
        self.answers = {answer: 0 for answer in ANSWERS}
        self.packs: list[dict[str, Any]] = []
        self.rules: dict[tuple[str, str], dict[str, Any]] = {}  # the text of each rule with a finding, from the first report that has it
        self.sources: list[dict[str, Any]] = []
        self.labels: set[str] = set()
        self.written = {name: 0 for name in SECTIONS}

    def label(self, host: str) -> str:
        label, n = host, 1
        while label in self.labels:
            n += 1
            label = f"{host}#{n}"
        self.labels.add(label)
        return label

    def add(self, report: Report, files: dict[str, IO[str]]) -> None:
        data: dict[str, Any] = redact_tree(report.to_dict())
        for pack in data["rule_packs"]:
            if pack not in self.packs:
                self.packs.append(pack)
        for rule in data.get("rules", []):
            self.rules.setdefault((rule["pack"], rule["id"]), rule)
        for verdict in data.get("verdicts", []):
            self.answers[verdict["answer"]] += 1
        for section in ("verdicts", "targets", "components", "errors"):
            for item in data[section]:
                self._write(files, section, item)
        for finding in data["findings"]:
            self.counts[finding["severity"]] += 1
            self.failing += is_failing(finding["severity"], finding["waived"], self.fail_on)
            self._write(files, f"findings-{finding['severity']}", finding)

    def _write(self, files: dict[str, IO[str]], section: str, item: dict[str, Any]) -> None:
        text = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        files[section].write((",\n    " if self.written[section] else "    ") + text)
        self.written[section] += 1


def _source(report: Report, label: str, path: str) -> dict[str, Any]:
    source: dict[str, Any] = {"host": label, "file": path, "generated_at": report.generated_at, "as_of": report.as_of}
    if "command" in report.run:
        source["command"] = report.run["command"]
    return source


def _relabel(report: Report, host: str) -> None:
    """Gives every item of one report its host; components get new ids, and what links to them follows:
    findings, and details that name another component (trust_store_id, used_by, shadowed_by …)."""
    renamed = {c.id: dataclasses.replace(c, host=c.host or host).id for c in report.components}

    def relinked(value: object) -> object:
        if isinstance(value, list):
            return [renamed.get(v, v) if isinstance(v, str) else v for v in value]
        return renamed.get(value, value) if isinstance(value, str) else value

    report.components = [dataclasses.replace(c, host=c.host or host, details={k: relinked(v) for k, v in c.details.items()})
                         for c in report.components]
    findings = {f.id: dataclasses.replace(f, component=renamed[f.component]) for f in report.findings}
    report.findings = list(findings.values())
    report.verdicts = [dataclasses.replace(v, client=renamed.get(v.client, v.client), host=v.host or host,
                                           findings=tuple(findings[i].id if i in findings else i for i in v.findings))
                       for v in report.verdicts]
    report.targets = [dataclasses.replace(t, host=t.host or host) for t in report.targets]
    report.errors = [dataclasses.replace(e, host=e.host or host) for e in report.errors]


def _assemble(out: IO[str], header: dict[str, Any], files: dict[str, IO[str]]) -> None:
    """The JSON renderer's layout (indent 2), with the sections copied from their spill files."""
    out.write(json.dumps(header, indent=2, ensure_ascii=False)[:-2] + ",\n")
    groups = {"verdicts": ["verdicts"], "targets": ["targets"], "components": ["components"],
              "findings": [f"findings-{s}" for s in SEVERITIES], "errors": ["errors"]}
    for n, (key, names) in enumerate(groups.items()):
        filled = [files[name] for name in names if files[name].tell()]
        out.write(f'  "{key}": [' + ("\n" if filled else ""))
        for m, handle in enumerate(filled):
            handle.seek(0)
            if m:
                out.write(",\n")
            while chunk := handle.read(1 << 20):
                out.write(chunk)
        out.write(("\n  ]" if filled else "]") + (",\n" if n < len(groups) - 1 else "\n}\n"))
