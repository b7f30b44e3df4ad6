"""Two saved reports compared: which findings are new, resolved or unchanged.

"The same finding" in two scans: the same rule on the same component, where the component is the same
host, kind, name, version, location and source. Its line is left out, so an edit above a `verify=False`
does not make it new; its version is kept, so an upgrade that is still too old is a new finding (and the
old one resolved). Two findings with the same identity (two settings in one file) are matched by count.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

from auditor.model import Report, severity_rank
from auditor.records import mutable_record, record
from auditor.redact import redact, redact_tree
from auditor.report.common import components_by_id, is_failing, where_on_host
from auditor.report.escape import markdown as md_text, terminal, visible
from auditor.report.fit import DEFAULT_WIDTH, prose, table as fitted_table


@record
class Change:
    severity: str
    rule: str
    title: str
    where: str
    waived: bool


@mutable_record
class Diff:
    before: str
    after: str
    new: list[Change]
    resolved: list[Change]
    unchanged: list[Change]

    def failing(self, fail_on: str) -> list[Change]:
        return [c for c in self.new if is_failing(c.severity, c.waived, fail_on)]


def diff_reports(before: Report, after: Report, before_name: str, after_name: str) -> Diff:
    old, new = _keyed(before), _keyed(after)
    result = Diff(before_name, after_name, [], [], [])
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key, []), new.get(key, [])
        kept = min(len(was), len(now))
        result.unchanged += now[:kept]
        result.new += now[kept:]
        result.resolved += was[kept:]
    for changes in (result.new, result.resolved, result.unchanged):
        changes.sort(key=lambda c: (severity_rank(c.severity), c.where, c.rule))
    return result


def _keyed(report: Report) -> dict[tuple[str, ...], list[Change]]:
    components = components_by_id(report)
    keyed: defaultdict[tuple[str, ...], list[Change]] = defaultdict(list)
    for f in report.findings:
        c = components[f.component]
        key = (c.host or "", f.rule, c.kind, c.name, c.version or "", c.location, c.source)
        keyed[key].append(Change(f.severity, f.rule, f.title, where_on_host(c), f.waived))
    return keyed


# -- output ---------------------------------------------------------------------

def render_diff(diff: Diff, fmt: str, fail_on: str, width: int = DEFAULT_WIDTH) -> str:
    if fmt == "json":
        def rows(changes: list[Change]) -> list[dict[str, object]]:
            return [{"severity": c.severity, "rule": c.rule, "title": c.title, "where": c.where, "waived": c.waived}
                    for c in changes]
        return json.dumps(redact_tree({"before": diff.before, "after": diff.after, "fail_on": fail_on,
                           "failing": len(diff.failing(fail_on)), "new": rows(diff.new),
                           "resolved": rows(diff.resolved), "unchanged": rows(diff.unchanged)}),
                          indent=2, ensure_ascii=False) + "\n"
    markdown = fmt == "markdown"
    shown = md_text if markdown else terminal
    counts = Counter({"new": len(diff.new), "resolved": len(diff.resolved), "unchanged": len(diff.unchanged)})
    failing = len(diff.failing(fail_on))
    lines = [("# " if markdown else "") + f"auditor diff: {shown(diff.before)} → {shown(diff.after)}", "",
             ", ".join(f"{n} {what}" for what, n in counts.items()) + f"; {failing} new at or above '{fail_on}'", ""]
    if not markdown:
        lines = [line for text in lines for line in prose(text, width)]
    for name, changes in (("New", diff.new), ("Resolved", diff.resolved), ("Unchanged", diff.unchanged)):
        if not changes:
            continue
        cells = [[c.severity.upper() + (" (waived)" if c.waived else ""), c.title, c.where, c.rule] for c in changes]
        if markdown:  # the Markdown report's own table and escaping: a saved report's text is scanned text
            table = "\n".join(["| severity | finding | where | rule |", "| --- | --- | --- | --- |"]
                              + ["| " + " | ".join(md_text(cell) for cell in row) + " |" for row in cells])
        else:
            table = fitted_table(cells, ["severity", "finding", "where", "rule"], width, caps=[None, 60, 60, 30],
                                 paths={2})
        lines += [("## " if markdown else "") + f"{name} ({len(changes)})", "", table, ""]
    return visible(redact("\n".join(lines)), newlines=True) + "\n"
