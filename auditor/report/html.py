"""The HTML report for a compliance review: one self-contained, printable file made from the report.

No scripts and no external resources (the Content-Security-Policy forbids both); the style sheet is
html_report.css, inlined. Every value from the scanned system goes through html_markup, which escapes
and redacts it. The document is written a section at a time as the view gives the items (auditor.report.view), so a
merge of thousands of hosts is written in memory bounded by one host's part. A report of several hosts opens with
the fleet view (auditor.report.html_fleet), and its targets are shown host by host (HostSections: a merge renders each
host's as it reads the host's report). The targets' sections are written from the items' records, as the JSON report
writes them, rather than from the model.
"""

from __future__ import annotations

import bisect
import functools
import io
import shlex
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Optional

from auditor.model import SEVERITIES, Evidence, Report, severity_rank, short_hash
from auditor.output import write_utf8
from auditor.report.common import not_scanned_note, plural
from auditor.report.escape import html_text
from auditor.report.html_markup import Markup, el, join, start, text
from auditor.report.view import ReportView, memory_view

if TYPE_CHECKING:
    from auditor.report.fleet import HostSummary

STYLE = Path(__file__).with_name("html_report.css")
FLEET_STYLE = Path(__file__).with_name("html_fleet.css")  # added in a report of several hosts
# default-src 'none': nothing is fetched, nothing runs; inline styles and data: images only.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
READS = frozenset({"verdicts", "errors", "parts"})

Record = dict[str, Any]  # an item as the JSON report writes it
Part = dict[str, list[Record]]  # a host's items by section: its targets, components and findings at least
# A target's location, with its components and their findings.
Group = tuple[str, tuple[list[Record], list[Record]]]


def render(report: Report) -> str:
    out = io.StringIO()
    write(memory_view(report), out)
    return out.getvalue()


def write(view: ReportView, out: IO[str]) -> None:
    head = el("head", el("meta", charset="utf-8"),
              el("meta", http_equiv="Content-Security-Policy", content=POLICY),
              el("meta", name="viewport", content="width=device-width, initial-scale=1"),
              el("title", f"auditor report {view.generated_at}"),
              el("style", Markup(STYLE.read_text(encoding="utf-8")),
                 Markup(FLEET_STYLE.read_text(encoding="utf-8")) if view.fleet is not None else None))
    out.write("<!DOCTYPE html>\n" + start("html", lang="en") + head + "<body>" + _header(view))
    if view.fleet is None:  # one host: its part is the whole report, held, as the table of contents needs its groups
        _, part = next(iter(view.parts()))
        components = _by_id(part["components"])
        groups = _groups(part, components)
        toc = [el("li", el("a", name or "(no target)", href=f"#target-{i}"), f": components {len(members)}, findings {len(found)}")
               for i, (name, (members, found)) in enumerate(groups)]
        _verdicts(view, out)
        _summary(view, toc, out)
        _metadata(view, out)
        targets = _Targets(part["targets"])
        for i, (name, (members, found)) in enumerate(groups):
            out.write(_target(i, name, members, found, targets, components))
    else:
        from auditor.report.html_fleet import fleet_section, host_entry

        out.write(fleet_section(view.fleet))
        _verdicts(view, out)
        _summary(view, (host_entry(host) for host in view.hosts()), out)
        _metadata(view, out)
        rendered = view.host_sections()
        if rendered is not None:
            write_utf8(rendered, out)
        else:
            for section in _host_sections(view):
                out.write(section)
    _errors(view, out)
    out.write("</body></html>\n")


def _host_sections(view: ReportView) -> Iterator[str]:
    """Each host's sections, rendered from the view's parts (a merge renders them as it reads each report)."""
    summaries, hosts = iter(view.hosts()), HostSections()
    pending = next(summaries, None)
    for host, part in view.parts():
        summary = None
        if pending is not None and pending.host == host:  # the parts and the hosts come in the same order
            summary, pending = pending, next(summaries, None)
        yield hosts.render(host, summary, part)


