"""Rule data and the cutoff arithmetic, at the boundaries FACTS.md names."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import auditor
from auditor.rule_data import rules_dir
from auditor.checks.rules import ReleaseDates, load_packs

DATES = ReleaseDates.load()


@pytest.mark.parametrize("name,last_before,first_after", [
    ("boto", ("2.15.0", "2013-10-18"), ("2.16.0", "2013-11-08")),
    ("botocore", ("0.21.0", "2013-10-24"), ("0.22.0", "2013-10-29")),
    ("awscli", ("1.2.1", "2013-10-24"), ("1.2.2", "2013-10-29")),
])
def test_release_table_matches_the_documented_boundary(name, last_before, first_after):
    assert DATES.released(name, last_before[0]).startswith(last_before[1])
    assert DATES.released(name, first_after[0]).startswith(first_after[1])
    assert DATES.last_before(name, "2013-10-29")[1] == last_before[0]


def test_table_covers_every_tracked_package_and_legacy_versions():
    assert DATES.tracked() == {"boto", "botocore", "awscli", "boto3", "s3transfer"}
    for legacy in ("0.8d", "0.9d", "1.5d", "1.8d"):
        assert DATES.released("boto", legacy) < "2013"
    assert DATES.released("botocore", "0.21") == DATES.released("botocore", "0.21.0")  # PEP 440 equality


def test_ranges_are_resolved_against_known_releases():
    assert [v for v, _ in DATES.matching("botocore", "<0.22")][-1] == "0.21.0"
    assert all(d < "2013-10-29" for _, d in DATES.matching("botocore", "<0.22"))
    assert DATES.matching("boto", "not a specifier") == []


def test_default_pack_and_rules_are_well_formed():
    packs = load_packs()
    assert [p.id for p in packs.values() if p.default] == ["dynamodb-ats"]
    for pack in packs.values():
        assert len(pack.sha256) == 64
        for rule in pack.rules:
            assert rule.severity in ("critical", "high", "medium", "low", "info")
            assert rule.documented and rule.references


def test_rules_are_found_where_auditor_is_installed():
    directory = rules_dir()
    assert (directory / "packs" / "dynamodb-ats.toml").is_file()
    assert (directory / "release-dates.json").is_file()
    package = Path(auditor.__file__).resolve().parent
    if (package.parent / "pyproject.toml").is_file():
        assert directory == package.parent / "rules"  # a source checkout or editable install
    else:
        assert directory == package / "_rules"  # a wheel install: rules/ shipped inside the package


def test_progress_counter_only_on_a_terminal(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    main, secondary = os.openpty()
    done = subprocess.run([sys.executable, "-m", "auditor", "scan", str(tmp_path)], stdout=subprocess.PIPE,
                          stderr=secondary, timeout=60)
    os.close(secondary)
    shown = os.read(main, 65536).decode(errors="replace")
    os.close(main)
    assert done.returncode == 0
    assert "scanning" in shown and "dirs" in shown
    quiet = subprocess.run([sys.executable, "-m", "auditor", "scan", str(tmp_path)], capture_output=True, timeout=60)
    assert quiet.stderr == b""


def test_refresh_takes_the_earliest_upload_of_each_release():
    from auditor.checks.refresh import first_upload_times

    # The shape of https://pypi.org/pypi/botocore/json: a wheel uploaded after the sdist, a release with no files.
    project = {"releases": {
        "0.22.0": [{"filename": "botocore-0.22.0.tar.gz", "upload_time_iso_8601": "2013-10-29T00:57:43.581283Z"},
                   {"filename": "botocore-0.22.0-py2.py3-none-any.whl", "upload_time_iso_8601": "2013-11-02T10:00:00.000000Z"}],
        "0.21.0": [{"filename": "botocore-0.21.0.tar.gz", "upload_time_iso_8601": "2013-10-24T23:56:13.123456Z"}],
        "0.0.1": [],
    }}
    assert first_upload_times(project) == {"0.21.0": "2013-10-24T23:56:13Z", "0.22.0": "2013-10-29T00:57:43Z"}


class _Answer:
    """What urlopen returns, reading from `data` and recording how much was asked for."""

    def __init__(self, data: bytes):
        self.data, self.asked = data, []

    def read(self, size=-1):
        self.asked.append(size)
        return self.data if size < 0 else self.data[:size]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("answer, message", [
    (b"{" + b" " * 2048 + b"}", "larger than 1,024 bytes"),
    (b"<html>rate limited</html>", "Expecting value"),
])
def test_refresh_refuses_an_answer_too_large_or_not_json_and_keeps_the_table(tmp_path, monkeypatch, answer, message):
    from conftest import run

    import auditor.checks.refresh

    answered = _Answer(answer)
    monkeypatch.setattr(auditor.checks.refresh, "MAX_ANSWER", 1024)
    monkeypatch.setattr(auditor.checks.refresh.urllib.request, "urlopen", lambda request, timeout: answered)
    table = tmp_path / "release-dates.json"
    table.write_text("{}")
    result = run("rules", "refresh", "--output", table)
    assert result.code == 2 and "refresh failed, table unchanged" in result.err and message in result.err
    assert "Traceback" not in result.err and table.read_text() == "{}"
    assert answered.asked == [1025], "the answer is read up to the cap, never whole"


def test_a_release_spelt_otherwise_or_built_locally_is_judged_against_the_table(tmp_path):
    from conftest import scan_json

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("botocore==0.21.0.0\nawscli==1.2.1+corp.3\nboto==2.16.0+local\nbotocore==0.22\n")
    report = scan_json(str(requirements))
    released = {(c["name"], c["version"]): c.get("released") for c in report["components"]}
    assert released[("botocore", "0.21.0.0")] == DATES.released("botocore", "0.21.0")  # PEP 440: the same release
    assert released[("botocore", "0.22")] == DATES.released("botocore", "0.22.0")
    assert released[("awscli", "1.2.1+corp.3")] is None and released[("boto", "2.16.0+local")] is None
    flagged = {f["component"].split(":")[1] for f in report["findings"] if f["rule"] == "ats-python-sdk-before-cutoff"}
    assert flagged == {"botocore@0.21.0.0", "awscli@1.2.1+corp.3"}  # boto 2.16.0 is after the cutoff, botocore 0.22 too


def test_twenty_thousand_unlisted_versions_are_judged_in_seconds():
    """Each version the table does not list used to re-parse all of the package's releases (20,000 pins: minutes)."""
    import time

    from packaging.version import Version

    from auditor.model import Component
    from auditor.checks.rules import evaluate

    pack = load_packs()["dynamodb-ats"]
    dates = ReleaseDates.load()
    versions = [f"0.{i % 30}.{i % 7}+build{i}" for i in range(10_000)] + [f"1.{i % 40}.{i}.dev{i}" for i in range(10_000)]
    expected_flagged = sum(1 for v in versions if Version(v).release <= (0, 21, 0))  # 0.21.0: the last before the cutoff
    bound, flagged = 20.0, 0
    start = time.perf_counter()
    for version in versions:
        component = Component("python-package", "botocore", version, "requirements.txt", "requirements file", "t")
        assert dates.released("botocore", version) is None
        flagged += sum(1 for f in evaluate([pack], [component], dates) if f.rule == "ats-python-sdk-before-cutoff")
        elapsed = time.perf_counter() - start
        assert elapsed < bound, f"{versions.index(version) + 1} unlisted versions took {elapsed:.1f} s"
    assert flagged == expected_flagged > 0


