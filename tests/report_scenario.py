"""A realistic report for the HTML report's tests and the screenshot in docs/reports.md: the repo's fixtures scanned
with a service environment that points botocore at a corporate CA bundle without the ATS anchors, one
finding waived and one waiver expired (as the waiver file would mark them)."""

from __future__ import annotations

import os
from pathlib import Path

from auditor import records
from auditor.cli.parser import shown_command_line
from auditor.collect.config.environ import load_env_files
from auditor.checks.rules import select_packs
from auditor.runs.scan import ScanOptions, run
from conftest import ENVS, FIXTURES, LOCKS
from test_trust_resolver import corporate_bundle, env_file

TARGETS = (ENVS / "py3-old-botocore", ENVS / "trust" / "botocore-1.35.0" / "site-packages",
           FIXTURES / "trust-config" / "shop-api", LOCKS / "legacy" / "uv" / "uv.lock")
ACTIVE_WAIVER = {"status": "active", "owner": "payments-platform@example.com", "expires": "2027-03-31",
                 "reason": "Legacy batch lockfile: the job is retired in Q1 2027 and makes no DynamoDB calls meanwhile (CHG-4821)",
                 "file": "auditor-waivers.toml", "line": 3}
EXPIRED_WAIVER = {"status": "expired", "owner": "ci-platform@example.com", "expires": "2026-06-30",
                  "reason": "CI runners went through a TLS-inspecting proxy until the June migration",
                  "file": "auditor-waivers.toml", "line": 11}


def realistic_report(workdir: Path, extra_targets=()):
    """Scan TARGETS (and extra_targets) as `auditor scan … --env-file service.env` would, then waive."""
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    service_env = env_file(workdir, f"HOME={home}\nAWS_PROFILE=prod\nAWS_CA_BUNDLE={corporate_bundle(workdir)}\n")
    targets = [os.path.relpath(t) if t.is_relative_to(Path.cwd()) else str(t) for t in TARGETS]
    targets += [str(t) for t in extra_targets]
    report = run(ScanOptions(targets, select_packs([]), environ=load_env_files([str(service_env)])))
    report.run["command"] = shown_command_line(["auditor", "scan", *targets, "--env-file", str(service_env),
                                                "--format", "html", "--output", "report.html"])
    lockfile = {c.id for c in report.components if c.location == targets[3]}
    waive = next(f for f in report.findings if f.severity == "high" and f.component in lockfile)
    expire = next(f for f in report.findings if f.severity == "high" and f.component.startswith("trust-config:"))
    report.findings = [records.replace(f, waived=True, waiver=ACTIVE_WAIVER) if f is waive else
                       records.replace(f, waiver=EXPIRED_WAIVER) if f is expire else f for f in report.findings]
    return report