class HostSections:
    """The sections of a fleet's hosts, one host at a time in the report's order: its heading, then a section per
    target, the targets numbered on from the last host's."""

    def __init__(self) -> None:
        self.index = 0

    def render(self, host: Optional[str], summary: Optional[HostSummary], part: Part) -> str:
        """The host's markup, from its records (`part`: its targets, components and findings as the JSON report
        writes them; their texts are redacted here, as they are escaped)."""
        return "".join(self.pieces(host, summary, part))  # one write a host: fewer, larger writes to the file

    def pieces(self, host: Optional[str], summary: Optional[HostSummary], part: Part) -> list[str]:
        """The host's markup (as render's) in pieces: its heading, then each target's section."""
        from auditor.report.html_fleet import host_heading

        index = self.index
        components = _by_id(part["components"])
        groups = _groups(part, components)
        sections: list[str] = [host_heading(host, summary, [(f"target-{index + i}", name, len(members), len(found))
                                                           for i, (name, (members, found)) in enumerate(groups)])]
        targets, on = _Targets(part["targets"]), _on(host)
        for name, (members, found) in groups:
            sections.append(_target(index, name, members, found, targets, components, on))
            index += 1
        self.index = index
        return sections


def _by_id(components: list[Record]) -> dict[str, Record]:
    return {c["id"]: c for c in components}


def _groups(part: Part, components: Mapping[str, Record]) -> list[Group]:
    """[(target, (components, findings))] in the order the targets were scanned, findings worst first (`components`:
    the part's by id)."""
    findings = sorted(part["findings"], key=lambda f: severity_rank(f["severity"]))
    groups: dict[str, tuple[list[Record], list[Record]]] = {}
    for component in part["components"]:
        groups.setdefault(component["target"], ([], []))[0].append(component)
    for finding in findings:
        owner = components.get(finding["component"])
        groups.setdefault(owner["target"] if owner else "", ([], []))[1].append(finding)
    order: dict[str, int] = {}
    for index, target in enumerate(part["targets"]):
        order.setdefault(target["location"], index)
    return sorted(groups.items(), key=lambda item: order.get(item[0], len(part["targets"])))


def _header(view: ReportView) -> Markup:
    return el("header", el("h1", "AWS endpoint trust audit (Amazon Trust Services)"),
              el("p", f"auditor {view.tool_version} · generated {view.generated_at} on "
                      f"{view.run.get('host', 'an unknown host')} · certificates judged as of {view.as_of}",
                 class_="subtitle"),
              class_="report-header")


def _verdicts(view: ReportView, out: IO[str]) -> None:
    """Will each client trust the ATS-served endpoint: one row per client, before the findings that are the evidence."""
    answers = view.totals.answers
    if not sum(answers.values()):
        return
    counts = ", ".join(f"{n} {answer}" for answer, n in answers.items() if n)
    out.write(start("section", id="verdicts") + el("h2", "Verdicts")
              + el("p", f"Will each client trust the ATS-served endpoint? {counts}. The findings below are the evidence.")
              + start("table", class_="verdicts")
              + el("thead", el("tr", el("th", "answer"), el("th", "client"), el("th", "why"), el("th", "evidence (finding ids)")))
              + "<tbody>")
    for v in view.verdicts():
        out.write(el("tr", el("td", el("span", v.answer, class_=f"answer answer-{v.answer.replace(' ', '-')}")),
                     el("td", (f"{v.host}: " if v.host else "") + v.label),
                     el("td", el("ul", [el("li", el("strong", r.kind), f": {r.text}") for r in v.reasons], class_="reasons")),
                     el("td", ", ".join(v.findings), class_="hash")))
    out.write("</tbody></table></section>")


