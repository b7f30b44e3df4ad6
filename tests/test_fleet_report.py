"""A fleet report: `auditor report merge` of real host reports (each an `auditor scan --root` of a fixture root, or of
an OS image built from them and changed host by host) to every format, streamed from the merge's spill files; the
fleet view's counts checked against what each host's own report says, and its charts opened in a real headless
Chromium (tests/browser.py), on screen and as printed."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from auditor import model
from auditor.model import ANSWERS
from auditor.report import FORMATS, render, reads, write
from auditor.report import merge as merge_module
from auditor.report.fleet import RANKED, Fleet, Tally
from auditor.report.json_report import write as write_json
from auditor.report.merge import merged
from auditor.report.saved import report_from_data
from browser import Browser, find_browser
from conftest import CA_VARIABLES, FIXTURES, run
from golden_scans import AS_OF, build
from test_trust_resolver import corporate_bundle

ROOTS = FIXTURES / "os-roots"
NO_VERDICT = "no verdict"
HOST_SEGMENTS = (*ANSWERS, NO_VERDICT)
STATES = ("no ATS anchor", "missing", "unreadable", "holds an ATS anchor")
FROZEN = dt.datetime(2026, 12, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def _hosts(work: Path) -> dict[str, Path]:
    """The roots of the fleet: the OS image with services and two JVMs that the golden scans build, copies of it
    changed as hosts drift (no Temurin; no Temurin and no batch venv; the OS store replaced by a corporate CA bundle
    and a JDK's cacerts gone), and fixture roots of three other systems."""
    shutil.copytree(FIXTURES, work / "fixtures", symlinks=True)
    build(work)
    image = work / "built" / "image"

    def drifted(name: str, *gone: str) -> Path:
        root = work / name
        shutil.copytree(image, root, symlinks=True)
        for path in gone:
            target = root / path
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        return root

    batch = drifted("batch-1", "usr/lib/jvm/java-21-openjdk-amd64/lib/security/cacerts")
    shutil.copy(corporate_bundle(work), batch / "etc" / "ssl" / "certs" / "ca-certificates.crt")
    return {"web-1": image, "web-2": drifted("web-2", "opt/java"), "api-1": drifted("api-1", "opt/java", "srv/batch"),
            "batch-1": batch, "db-1": ROOTS / "debian-12", "db-2": ROOTS / "debian-12", "legacy-1": ROOTS / "centos-5",
            "edge-1": ROOTS / "alpine-3.18"}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Each host's saved report (real scans), in merge order."""
    work = tmp_path_factory.mktemp("fleet")
    with pytest.MonkeyPatch.context() as patch:  # as conftest's controlled_environment, for the module
        for name in (*CA_VARIABLES, "AUDITOR_RULES_DIR", "AUDITOR_DATA_DIR", "XDG_DATA_HOME"):
            patch.delenv(name, raising=False)
        patch.setenv("HOME", str(work / "home"))
        reports = []
        for host, root in _hosts(work).items():
            patch.setattr(model, "host_name", lambda host=host: host)
            path = work / "reports" / f"{host}.json"
            path.parent.mkdir(exist_ok=True)
            result = run("scan", "--root", root, "--format", "json", "-q", "--as-of", AS_OF, "-o", path)
            assert result.code in (0, 1), result.err
            reports.append(path)
    return reports


def _inputs(paths):
    return [json.loads(Path(p).read_text()) for p in paths]


# -- what each host's own report says: the fleet view's counts, derived without the fleet module ----------------------

def _worst(report) -> str:
    answers = [v["answer"] for v in report["verdicts"]]
    return min(answers, key=ANSWERS.index) if answers else NO_VERDICT


def _systems(report) -> list[str]:
    """The OS as its verdict names it: "Debian GNU/Linux 12 (bookworm), 12.15: the system's TLS clients"."""
    return [v["label"].split(": the system's TLS clients")[0] for v in report["verdicts"]
            if v["client"].startswith("os:")]


def _javas(report) -> dict[str, str]:
    """"17.0.9 (Eclipse Temurin)" from "Java 17.0.9 (Eclipse Temurin) at /opt/java/openjdk", and its worst answer."""
    found: dict[str, list[str]] = {}
    for v in report["verdicts"]:
        if v["client"].startswith("java:"):
            found.setdefault(v["label"][len("Java "):v["label"].index(" at ")], []).append(v["answer"])
    return {version: min(answers, key=ANSWERS.index) for version, answers in found.items()}


def _stores(report) -> dict[str, str]:
    components = {c["id"]: c for c in report["components"]}
    states: dict[str, list[str]] = {}
    for v in report["verdicts"]:
        details = components[v["client"]]["details"]
        if details.get("certificate_validation") == "off":
            states.setdefault("none: certificate validation is off", []).append("no ATS anchor")
        elif "trust_store" in details:
            store = components.get(details["trust_store_id"])
            facts = store["details"] if store else {"format": "missing"}
            state = ("missing" if facts.get("format") == "missing" else "holds an ATS anchor" if facts.get("anchors")
                     else "unreadable" if facts.get("unread") or facts.get("problem") else "no ATS anchor")
            states.setdefault(details["trust_store"], []).append(state)
    return {store: min(found, key=STATES.index) for store, found in states.items()}


def _expected(inputs) -> dict[str, dict[str, dict[str, int]]]:
    """{view: {value: {segment: hosts}}} for the four views, from the inputs alone."""
    views: dict[str, dict[str, dict[str, int]]] = {"verdict": {}, "system": {}, "java": {}, "store": {}}

    def count(view, value, segment, segments):
        views[view].setdefault(value, dict.fromkeys(segments, 0))[segment] += 1

    for report in inputs:
        worst = _worst(report)
        count("verdict", worst, worst, HOST_SEGMENTS)
        for system in _systems(report) or ["not found"]:
            count("system", system, worst, HOST_SEGMENTS)
        for version, answer in _javas(report).items():
            count("java", version, answer, HOST_SEGMENTS)
        for store, state in _stores(report).items():
            count("store", store, state, STATES)
    return views


def _ranked(inputs, labels) -> list[str]:
    def key(item):
        n, report = item
        failing = report["summary"]["failing"]
        findings = report["summary"]["findings"]
        return (HOST_SEGMENTS.index(_worst(report)), -failing, *(-findings[s] for s in ("critical", "high", "medium", "low")),
                -report["summary"]["not_scanned"], n)
    return [labels[n] for n, _ in sorted(enumerate(inputs), key=key)]


def test_the_fleet_is_varied_enough_to_test_the_views(fleet):
    """The inputs themselves: several answers, systems, Java versions and store states, or the checks below prove
    little."""
    views = _expected(_inputs(fleet))
    assert set(views["verdict"]) == set(ANSWERS) and len(views["system"]) >= 3 and len(views["java"]) >= 2
    assert {state for row in views["store"].values() for state, n in row.items() if n} >= {"no ATS anchor", "missing",
                                                                                           "holds an ATS anchor"}


def test_markdown_fleet_tables_count_what_each_hosts_report_says(fleet, tmp_path):
    result = run("report", "merge", *fleet, "--format", "markdown")
    assert result.code in (0, 1), result.err
    text = result.out
    assert f"#### Fleet: {len(fleet)} hosts" in text
    views = _expected(_inputs(fleet))
    tables = _markdown_tables(text)
    assert {row[0]: int(row[1]) for row in tables["worst verdict"]} == {
        segment: views["verdict"].get(segment, {}).get(segment, 0) for segment in HOST_SEGMENTS}
    for column, view, segments in (("operating system", "system", HOST_SEGMENTS), ("Java version", "java", HOST_SEGMENTS),
                                   ("trust store", "store", STATES)):
        shown = {row[0]: [int(n) for n in row[2:]] for row in tables[column]}
        assert shown == {value: [row[s] for s in segments] for value, row in views[view].items()}, column
        assert all(int(row[1]) == sum(int(n) for n in row[2:]) for row in tables[column])
    labels = [json.loads(Path(p).read_text())["run"]["host"] for p in fleet]
    assert [row[0] for row in tables["host"]] == _ranked(_inputs(fleet), labels)
    # Each finding names its host: in a fleet, where alone is ambiguous.
    findings = tables["severity"]
    assert findings and all(re.match(r"^(web|api|batch|db|legacy|edge)-\d: ", row[2]) for row in findings)


def _markdown_tables(text: str) -> dict[str, list[list[str]]]:
    """Each table by its first column's heading: its rows' cells."""
    tables: dict[str, list[list[str]]] = {}
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.startswith("| ") and n + 1 < len(lines) and lines[n + 1].startswith("| ---"):
            rows = []
            for row in lines[n + 2:]:
                if not row.startswith("| "):
                    break
                rows.append([cell.strip().replace("\\", "") for cell in row.strip("|").split(" | ")])
            tables[line.strip("| ").split(" | ")[0]] = rows
    return tables


# -- the HTML fleet view in a real browser ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fleet_page(fleet, tmp_path_factory):
    executable = find_browser()
    if executable is None:
        if os.environ.get("AUDITOR_REQUIRE_BROWSER") == "1":
            pytest.fail("AUDITOR_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH")
    out = tmp_path_factory.mktemp("fleet-html") / "fleet.html"
    result = run("report", "merge", "-q", *fleet, "--format", "html", "-o", out)
    assert result.code in (0, 1), result.err
    with Browser(executable) as browser:
        browser.call("Network.enable")  # before the page loads: every request it makes is an event
        browser.open(out.as_uri())
        yield browser, out


CHARTS = {"fleet-verdicts": "verdict", "fleet-systems": "system", "fleet-java": "java", "fleet-stores": "store"}


def test_each_chart_draws_a_bar_per_value_labelled_with_its_hosts(fleet_page, fleet):
    page, _ = fleet_page
    views = _expected(_inputs(fleet))
    for key, view in CHARTS.items():
        chart = page.evaluate(f"""(() => {{ const svg = document.getElementById('{key}-chart'); return {{
            title: svg.querySelector(':scope > title').textContent, label: svg.getAttribute('aria-label'),
            role: svg.getAttribute('role'), box: svg.getBoundingClientRect().width,
            bars: [...svg.querySelectorAll('g.bar')].map(g => ({{label: g.dataset.label, total: +g.dataset.total,
                shown: g.querySelector('text.total').textContent,
                text: g.querySelector('text.label').textContent,
                segments: Object.fromEntries([...g.querySelectorAll('rect.segment')].map(
                    r => [r.dataset.segment, +r.querySelector('title').textContent.split(': ').pop()]))}})),
            table: [...document.querySelectorAll('#{key}-data tbody tr')].map(r => [...r.cells].map(c => c.textContent))
        }}; }})()""")
        expected = views[view]
        if view == "verdict":  # one bar per answer, a host under the worst of its clients' answers
            expected = {s: {t: (expected.get(s, {}).get(s, 0) if t == s else 0) for t in HOST_SEGMENTS} for s in HOST_SEGMENTS}
        assert chart["role"] == "img" and chart["box"] > 300 and chart["title"] == chart["label"], key
        assert len(chart["bars"]) == len(expected) == len(chart["table"]), key
        for bar in chart["bars"]:
            row = expected[bar["label"]]
            assert bar["total"] == sum(row.values()) == int(bar["shown"]), (key, bar)
            assert bar["segments"] == {s: n for s, n in row.items() if n}, (key, bar)
            assert bar["text"] == bar["label"] or "…" in bar["text"]  # a long label shortened; whole in its title
            assert f"{bar['label']}: {sum(row.values())} host" in chart["title"]
        for cells in chart["table"]:
            assert int(cells[1]) == sum(expected[cells[0]].values())
    assert page.problems() == []


def test_the_worst_hosts_come_first_and_link_to_their_sections(fleet_page, fleet):
    page, _ = fleet_page
    rows = page.evaluate("[...document.querySelectorAll('table.worst-hosts tbody tr')].map(r => "
                         "[r.cells[1].textContent, r.cells[1].querySelector('a').getAttribute('href')])")
    labels = [json.loads(Path(p).read_text())["run"]["host"] for p in fleet]
    assert [host for host, _ in rows] == _ranked(_inputs(fleet), labels)[:RANKED]
    for host, anchor in rows:
        assert page.evaluate(f"document.querySelector('{anchor} h2 code').textContent") == host
    sections = page.evaluate("[...document.querySelectorAll('section.host h2 code')].map(e => e.textContent)")
    assert sections == labels
    targets = page.evaluate("[...document.querySelectorAll('section.target h2')].map(h => h.textContent)")
    assert all(re.search(r" on (web|api|batch|db|legacy|edge)-\d$", t) for t in targets)


def test_the_fleet_page_loads_nothing_and_prints_within_the_page(fleet_page):
    page, out = fleet_page
    requested = [e["params"]["request"]["url"] for e in page.events if e.get("method") == "Network.requestWillBeSent"]
    assert requested == [out.as_uri()]
    assert not re.search(r"<(script|link|img|iframe|object)\b|@import|url\((?!#)", out.read_text(encoding="utf-8"))
    # An A4 page's printable width at 96 dpi (210 mm less 14 mm margins each side: 688 px).
    page.call("Emulation.setDeviceMetricsOverride", width=688, height=1000, deviceScaleFactor=1, mobile=False)
    page.call("Emulation.setEmulatedMedia", media="print")
    try:
        widths = page.evaluate("""({page: document.documentElement.scrollWidth, view: window.innerWidth,
            charts: [...document.querySelectorAll('svg.fleet-chart')].map(s => s.getBoundingClientRect().right),
            shown: [...document.querySelectorAll('svg.fleet-chart, table.chart-data, table.worst-hosts')].every(
                e => e.getBoundingClientRect().width > 0 && getComputedStyle(e).visibility === 'visible')})""")
        assert widths["page"] <= widths["view"], widths
        assert len(widths["charts"]) == 4 and max(widths["charts"]) <= widths["view"] and widths["shown"]
        pdf = page.call("Page.printToPDF", printBackground=True)["data"]
        assert len(pdf) > 1000
    finally:
        page.call("Emulation.setEmulatedMedia", media="")
        page.call("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False)
    assert page.problems() == []


def test_segments_differ_by_pattern_not_only_by_colour(fleet_page):
    page, _ = fleet_page
    patterns = page.evaluate("""[...document.querySelectorAll('#fleet-verdicts-chart pattern')].map(p =>
        [...p.children].map(c => c.tagName + (c.tagName === 'rect' ? '' : ':' + (c.getAttribute('d') || 'dot'))).join(' '))""")
    assert len(patterns) == len(HOST_SEGMENTS) and len(set(patterns)) == len(patterns)
    legend = page.evaluate("[...document.querySelectorAll('#fleet-verdicts-chart g.legend text')].map(t => t.textContent)")
    assert legend == list(HOST_SEGMENTS)


# -- every format streamed from the spill files is what the merged report held whole gives ----------------------------

@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("waived", [False, True])
def test_every_format_of_a_merge_is_what_rendering_its_json_gives(fleet, fmt, waived, monkeypatch, tmp_path):
    """The merge writes each format from its spill files, never holding the merged report; `report render` of the
    merged JSON holds it whole and renders it with the same renderers. Both must give the same text, the fleet view
    and the waivers' part (expired and stale waivers: no host's) included."""
    class Clock:  # both merges stamped the same second
        datetime = type("datetime", (dt.datetime,), {"now": classmethod(lambda cls, tz=None: FROZEN)})
        timezone = dt.timezone

    monkeypatch.setattr(merge_module, "dt", Clock)
    waivers = tmp_path / "waivers.toml"
    waivers.write_text('[[waivers]]\nrule = "ats-*"\ncomponent = "awscli"\nreason = "offline packaging only"\n'
                       'owner = "alice@example.com"\nexpires = 2026-11-15\n\n'
                       '[[waivers]]\nrule = "ats-python-sdk-before-cutoff"\ncomponent = "boto"\nreason = "host retired"\n'
                       'owner = "bob@example.com"\nexpires = 2027-06-30\n')

    def options():  # a waiver book counts what it matched: one for each merge
        from auditor.checks.waivers import WaiverBook, load_waivers

        book = WaiverBook(load_waivers(str(waivers)), AS_OF) if waived else None
        return dict(fail_on="medium", book=book, run={"host": "controller", "command": ["auditor", "report", "merge"]})

    width = 100 if fmt == "table" else None
    with merged([str(p) for p in fleet], reads=reads(fmt), **options()) as view:
        streamed = io.StringIO()
        write(view, fmt, streamed, width)
    with merged([str(p) for p in fleet], reads=reads("json"), **options()) as view:
        whole = io.StringIO()
        write_json(view, whole)
    assert streamed.getvalue() == render(report_from_data(json.loads(whole.getvalue()), "merged"), fmt, width)
    if fmt in ("html", "markdown"):
        assert "Fleet" in streamed.getvalue()
        assert ("Not from any host" in streamed.getvalue()) == (waived and fmt == "html")


def test_a_merge_of_one_host_has_no_fleet_view(fleet):
    html = run("report", "merge", fleet[0], "--format", "html").out
    assert 'id="fleet"' not in html and 'class="host"' not in html and "Merged from" in html
    assert "#### Fleet" not in run("report", "merge", fleet[0], "--format", "markdown").out


def test_a_broken_report_among_many_is_named_and_nothing_is_written(fleet, tmp_path):
    broken = tmp_path / "broken.json"
    data = json.loads(Path(fleet[1]).read_text())
    data["findings"][0]["severity"] = "severe"
    broken.write_text(json.dumps(data))
    out = tmp_path / "fleet.html"
    result = run("report", "merge", *fleet[:3], broken, *fleet[3:], "--format", "html", "-o", out)
    assert result.code == 2 and result.err.startswith(f"auditor: error: {broken}: does not follow the report schema")
    assert not out.exists()


# -- the counters stay bounded however many hosts ----------------------------------------------------------------------

def test_the_fleet_keeps_counters_not_hosts(fleet):
    inputs = _inputs(fleet)
    counted = Fleet()
    for n in range(600):
        report = inputs[n % len(inputs)]
        part = {section: report[section] for section in ("verdicts", "targets", "components", "findings", "errors")}
        counted.add(n, f"host-{n}", part, "high")
    assert counted.hosts == 600 and sum(counted.by_verdict.values()) == 600
    assert len(counted.ranked) < 2 * RANKED and len(counted.worst_hosts()) == RANKED
    views = _expected(inputs)
    assert {v: sum(r.values()) for v, r in counted.systems.counts.items()} == {
        v: sum(r.values()) * 600 // len(inputs) for v, r in views["system"].items()}


def test_a_tally_of_more_values_than_its_limit_counts_the_rest_together(monkeypatch):
    from auditor.report import fleet as fleet_module

    monkeypatch.setattr(fleet_module, "LIMIT", 5)
    tally = Tally(("a", "b"))
    for n in range(20):
        tally.add(f"v{n:02d}", "a" if n % 2 else "b")
    assert len(tally.counts) == 6 and sum(sum(r.values()) for r in tally.counts.values()) == 20
    rows = tally.rows(3)
    assert [label for label, _ in rows] == ["v00", "v01", "v02", "other values"]
    assert sum(sum(r.values()) for _, r in rows) == 20


# -- each host's HTML rendered as its report is read, spilled, and copied out ---------------------------------------

def test_a_merge_to_a_file_writes_the_spilled_sections_as_the_stream_gets_them(fleet, monkeypatch, tmp_path):
    """To a file, the hosts' sections are copied from the spill as bytes, not decoded and encoded again; to a stream
    without a byte buffer (standard output captured), decoded in pieces. Both give the same document, and a piece
    that ends within a character (a host's name in another script) is decoded whole."""
    class Clock:
        datetime = type("datetime", (dt.datetime,), {"now": classmethod(lambda cls, tz=None: FROZEN)})
        timezone = dt.timezone

    monkeypatch.setattr(merge_module, "dt", Clock)
    monkeypatch.setattr(merge_module, "PIECE", 7)  # pieces of 7 bytes: most of them end within a character
    renamed = []
    for n, path in enumerate(fleet):
        data = json.loads(Path(path).read_text())
        data["run"]["host"] = f"узел-{n}-東京"
        renamed.append(tmp_path / f"{n}.json")
        renamed[-1].write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "fleet.html"
    assert run("report", "merge", *renamed, "--format", "html", "-o", out, "-q").code in (0, 1)
    streamed = run("report", "merge", *renamed, "--format", "html", "-q").out
    written = out.read_bytes().decode("utf-8")
    assert written.replace(f" -o {out}", "") == streamed  # but for the command line, which names the file
    assert 'id="host-7"' in written and "узел-7-東京" in written


def test_the_spill_of_a_merge_is_removed_when_it_ends(fleet):
    with merged([str(p) for p in fleet], reads=reads("html")) as view:
        folder = Path(view.spill.folder)
        spilled = sorted(p.name for p in folder.iterdir())
        assert "sections.spill" in spilled and "parts.spill" not in spilled  # a fleet's hosts are kept as markup
        assert b'class="host"' in b"".join(view.host_sections())
    assert not folder.exists()
    with merged([str(fleet[0])], reads=reads("html")) as view:  # one host: its items, for the table of contents
        assert (Path(view.spill.folder) / "parts.spill").exists() and view.host_sections() is None


def test_the_command_line_of_a_merge_is_written_once_escaped_and_redacted(fleet, tmp_path):
    """A merge's command line names every report: written as the one text it is, escaped and its secrets masked."""
    odd = tmp_path / "<b>&x=1.json"
    shutil.copy(fleet[0], odd)
    secret = "https://alice:s3cr3t-pa55@example.com/reports"
    with merged([str(odd), str(fleet[1])], reads=reads("html"),
                run={"host": "controller", "command": ["auditor", "report", "merge", str(odd), secret]}) as view:
        page = io.StringIO()
        write(view, "html", page)
    html = page.getvalue()
    assert "s3cr3t-pa55" not in html and "<b>&x" not in html
    assert html.count("&lt;b&gt;&amp;x=1.json") == 2  # in the command line and among the reports merged
    assert html.count("<code>auditor report merge ") == 1
