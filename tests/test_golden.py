"""Golden reports: the JSON report of every fixture scan (tests/golden_scans.py) is the same as the one recorded
in tests/golden/<name>.json, apart from `generated_at`. A change of structure must not change an answer.

Every scan runs in-process, in a copy of tests/fixtures, with a fixed environment, host name and --as-of date
(see golden_scans.py): the recorded reports depend on the fixtures and the code only, never on this machine's
CA variables, /etc/ssl, HOME, user, host name, date, or the checkout's path.

When an answer changes on purpose (a rule, a fixture, a fix), record the new reports and say why in the commit:

    python tests/golden/update.py             # all of them
    python tests/golden/update.py NAME...     # only these
    AUDITOR_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py   # the same, from pytest

and read `git diff tests/golden` before committing: every changed line is a changed answer.
"""

import difflib
import json
import os
import tempfile
from pathlib import Path

import pytest

from golden_scans import GOLDEN, NAMES, generate, golden_path

UPDATE = os.environ.get("AUDITOR_UPDATE_GOLDEN") == "1"
SHOWN_LINES = 80


@pytest.fixture(scope="module")
def reports():
    """All golden reports, made once (a few seconds); with AUDITOR_UPDATE_GOLDEN=1 also written as the golden files.
    The work folder is a temporary folder of its own: pytest's numbered ones may be pruned by other pytest runs
    of the same user."""
    with tempfile.TemporaryDirectory(prefix="auditor-golden-") as folder:
        made = generate(Path(folder) / "work")
    if UPDATE:
        for name, text in made.items():
            golden_path(name).write_text(text, encoding="utf-8")
    return made


def test_every_golden_file_is_a_scan_of_the_list():
    recorded = {path.stem for path in GOLDEN.glob("*.json")}
    assert recorded == set(NAMES), ("golden files without a scan: "
                                    f"{sorted(recorded - set(NAMES))}; scans without a golden file: "
                                    f"{sorted(set(NAMES) - recorded)} (python tests/golden/update.py)")


@pytest.mark.parametrize("name", NAMES)
def test_report_is_the_recorded_one(reports, name):
    path = golden_path(name)
    assert path.exists(), f"no golden file for {name}: python tests/golden/update.py {name}"
    expected, actual = path.read_text(encoding="utf-8"), reports[name]
    if actual != expected:
        diff = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(), f"golden/{name}.json",
                                         f"{name} now", lineterm=""))
        shown = "\n".join(diff[:SHOWN_LINES]) + (f"\n… {len(diff) - SHOWN_LINES} more lines" if len(diff) > SHOWN_LINES else "")
        pytest.fail(f"the report of {name} differs from the recorded one; if the change is meant, record it with "
                    f"`python tests/golden/update.py {name}` and say why in the commit:\n{shown}", pytrace=False)


def test_reports_are_valid_and_link_up(reports):
    """Every recorded scan is a report of the published schema whose findings name components of the report."""
    import jsonschema

    from auditor.report.json_report import schema

    published = schema()
    validator = jsonschema.validators.validator_for(published)(published)
    for name, text in reports.items():
        report = json.loads(text.replace('"<generated_at>"', '"2026-12-01T00:00:00Z"'))["report"]
        if "components" in report:
            validator.validate(report)
            ids = {c["id"] for c in report["components"]}
            assert all(f["component"] in ids for f in report["findings"]), name