def _summary(view: ReportView, toc: Iterable[Markup], out: IO[str]) -> None:
    totals = view.totals
    counts, failing, waived = totals.findings, totals.failing, totals.waived
    verdict = "FAIL" if failing else "PASS"
    rows = [el("tr", el("td", _severity_badge(s)), el("td", counts[s], class_="num"), el("td", waived[s], class_="num"))
            for s in SEVERITIES]
    out.write(start("section", id="summary")
              + el("h2", "Summary")
              + el("p", el("span", verdict, class_=f"verdict {verdict.lower()}"),
                   f" {plural(failing, 'finding')} at or above '{view.fail_on}' (--fail-on); waived findings do not count"
                   f"{not_scanned_note(view)}.",
                   class_="result")
              + el("div", _chart(counts),
                   el("table", el("thead", el("tr", el("th", "severity"), el("th", "findings"), el("th", "of them waived"))),
                      el("tbody", rows), class_="counts"),
                   class_="summary-grid")
              + el("p", f"Targets scanned: {totals.targets} · components checked: {totals.components} · "
                        f"findings waived: {sum(waived.values())} · waivers expired: {totals.expired} · "
                        f"parts not scanned: {totals.errors}")
              + start("ul", class_="toc"))
    for entry in toc:
        out.write(entry)
    out.write("</ul></section>")


def _chart(counts: dict[str, int]) -> Markup:
    """Horizontal bars, one per severity, drawn as inline SVG."""
    most = max(counts.values()) or 1
    rows: list[Markup] = []
    for i, severity in enumerate(SEVERITIES):
        y, width = i * 28 + 4, round(220 * counts[severity] / most)
        rows += [el("text", severity, x=0, y=y + 14, class_="label"),
                 el("rect", x=70, y=y, width=max(width, 1), height=18, class_=f"bar sev-{severity}"),
                 el("text", counts[severity], x=76 + width, y=y + 14, class_="label")]
    summary = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES)
    return el("svg", el("title", f"Findings by severity: {summary}"), rows, xmlns="http://www.w3.org/2000/svg",
              viewBox="0 0 330 144", width=330, height=144, role="img", aria_label=f"Findings by severity: {summary}",
              class_="chart")


def _metadata(view: ReportView, out: IO[str]) -> None:
    command = view.run.get("command")
    rows: list[tuple[str, object]] = [("tool", f"auditor {view.tool_version}"), ("generated at", view.generated_at),
            ("certificates judged as of", view.as_of), ("host", view.run.get("host", "unknown")),
            ("command line", el("code", _COMMAND) if command else "not recorded"),
            ("fails on", f"{view.fail_on} and above")]
    packs = [el("tr", el("td", p["id"]), el("td", p["version"]), el("td", p.get("title", "")),
                el("td", el("code", p.get("sha256", "")), class_="hash")) for p in view.packs]
    before, _, after = (start("section", id="metadata") + el("h2", "Scan metadata")
                        + el("table", el("tbody", [el("tr", el("th", k, scope="row"), el("td", v)) for k, v in rows]),
                             class_="facts")
                        + el("h3", "Rule packs")
                        + el("table", el("thead", el("tr", el("th", "pack"), el("th", "version"), el("th", "title"),
                                                          el("th", "content SHA-256"))), el("tbody", packs))
                        ).partition(_COMMAND)
    out.write(before)
    if command:
        # A merge's command line names every report merged: written once, not copied into each enclosing element
        # nor kept among the texts last escaped.
        out.write(html_text(shlex.join(command)))
    out.write(after)
    _merged_from(view.sources(), out)
    out.write("</section>")


# Where the command line goes: a NUL, which no escaped text holds (html_text writes it as \x00).
_COMMAND = Markup("\x00command line\x00")


