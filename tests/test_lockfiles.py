"""Lockfiles written by the real tools (fixtures/lockfiles/PROVENANCE.md) and requirements-file syntax."""

import json

import pip_api
import pytest

from conftest import LOCKS, by_name, findings_for, run, scan_json

LEGACY = {"awscli": "1.2.1", "boto": "2.49.0", "botocore": "0.21.0"}
MODERN = {"awscli": "1.34.0", "boto3": "1.35.0", "botocore": "1.35.0", "s3transfer": "0.10.4"}
WRITTEN_BY_TOOLS = [
    ("uv/uv.lock", "uv.lock"), ("uv/requirements.txt", "requirements file"), ("uv/pylock.toml", "pylock.toml"),
    ("poetry/poetry.lock", "poetry.lock"), ("pdm/pdm.lock", "pdm.lock"), ("pipenv/Pipfile.lock", "Pipfile.lock"),
    ("pip-tools/requirements.txt", "requirements file"), ("pip-tools/requirements-nohashes.txt", "requirements file"),
    ("pip/pylock.toml", "pylock.toml"),
]


@pytest.mark.parametrize("relative,source", WRITTEN_BY_TOOLS)
@pytest.mark.parametrize("project,expected", [("legacy", LEGACY), ("modern", MODERN)])
def test_every_lockfile_format_yields_its_pins(project, expected, relative, source):
    path = LOCKS / project / relative
    report = scan_json(path)
    pins = {c["name"]: c["version"] for c in report["components"]}
    assert pins == expected
    assert report["errors"] == []
    assert {c["source"] for c in report["components"]} == {source}
    text = path.read_text().splitlines()
    for component in report["components"]:
        assert component["details"]["pinned"] is True
        assert component["name"] in text[component["line"] - 1].lower(), "line number points at the package"
    flagged = sorted(f["title"].split(" was")[0] for f in report["findings"])
    assert flagged == (["awscli 1.2.1", "botocore 0.21.0"] if project == "legacy" else [])


def test_scan_of_a_repository_tree_finds_every_lockfile():
    report = scan_json(LOCKS)
    lockfiles = [t for t in report["targets"] if t["kind"] == "lockfile"]
    # 9 lockfiles, 2 requirements.in files and the inputs the tools read (3 pyproject.toml, 1 Pipfile) per project
    assert len(lockfiles) == 2 * (len(WRITTEN_BY_TOOLS) + 2 + 4)
    assert sum(t["details"]["format"] in ("pyproject.toml", "Pipfile") for t in lockfiles) == 2 * 4
    # legacy: awscli and botocore in each lockfile, and awscli in both requirements.in files and in each input
    assert report["summary"]["findings"]["high"] == 2 * len(WRITTEN_BY_TOOLS) + 2 + 4
    assert report["errors"] == []


