"""Configuration from auditor.toml and pyproject.toml's [tool.auditor], through the real command line: discovery
from the working directory up to the repository root, precedence (flag > command table > shared keys > built in),
paths relative to the configuration file, clear errors (exit 2) naming file, line and key, and `auditor config`.

Every test works in its own repository (`git init` in tmp_path) and changes into it, so no configuration of the
folder the tests run in, or above it, is read."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, run

# A real project's pyproject.toml: Poetry's tables (tests/fixtures/declared/poetry), a PEP 621 [project] table too, as
# projects moving between the two have. Its dependencies give two high findings (boto 2.9.0, released before the
# cutoff, and the botocore range admitting only 0.21) and low ones (unpinned boto3 and botocore ranges).
POETRY = (FIXTURES / "declared" / "poetry" / "pyproject.toml").read_text()
PROJECT = textwrap.dedent("""\
    [project]
    name = "ingest-worker"
    dynamic = ["version", "dependencies"]
    requires-python = ">=3.9"

    """) + POETRY


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository (made by git) holding the project; the tests run in it."""
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.chdir(root)
    return root


def write_project(folder: Path, tool_auditor: str = "") -> Path:
    path = folder / "pyproject.toml"
    path.write_text(PROJECT + ("\n" + textwrap.dedent(tool_auditor) if tool_auditor else ""))
    return path


def waiver(rule="ats-python-sdk-before-cutoff", component="boto*", header="[[waivers]]") -> str:
    return textwrap.dedent(f"""\
        {header}
        rule = "{rule}"
        component = "{component}"
        reason = "dev-only dependency, removed in DATA-42"
        owner = "data-platform@example.com"
        expires = 2099-12-31
        """)


