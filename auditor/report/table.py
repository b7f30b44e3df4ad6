"""A terminal report: summary, findings, components and errors as plain tables.

Written a row at a time: each table's rows are read twice from the view (once to measure the columns, once to write
them), so that a merge of thousands of hosts is written in memory bounded by one row.
"""

from __future__ import annotations

import io
from typing import IO, TYPE_CHECKING, Callable, Collection, Iterable, Iterator, Mapping, Optional, Sequence

from auditor.facts.trust_store import TrustStoreFacts
from auditor.model import Component, Report, Target
from auditor.redact import redact
from auditor.report.common import not_scanned_note, plural, released_cell, where, where_on_host
from auditor.report.escape import terminal, visible
from auditor.report.fit import DEFAULT_WIDTH, measure, prose, shorten_middle, table_rows
from auditor.report.view import ReportView, memory_view

if TYPE_CHECKING:
    from auditor.facts.client_trust import ClientTrust
    from auditor.facts.package import PackageFacts

READS = frozenset({"verdicts", "targets", "components", "findings", "errors"})
Rows = Callable[[], Iterable[Sequence[object]]]


def render(report: Report, width: int = DEFAULT_WIDTH) -> str:
    out = io.StringIO()
    write(memory_view(report), out, width)
    return out.getvalue()


class _Lines:
    """Lines written to `out` one group at a time, redacted and with controls made visible, a line break between each
    two and one after the last."""

    def __init__(self, out: IO[str]) -> None:
        self.out, self.first = out, True

    def add(self, *lines: str) -> None:
        if lines:
            text = visible(redact("\n".join(lines)), newlines=True)
            self.out.write(text if self.first else "\n" + text)
            self.first = False

    def table(self, title: Sequence[str], rows: Rows, headers: list[str], width: int,
              caps: Optional[Sequence[Optional[int]]] = None, paths: Collection[int] = ()) -> None:
        """`title`'s lines, the table and an empty line; nothing for a table with no row."""
        measured = measure(rows(), len(headers))
        if not measured.rows:
            return
        self.add(*title)
        for lines in table_rows(rows, headers, width, caps, paths, measured):
            self.add(*lines)
        self.add("")

    def end(self) -> None:
        self.out.write("\n")


def write(view: ReportView, out: IO[str], width: int = DEFAULT_WIDTH) -> None:
    """The report as plain tables, no line longer than `width` (cells wrapped or shortened: JSON has them whole)."""
    lines = _Lines(out)
    totals = view.totals
    counts = totals.findings
    failing = totals.failing
    lines.add(
        *prose(f"auditor {view.tool_version} · rule packs: {', '.join(p['id'] + ' ' + p['version'] for p in view.packs)} "
               f"· as of {view.as_of}", width),
        *prose(_targets_line(view.targets, width), width),
        *_excluded_line(view.targets, width),
        *prose("findings: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) if totals.finding_count else "findings: none",
               width),
        *prose(f"result: {'FAIL' if failing else 'PASS'} ({failing} at or above '{view.fail_on}')" + not_scanned_note(view),
               width),
        "",
    )
    _verdict_table(view, width, lines)
    # The finding's file is what the reader acts on: wrapped whole, not shortened.
    lines.table(["Findings"], lambda: ([f.severity.upper() + (" (waived)" if f.waived else ""), f.title, where_on_host(c),
                                        f.remediation] for f, c in view.findings() if f.severity != "info"),
                ["severity", "finding", "where", "remediation"], width, caps=[None, 50, 50, 60])
    if counts["info"]:
        lines.add(*prose(f"({plural(counts['info'], 'info finding')}, stores that hold an anchor: see "
                         "the tables below or --format json)", width), "")
    kinds = totals.kinds
    if kinds.get("python-package"):
        from auditor.facts.package import PackageFacts  # a kind's facts imported when a table shows it: start-up time

        lines.table(["Components"], lambda: (_package_row(c, c.facts_as(PackageFacts)) for c in view.components({"python-package"})),
                    ["package", "version", "released (UTC)", "found by", "state", "location"], width, paths={5})
    elif not kinds.get("trust-store") and not kinds.get("probe") and not kinds.get("sdk-manifest"):
        lines.add("Components: no AWS SDK or CLI package found", "")
    _sdk_table(view, width, lines)
    _platform_table(view, width, lines)
    _trust_tables(view, width, lines)
    _probe_table(view, width, lines)
    lines.table(["Errors (parts that could not be scanned)"], lambda: ([e.location, e.message] for e in view.errors()),
                ["location", "reason"], width, caps=[60, 80])
    lines.end()


def _package_row(c: Component, f: PackageFacts) -> list[object]:
    return [c.name, c.version or f.specifier or "any", released_cell(c), c.source, "" if f.loaded else "inactive",
            c.location + (f":{c.line}" if c.line else "")]


