"""Output that cannot be turned against its reader: names and contents of a scanned tree that carry
terminal control sequences, bidi overrides, a bare carriage return, a spreadsheet formula, HTML and
@mentions, shown inert in every format a person reads (table, CSV, Markdown, HTML, and `report diff`)."""

import csv
import io
import re

import pytest

from auditor.report.csv_report import COLUMNS
from conftest import run

ESC, BEL, CSI_8BIT = "\x1b", "\x07", "\x9b"
# A name that erases the line above and rewrites it, sets the window title, and reverses what follows.
ERASING = f"deploy{ESC}[2K{ESC}[1A{ESC}]0;pwned{BEL}{CSI_8BIT}31m\u202eyp.tpircs\u2066.py"
# A bare carriage return, then a cell a spreadsheet would read as a formula.
CARRIAGE_RETURN = "report\r=1+2+cmd|' -C calc'!A0.py"
# A line feed, then the same.
LINE_FEED = "notes\n=HYPERLINK(\"evil.example\").py"
MARKUP = "`@octocat` <img src=x onerror=alert(1)> [x](javascript:alert(1)).py"
VERIFY_OFF = 'import boto3\n\nboto3.client("s3", verify=False)\n'
# Characters a terminal or a text renderer acts on: C0 (but the line feed), DEL, C1, bidi controls.
ACTED_ON = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def hostile_tree(top, *names):
    top.mkdir()
    for name in names:
        (top / name).write_text(VERIFY_OFF)
    # Contents too: an OSC that sets the title inside a requirement's URL reaches the finding's title.
    (top / "requirements.txt").write_text(f"boto3 @ https://example.com/{ESC}]0;owned{BEL}boto3.whl\n")
    return top


def rendered(target, fmt, width="400") -> str:
    result = run("scan", "-q", "--format", fmt, "--width", width, target)  # 400: escapes whole, not wrapped
    assert result.code == 1, result.err
    return result.out


@pytest.mark.parametrize("fmt", ["table", "csv", "html"])
def test_control_sequences_in_names_and_contents_are_shown_as_escapes(tmp_path, fmt):
    tree = hostile_tree(tmp_path / "repo", ERASING)
    text = rendered(tree, fmt)
    assert not ACTED_ON.findall(text)
    unwrapped = "".join(text.split())  # the table wraps long cells; none of these values holds a space
    assert "deploy\\x1b[2K\\x1b[1A\\x1b]0;pwned\\x07\\x9b31m\\u202eyp.tpircs\\u2066.py" in unwrapped
    assert "https://example.com/\\x1b]0;owned\\x07boto3.whl" in unwrapped


def test_table_columns_stay_aligned_around_an_escaped_name(tmp_path):
    """The escapes are made before the table measures its cells, so the wrapped name keeps its column."""
    tree = hostile_tree(tmp_path / "repo", ERASING)
    lines = rendered(tree, "table", width="100").splitlines()
    header = lines.index(next(line for line in lines if line.startswith("setting ")))
    column = lines[header].index("where")
    rows = lines[header + 2:lines.index("", header)]
    assert len(rows) > 1 and rows[0].startswith("verify=False") and rows[0].index("disabled") == lines[header].index("effect")
    assert all(row[:column].endswith("  ") and row[column] != " " for row in rows)
    assert "".join(row[column:] for row in rows).endswith("\\u2066.py:3")


def test_markdown_replaces_control_and_bidi_characters(tmp_path):
    text = rendered(hostile_tree(tmp_path / "repo", ERASING), "markdown")
    assert not ACTED_ON.findall(text)
    assert "deploy\ufffd\\[2K\ufffd\\[1A\ufffd\\]0;pwned\ufffd\ufffd31m\ufffdyp.tpircs\ufffd.py" in text
    assert "(@ https://example.com/\ufffd\\]0;owned\ufffdboto3.whl)" in text


