"""The fleet view of the HTML report (a report merged from several hosts): hosts by worst verdict, by operating system,
by Java version and by trust store as bar charts, each beside the table of its numbers, and the worst hosts first.

The charts are inline SVG: nothing is fetched, nothing runs. Meaning never rests on colour alone: each segment has a
pattern as well as a colour (hatched, striped, dotted, plain, hollow) and a legend, a bar is labelled with its value
and its count, a wide enough segment with its own count, and every number is in the table beside the chart, which
is also what a screen reader reads (the SVG has a title and an aria-label).
"""

from __future__ import annotations

from typing import Optional

from auditor.report.common import plural
from auditor.report.escape import html_text
from auditor.report.fit import shorten_middle
from auditor.report.fleet import HOST_SEGMENTS, NOT_FOUND, RANKED, STORE_STATES, Fleet, HostSummary
from auditor.report.html_markup import Markup, el, text

SHOWN = 12  # bars per chart; the other values are summed into one last bar
WIDTH, LABEL, BAR, ROW = 720, 290, 360, 26  # the chart's width, its label column, its longest bar, a row's height
LABEL_CHARACTERS = 41
# A segment's look by its place (worst first): a colour and a pattern, so that print in black and white and readers
# who do not tell the colours apart still tell the segments apart.
_STYLES = (("#a4161a", "cross"), ("#d9480f", "stripe"), ("#5c677d", "dot"), ("#2b8a3e", "plain"), ("#ffffff", "hollow"))


def fleet_section(fleet: Fleet) -> Markup:
    hosts = fleet.hosts
    worst = fleet.worst_hosts()
    charts = [
        _chart("fleet-verdicts", "Hosts by worst verdict", "worst verdict", HOST_SEGMENTS,
               [(answer, {s: (n if s == answer else 0) for s in HOST_SEGMENTS}) for answer, n in fleet.by_verdict.items()],
               "A host counts under the worst answer of its clients.", stacked=False),
        _chart("fleet-systems", "Hosts by operating system", "operating system", HOST_SEGMENTS, fleet.systems.rows(SHOWN),
               "Each bar is split by the hosts' worst verdicts."),
        _chart("fleet-java", "Hosts by Java version", "Java version", HOST_SEGMENTS, fleet.java.rows(SHOWN),
               "Each bar is split by the verdicts of the JVMs of that version (a host counts once per version it has); "
               f"{plural(fleet.without_java, 'host has', 'hosts have')} no Java."),
        _chart("fleet-stores", "Hosts by trust store", "trust store", STORE_STATES, fleet.stores.rows(SHOWN),
               "The stores the hosts' clients use, each bar split by what the store holds on those hosts (a host counts "
               "once per store)."),
    ]
    return el("section", el("h2", "Fleet"),
              el("p", f"{plural(hosts, 'host')} merged. Every host's verdicts, summary and targets follow; the charts "
                      f"count hosts, and the table beside each chart holds its numbers."),
              charts,
              el("h3", "Worst hosts first"),
              el("p", f"The {len(worst)} worst of {plural(hosts, 'host')}: by worst verdict, then failing findings, then "
                      "findings by severity, then parts not scanned." if hosts > RANKED else
                      "By worst verdict, then failing findings, then findings by severity, then parts not scanned."),
              _ranking(worst),
              id="fleet", class_="fleet")


def _chart(key: str, title: str, column: str, segments: tuple[str, ...], rows: list[tuple[str, dict[str, int]]],
           note: str, stacked: bool = True) -> Markup:
    """A horizontal bar per row, stacked by segment, and the table of the same numbers."""
    most = max((sum(row.values()) for _, row in rows), default=0) or 1
    described = "; ".join(f"{label}: {_counted(row, segments)}" for label, row in rows) or "no hosts"
    height = len(rows) * ROW + 34
    bars = [_bar(key, n, label, row, segments, most) for n, (label, row) in enumerate(rows)]
    legend: list[Markup] = []
    x = 0
    for k, segment in enumerate(segments):
        legend.append(el("g", el("rect", x=x, y=height - 22, width=14, height=14, fill=f"url(#{key}-{k})",
                                 stroke="#1d232b", stroke_width="0.6"),
                         el("text", segment, x=x + 19, y=height - 11, class_="label"), class_="legend"))
        x += 19 + 7 * len(segment) + 22
    svg = el("svg", el("title", f"{title}: {described}"), el("defs", [_pattern(key, k) for k in range(len(segments))]),
             bars, legend,
             xmlns="http://www.w3.org/2000/svg", viewBox=f"0 0 {WIDTH} {height}", width=WIDTH, height=height, role="img",
             aria_label=f"{title}: {described}", class_="fleet-chart", id=f"{key}-chart")
    split = segments if stacked else ()
    table = el("table",
               el("caption", f"{title}: the numbers"),
               el("thead", el("tr", el("th", column), el("th", "hosts"), [el("th", s) for s in split])),
               el("tbody", [el("tr", el("td", label), el("td", sum(row.values()), class_="num"),
                               [el("td", row[s], class_="num") for s in split]) for label, row in rows]),
               class_="chart-data", id=f"{key}-data")
    return el("div", el("h3", title), el("p", note, class_="muted"), el("div", svg, table, class_="fleet-pair"),
              class_="fleet-block")


