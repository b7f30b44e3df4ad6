"""The HTML report for a compliance review: one self-contained, printable file made from the report model.

No scripts and no external resources (the Content-Security-Policy forbids both); the style sheet is
html_report.css, inlined. Every value from the scanned system goes through html_markup, which escapes
and redacts it.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Mapping, Optional

from auditor.facts.package import PackageFacts, Requirement
from auditor.facts.setting import SettingFacts
from auditor.model import SEVERITIES, Component, Evidence, Finding, Report, severity_rank, short_hash
from auditor.report.common import components_by_id, not_scanned_note, plural, released_cell, waived_counts, where
from auditor.report.html_markup import Markup, el

STYLE = Path(__file__).with_name("html_report.css")
# default-src 'none': nothing is fetched, nothing runs; inline styles and data: images only.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# A target's location, with its components and their findings.
Group = tuple[str, tuple[list[Component], list[Finding]]]


def render(report: Report) -> str:
    components = components_by_id(report)
    findings = sorted(report.findings, key=lambda f: severity_rank(f.severity))
    groups = _groups(report, components, findings)
    head = el("head", el("meta", charset="utf-8"),
              el("meta", http_equiv="Content-Security-Policy", content=POLICY),
              el("meta", name="viewport", content="width=device-width, initial-scale=1"),
              el("title", f"auditor report {report.generated_at}"),
              el("style", Markup(STYLE.read_text(encoding="utf-8"))))
    body = el("body", _header(report), _verdicts(report), _summary(report, findings, groups), _metadata(report),
              [_target(i, name, members, found, report, components) for i, (name, (members, found)) in enumerate(groups)],
              _errors(report))
    return "<!DOCTYPE html>\n" + el("html", head, body, lang="en") + "\n"


def _groups(report: Report, components: Mapping[str, Component], findings: list[Finding]) -> list[Group]:
    """[(target, (components, findings))] in the order the targets were scanned."""
    groups: dict[str, tuple[list[Component], list[Finding]]] = {}
    for component in report.components:
        groups.setdefault(component.target, ([], []))[0].append(component)
    for finding in findings:
        owner = components.get(finding.component)
        groups.setdefault(owner.target if owner else "", ([], []))[1].append(finding)
    order: dict[str, int] = {}
    for index, target in enumerate(report.targets):
        order.setdefault(target.location, index)
    return sorted(groups.items(), key=lambda item: order.get(item[0], len(report.targets)))


def _header(report: Report) -> Markup:
    return el("header", el("h1", "AWS endpoint trust audit (Amazon Trust Services)"),
              el("p", f"auditor {report.tool_version} · generated {report.generated_at} on "
                      f"{report.run.get('host', 'an unknown host')} · certificates judged as of {report.as_of}",
                 class_="subtitle"),
              class_="report-header")


def _verdicts(report: Report) -> Markup:
    """Will each client trust the ATS-served endpoint: one row per client, before the findings that are the evidence."""
    if not report.verdicts:
        return Markup("")
    rows = [el("tr", el("td", el("span", v.answer, class_=f"answer answer-{v.answer.replace(' ', '-')}")),
               el("td", (f"{v.host}: " if v.host else "") + v.label),
               el("td", el("ul", [el("li", el("strong", r.kind), f": {r.text}") for r in v.reasons], class_="reasons")),
               el("td", ", ".join(v.findings), class_="hash"))
            for v in report.verdicts]
    counts = ", ".join(f"{n} {answer}" for answer, n in report.answer_counts().items() if n)
    return el("section", el("h2", "Verdicts"),
              el("p", f"Will each client trust the ATS-served endpoint? {counts}. The findings below are the evidence."),
              el("table", el("thead", el("tr", el("th", "answer"), el("th", "client"), el("th", "why"),
                                              el("th", "evidence (finding ids)"))),
                 el("tbody", rows), class_="verdicts"),
              id="verdicts")


def _summary(report: Report, findings: list[Finding], groups: list[Group]) -> Markup:
    counts = report.counts()
    failing = report.failing()
    waived = waived_counts(findings)
    expired = sum(1 for f in findings if f.waiver and f.waiver.get("status") == "expired")
    verdict = "FAIL" if failing else "PASS"
    rows = [el("tr", el("td", _severity_badge(s)), el("td", counts[s], class_="num"), el("td", waived[s], class_="num"))
            for s in SEVERITIES]
    toc = [el("li", el("a", name or "(no target)", href=f"#target-{i}"),
              f": components {len(members)}, findings {len(found)}") for i, (name, (members, found)) in enumerate(groups)]
    return el("section",
              el("h2", "Summary"),
              el("p", el("span", verdict, class_=f"verdict {verdict.lower()}"),
                 f" {plural(len(failing), 'finding')} at or above '{report.fail_on}' (--fail-on); waived findings do not count"
                 f"{not_scanned_note(report)}.",
                 class_="result"),
              el("div", _chart(counts),
                 el("table", el("thead", el("tr", el("th", "severity"), el("th", "findings"), el("th", "of them waived"))),
                    el("tbody", rows), class_="counts"),
                 class_="summary-grid"),
              el("p", f"Targets scanned: {len(report.targets)} · components checked: {len(report.components)} · "
                      f"findings waived: {sum(waived.values())} · waivers expired: {expired} · "
                      f"parts not scanned: {len(report.errors)}"),
              el("ul", toc, class_="toc"),
              id="summary")


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


def _metadata(report: Report) -> Markup:
    command = report.run.get("command")
    rows: list[tuple[str, object]] = [("tool", f"auditor {report.tool_version}"), ("generated at", report.generated_at),
            ("certificates judged as of", report.as_of), ("host", report.run.get("host", "unknown")),
            ("command line", el("code", shlex.join(command)) if command else "not recorded"),
            ("fails on", f"{report.fail_on} and above")]
    packs = [el("tr", el("td", p["id"]), el("td", p["version"]), el("td", p.get("title", "")),
                el("td", el("code", p.get("sha256", "")), class_="hash")) for p in report.packs]
    return el("section", el("h2", "Scan metadata"),
              el("table", el("tbody", [el("tr", el("th", k, scope="row"), el("td", v)) for k, v in rows]), class_="facts"),
              el("h3", "Rule packs"),
              el("table", el("thead", el("tr", el("th", "pack"), el("th", "version"), el("th", "title"),
                                              el("th", "content SHA-256"))), el("tbody", packs)),
              _merged_from(report.run.get("merged", [])),
              id="metadata")


def _merged_from(sources: list[dict[str, Any]]) -> Markup:
    """The reports a merged report was made of (`auditor report merge`)."""
    if not sources:
        return Markup("")
    rows = [el("tr", el("td", s.get("host", "")), el("td", el("code", s.get("file", ""))), el("td", s.get("generated_at", "")),
               el("td", el("code", shlex.join(s["command"])) if s.get("command") else "")) for s in sources]
    return el("table", el("caption", "Merged from"),
              el("thead", el("tr", [el("th", h) for h in ("host", "report", "generated at", "command line")])),
              el("tbody", rows))


def _target(index: int, name: str, members: list[Component], findings: list[Finding], report: Report,
            components: Mapping[str, Component]) -> Markup:
    below = [t for t in report.targets if t.location != name and t.location.startswith(name.rstrip("/") + "/")]
    # Stores and environment settings that serve several targets are labelled with all of them, ", "-joined.
    parts = name.split(", ")
    shared = len(parts) > 1 and all(any(t.location == part for t in report.targets) for part in parts)
    by_component: dict[str, list[Finding]] = {}
    for finding in findings:
        by_component.setdefault(finding.component, []).append(finding)
    return el("section",
              el("h2", "Shared by " if shared else "Target ", el("code", name or "(no target)")),
              el("p", "What these targets share (trust stores, settings from the environment). " if shared else "",
                 f"Components checked: {len(members)}, findings: {len(findings)}.", class_="lead"),
              [el("h3", "Environments and lockfiles found in it"),
               el("ul", [el("li", f"{t.kind} ", el("code", t.location)) for t in below], class_="found")] if below else None,
              _components_table(members, by_component),
              _trust_links(members, components),
              el("h3", "Findings"),
              [_finding(f, components) for f in findings] or el("p", "No findings."),
              class_="target", id=f"target-{index}")


def _components_table(members: list[Component], by_component: Mapping[str, list[Finding]]) -> Markup:
    if not members:
        return el("p", "No components.")
    rows = [el("tr", el("td", c.kind), el("td", c.name, class_="name"),
               el("td", c.version or _requirement(c).specifier or ""), el("td", released_cell(c)),
               el("td", el("code", where(c)), el("div", c.source, class_="muted"),
                  el("div", "from ", el("code", _requirement(c).url), class_="muted") if _requirement(c).url else None),
               el("td", _state(c, by_component.get(c.id, []))), id=_component_anchor(c)) for c in members]
    return el("table", el("caption", "Components checked"),
              el("thead", el("tr", [el("th", h) for h in ("kind", "name", "version", "released (UTC)", "where, found by", "state")])),
              el("tbody", rows), class_="components")


def _requirement(component: Component) -> Requirement:
    """What a file requires of a package; for an install, or a component of another kind, nothing."""
    requirement = component.facts_as(PackageFacts).requirement if component.kind == "python-package" else None
    return requirement or Requirement("", False)


def _state(component: Component, findings: list[Finding]) -> list[Optional[Markup] | list[Markup]]:
    facts = _facts(component)
    badges = [el("a", _severity_badge(f.severity, f.waived), href=f"#{_finding_anchor(f)}") for f in findings]
    return [el("div", "; ".join(facts)) if facts else None, badges or el("span", "no finding", class_="ok")]


def _facts(component: Component) -> list[str]:
    details = component.details
    facts: list[str] = []
    if component.kind == "python-package" and not component.facts_as(PackageFacts).loaded:
        facts.append("inactive: not the install Python imports")
    if details.get("certificate_validation") == "off":
        facts.append("certificate validation off")
    if "anchors" in details:
        facts.append("ATS anchors: " + ", ".join(details["anchors"]) if details["anchors"] else "no valid ATS anchor")
    if component.kind == "trust-config":
        facts.append(f"effect: {component.facts_as(SettingFacts).effect}")
    if details.get("failure"):
        facts.append(f"probe failed: {details['failure']}")
    return facts


def _trust_links(members: list[Component], components: Mapping[str, Component]) -> Markup:
    """Each client (or setting) and the store it would use, as the scan resolved it."""
    clients = [(c, t) for c in members for t in [c.client_trust()] if t is not None and t.reasons is not None]
    if not clients:
        return Markup("")
    rows: list[Markup] = []
    for c, trust in clients:
        store = components.get(trust.store_id or "")
        store_cell: str | list[Markup]
        if trust.validation is False:
            store_cell = "none: certificate validation is off"
        elif store and trust.store:
            store_cell = [el("a", trust.store, href=f"#{_component_anchor(store)}"),
                          el("div", "; ".join(_facts(store)), class_="muted")]
        else:
            store_cell = trust.store or "none found"
        rows.append(el("tr", el("td", f"{c.name} {c.version or ''}".strip(), el("div", el("code", where(c)), class_="muted")),
                       el("td", "→", class_="arrow"), el("td", store_cell),
                       el("td", el("ul", [el("li", r) for r in trust.reasons or ()]),
                          el("div", "Fallbacks: ", "; ".join(trust.fallbacks), class_="muted")
                          if trust.fallbacks else None)))
    return el("table", el("caption", "Trust links: the store each client would use"),
              el("thead", el("tr", el("th", "client or setting"), el("th", ""), el("th", "store"), el("th", "why"))),
              el("tbody", rows), class_="trust")


def _finding(finding: Finding, components: Mapping[str, Component]) -> Markup:
    component = components.get(finding.component)
    about = el("a", f"{component.name} {component.version or ''}".strip(), href=f"#{_component_anchor(component)}") \
        if component else finding.component
    return el("article",
              el("header", _severity_badge(finding.severity, finding.waived), el("h4", finding.title)),
              el("dl", el("dt", "rule"), el("dd", f"{finding.rule} ({finding.pack})"),
                 el("dt", "component"), el("dd", about),
                 el("dt", "where"), el("dd", el("code", where(component)))),
              _waiver(finding),
              el("h5", "Evidence"), el("ul", [_evidence(e) for e in finding.evidence], class_="evidence"),
              el("h5", "Remediation"), el("p", finding.remediation, class_="remediation"),
              el("h5", "References"), el("ul", [el("li", _link(r)) for r in finding.references]),
              class_=f"finding sev-{finding.severity}" + (" waived" if finding.waived else ""), id=_finding_anchor(finding))


def _waiver(finding: Finding) -> Markup:
    waiver = finding.waiver
    if not waiver:
        return Markup("")
    status = waiver.get("status", "unknown")
    if status == "expired":
        heading = f"Waiver expired on {waiver.get('expires', '?')}: this finding is not waived"
    else:
        heading = f"Waived until {waiver.get('expires', '?')}" if finding.waived else f"Waiver {status}"
    place = waiver.get("file", "") + (f":{waiver['line']}" if waiver.get("line") else "")
    facts: list[tuple[str, object]] = [("reason", waiver.get("reason")), ("owner", waiver.get("owner")), ("expires", waiver.get("expires")),
             ("declared in", el("code", place) if place else None)]
    return el("div", el("strong", heading),
              el("dl", [[el("dt", k), el("dd", v, class_=k.replace(" ", "-"))] for k, v in facts if v]),
              class_=f"waiver waiver-{status}")


def _errors(report: Report) -> Markup:
    if not report.errors:
        return Markup("")
    rows = [el("tr", el("td", el("code", e.location)), el("td", e.message)) for e in report.errors]
    return el("section", el("h2", "Parts that could not be scanned"),
              el("table", el("thead", el("tr", el("th", "location"), el("th", "reason"))), el("tbody", rows)),
              id="errors")


def _evidence(evidence: Evidence) -> Markup:
    source = None
    if evidence.source:
        source = el("div", _link(evidence.source), f":{evidence.line}" if evidence.line else None, class_="muted")
    return el("li", el("span", evidence.type, class_=f"ev {evidence.type}"), " ", evidence.summary, source)


def _link(reference: str) -> Markup:
    """Only web addresses become links; anything else (a path, a javascript: string) stays text."""
    if reference.startswith(("https://", "http://")):
        return el("a", reference, href=reference)
    return el("code", reference)


def _severity_badge(severity: str, waived: bool = False) -> Markup:
    return el("span", severity.upper(), " (waived)" if waived else None, class_=f"badge sev-{severity}")


def _component_anchor(component: Component) -> str:
    return "c-" + short_hash(component.id)


def _finding_anchor(finding: Finding) -> str:
    return "f-" + short_hash(finding.id)