def _merged_from(sources: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """The reports a merged report was made of (`auditor report merge`)."""
    first = True
    for s in sources:
        if first:
            out.write("<table>" + el("caption", "Merged from")
                      + el("thead", el("tr", [el("th", h) for h in ("host", "report", "generated at", "command line")]))
                      + "<tbody>")
            first = False
        out.write(el("tr", el("td", s.get("host", "")), el("td", el("code", s.get("file", ""))), el("td", s.get("generated_at", "")),
                     el("td", el("code", shlex.join(s["command"])) if s.get("command") else "")))
    if not first:
        out.write("</tbody></table>")


class _Targets:
    """A part's targets, looked up by location and by a folder's prefix (a host can have hundreds)."""

    def __init__(self, targets: list[Record]) -> None:
        self.targets = targets
        self.locations = {t["location"] for t in targets}
        self.ordered = sorted((t["location"], n) for n, t in enumerate(targets))

    def below(self, name: str) -> list[Record]:
        """The targets inside the folder `name`, in the report's order."""
        ordered, inside = self.ordered, []
        if not ordered:
            return []
        prefix = name.rstrip("/") + "/"
        at = bisect.bisect_left(ordered, (prefix, -1))
        while at < len(ordered) and ordered[at][0].startswith(prefix):  # not a slice: a copy of the rest each time
            location, n = ordered[at]
            if location != name:
                inside.append(n)
            at += 1
        return [self.targets[n] for n in sorted(inside)]


# A target's section is written from the records of its components and findings (dicts as the JSON report writes
# them, empty optional fields left out), not from the model: a merge renders each host's sections as it reads its
# report, and making the model of each item took as long as writing its markup.

def _on(host: Optional[str]) -> str:
    """What a target's heading says of its host: the same for each of a host's targets, so made once a host."""
    return f" on <code>{text(host)}</code>" if host else ""


def _target(index: int, name: str, members: list[Record], findings: list[Record], targets: _Targets,
            components: Mapping[str, Record], on: str = "") -> str:
    # Stores and environment settings that serve several targets are labelled with all of them, ", "-joined.
    shared = ", " in name and all(part in targets.locations for part in name.split(", "))
    by_component: dict[str, list[Record]] = {}
    for finding in findings:
        by_component.setdefault(finding["component"], []).append(finding)
    below = targets.below(name)
    found = join([el("h3", "Environments and lockfiles found in it"),
                  el("ul", [el("li", f"{t['kind']} ", el("code", t["location"])) for t in below], class_="found")]
                 ) if below else ""
    lead = "What these targets share (trust stores, settings from the environment). " if shared else ""
    # The counts are digits: nothing in the lead's own words to escape.
    return (f'<section class="target" id="target-{index}"><h2>{"Shared by " if shared else "Target "}'
            f'<code>{text(name or "(no target)")}</code>{on}</h2>'
            f'<p class="lead">{lead}Components checked: {len(members)}, findings: {len(findings)}.</p>'
            f'{found}{_components_table(members, by_component)}{_trust_links(members, components)}'
            f'<h3>Findings</h3>{"".join([_finding(f, components) for f in findings]) or "<p>No findings.</p>"}'
            f'</section>')


_COMPONENTS_HEAD = el("caption", "Components checked") + el("thead", el("tr", [el("th", h) for h in (
    "kind", "name", "version", "released (UTC)", "where, found by", "state")]))
_NO_FINDINGS: list[Record] = []
_NO_COMPONENTS = el("p", "No components.")


def _components_table(members: list[Record], by_component: Mapping[str, list[Record]]) -> str:
    if not members:
        return _NO_COMPONENTS
    rows = "".join([_component_row(c, by_component.get(c["id"], _NO_FINDINGS)) for c in members])
    return f'<table class="components">{_COMPONENTS_HEAD}<tbody>{rows}</tbody></table>'


# The parts written for every component and every finding are written as one template each: they are most of a
# fleet's report, and the same markup as nested el() calls (the text and attribute values escaped by text()).

def _component_row(c: Record, findings: list[Record]) -> str:
    details = c.get("details", _NO_DETAILS)
    # A Python package's requirement (auditor.facts.package.Requirement, read back from its details) gives the range
    # a lockfile admits where there is no version, and its direct reference.
    stated = c["kind"] == "python-package" and "pinned" in details
    version = c["version"] or (details.get("specifier", "") if stated else "") or ""
    cells = _component_cells(c["kind"], c["name"], version, _released(c), _where(c), c["source"],
                             (details.get("url") or "") if stated else "")
    return f'<tr id="{_anchor("c-", c["id"])}">{cells}<td>{_state(c, details, findings)}</td></tr>'


_NO_DETAILS: dict[str, Any] = {}


def _released(c: Record) -> str:
    """released_cell (auditor.report.common) of a record."""
    released = c.get("released")
    if released:
        return str(released[:10])
    after = c.get("released_after")
    return f"after {after[:10]} (the table's date)" if after else ""


def _where(component: Optional[Record]) -> str:
    """where (auditor.report.common) of a record: "path:line", or the location alone; "" for no component."""
    if component is None:
        return ""
    line = component.get("line")
    return f"{component['location']}:{line}" if line else str(component["location"])


@functools.lru_cache(maxsize=1024)  # a fleet's hosts hold the same components
def _component_cells(kind: str, name: str, version: str, released: str, place: str, source: str, url: str) -> str:
    origin = f'<div class="muted">from <code>{text(url)}</code></div>' if url else ""
    return (f'<td>{text(kind)}</td><td class="name">{text(name)}</td><td>{text(version)}</td><td>{text(released)}</td>'
            f'<td><code>{text(place)}</code><div class="muted">{text(source)}</div>{origin}</td>')


def _state(component: Record, details: Mapping[str, Any], findings: list[Record]) -> str:
    facts = _facts(component["kind"], details)
    badges = "".join([f'<a href="#{_anchor("f-", f["id"])}">{_severity_badge(f["severity"], f["waived"])}</a>'
                      for f in findings])
    return (f"<div>{text('; '.join(facts))}</div>" if facts else "") + (badges or '<span class="ok">no finding</span>')


def _facts(kind: str, details: Mapping[str, Any]) -> list[str]:
    facts: list[str] = []
    if kind == "python-package" and details.get("active") is False:  # PackageFacts.loaded
        facts.append("inactive: not the install Python imports")
    if details.get("certificate_validation") == "off":
        facts.append("certificate validation off")
    if "anchors" in details:
        facts.append("ATS anchors: " + ", ".join(details["anchors"]) if details["anchors"] else "no valid ATS anchor")
    if kind == "trust-config":
        facts.append(f"effect: {details['effect']}")  # SettingFacts.effect
    if details.get("failure"):
        facts.append(f"probe failed: {details['failure']}")
    return facts


def _trust_links(members: list[Record], components: Mapping[str, Record]) -> str:
    """Each client (or setting) and the store it would use, as the scan resolved it (its ClientTrust, written in its
    details: auditor.facts.client_trust)."""
    clients = [c for c in members if c.get("details", _NO_DETAILS).get("trust_reasons") is not None]
    if not clients:
        return ""
    rows: list[Markup] = []
    for c in clients:
        details = c["details"]
        store, store_name = components.get(details.get("trust_store_id") or ""), details.get("trust_store")
        store_cell: str | list[Markup]
        validation = details.get("certificate_validation")
        if validation is not None and validation != "on":  # ClientTrust.validation is False
            store_cell = "none: certificate validation is off"
        elif store and store_name:
            store_cell = [el("a", store_name, href=f"#{_anchor('c-', store['id'])}"),
                          el("div", "; ".join(_facts(store["kind"], store.get("details", _NO_DETAILS))), class_="muted")]
        else:
            store_cell = store_name or "none found"
        fallbacks = details.get("trust_fallbacks")
        rows.append(el("tr", el("td", f"{c['name']} {c['version'] or ''}".strip(), el("div", el("code", _where(c)), class_="muted")),
                       el("td", "→", class_="arrow"), el("td", store_cell),
                       el("td", el("ul", [el("li", r) for r in details["trust_reasons"]]),
                          el("div", "Fallbacks: ", "; ".join(fallbacks), class_="muted") if fallbacks else None)))
    return el("table", el("caption", "Trust links: the store each client would use"),
              el("thead", el("tr", el("th", "client or setting"), el("th", ""), el("th", "store"), el("th", "why"))),
              el("tbody", rows), class_="trust")


def _finding(finding: Record, components: Mapping[str, Record]) -> str:
    component = components.get(finding["component"])
    if component is not None:
        name = f"{component['name']} {component['version'] or ''}".strip()
        about = f'<a href="#{_anchor("c-", component["id"])}">{text(name)}</a>'
    else:
        about = text(finding["component"])
    waived = finding["waived"]
    return (f'<article class="{_finding_class(finding["severity"], waived)}" id="{_anchor("f-", finding["id"])}">'
            f'{_finding_head(finding["severity"], waived, finding["title"], finding["rule"], finding["pack"])}{about}'
            f'</dd><dt>where</dt><dd><code>{text(_where(component))}</code></dd></dl>{_waiver(finding)}'
            f'{_finding_body(_fields(finding["evidence"]), finding["remediation"], tuple(finding["references"]))}</article>')


@functools.lru_cache(maxsize=None)
def _finding_class(severity: str, waived: bool) -> str:
    return text(f"finding sev-{severity}{' waived' if waived else ''}")


def _fields(evidence: list[Record]) -> tuple[tuple[str, str, Optional[str], Optional[int]], ...]:
    # The cache's key: tuples hash and compare in C.
    return tuple([(e["type"], e["summary"], e.get("source"), e.get("line")) for e in evidence])


# A fleet's hosts share most findings' text: each part is made once.

@functools.lru_cache(maxsize=1024)
def _finding_head(severity: str, waived: bool, title: str, rule: str, pack: str) -> str:
    return (f'<header>{_severity_badge(severity, waived)}<h4>{text(title)}</h4></header>'
            f'<dl><dt>rule</dt><dd>{text(f"{rule} ({pack})")}</dd><dt>component</dt><dd>')


@functools.lru_cache(maxsize=1024)
def _finding_body(evidence: tuple[tuple[str, str, Optional[str], Optional[int]], ...], remediation: str,
                  references: tuple[str, ...]) -> str:
    return (f'<h5>Evidence</h5><ul class="evidence">{"".join(_evidence(Evidence(*e)) for e in evidence)}</ul>'
            f'<h5>Remediation</h5><p class="remediation">{text(remediation)}</p>'
            f'<h5>References</h5><ul>{"".join(f"<li>{_link(r)}</li>" for r in references)}</ul>')


def _waiver(finding: Record) -> Markup:
    waiver = finding.get("waiver")
    if not waiver:
        return Markup("")
    status = waiver.get("status", "unknown")
    if status == "expired":
        heading = f"Waiver expired on {waiver.get('expires', '?')}: this finding is not waived"
    else:
        heading = f"Waived until {waiver.get('expires', '?')}" if finding["waived"] else f"Waiver {status}"
    place = waiver.get("file", "") + (f":{waiver['line']}" if waiver.get("line") else "")
    facts: list[tuple[str, object]] = [("reason", waiver.get("reason")), ("owner", waiver.get("owner")), ("expires", waiver.get("expires")),
             ("declared in", el("code", place) if place else None)]
    return el("div", el("strong", heading),
              el("dl", [[el("dt", k), el("dd", v, class_=k.replace(" ", "-"))] for k, v in facts if v]),
              class_=f"waiver waiver-{status}")


def _errors(view: ReportView, out: IO[str]) -> None:
    if not view.totals.errors:
        return
    out.write(start("section", id="errors") + el("h2", "Parts that could not be scanned")
              + "<table>" + el("thead", el("tr", el("th", "location"), el("th", "reason"))) + "<tbody>")
    for e in view.errors():
        out.write(el("tr", el("td", el("code", e.location)), el("td", e.message)))
    out.write("</tbody></table></section>")


def _evidence(evidence: Evidence) -> Markup:
    source = ""
    if evidence.source:
        source = f'<div class="muted">{_link(evidence.source)}{text(f":{evidence.line}") if evidence.line else ""}</div>'
    return Markup(f'<li><span class="{text(f"ev {evidence.type}")}">{text(evidence.type)}</span> {text(evidence.summary)}'
                  f'{source}</li>')


def _link(reference: str) -> Markup:
    """Only web addresses become links; anything else (a path, a javascript: string) stays text."""
    if reference.startswith(("https://", "http://")):
        return el("a", reference, href=reference)
    return el("code", reference)


@functools.lru_cache(maxsize=None)
def _severity_badge(severity: str, waived: bool = False) -> Markup:
    return el("span", severity.upper(), " (waived)" if waived else None, class_=f"badge sev-{severity}")


# Anchors ("c-" and a component id's hash, "f-" and a finding's) are letters, digits and a dash: written into the
# markup as they are.

@functools.lru_cache(maxsize=1024)  # each is linked to as often as it is shown
def _anchor(prefix: str, id: str) -> str:
    return prefix + short_hash(id)
