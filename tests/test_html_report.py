"""The HTML report, opened from a file in a real headless Chromium (tests/browser.py): what a reviewer sees
on screen and on paper, no console errors, and hostile names from the scanned system shown as text."""

import base64
import os
import re
import struct
import zlib

import pytest

from auditor.model import severity_rank
from auditor.report.html import render
from browser import Browser, find_browser
from conftest import CA_VARIABLES, ENVS, run
from report_scenario import ACTIVE_WAIVER, EXPIRED_WAIVER, TARGETS, realistic_report

# What a scanned machine controls: a project directory's name, a METADATA Version header, a URL with credentials.
ATTRIBUTE = '"><img src=x onerror=window.__pwned=2>'
SCRIPT = "<script>window.__pwned=1</script>"
SECRET = "s3cr3t-token"

VISIBLE = """(e) => { if (!e) return false; const box = e.getBoundingClientRect(), style = getComputedStyle(e);
    return box.width > 0 && box.height > 0 && style.display !== 'none' && style.visibility === 'visible'
           && Number(style.opacity) > 0; }"""
ESSENTIAL = "#summary, svg.chart, #metadata, .target, table.components, table.trust, .finding, .waiver, #errors"


def hostile_tree(root):
    project = root / f"shop{ATTRIBUTE}"
    project.mkdir(parents=True)
    (project / "requirements.txt").write_text(
        f"botocore==0.21.0\nboto3 @ https://deploy:{SECRET}@pypi.corp.example/boto3-1.0.0.tar.gz\n")
    dist_info = root / "site" / "lib" / "python3.11" / "site-packages" / "botocore-0.21.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: botocore\nVersion: 0.21.0{SCRIPT}\n")
    return root


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    work = tmp_path_factory.mktemp("html")
    with pytest.MonkeyPatch.context() as environment:  # as conftest's controlled_environment, for the module
        for name in (*CA_VARIABLES, "AUDITOR_RULES_DIR"):
            environment.delenv(name, raising=False)
        environment.setenv("HOME", str(work))
        report = realistic_report(work, [hostile_tree(work / "hostile")])
    path = work / "report.html"
    path.write_text(render(report), encoding="utf-8")
    return report, path