def _verdict_table(view: ReportView, width: int, lines: _Lines) -> None:
    """Verdicts first: will each client trust the ATS-served endpoint, and the reasons why."""
    answers = view.totals.answers
    if not sum(answers.values()):
        return
    counts = ", ".join(f"{n} {answer}" for answer, n in answers.items() if n)
    lines.table([*prose(f"Verdicts: will each client trust the ATS-served endpoint? ({counts})", width)],
                lambda: ([v.answer.upper(), (f"{v.host}: " if v.host else "") + v.label, v.chain()] for v in view.verdicts()),
                headers=["answer", "client", "why"], width=width, caps=[11, 50, None])


# Shown with the first of their kind named while the line has room; every target is in the JSON report.
_TARGET_KINDS = {"machine": "machines", "image": "images", "tree": "trees", "environment": "environments",
                 "trust-store": "trust stores", "lockfile": "lockfiles", "sbom": "SBOMs", "archive": "archives",
                 "unreadable": "unreadable"}
_KIND_ORDER = list(_TARGET_KINDS)


def _targets_line(targets: Callable[[], Iterable[Target]], width: int) -> str:
    """"targets: a, b, c" where that fits; else each kind once, counted, its first target named while there is
    room: "targets: machine vm, 16 environments (/usr/local, …), 969 archives, … (--format json lists them all)"."""
    length, count = len("targets: "), 0
    kinds: dict[str, tuple[int, str]] = {}  # each kind: its targets, the location of its first
    for target in targets():
        shown = terminal(target.location)
        length += (2 if count else 0) + len(target.kind) + 1 + len(shown)
        count += 1
        known = kinds.get(target.kind)
        kinds[target.kind] = (known[0] + 1, known[1]) if known else (1, shown)
    if length <= width:
        return "targets: " + ", ".join(f"{t.kind} {terminal(t.location)}" for t in targets())
    order = sorted(kinds, key=lambda kind: _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER))
    parts = [f"{kind} {kinds[kind][1]}" if kinds[kind][0] == 1 else plural(kinds[kind][0], kind, _TARGET_KINDS.get(kind))
             for kind in order]
    end = " (--format json lists them all)"
    line = "targets: " + ", ".join(parts)
    for i, kind in enumerate(order):
        room = width - len(line) - len(end) - len(" (, …)")
        if kinds[kind][0] > 1 and room >= 12:
            first = shorten_middle(kinds[kind][1], min(room, 40))
            parts[i] += f" ({first}, …)"
            line = "targets: " + ", ".join(parts)
    return line + end


def _excluded_line(targets: Callable[[], Iterable[Target]], width: int) -> list[str]:
    """What the scan left out as asked (--exclude, a configuration's exclude), so that nothing unread goes unsaid."""
    excluded = [str(path) for target in targets() for path in (target.details or {}).get("excluded", ())]
    if not excluded:
        return []
    first = shorten_middle(terminal(excluded[0]), 60)
    more = f" and {len(excluded) - 1:,} more (--format json lists them all)" if len(excluded) > 1 else ""
    return prose(f"excluded as asked (not read): {first}{more}", width)


def _sdk_table(view: ReportView, width: int, lines: _Lines) -> None:
    """AWS SDKs of other languages: one row per file and trust source (the component its finding is on)."""
    def rows() -> Iterator[list[object]]:
        from auditor.facts.manifest import ManifestFacts

        for c in view.components({"sdk-manifest"}):
            if (sdk := c.facts_as(ManifestFacts)).reported_with is not None:
                continue
            more = len(sdk.same_file_packages)
            what = f"{c.name} {c.version or sdk.constraint or ''}".strip() + (f" (+{more} more)" if more else "")
            yield [sdk.sdk, what, sdk.trust_from, c.details.get("trust_store", ""), where(c)]

    if view.totals.kinds.get("sdk-manifest"):
        lines.table(["AWS SDKs of other languages"], rows, ["SDK", "packages", "trust from", "store", "where"], width,
                    caps=[28, 40, 8, 40, None], paths={3, 4})


def _platform_table(view: ReportView, width: int, lines: _Lines) -> None:
    kinds = view.totals.kinds
    if not (kinds.get("os") or kinds.get("java") or kinds.get("openssl")):
        return
    lines.table(["Platform"], lambda: ([c.kind, _platform_name(c), c.source, c.location]
                                       for c in view.components({"os", "java", "openssl"})),
                ["kind", "what", "found by", "location"], width, caps=[8, 40, 40, 60], paths={3})


def _platform_name(component: Component) -> str:
    """"Debian GNU/Linux 12 (bookworm), 12.11", "java 17.0.15 (OpenJDK)", "openssl 3.0.19"."""
    from auditor.facts.java import JavaFacts
    from auditor.facts.operating_system import OsFacts

    version = component.version or "(version unknown)"
    pretty = component.facts_as(OsFacts).pretty_name if component.kind == "os" else None
    if pretty:
        return pretty if version in pretty else f"{pretty}, {version}"
    vendor = component.facts_as(JavaFacts).vendor if component.kind == "java" else None
    return f"{component.name} {version}" + (f" ({vendor})" if vendor else "")