@pytest.mark.parametrize("relative", ["uv/requirements.txt", "pip-tools/requirements.txt", "pip-tools/requirements-nohashes.txt"])
def test_requirements_agree_with_pip_api(relative):
    """pip-api parses for the running interpreter; on marker-free AWS lines both readers must agree."""
    path = LOCKS / "legacy" / relative
    theirs = {name: str(req.specifier) for name, req in pip_api.parse_requirements(str(path)).items() if name in LEGACY}
    ours = {c["name"]: c["details"]["specifier"] for c in scan_json(path)["components"]}
    assert ours == theirs


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_requirements_syntax_as_people_write_it(tmp_path):
    write(tmp_path / "requirements" / "base.txt", "-c constraints.txt\nboto3>=1.0  # unpinned\n")
    write(tmp_path / "requirements" / "constraints.txt", "botocore==0.21.0\n")
    main = write(tmp_path / "requirements.txt", """\
# production
--index-url https://deploy:s3cr3t-token@pypi.internal.example/simple
-r requirements/base.txt
boto[ssl]==2.9.0 ; python_version < "3" \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000
awscli @ https://ci:hunter2@files.internal.example/awscli-1.2.1.tar.gz
git+https://token123@github.com/boto/boto.git@2.49.0#egg=boto
-e git+https://github.com/boto/s3transfer.git#egg=s3transfer
botocore<0.22
requests==2.0.0
""")
    result = run("scan", "--format", "json", "-q", main)
    assert result.code == 1
    report = result.json
    rows = {(c["name"], c["version"], c["details"]["specifier"], c["source"], c["line"]) for c in report["components"]}
    assert rows == {
        ("awscli", "1.2.1", "@ https://***@files.internal.example/awscli-1.2.1.tar.gz", "requirements file", 6),
        ("boto", None, "@ git+https://***@github.com/boto/boto.git@2.49.0#egg=boto", "requirements file", 7),
        ("boto", "2.9.0", "==2.9.0", "requirements file", 4),
        ("boto3", None, ">=1.0", "requirements file", 2),
        ("botocore", "0.21.0", "==0.21.0", "requirements file (constraint via -c)", 1),
        ("botocore", None, "<0.22", "requirements file", 9),
        ("s3transfer", None, "@ git+https://github.com/boto/s3transfer.git#egg=s3transfer", "requirements file (editable)", 8),
    }
    boto_29 = next(c for c in report["components"] if c["version"] == "2.9.0")
    assert boto_29["details"]["marker"] == 'python_version < "3"'
    assert boto_29["details"]["extras"] == ["ssl"]
    assert next(c for c in report["components"] if c["name"] == "boto" and c["version"] is None)["details"]["vcs_ref"] == "2.49.0"
    severities = {(c["name"], c["details"]["specifier"]): sorted(f["severity"] for f in findings_for(report, c))
                  for c in report["components"]}
    assert severities[("botocore", "<0.22")] == ["high", "low"]  # only pre-cutoff releases, and unpinned
    assert severities[("boto3", ">=1.0")] == ["low"]
    assert severities[("boto", "==2.9.0")] == ["high"]
    assert severities[("botocore", "==0.21.0")] == ["high"]
    assert severities[("awscli", "@ https://***@files.internal.example/awscli-1.2.1.tar.gz")] == ["high"]
    range_finding = next(f for f in report["findings"] if f["severity"] == "high" and "<0.22" in f["title"])
    assert any("newest it admits is 0.21.0" in e["summary"] for e in range_finding["evidence"])
    for secret in ("s3cr3t-token", "hunter2", "token123"):
        assert secret not in result.out
    table = run("scan", "-q", main)
    for secret in ("s3cr3t-token", "hunter2", "token123"):
        assert secret not in table.out


def test_includes_that_cannot_be_read_are_errors_not_crashes(tmp_path):
    write(tmp_path / "repo" / "a-requirements.txt", "-r b-requirements.txt\nboto==2.9.0\n")
    write(tmp_path / "repo" / "b-requirements.txt", "-r a-requirements.txt\n-r ../../etc/passwd\n"
                                                    "-r https://user:pw@example.com/r.txt\n-r missing.txt\nboto3==\n")
    report = scan_json(tmp_path / "repo")
    messages = sorted(e["message"] for e in report["errors"])
    assert any("outside the scanned target" in m for m in messages)
    assert any("remote; not fetched" in m and "pw@" not in m for m in messages)
    assert any("No such file" in m for m in messages)
    assert any("invalid requirement" in m for m in messages)
    # both files are targets and include each other: the cycle ends, and the pin is reported once
    assert [(c["name"], c["version"], c["location"].rsplit("/", 1)[1]) for c in report["components"]] == [
        ("boto", "2.9.0", "a-requirements.txt")]
    assert len(messages) == len(set(messages)) == 4