@pytest.fixture(scope="module")
def page(report_file):
    executable = find_browser()
    if executable is None:
        if os.environ.get("AUDITOR_REQUIRE_BROWSER") == "1":
            pytest.fail("AUDITOR_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
        pytest.skip("no chromium on PATH")
    with Browser(executable) as browser:
        browser.open(report_file[1].as_uri())
        yield browser


def visible(page, selector) -> bool:
    return page.evaluate(f"({VISIBLE})(document.querySelector({selector!r}))")


def test_screen_shows_summary_critical_finding_waivers_and_metadata(page, report_file):
    report, _ = report_file
    png = page.screenshot()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and struct.unpack(">II", png[16:24]) == (1200, 900)
    assert distinct_bytes(png) > 64, "the screenshot is blank"
    text = page.evaluate("document.body.innerText")
    assert f"FAIL {len(report.failing())} findings at or above 'high'" in text
    (critical,) = [f for f in report.findings if f.severity == "critical"]
    assert critical.title.endswith("corp-ca.pem holds none of the three ATS trust anchors, valid on " + report.as_of)
    for expected in (critical.title, critical.remediation, "HIGH (waived)", ACTIVE_WAIVER["owner"], ACTIVE_WAIVER["reason"],
                     "Waived until 2027-03-31", "auditor-waivers.toml:3", f"Waiver expired on {EXPIRED_WAIVER['expires']}",
                     EXPIRED_WAIVER["owner"], report.packs[0]["sha256"], report.run["host"], "--env-file"):
        assert expected in text
    assert "findings waived: 1 · waivers expired: 1" in text
    assert visible(page, "#summary") and visible(page, "svg.chart")
    assert page.evaluate(f"({VISIBLE})(document.querySelectorAll('.finding.sev-critical')[0])")
    assert page.evaluate(f"[...document.querySelectorAll('dd.owner')].some(e => e.textContent === "
                         f"{ACTIVE_WAIVER['owner']!r} && ({VISIBLE})(e))")
    assert page.problems() == []


def test_findings_sit_with_their_components_sorted_by_severity(page, report_file):
    report, _ = report_file
    sections = page.evaluate("""[...document.querySelectorAll('section.target')].map(s => ({
        heading: s.querySelector('h2').textContent, title: s.querySelector('h2 code').textContent,
        severities: [...s.querySelectorAll('.finding')].map(f => f.className.match(/sev-(\\w+)/)[1]),
        foreign: [...s.querySelectorAll('.finding dd a[href^="#c-"]')].filter(a =>
            document.querySelector(a.getAttribute('href')).closest('section.target') !== s).length,
        links: [...s.querySelectorAll('table.trust tbody tr')].map(r => r.cells[2].innerText)}))""")
    assert sum(len(s["severities"]) for s in sections) == len(report.findings)
    for section in sections:
        assert section["severities"] == sorted(section["severities"], key=severity_rank)
        assert section["foreign"] == 0
    by_title = {s["title"]: s for s in sections}
    assert by_title["tests/fixtures/envs/py3-old-botocore"]["severities"] == ["high", "high"]
    (shared,) = [s for s in sections if s["heading"].startswith("Shared by")]
    assert "critical" in shared["severities"] and len(shared["title"].split(", ")) == len(TARGETS) + 1
    # botocore 1.35.0 would use the corporate bundle that the service's AWS_CA_BUNDLE names.
    (store,) = [c for c in report.components if c.kind == "trust-store" and c.name == "corp-ca.pem"]
    links = by_title["tests/fixtures/envs/trust/botocore-1.35.0/site-packages"]["links"]
    assert links == [f"{store.location}\nno valid ATS anchor"]


def test_hostile_names_are_shown_as_text_and_run_nothing(page, report_file):
    _, path = report_file
    text = page.evaluate("document.body.innerText")
    assert f"0.21.0{SCRIPT}" in text and f"shop{ATTRIBUTE}/requirements.txt" in text
    assert page.evaluate("[window.__pwned, document.scripts.length, document.images.length, "
                         "document.querySelectorAll('[onerror]').length]") == [None, 0, 0, 0]
    assert "https://***@pypi.corp.example/boto3-1.0.0.tar.gz" in text
    assert SECRET not in text and SECRET not in path.read_text(encoding="utf-8")
    assert not [e for e in page.events if e["method"] == "Page.javascriptDialogOpening"]
    assert page.problems() == []


def test_print_hides_nothing_and_starts_each_target_on_a_new_page(page, report_file):
    report, _ = report_file
    page.call("Emulation.setEmulatedMedia", media="print")
    try:
        shown = page.evaluate(f"[...document.querySelectorAll({ESSENTIAL!r})].map(e => ({VISIBLE})(e))")
        assert len(shown) > 20 and all(shown)
        text = page.evaluate("document.body.innerText")
        assert ACTIVE_WAIVER["owner"] in text and "Waiver expired on" in text and report.packs[0]["sha256"] in text
        assert page.evaluate("[...document.querySelectorAll('.target')].every(e => getComputedStyle(e).breakBefore === 'page')")
        targets = page.evaluate("document.querySelectorAll('.target').length")
        pdf = page.call("Page.printToPDF", printBackground=True)["data"]
        pages = len(re.findall(rb"/Type\s*/Page[^s]", base64.b64decode(pdf)))
        assert pages >= targets + 1
    finally:
        page.call("Emulation.setEmulatedMedia", media="")
    assert page.problems() == []


def test_cli_writes_the_html_report_escaped(tmp_path, report_file):
    """No browser needed: the file the CLI writes, and escaping in the markup itself."""
    out = tmp_path / "report.html"
    assert run("scan", "-q", "--format", "html", "--output", out, ENVS / "py3-old-botocore").code == 1
    written = out.read_text(encoding="utf-8")
    assert written.startswith("<!DOCTYPE html>") and "botocore 0.21.0 was released before 2013-10-29" in written
    assert not re.search(r"<(script|link|img|iframe|object)\b|@import|url\(", written), "the file must load nothing"
    bundle = ENVS / "trust" / "botocore-1.35.0" / "site-packages" / "certifi" / "cacert.pem"
    assert run("truststore", "-q", bundle, "--storepass", "hunter2-secret", "--format", "html", "--output", out).code == 0
    written = out.read_text(encoding="utf-8")
    assert "hunter2-secret" not in written and "--storepass &#x27;***&#x27; --format html" in written  # shlex-quoted
    hostile = report_file[1].read_text(encoding="utf-8")
    assert "<script" not in hostile and "<img" not in hostile
    assert "0.21.0&lt;script&gt;window.__pwned=1&lt;/script&gt;" in hostile
    assert "shop&quot;&gt;&lt;img src=x onerror=window.__pwned=2&gt;" in hostile


def distinct_bytes(png: bytes) -> int:
    """Distinct byte values in the decompressed image data: a blank page has a handful, a rendered report hundreds."""
    chunks, offset = [], 8
    while offset < len(png):
        length, kind = struct.unpack(">I4s", png[offset:offset + 8])
        if kind == b"IDAT":
            chunks.append(png[offset + 8:offset + 8 + length])
        offset += 12 + length
    return len(set(zlib.decompress(b"".join(chunks))))


def test_merged_report_names_the_reports_it_was_made_of(tmp_path):
    saved = []
    for name, target in (("envs.json", ENVS / "py3-old-botocore"), ("modern.json", ENVS / "py3-venv")):
        saved.append(tmp_path / name)
        assert run("scan", "-q", "--format", "json", "--output", saved[-1], target).code in (0, 1)
    out = tmp_path / "merged.html"
    assert run("report", "merge", "-q", *saved, "--format", "html", "--output", out).code == 1
    merged = out.read_text(encoding="utf-8")
    assert "Merged from" in merged and all(f"<code>{path}</code>" in merged for path in saved)