def test_an_openssl_minimum_that_is_not_a_version_is_an_error_naming_the_rule(tmp_path):
    """The pack format checks only that `minimum` is a string; "1.0" (no patch number) cannot be compared with an
    OpenSSL version, and used to end the scan in a TypeError the first time an OpenSSL was judged."""
    from auditor.checks.rule_pack import RulesError, load_pack
    from auditor.checks.rules import evaluate
    from auditor.model import Component

    text = (rules_dir() / "packs" / "tls12.toml").read_text(encoding="utf-8")
    assert 'minimum = "1.0.1"' in text
    path = tmp_path / "tls12.toml"
    path.write_text(text.replace('minimum = "1.0.1"', 'minimum = "1.0"'), encoding="utf-8")
    openssl = Component("openssl", "openssl", "0.9.8zh", "/usr/bin/openssl", "openssl version", "machine")
    with pytest.raises(RulesError, match=r"rule tls12-openssl-before-1\.0\.1: minimum '1\.0' is not an OpenSSL version"):
        list(evaluate([load_pack(path)], [openssl], DATES))
    shipped = list(evaluate([load_pack(rules_dir() / "packs" / "tls12.toml")], [openssl], DATES))
    assert [f.rule for f in shipped] == ["tls12-openssl-before-1.0.1"]