def test_corrupt_and_unknown_lockfiles(tmp_path):
    write(tmp_path / "a" / "poetry.lock", "[[package]\nname = 'boto'\n")
    write(tmp_path / "b" / "uv.lock", 'version = 9\n[[package]]\nname = "botocore"\nversion = "0.21.0"\n')
    write(tmp_path / "c" / "Pipfile.lock", "{not json")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "pdm.lock").write_bytes(b'[metadata]\nlock_version = "4.5.0"\n[[package]]\nname = "boto"\nversion = "2.9.0\xff"\n')
    report = scan_json(tmp_path)
    errors = {e["location"].rsplit("/", 2)[-2]: e["message"] for e in report["errors"]}
    assert errors["a"].startswith("invalid TOML")
    assert "format version 9 is not one this auditor knows" in errors["b"]
    assert errors["c"].startswith("invalid JSON")
    assert "not valid UTF-8" in errors["d"]
    # best effort on the unknown uv.lock version: the pin is still judged
    assert [(c["name"], c["version"]) for c in report["components"]] == [("botocore", "0.21.0")]
    assert report["summary"]["findings"]["high"] == 1


def test_pipfile_lock_sections_and_markers(tmp_path):
    lock = write(tmp_path / "Pipfile.lock", json.dumps({
        "_meta": {"hash": {"sha256": "x"}, "pipfile-spec": 6, "requires": {}, "sources": []},
        "default": {"boto": {"hashes": [], "markers": "python_version < '3'", "version": "==2.9.0"}},
        "develop": {"awscli": {"git": "https://github.com/aws/aws-cli.git", "ref": "1.2.1"}},
    }, indent=4))
    report = scan_json(lock)
    boto, awscli = by_name(report)["boto"][0], by_name(report)["awscli"][0]
    assert (boto["version"], boto["details"]["section"], boto["details"]["marker"]) == ("2.9.0", "default", "python_version < '3'")
    assert (awscli["version"], awscli["details"]["ref"]) == (None, "1.2.1")


HASH = "--hash=sha256:" + "0123456789abcdef" * 4
HASHED = f"""\
#
# This file is autogenerated by pip-compile with Python 3.11
#
AWSCLI==1.2.1 \\
    {HASH}
    # via -r requirements.in
  Boto3==1.35.0 \\
    {HASH} \\
    {HASH}
    # via
    #   -r requirements.in
    #   s3transfer
botocore \\
    ==0.21.0 \\
    {HASH}
AWS_SDK.Core==3.0.0 \\
    {HASH}
pkg-botocore==1.0 \\
    {HASH}
    # via boto3
jmespath==1.0.1 \\
    {HASH}
    # via boto3
# boto==2.9.0
requests==2.0.0  # boto==2.9.0 is older
--hash={HASH[7:]}
-c constraints.txt
--requirement=more.txt
-e file:s3transfer-0.10.4.tar.gz
file:awscli_plugin-1.0.tar.gz
"""
HASHED_PINS = {  # (name, version, source, file, line)
    ("awscli", "1.2.1", "requirements file", "requirements.txt", 4),
    ("boto3", "1.35.0", "requirements file", "requirements.txt", 7),
    ("botocore", "0.21.0", "requirements file", "requirements.txt", 13),
    ("aws-sdk-core", "3.0.0", "requirements file", "requirements.txt", 16),
    ("botocore", "1.35.0", "requirements file (constraint via -c)", "constraints.txt", 1),
    ("boto", "2.9.0", "requirements file", "more.txt", 1),
    ("s3transfer", "0.10.4", "requirements file (editable)", "requirements.txt", 29),
}


@pytest.mark.parametrize("header", ["", "--index-url https://pypi.example/simple\n"])
def test_hashed_requirements_any_spelling_and_layout(tmp_path, header):
    """Names in any case and with - _ . alike, indented, continued, included; not in comments, other names or
    hashes. A text without "/" takes the cheaper first test of a line (requirements.candidate_lines): with the
    header (a URL) the full one; both give the same answers."""
    write(tmp_path / "constraints.txt", "BotoCore==1.35.0\n")
    write(tmp_path / "more.txt", "boto==2.9.0\n")
    main = write(tmp_path / "requirements.txt", header + HASHED)
    report = scan_json(main)
    shift = header.count("\n")
    rows = {(c["name"], c["version"], c["source"], c["location"].rsplit("/", 1)[-1], c["line"]) for c in report["components"]}
    assert rows == {(name, version, source, file, line + shift if file == "requirements.txt" else line)
                    for name, version, source, file, line in HASHED_PINS}
    assert report["errors"] == []
