"""Merging saved reports: 1,000 of 100 findings each to JSON and to HTML, fast; 10,000 to HTML in the memory of 1,000.

Each case runs in a fresh child process that prints its own peak RSS (resource.getrusage) and time:
- merge to JSON: `auditor report merge *.json --format json -o merged.json`, 1,000 reports of 100 findings;
- merge to HTML: the same to `--format html`;
- baseline 'one report': `auditor report render` of a single input to JSON (the least any merge can hold);
- baseline 'json.load all': every input parsed and held at once, which a merge in memory would need at least;
- memory as the fleet grows: 1,000 and 10,000 reports of 10 findings each merged to HTML (to /dev/null: the output of
  10,000 would only fill the disk of a CI machine; memory and time are the merge's either way). What grows with the
  fleet is what the merge keeps per host, which reports of 10 findings show as well as reports of 100 (against a
  smaller working set, so more plainly), at a tenth of the time: 10,000 reports of 100 findings took 172 s of CI.
Targets: the JSON merge's peak RSS near one report's; the HTML merge of 10,000 reports within 1.2x of the peak RSS of
1,000 (memory flat as the fleet grows); the HTML merge of 1,000 within 3x the time of json.load-ing them all.

The inputs are one report written by the auditor, copied with a different host name for each of the 1,000 (its
run.host: nothing else in a report names the host); the 10,000 are 1,000 ten times over, as hard links where the
file system has them, so that the merge labels them host-0001, host-0001#2 … host-0001#10.
"""

from __future__ import annotations

import glob
import os
import tempfile
import time

from _common import PYTHON, peak_rss_and_seconds

REPORTS, FINDINGS, FLEET, FLEET_FINDINGS = 1000, 100, 10, 10


def one_report(findings: int = FINDINGS) -> str:
    """The JSON text of one report of `findings` findings (each on its own component), its host "host-0000"."""
    from auditor.model import Component, Evidence, Finding, Report
    from auditor.report import render

    report = Report("0.1.0", "2026-11-28T10:00:00Z", "2026-11-28",
                    [{"id": "dynamodb-ats", "version": "2026.11.28", "title": "DynamoDB ATS", "sha256": "0" * 64}],
                    run={"host": "host-0000", "command": ["auditor", "scan", "/srv", "--format", "json"]})
    for m in range(findings):
        site = f"/srv/app-{m}/.venv/lib/python3.11/site-packages"
        component = Component("python-package", "botocore", "0.21.0", f"{site}/botocore-0.21.0.dist-info/METADATA",
                              "dist-info METADATA", f"/srv/app-{m}/.venv", released="2013-10-24T17:51:47Z",
                              details={"active": True, "python_path": site})
        evidence = (Evidence("documented", "AWS: the AWS SDK for Python and the AWS CLI released before 2013-10-29 "
                                           "must be upgraded", "https://docs.aws.amazon.com/amazondynamodb/latest/"
                                                               "developerguide/ats-certs.html"),
                    Evidence("observed", "botocore 0.21.0 was first uploaded to PyPI on 2013-10-24T17:51:47Z (UTC); "
                                         "the cutoff compared is 2013-10-29 00:00 UTC"),
                    Evidence("observed", f"found at {component.location} (dist-info METADATA)", component.location))
        report.components.append(component)
        report.findings.append(Finding("ats-python-sdk-before-cutoff", "dynamodb-ats", "high", component.id,
                                       "botocore 0.21.0 was released before 2013-10-29 and may not trust "
                                       "ATS-issued certificates", evidence,
                                       "Upgrade botocore to a current release; 0.22.0 is the first after the cutoff.",
                                       ("https://www.amazontrust.com/repository/",)))
    return render(report, "json")


def write_reports(directory: str, findings: int = FINDINGS) -> list[str]:
    text = one_report(findings)
    assert text.count('"host": "host-0000"') == 1
    os.makedirs(directory, exist_ok=True)
    paths = []
    for n in range(REPORTS):
        path = os.path.join(directory, f"host-{n:04d}.json")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text.replace('"host": "host-0000"', f'"host": "host-{n:04d}"'))
        paths.append(path)
    return paths


