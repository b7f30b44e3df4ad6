"""Merging 1,000 saved reports of 100 findings each into one JSON report, in bounded memory.

Each case runs in a fresh child process that prints its own peak RSS (resource.getrusage) and time:
- merge: `auditor report merge *.json --format json -o merged.json`;
- baseline 'one report': `auditor report render` of a single input to JSON (the least any merge can hold);
- baseline 'json.load all': every input parsed and held at once, which a merge in memory would need at least.
Target: the merge's peak RSS stays near one report's, far below holding all of them.
"""

from __future__ import annotations

import glob
import os
import tempfile

from _common import PYTHON, peak_rss_and_seconds

REPORTS, FINDINGS = 1000, 100



def write_reports(directory: str) -> list[str]:
    from auditor.model import Component, Evidence, Finding, Report
    from auditor.report import render

    paths = []
    for n in range(REPORTS):
        report = Report("0.1.0", "2026-11-28T10:00:00Z", "2026-11-28",
                        [{"id": "dynamodb-ats", "version": "2026.11.28", "title": "DynamoDB ATS", "sha256": "0" * 64}],
                        run={"host": f"host-{n:04d}", "command": ["auditor", "scan", "/srv", "--format", "json"]})
        for m in range(FINDINGS):
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
        path = os.path.join(directory, f"host-{n:04d}.json")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(render(report, "json"))
        paths.append(path)
    return paths


def measure(work: str) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of `work` run in a fresh interpreter, started by the small launcher: a child's
    peak RSS counts the process that forked it, and under run_all.py this one has run other benchmarks."""
    return peak_rss_and_seconds([PYTHON, "-c", work], runs=1)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as directory:
        paths = write_reports(directory)
        size = sum(os.path.getsize(p) for p in paths) / 1e6
        pattern = os.path.join(directory, "host-*.json")
        merged = os.path.join(directory, "merged.out")
        merge_rss, merge_time = measure(
            f"from auditor.cli.main import main; import glob; "
            f"code = main(['report', 'merge', *sorted(glob.glob({pattern!r})), '--format', 'json', '-o', {merged!r}, '-q'])")
        one_rss, one_time = measure(
            f"from auditor.cli.main import main; main(['report', 'render', {paths[0]!r}, '--format', 'json', '-o', "
            f"{merged + '.one'!r}, '-q'])")
        all_rss, all_time = measure(f"import glob, json; held = [json.load(open(p)) for p in sorted(glob.glob({pattern!r}))]")
        merged_mb = os.path.getsize(merged) / 1e6
        assert len(glob.glob(pattern)) == REPORTS
    print(f"report merge, {REPORTS} reports x {FINDINGS} findings ({size:.0f} MB in, {merged_mb:.0f} MB out): "
          f"peak RSS {merge_rss:.0f} MB in {merge_time:.1f} s")
    print(f"  baseline 'render one report': peak RSS {one_rss:.0f} MB; ratio {merge_rss / one_rss:.2f}x "
          f"(target <= 2x)")
    print(f"  baseline 'json.load all inputs, held': peak RSS {all_rss:.0f} MB in {all_time:.1f} s; ratio "
          f"{merge_rss / all_rss:.2f}x; time ratio {merge_time / all_time:.1f}x")


if __name__ == "__main__":
    main()
