"""The table format on a terminal: no line longer than the width asked (--width, COLUMNS), every finding still
shown (wrapped), a long target list summarised on the header line, counts in the singular for one, and an error
in a file given to an option naming that option."""

import json
import shutil

import pytest

from conftest import ENVS, LOCKS, run, scan_json

OLD = ENVS / "py3-old-botocore"


@pytest.fixture
def deep_tree(tmp_path):
    """A project as deep as real ones get: an old botocore environment and lockfiles below long folder names."""
    top = tmp_path / "srv" / "applications" / "customer-billing-reconciliation-service" / "deployments" / "2026-q4"
    shutil.copytree(OLD, top / "runtime" / "python-virtual-environment-for-the-nightly-batch")
    for tool in ("poetry", "pip", "uv"):
        shutil.copytree(LOCKS / "modern" / tool, top / "locked-dependencies-managed-by-the-platform-team" / tool)
    return top


def _lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def _column(lines: list[str], header: str, name: str, following: str) -> str:
    """A table column's text (from the header line that starts with `header`), rows joined without whitespace."""
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    left, right = lines[start].index(name), lines[start].index(following)
    rows = lines[start + 2:lines.index("", start)]
    return "".join("".join(row[left:right].split()) for row in rows)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_a_real_scan_fits_the_width_and_shows_every_finding(deep_tree, width):
    report = scan_json(deep_tree)
    shown = [f for f in report["findings"] if f["severity"] != "info"]
    assert len(shown) >= 3 and len(report["targets"]) >= 4
    result = run("scan", "-q", "--width", str(width), deep_tree)
    lines = _lines(result.out)
    assert max(len(line) for line in lines) <= width
    assert any(len(line) > width - 10 for line in lines)  # the room is used, not a fixed narrow layout
    titles = _column(lines, "severity ", "finding", "where")
    for finding in shown:
        assert "".join(finding["title"].split()) in titles
    # The finding's own file is wrapped whole; a components table's long location is shortened in its middle.
    assert "".join(str(deep_tree).split()) in _column(lines, "severity ", "where", "remediation")
    if width == 80:
        assert any("…" in line and line.rstrip().endswith("METADATA") for line in lines)


def test_columns_sets_the_width_and_the_option_overrides_it(deep_tree, monkeypatch):
    monkeypatch.setenv("COLUMNS", "90")
    assert max(map(len, _lines(run("scan", "-q", deep_tree).out))) <= 90
    assert max(map(len, _lines(run("scan", "-q", "--width", "150", deep_tree).out))) > 90
    monkeypatch.delenv("COLUMNS")
    # Not a terminal (the tests' captured standard output): the fixed default, the same on every machine.
    assert 100 < max(map(len, _lines(run("scan", "-q", deep_tree).out))) <= 120


def test_a_width_below_the_least_is_a_usage_error(deep_tree):
    result = run("scan", "-q", "--width", "20", deep_tree)
    assert result.code == 2 and "--width: '20': give a whole number from 40" in result.err


def test_a_saved_report_renders_and_diffs_at_the_width(deep_tree, tmp_path):
    saved = tmp_path / "scan.json"
    assert run("scan", "-q", "--format", "json", "-o", saved, deep_tree).code == 1
    for args in (["report", "render", saved], ["report", "diff", saved, saved]):
        out = run(*args, "--width", "80").out
        assert max(map(len, _lines(out))) <= 80


def test_a_long_target_list_is_summarised_on_the_header_line(tmp_path):
    top = tmp_path / "monorepo"
    for number in range(50):
        service = top / f"services/service-{number:02d}"
        service.mkdir(parents=True)
        shutil.copy(LOCKS / "modern" / "poetry" / "poetry.lock", service)
    report = scan_json(top)
    assert sum(t["kind"] == "lockfile" for t in report["targets"]) == 50
    for width in (80, 200):
        lines = _lines(run("scan", "-q", "--width", str(width), top).out)
        assert max(map(len, lines)) <= width
        header = " ".join(line.strip() for line in lines[1:lines.index(next(x for x in lines if x.startswith("findings:")))])
        unwrapped = "".join(header.split())  # a long temporary path may be broken at any of its "/"
        assert unwrapped.startswith("".join(f"targets: tree {top}, 50 lockfiles".split()))
        assert header.endswith("(--format json lists them all)")
        assert header.count("poetry.lock") <= 1  # one named at most, not fifty
    # A short list is shown whole.
    assert _lines(run("scan", "-q", "--width", "200", OLD).out)[1] == f"targets: environment {OLD}, tree {OLD}"


def _saved_with_info(tmp_path, count: int):
    """A saved report of a real scan keeping `count` info findings and no other."""
    report = scan_json(ENVS / "py3-venv", ENVS / "debian-dist-packages", OLD)
    info = [f for f in report["findings"] if f["severity"] == "info"]
    assert len(info) >= 2
    report["findings"] = info[:count]
    report["summary"]["findings"] = {s: 0 for s in report["summary"]["findings"]} | {"info": count}
    report["summary"]["failing"] = 0
    saved = tmp_path / f"info-{count}.json"
    saved.write_text(json.dumps(report))
    return saved


@pytest.mark.parametrize("count, phrase", [(1, "1 info finding,"), (2, "2 info findings,")])
def test_the_table_counts_info_findings_in_the_singular_for_one(tmp_path, count, phrase):
    out = run("report", "render", _saved_with_info(tmp_path, count)).out
    assert phrase in out


@pytest.mark.parametrize("count", [1, 2])
def test_markdown_and_html_count_in_the_singular_for_one(tmp_path, count):
    saved = _saved_with_info(tmp_path, count)
    markdown = run("report", "render", saved, "--format", "markdown").out
    assert f"{count} info finding{'s' if count > 1 else ''} (checks that passed" in markdown
    one = tmp_path / "one-error.json"
    data = json.loads(saved.read_text())
    data["findings"] = data["findings"][:1]
    data["findings"][0]["severity"] = "high"
    data["summary"]["findings"] = {s: 0 for s in data["summary"]["findings"]} | {"high": 1}
    data["summary"]["failing"] = 1
    one.write_text(json.dumps(data))
    assert "FAIL, 1 finding at or above `high`" in run("report", "render", one, "--format", "markdown").out
    assert " 1 finding at or above &#x27;high&#x27; (--fail-on)" in run("report", "render", one, "--format", "html").out


def test_an_error_in_the_waivers_file_names_the_option(tmp_path):
    waivers = tmp_path / "waivers.toml"
    waivers.write_text('[[waivers]]\nrule = "old-sdk"\nexpires = "31/12/2026"\nreason = "r"\nowner = "o"\n'
                       'component = "botocore"\n')
    result = run("scan", "-q", OLD, "--waivers", waivers)
    assert result.code == 2 and result.out == ""
    assert result.err.startswith(f"auditor: error: --waivers {waivers}:3: expires '31/12/2026'"), result.err


def test_an_unreadable_env_file_names_the_option(tmp_path):
    missing = tmp_path / "app.env"
    result = run("scan", "-q", OLD, "--env-file", missing)
    assert result.code == 2
    assert result.err == f"auditor: error: --env-file {missing}: No such file or directory\n"