def test_csv_bare_carriage_return_stays_in_its_cell_and_every_line_is_guarded(tmp_path):
    tree = hostile_tree(tmp_path / "repo", CARRIAGE_RETURN, LINE_FEED)
    text = rendered(tree, "csv")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(COLUMNS)
    assert all(len(row) == len(COLUMNS) for row in rows)
    locations = {row[COLUMNS.index("location")] for row in rows[1:]}
    assert str(tree / "report\\r=1+2+cmd|' -C calc'!A0.py") in locations
    assert str(tree / "notes\n'=HYPERLINK(\"evil.example\").py") in locations
    # What a spreadsheet sees: each line of each cell, and each line of the file as a reader that also
    # ends a row at a bare CR (or any other line separator) splits it.
    for row in rows:
        for cell in row:
            assert not any(line.startswith(("=", "+", "-", "@", "\t", "\r")) for line in cell.splitlines()), cell
    for line in text.splitlines():
        assert not line.startswith(("=", "+", "-", "@", "\t")), line
    assert len(text.split("\r")) == 1  # no bare CR anywhere that a reader could take as a row's end


def saved_pair(tmp_path, *names):
    """Two saved JSON reports of one tree: before the hostile files were added, and after."""
    tree = hostile_tree(tmp_path / "repo")
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    assert run("scan", "-q", "--format", "json", "-o", before, tree).code in (0, 1)
    for name in names:
        (tree / name).write_text(VERIFY_OFF)
    assert run("scan", "-q", "--format", "json", "-o", after, tree).code == 1
    return before, after


def test_report_diff_table_shows_controls_as_escapes(tmp_path):
    before, after = saved_pair(tmp_path, ERASING)
    result = run("report", "diff", "--width", "400", before, after)
    assert result.code == 1, result.err
    assert not ACTED_ON.findall(result.out)
    assert "deploy\\x1b[2K\\x1b[1A\\x1b]0;pwned\\x07\\x9b31m\\u202eyp.tpircs\\u2066.py:3" in "".join(result.out.split())


def test_report_diff_markdown_escapes_as_the_markdown_report_does(tmp_path):
    before, after = saved_pair(tmp_path, MARKUP, ERASING)
    result = run("report", "diff", "--format", "markdown", before, after)
    assert result.code == 1, result.err
    text = result.out
    assert not ACTED_ON.findall(text)
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "@octocat" not in text and "@\u2060octocat" in text
    assert not re.findall(r"(?<!\\)`", text)  # no code span: every backtick is escaped
    assert "\\[x\\](javascript:alert(1))" in text
    new_rows = [line for line in text.splitlines() if line.startswith("| HIGH |")]
    assert len(new_rows) == 2 and all(line.count(" | ") == 3 for line in new_rows)
    # The same name in `scan --format markdown` is written the same way.
    scanned = rendered(tmp_path / "repo", "markdown")
    shown = next(part for part in text.split(" | ") if "octocat" in part)
    assert shown in scanned


def test_an_error_message_that_quotes_a_hostile_name_shows_its_controls(tmp_path):
    missing = tmp_path / f"saved{ESC}]0;owned{BEL}\u202e.json"
    result = run("report", "render", missing)
    assert result.code == 2 and not ACTED_ON.findall(result.err)
    assert "saved\\x1b]0;owned\\x07\\u202e.json" in result.err


@pytest.mark.parametrize("written", ["as its JSON escape", "as raw bytes"])
def test_a_saved_report_with_a_lone_surrogate_is_refused_by_name(tmp_path, written):
    """A saved report edited by hand (or by a tool) with a lone surrogate in a client's trust reason, written as
    "\\ud800" or as its three UTF-8-style bytes (ED A0 80, which json.loads of bytes lets through): not text any
    format could write, so it is refused with the file's name, never a traceback."""
    import json
    from pathlib import Path

    recorded = json.loads((Path(__file__).parent / "golden" / "env-py3-old-botocore.json").read_text(encoding="utf-8"))
    report = recorded["report"]
    client = next(c for c in report["components"] if c["details"].get("trust_reasons"))
    client["details"]["trust_reasons"][0] = "\ud800 then the reason"
    saved = tmp_path / "report.json"
    text = json.dumps(report)  # ensure_ascii: the surrogate as its JSON escape
    saved.write_bytes(text.encode("ascii") if written == "as its JSON escape" else
                      text.replace("\\ud800", "\ud800").encode("utf-8", "surrogatepass"))
    result = run("report", "render", saved, "--format", "table")
    assert result.code == 2 and str(saved) in result.err and "holds a lone surrogate" in result.err, result.err