def line_of(path: Path, start: str) -> int:
    """The 1-based number of the last line of `path` starting with `start`."""
    return max(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def scan_code(*args) -> int:
    result = run("scan", "pyproject.toml", "-q", *args)
    assert result.code in (0, 1), result.err
    return result.code


def test_the_project_scanned_has_a_high_and_a_low_finding(repo):
    write_project(repo)
    severities = {f["severity"] for f in run("scan", "pyproject.toml", "-q", "--format", "json").json["findings"]}
    assert severities == {"high", "low"}


def test_fail_on_from_tool_auditor_changes_the_exit_code_and_a_flag_overrides_it(repo):
    write_project(repo)
    assert scan_code() == 1  # built in: high
    write_project(repo, """\
        [tool.auditor]
        fail-on = "critical"
        """)
    assert scan_code() == 0
    assert scan_code("--fail-on", "high") == 1
    assert scan_code("--no-config") == 1


def test_a_command_table_wins_over_the_shared_keys(repo):
    write_project(repo, """\
        [tool.auditor]
        fail-on = "critical"

        [tool.auditor.scan]
        fail-on = "low"
        """)
    assert scan_code() == 1
    shown = json.loads(run("config", "--format", "json").out)["commands"]
    assert shown["scan"]["fail-on"] == {"value": "low", "source": "file", "file": str(repo / "pyproject.toml"),
                                        "line": line_of(repo / "pyproject.toml", 'fail-on = "low"')}
    assert shown["truststore"]["fail-on"]["value"] == "critical"


def test_found_from_a_subfolder_and_relative_paths_are_the_config_folder_s(repo, monkeypatch):
    write_project(repo, """\
        [tool.auditor]
        waivers = "policy/waivers.toml"

        [tool.auditor.scan]
        format = "json"
        output = "reports/scan.json"
        """)
    (repo / "policy").mkdir()
    (repo / "policy" / "waivers.toml").write_text(waiver())
    (repo / "reports").mkdir()
    deep = repo / "src" / "ingest_worker"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = run("scan", "../../pyproject.toml", "-q")
    assert result.code == 0, result.err  # the high finding waived, fail-on high
    report = json.loads((repo / "reports" / "scan.json").read_text())
    waived = [f for f in report["findings"] if f.get("waived")]
    assert [f["severity"] for f in waived] == ["high", "high"]  # boto 2.9.0 and botocore 0.21
    assert waived[0]["waiver"]["file"] == str(repo / "policy" / "waivers.toml")


def test_waiver_tables_in_tool_auditor_are_in_force(repo):
    write_project(repo, "[tool.auditor]\nfail-on = \"high\"\n\n" + waiver(header="[[tool.auditor.waivers]]"))
    assert scan_code() == 0
    assert scan_code("--no-config") == 1


def test_auditor_toml_wins_over_pyproject_in_the_same_folder(repo):
    write_project(repo, """\
        [tool.auditor]
        fail-on = "low"
        """)
    (repo / "auditor.toml").write_text('fail-on = "critical"\n')
    assert scan_code() == 0
    assert "auditor.toml:1" in run("config").out


def test_auditor_toml_holds_waivers_beside_its_settings(repo):
    write_project(repo)
    (repo / "auditor.toml").write_text('fail-on = "high"\n\n[scan]\nas-of = 2026-11-28\n\n' + waiver())
    assert scan_code() == 0
    shown = run("config", "scan").out
    assert "2026-11-28" in shown and "auditor.toml:4" in shown


def test_the_search_stops_at_the_repository_root(tmp_path, repo):
    (tmp_path / "auditor.toml").write_text('fail-on = "critical"\n')  # above the repository: not read
    write_project(repo)
    assert scan_code() == 1
    assert "none found" in run("config").out


def test_a_pyproject_without_tool_auditor_is_passed_over(repo, monkeypatch):
    (repo / "auditor.toml").write_text('fail-on = "critical"\n')
    sub = repo / "service"
    sub.mkdir()
    write_project(sub)  # no [tool.auditor]: the search goes on to the repository root
    monkeypatch.chdir(sub)
    assert json.loads(run("config", "--format", "json").out)["configuration"] == str(repo / "auditor.toml")
    assert scan_code() == 0
    assert json.loads(run("config", "--format", "json", "--no-config").out)["configuration"] is None


def test_the_target_s_own_pyproject_is_not_configuration(repo, tmp_path):
    target = tmp_path / "other-project"
    target.mkdir()
    write_project(target, """\
        [tool.auditor]
        fail-on = "critical"
        """)
    result = run("scan", str(target), "-q")
    assert result.code == 1, result.err  # the caller's (built-in) fail-on high, not the target's critical


def test_config_names_one_file_explicitly(repo, tmp_path):
    write_project(repo)
    ci = tmp_path / "ci.toml"
    ci.write_text('[scan]\nfail-on = "critical"\n')
    assert scan_code("--config", str(ci)) == 0
    shown = json.loads(run("config", "--format", "json", "--config", str(ci), "scan", "pyproject.toml").out)
    assert shown["configuration"] == str(ci)
    assert shown["commands"]["scan"]["fail-on"]["line"] == 2


def test_a_named_configuration_holds_its_own_waivers(repo, tmp_path):
    write_project(repo)
    settings = tmp_path / "ci" / "audit-settings.toml"
    settings.parent.mkdir()
    settings.write_text('fail-on = "high"\n\n' + waiver())
    assert scan_code("--config", str(settings)) == 0
    assert scan_code("--config", str(settings), "--fail-on", "low") == 1  # the low findings are not waived


def test_auditor_config_shows_default_file_line_and_flag(repo):
    path = write_project(repo, """\
        [tool.auditor]
        packs = ["dynamodb-ats"]
        """)
    line = line_of(path, "packs =")
    text = run("config", "scan", "--format", "sarif").out.splitlines()
    rows = {row.split()[0]: row for row in text if row.startswith("  ")}
    assert rows["fail-on"].split()[1:] == ["high", "default"]
    assert rows["packs"].split()[1:] == ["dynamodb-ats", f"{repo / 'pyproject.toml'}:{line}"]
    assert rows["format"].split()[1:] == ["sarif", "flag"]
    every = json.loads(run("config", "--format", "json").out)["commands"]
    assert set(every) == {"scan", "truststore", "probe", "report render", "report merge", "report diff"}
    assert every["report render"]["fail-on"] == {"value": None, "source": "default"}  # the saved report's own


@pytest.mark.parametrize("table, message", [
    ('fail_on = "low"\n', "tool.auditor.fail_on: unknown key (did you mean 'fail-on'?)"),
    ('runtime = true\n', "tool.auditor.runtime: unknown key"),
    ('fail-on = 3\n', "tool.auditor.fail-on: 3 is not a severity"),
    ('fail-on = "severe"\n', "tool.auditor.fail-on: 'severe' is not a severity"),
    ('packs = "dynamodb-ats"\n', "tool.auditor.packs: 'dynamodb-ats': give a list"),
    ('packs = ["dynamodb-2013"]\n', "tool.auditor.packs: unknown rule pack dynamodb-2013"),
    ('as-of = "28/11/2026"\n', "tool.auditor.as-of: '28/11/2026' is not a date"),
    ('waivers = 7\n', "tool.auditor.waivers: 7: give a waiver file's path"),
    ('format = "json"\n', "tool.auditor.format: unknown key"),  # only in a command's table
    ('\n[tool.auditor.scan]\nroot = "/"\n', "tool.auditor.scan.root: unknown key"),
    ('\n[tool.auditor.probe]\nas-of = 2026-01-01\n', "tool.auditor.probe.as-of: unknown key"),
    ('\n[tool.auditor.scan]\nformat = "pdf"\n', "tool.auditor.scan.format: 'pdf' is not a format"),
    ('\n[tool.auditor.scan]\nformat = ["json"]\n', "tool.auditor.scan.format: ['json'] is not a format"),
    ('scan = "json"\n', "tool.auditor.scan: must be a table"),
])
def test_a_bad_key_or_value_is_a_usage_error_naming_file_line_and_key(repo, table, message):
    path = write_project(repo, "[tool.auditor]\n" + table)
    key_line = len(path.read_text().splitlines())  # the table's last line sets the key
    result = run("scan", "pyproject.toml", "-q")
    assert result.code == 2
    assert f"auditor: error: {path}:{key_line}: {message}" in result.err
    assert "Traceback" not in result.err
    assert run("config").code == 2


def test_a_waiver_file_that_cannot_be_read_names_the_configuration_line(repo):
    path = write_project(repo, '[tool.auditor]\nwaivers = "missing.toml"\n')
    result = run("scan", "pyproject.toml", "-q")
    assert result.code == 2
    assert f"{path}:{line_of(path, 'waivers =')}: waivers: {repo / 'missing.toml'}: " in result.err


def test_waiver_tables_belong_at_the_top(repo):
    path = write_project(repo, "[tool.auditor]\n" + waiver(header="[[tool.auditor.scan.waivers]]"))
    result = run("scan", "pyproject.toml", "-q")
    assert result.code == 2
    assert (f"{path}:{line_of(path, '[[tool.auditor.scan.waivers]]')}: tool.auditor.scan.waivers: waiver tables are "
            f"written once, at the top: [[tool.auditor.waivers]]") in result.err


def test_malformed_toml_is_a_usage_error(repo):
    (repo / "auditor.toml").write_text('fail-on = "low\n')
    result = run("scan", ".", "-q")
    assert result.code == 2 and "auditor.toml: not valid TOML" in result.err and "Traceback" not in result.err


def test_report_render_takes_fail_on_from_the_configuration(repo):
    write_project(repo)
    assert run("scan", "pyproject.toml", "-q", "--format", "json", "-o", "scan.json").code == 1
    (repo / "auditor.toml").write_text('[report]\nfail-on = "critical"\n')
    assert run("report", "render", "scan.json", "-o", "again.txt").code == 0
    assert run("report", "render", "scan.json", "-o", "again.txt", "--fail-on", "low").code == 1


def test_version_reads_no_configuration(repo):
    (repo / "auditor.toml").write_text("not toml at all [\n")
    code = ("import sys\nfrom auditor.cli.main import main\nassert main(['--version']) == 0\n"
            "assert 'auditor.cli.config' not in sys.modules and 'tomli' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo,
                            env={"PYTHONPATH": str(Path(__file__).parent.parent), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("auditor ")


def _tree(repo: Path) -> None:
    """A repository whose application pins a current boto3, with an old lockfile kept as a test fixture and a
    Lambda bundle built from it: as real repositories hold them."""
    import shutil

    (repo / "app").mkdir()
    (repo / "app" / "requirements.txt").write_text("boto3==1.35.0\n")
    fixtures = repo / "tests" / "fixtures"
    shutil.copytree(FIXTURES / "lockfiles" / "legacy" / "pip", fixtures / "legacy-pip")


def _scanned(*args):
    result = run("scan", ".", "-q", "--format", "json", *args)
    assert result.code in (0, 1), result.err
    report = result.json
    tree = next(t for t in report["targets"] if t["kind"] == "tree")
    return result.code, tree["details"].get("excluded", []), report


def test_exclude_from_the_configuration_leaves_a_folder_unread_and_says_so(repo):
    _tree(repo)
    code, excluded, report = _scanned()
    assert code == 1 and excluded == []  # the fixture's pre-cutoff pins count
    (repo / "auditor.toml").write_text('[scan]\nexclude = ["tests/fixtures"]\n')
    code, excluded, report = _scanned()
    assert code == 0 and excluded == ["./tests/fixtures"]
    assert not [c for c in report["components"] if "fixtures" in c["location"]]
    table = run("scan", ".", "-q").out
    assert "excluded as asked (not read): ./tests/fixtures" in table
    code, excluded, _ = _scanned("--exclude", "*.md")  # the flag replaces the configuration's list
    assert code == 1 and excluded == []


@pytest.mark.parametrize("pattern, left_out", [
    ("fixtures", ["./tests/fixtures"]),  # a name, at any depth
    ("requirements*.txt", ["./app/requirements.txt"]),
    ("**/legacy-pip", ["./tests/fixtures/legacy-pip"]),
    ("tests/*/legacy-pip", ["./tests/fixtures/legacy-pip"]),
])
def test_exclude_patterns_match_names_and_paths_below_the_target(repo, pattern, left_out):
    _tree(repo)
    code, excluded, report = _scanned("--exclude", pattern, "--no-config")
    found = {c["location"] for c in report["components"] if c["kind"] == "python-package"}
    assert excluded == left_out
    assert not [location for location in found for path in left_out if location.startswith(path)]


def test_a_named_file_target_is_read_whatever_the_excludes(repo):
    _tree(repo)
    (repo / "auditor.toml").write_text('exclude = ["*.toml", "tests"]\n')
    result = run("scan", "tests/fixtures/legacy-pip/pylock.toml", "-q")
    assert result.code == 1, result.err