def _trust_tables(view: ReportView, width: int, lines: _Lines) -> None:
    def clients() -> Iterator[list[object]]:
        for c in view.components():
            trust = c.client_trust() if c.kind != "trust-config" else None
            if trust is not None and trust.reasons is not None:
                yield [f"{c.name} {c.version or ''}".strip(), _store_cell(trust), (trust.reasons or ("",))[0]]

    lines.table(["Clients and the trust store each would use"], clients, ["client", "store", "why"], width,
                caps=[20, 50, 70], paths={1})

    def settings() -> Iterator[list[object]]:
        from auditor.facts.setting import SettingFacts

        for c in view.components({"trust-config"}):
            f = c.facts_as(SettingFacts)
            yield [c.name + (f"={f.value}" if f.value is not None else ""), f.effect,
                   c.location + (f":{c.line}" if c.line else "")]

    kinds = view.totals.kinds
    if kinds.get("trust-config"):
        lines.table(["Trust configuration"], settings, ["setting", "effect", "where"], width, caps=[60, 14, 60], paths={2})
    if not kinds.get("trust-store"):
        return

    def stores() -> Iterator[list[object]]:
        for c in view.components({"trust-store"}):
            f = c.facts_as(TrustStoreFacts)
            yield [c.location, f.format + (f"\nintegrity {f.keystore.integrity}" if f.keystore else ""), f.certificates,
                   "\n".join(f.anchors) or "NONE", "\n".join(f.expired + tuple(f"{n} (distrusted)" for n in f.distrusted)),
                   len(f.impostors), len(f.links.users)]

    lines.table(["Trust stores"], stores, ["store", "format", "certificates", "valid ATS anchors", "expired or distrusted",
                                           "impostors", "users"], width, paths={0})

    def local() -> Iterator[list[object]]:
        # Named on the terminal, not only in an info finding: behind a TLS-inspecting proxy, one of these is why
        # clients with a store of their own fail.
        for c in view.components({"trust-store"}):
            for ca in c.facts_as(TrustStoreFacts).locally_added:
                yield [c.location, ca.subject, ca.sha256, ca.source]

    lines.table(["CAs added to the OS store on this system (not the distribution's own)"], local,
                ["store", "subject", "SHA-256", "from"], width, caps=[40, 40, 64, None], paths={0, 3})


def _probe_table(view: ReportView, width: int, lines: _Lines) -> None:
    """One row per store and endpoint, grouped by store: who uses the store, pass or FAIL (the store was
    tried and failed) or ERROR (it could not be tried: network, proxy, TLS version), and the class."""
    if not view.totals.kinds.get("probe"):
        return
    users, outcomes = False, {"pass": 0, "fail": 0, "error": 0}
    for c in view.components({"probe"}):
        users = users or bool(c.details.get("users"))
        outcome = c.details.get("outcome", "fail")
        if outcome in outcomes:
            outcomes[outcome] += 1

    def rows() -> Iterator[list[object]]:
        for c in view.components({"probe"}):
            details = c.details
            if details.get("failure"):
                result, what = f"{details.get('outcome', 'fail').upper()} {details['failure']}", details.get("detail", "")
            else:
                result = "pass"
                what = f"{details.get('tls_version')} {details.get('cipher')}; anchor: " + _anchor_cell(details.get("anchor"))
            if details.get("http"):
                http = details["http"]
                what += "; GET / " + (f"failed: {http['error']}" if "error" in http else
                                      f"{http['status']}, " + ("healthy" if http["healthy"] else "not 'healthy: host'"))
            route = details.get("connect_to") or (f"proxy {details['proxy']}" if details.get("proxy") else "")
            attempts = len(details.get("attempts", []))
            yield [c.location, *(["\n".join(details.get("users", []))] if users else []),
                   c.name + (f"\nvia {route}" if route else ""), result, what,
                   f"{details.get('elapsed_ms', 0):g}" + (f" ({attempts} tries)" if attempts > 1 else "")]

    headers = ["store", *(["used by"] if users else []), "endpoint", "result", "what was seen", "ms"]
    widths = [40, *([40] if users else []), 40, 22, 50, 12]
    summary = ", ".join(f"{n} {o}" for o, n in outcomes.items() if n)
    lines.table([*prose(f"Live probes: each store alone against each endpoint ({summary})", width)], rows, headers, width,
                caps=widths, paths={0})


def _anchor_cell(anchor: Optional[Mapping[str, str]]) -> str:
    if not anchor:
        return "not shown"
    return anchor.get("ats_anchor") or f"{anchor['name']} (not an ATS anchor)"


def _store_cell(trust: ClientTrust) -> str:
    if trust.validation is False:
        return "none: certificate validation is off"
    return trust.store or "none found"
