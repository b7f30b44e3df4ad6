"""The fleet view of the Markdown report (a report merged from several hosts): the counts the HTML report charts
(auditor.report.html_fleet), as tables."""

from __future__ import annotations

from auditor.report.common import plural
from auditor.report.escape import markdown as _md
from auditor.report.fleet import HOST_SEGMENTS, NOT_FOUND, RANKED, Fleet, Tally

SHOWN = 12  # rows per table, as the HTML report's bars; the other values are summed into one last row


def fleet_lines(fleet: Fleet) -> list[str]:
    lines = [f"#### Fleet: {plural(fleet.hosts, 'host')}", "",
             "| worst verdict | hosts |", "| --- | ---: |"]
    lines += [f"| {answer} | {n} |" for answer, n in fleet.by_verdict.items()]
    lines += [""]
    lines += _table("operating system", fleet.systems, "hosts by their worst verdict")
    lines += _table("Java version", fleet.java, f"hosts by the verdicts of their JVMs of that version; "
                                                 f"{plural(fleet.without_java, 'host has', 'hosts have')} no Java")
    lines += _table("trust store", fleet.stores, "hosts by what the store their clients use holds")
    worst = fleet.worst_hosts()
    lines += [f"Worst hosts first{f' (the {len(worst)} worst)' if fleet.hosts > RANKED else ''}:", "",
              "| host | worst verdict | clients no · at risk · cannot tell · yes | failing | critical · high · medium · low "
              "| not scanned | operating system |",
              "| --- | --- | --- | ---: | --- | ---: | --- |"]
    lines += [f"| {_md(h.host)} | **{h.worst}** | {' · '.join(str(h.answers[a]) for a in HOST_SEGMENTS[:-1])} | "
              f"{h.failing} | {' · '.join(str(h.findings[s]) for s in ('critical', 'high', 'medium', 'low'))} | "
              f"{h.not_scanned} | {_md('; '.join(h.systems) or NOT_FOUND)} |" for h in worst]
    return lines + [""]


def _table(column: str, tally: Tally, split: str) -> list[str]:
    segments = tally.segments
    lines = [f"By {column} ({split}):", "",
             f"| {column} | hosts | {' | '.join(segments)} |", "| --- | ---: |" + " ---: |" * len(segments)]
    lines += [f"| {_md(value)} | {sum(row.values())} | {' | '.join(str(row[s]) for s in segments)} |"
              for value, row in tally.rows(SHOWN)]
    return lines + [""]