def _bar(key: str, n: int, label: str, row: dict[str, int], segments: tuple[str, ...], most: int) -> Markup:
    y = n * ROW + 4
    total = sum(row.values())
    shown = shorten_middle(label, LABEL_CHARACTERS)  # whole in its title and in the table
    parts: list[Markup] = [el("title", f"{label}: {_counted(row, segments)}"),
                           el("text", shown, x=0, y=y + 14, class_="label")]
    done = 0
    for k, segment in enumerate(segments):
        count = row[segment]
        if not count:
            continue
        left, right = LABEL + round(BAR * done / most), LABEL + round(BAR * (done + count) / most)
        done += count
        parts.append(el("rect", el("title", f"{label}, {segment}: {count}"), x=left, y=y, width=max(right - left, 2),
                        height=18, fill=f"url(#{key}-{k})", stroke="#1d232b", stroke_width="0.6",
                        class_="segment", data_segment=segment))
        chip = 7 * len(str(count)) + 6
        if right - left >= chip + 6:  # its count on a white chip, legible on any pattern, in colour or not
            middle = (left + right) / 2
            parts += [el("rect", x=middle - chip / 2, y=y + 2, width=chip, height=14, rx=2, class_="chip"),
                      el("text", count, x=middle, y=y + 13.5, class_="segment-count")]
    parts.append(el("text", total, x=LABEL + round(BAR * total / most) + 6, y=y + 14, class_="label total"))
    return el("g", parts, class_="bar", data_label=label, data_total=total)


def _pattern(key: str, k: int) -> Markup:
    colour, kind = _STYLES[k]
    mark = {"cross": el("path", d="M0 3H6M3 0V6", stroke="#fff", stroke_width="1.2"),
            "stripe": el("path", d="M1.5 0V6", stroke="#fff", stroke_width="1.6"),
            "dot": el("circle", cx=3, cy=3, r="1.3", fill="#fff"),
            "plain": None,
            "hollow": el("path", d="M0 3H6", stroke="#5c677d", stroke_width="0.8")}[kind]
    return el("pattern", el("rect", width=6, height=6, fill=colour), mark, id=f"{key}-{k}", width=6, height=6,
              patternUnits="userSpaceOnUse", patternTransform="rotate(45)" if kind in ("cross", "stripe") else None)


def _counted(row: dict[str, int], segments: tuple[str, ...]) -> str:
    total = sum(row.values())
    split = ", ".join(f"{row[s]} {s}" for s in segments if row[s])
    return f"{plural(total, 'host')}" + (f" ({split})" if split else "")


def _ranking(hosts: list[HostSummary]) -> Markup:
    severities = ("critical", "high", "medium", "low")
    head = el("thead",
              el("tr", el("th", "#", rowspan=2), el("th", "host", rowspan=2), el("th", "worst verdict", rowspan=2),
                 el("th", "clients by verdict", colspan=4), el("th", "findings", colspan=5),
                 el("th", "parts not scanned", rowspan=2), el("th", "operating system", rowspan=2)),
              el("tr", [el("th", a) for a in HOST_SEGMENTS[:-1]], el("th", "failing"), [el("th", s) for s in severities]))
    rows = [el("tr", el("td", n, class_="num"), el("td", el("a", h.host, href=f"#host-{h.number}")),
               el("td", _answer(h.worst)), [el("td", h.answers[a], class_="num") for a in HOST_SEGMENTS[:-1]],
               el("td", h.failing, class_="num"), [el("td", h.findings[s], class_="num") for s in severities],
               el("td", h.not_scanned, class_="num"), el("td", "; ".join(h.systems) or NOT_FOUND))
            for n, h in enumerate(hosts, 1)]
    return el("table", head, el("tbody", rows), class_="worst-hosts")


def _answer(answer: str) -> Markup:
    return el("span", answer, class_=f"answer answer-{answer.replace(' ', '-')}")


def host_entry(host: HostSummary) -> Markup:
    """The host's line in the summary's table of contents."""
    # Not through text()'s cache of the texts last escaped: each host's name is written here once, and thousands of
    # them would only push out the texts the hosts share.
    return Markup(f'<li><a href="#host-{host.number}">{html_text(host.host)}</a>'
                  f'{html_text(f": worst verdict {host.worst}, targets {host.targets}, components {host.components}, ")}'
                  f'findings {sum(host.findings.values())}</li>')


def host_heading(label: Optional[str], host: Optional[HostSummary], toc: list[tuple[str, str, int, int]]) -> Markup:
    """What leads a host's targets: its name, its counts and a link to each of its targets; for the items of no host
    (a waiver file's), a heading that says so. `host`: the host's counts (None for a host the merge did not list, in
    a hand-edited report)."""
    entries = [Markup(f'<li><a href="#{anchor}">{text(name or "(no target)")}</a>: components {members}, '
                      f'findings {found}</li>') for anchor, name, members, found in toc]
    if label is None:
        return el("section", el("h2", "Not from any host's report"),
                  el("p", "What the merge itself added: the waivers that expired or matched nothing."),
                  el("ul", entries, class_="toc"), class_="host", id="host-none")
    if host is None:
        return el("section", el("h2", "Host ", el("code", label)), el("ul", entries, class_="toc"), class_="host")
    answers = ", ".join(f"{n} {answer}" for answer, n in host.answers.items() if n) or "no client judged"
    return el("section", el("h2", "Host ", el("code", host.host)),
              el("p", "Worst verdict: ", _answer(host.worst), f" · clients: {answers} · "
                      f"{plural(host.failing, 'failing finding')} of {sum(host.findings.values())} · "
                      f"parts not scanned: {host.not_scanned} · operating system: {'; '.join(host.systems) or NOT_FOUND}"),
              el("ul", entries, class_="toc"), class_="host", id=f"host-{host.number}")