def fleet_of(paths: list[str], directory: str) -> list[str]:
    """FLEET names for each report: hard links (copies where links cannot be made)."""
    os.makedirs(directory)
    names = []
    for path in paths:
        for copy in range(FLEET):
            name = os.path.join(directory, f"{os.path.basename(path)[:-5]}-{copy}.json")
            try:
                os.link(path, name)
            except OSError:
                with open(path, "rb") as source, open(name, "wb") as target:
                    target.write(source.read())
            names.append(name)
    return names


def measure(work: str) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of `work` run in a fresh interpreter, started by the small launcher: a child's
    peak RSS counts the process that forked it, and under run_all.py this one has run other benchmarks."""
    return peak_rss_and_seconds([PYTHON, "-c", work], runs=1)


def merge(pattern: str, output_format: str, output: str) -> tuple[float, float]:
    return measure(f"from auditor.cli.main import main; import glob; "
                   f"code = main(['report', 'merge', *sorted(glob.glob({pattern!r})), '--format', {output_format!r}, "
                   f"'-o', {output!r}, '-q'])")


def main() -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as directory:
        paths = write_reports(directory)
        size = sum(os.path.getsize(p) for p in paths) / 1e6
        pattern = os.path.join(directory, "host-*.json")
        merged = os.path.join(directory, "merged.out")
        merge_rss, merge_time = merge(pattern, "json", merged)
        merged_mb = os.path.getsize(merged) / 1e6
        one_rss, _ = measure(f"from auditor.cli.main import main; main(['report', 'render', {paths[0]!r}, '--format', "
                             f"'json', '-o', {merged + '.one'!r}, '-q'])")
        all_rss, all_time = measure(f"import glob, json; held = [json.load(open(p)) for p in sorted(glob.glob({pattern!r}))]")
        html_rss, html_time = merge(pattern, "html", merged)
        html_mb = os.path.getsize(merged) / 1e6
        os.unlink(merged)
        small = write_reports(os.path.join(directory, "small"), FLEET_FINDINGS)
        small_rss, small_time = merge(os.path.join(directory, "small", "host-*.json"), "html", os.devnull)
        fleet = fleet_of(small, os.path.join(directory, "fleet"))
        fleet_rss, fleet_time = merge(os.path.join(directory, "fleet", "*.json"), "html", os.devnull)
        assert len(glob.glob(pattern)) == REPORTS and len(fleet) == REPORTS * FLEET
    print(f"report merge to JSON, {REPORTS} reports x {FINDINGS} findings ({size:.0f} MB in, {merged_mb:.0f} MB out): "
          f"peak RSS {merge_rss:.0f} MB in {merge_time:.1f} s")
    print(f"  baseline 'render one report': peak RSS {one_rss:.0f} MB; ratio {merge_rss / one_rss:.2f}x "
          f"(target <= 2x)")
    print(f"  baseline 'json.load all inputs, held': peak RSS {all_rss:.0f} MB in {all_time:.1f} s; ratio "
          f"{merge_rss / all_rss:.2f}x; time ratio {merge_time / all_time:.1f}x (target <= 3x)")
    print(f"report merge to HTML, {REPORTS} reports ({html_mb:.0f} MB out): peak RSS {html_rss:.0f} MB in {html_time:.1f} s; "
          f"time ratio to baseline 'json.load all inputs, held' {html_time / all_time:.1f}x (target <= 3x)")
    print(f"report merge to HTML, {REPORTS} and {REPORTS * FLEET} reports x {FLEET_FINDINGS} findings (to /dev/null): "
          f"peak RSS {small_rss:.0f} MB in {small_time:.1f} s and {fleet_rss:.0f} MB in {fleet_time:.1f} s; "
          f"peak RSS ratio {fleet_rss / small_rss:.2f}x (target <= 1.2x); time ratio {fleet_time / small_time:.1f}x for "
          f"{FLEET}x the reports")
    print(f"  (this benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
