"""The rule pack format: every shipped pack follows it, and each kind of mistake in a pack is an error that names
the pack file and the line, from the loader and from the command line (a pack of AUDITOR_RULES_DIR is the user's)."""

import json
import shutil
from pathlib import Path

import pytest
import tomli

from auditor.checks import rule_pack, rules
from auditor.checks.rule_pack import RulesError, load_pack
from auditor.checks.rules import load_packs
from auditor.rule_data import rules_dir
from conftest import ENVS, run

SES = (rules_dir() / "packs" / "ses-ats.toml").read_text(encoding="utf-8")
PROBE_RULE = """
[[rules]]
id = "probe-rule"
check = "probe"
component_kind = "probe"
severity = "critical"
error_severity = "high"
pass_severity = "info"
documented = "a client without the anchors fails"
references = ["https://www.amazontrust.com/repository/"]

[rules.title]
pass = "{who} verifies {endpoint}"
fail = "{who} fails {endpoint}"
error = "{endpoint} could not be probed"

[rules.remediation]
default = "Add Amazon Root CA 1."
"""


def test_every_shipped_pack_follows_the_format():
    shipped = sorted(path.stem for path in (rules_dir() / "packs").glob("*.toml"))
    packs = load_packs()
    assert sorted(packs) == sorted([*shipped, "waivers"])  # the waiver policy ships with the code
    # dynamodb-ats: 17, with os-store-locally-added and proxy-interception-ca-missing; rds-ca-rotation 2, s3-cloudfront-ats-2021 1
    assert sum(len(pack.rules) for pack in packs.values()) == 27
    for pack in packs.values():
        assert all(isinstance(rule, rule_pack.Rule) and rule.check in rule_pack.CHECKS for rule in pack.rules)
    assert set(rules.CHECKS) == set(rule_pack.CHECKS)  # each check has its format, and each format its check


def test_rules_keep_what_their_pack_says():
    pack = load_packs()["dynamodb-ats"]
    cutoff = next(rule for rule in pack.rules if rule.id == "ats-python-sdk-before-cutoff")
    assert (cutoff.severity, cutoff.severities) == ("high", {"shadowed": "medium", "unknown": "medium"})
    assert cutoff.applies_to == ("boto", "botocore", "awscli") and cutoff.cutoff == "2013-10-29"
    assert cutoff.line == _line_of(rules_dir() / "packs" / "dynamodb-ats.toml", "[[rules]]")  # its first rule
    assert cutoff.summary() == "<name> <version> was released before 2013-10-29 and may not trust ATS-issued certificates"
    missing = next(rule for rule in pack.rules if rule.id == "ats-store-missing")
    assert set(missing.severities) == {"unused", "falls_back", "ignored", "fallback"}


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.startswith(text))


def _broken(tmp_path, text: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _line(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


MISTAKES = [
    # (what is wrong, how the text is changed, the line the error names (its start), what it says)
    ("a misspelt *_severity key, once silently ignored", ("shadowed_severity", "shadowd_severity"), "shadowd_severity",
     "rule 'ses-python-sdk-before-cutoff': unknown key 'shadowd_severity' (known: id, check"),
    ("a severity key another check has", ("shadowed_severity", "pass_severity"), "pass_severity",
     "unknown key 'pass_severity'"),
    ("an unknown check", ('check = "released-before"', 'check = "released-after"'), "check =",
     "rule 'ses-python-sdk-before-cutoff': unknown check 'released-after' (known: released-before, unpinned"),
    ("a missing field", ('documented = "AWS (Amazon SES)', 'note = "AWS (Amazon SES)'), "note =", "unknown key 'note'"),
    ("a missing check parameter", ('cutoff = "2015-02-05"\n', ""), "[[rules]]",
     "rule 'ses-python-sdk-before-cutoff': missing cutoff (required: id, check, severity"),
    ("a cutoff that is a TOML date, not a string", ('cutoff = "2015-02-05"', "cutoff = 2015-02-05"), "cutoff =",
     "cutoff must be a date written as a string, like \"2013-10-29\""),
    ("a list written as a string", ('applies_to = ["boto", "botocore", "awscli", "boto3"]', 'applies_to = "boto"'),
     "applies_to =", "applies_to must be an array of strings"),
    ("an unknown severity", ('shadowed_severity = "medium"', 'shadowed_severity = "moderate"'), "shadowed_severity",
     "shadowed_severity 'moderate' is not a severity (critical, high, medium, low, info)"),
    ("a misspelt table name", ("[[rules]]", "[[rule]]"), "[[rule]]", "unknown key 'rule': a pack holds a [pack] table"),
    ("an unknown key in [pack]", ("default = false", "defualt = false"), "defualt",
     "[pack]: unknown key 'defualt' (known: id, title, version, default, source)"),
    ("a pack without its id", ('id = "ses-ats"\n', ""), "[pack]", "[pack]: missing id"),
    ("an unknown component kind", ('check = "released-before"', 'check = "released-before"\ncomponent_kind = "pip"'),
     "component_kind", "unknown component_kind 'pip'"),
]


@pytest.mark.parametrize("change,line_start,message", [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_a_mistake_in_a_pack_names_the_file_and_line(tmp_path, change, line_start, message):
    old, new = change
    assert SES.count(old) == 1
    text = SES.replace(old, new)
    path = _broken(tmp_path, text)
    with pytest.raises(RulesError) as raised:
        load_pack(path)
    assert str(raised.value).startswith(f"rule pack {path}:{_line(text, line_start)}: ")
    assert message in str(raised.value)


@pytest.mark.parametrize("change,line_start,message", [
    (("error = \"{endpoint} could not be probed\"\n", ""), "[rules.title]", "title has no text for error"),
    (("pass = \"{who} verifies", "passed = \"{who} verifies"), "passed =",
     "title has a text for 'passed', which is not an outcome of its check (pass, fail, error)"),
    (("error_severity = \"high\"\n", ""), "[[rules]]", "missing error_severity"),
    (('[rules.title]\npass = "{who} verifies {endpoint}"\nfail = "{who} fails {endpoint}"\n'
      'error = "{endpoint} could not be probed"\n', 'title = "one title"\n'), 'title = "one',
     "title must be a table of strings keyed by outcome (pass, fail, error)"),
], ids=["an outcome without a title", "a title for an outcome the check lacks", "a required severity missing",
        "a plain title where outcomes need one each"])
def test_a_check_with_outcomes_needs_a_title_for_each(tmp_path, change, line_start, message):
    good = SES.split("[[rules]]")[0] + PROBE_RULE
    assert load_pack(_broken(tmp_path, good)).rules[0].severities == {"error": "high", "pass": "info"}
    text = good.replace(*change)
    path = _broken(tmp_path, text)
    with pytest.raises(RulesError) as raised:
        load_pack(path)
    assert str(raised.value).startswith(f"rule pack {path}:{_line(text, line_start)}: "), str(raised.value)
    assert message in str(raised.value)


def test_a_matrix_rule_needs_a_title_for_each_status_it_gives_a_severity(tmp_path):
    text = (rules_dir() / "packs" / "tls12.toml").read_text(encoding="utf-8")
    text = text.replace('verify_severity = "medium"', 'verify_severity = "medium"\nsupported_severity = "info"')
    path = _broken(tmp_path, text)
    with pytest.raises(RulesError, match=rf"mine.toml:{_line(text, '[rules.title]')}: rule 'tls12-java-client-default': "
                                         r"title has no text for supported"):
        load_pack(path)


def test_whole_pack_mistakes(tmp_path):
    twice = SES + SES[SES.index("[[rules]]"):]
    first = _line(SES, "[[rules]]")
    with pytest.raises(RulesError, match=rf"mine.toml:{SES.count(chr(10)) + 1}: rule 'ses-python-sdk-before-cutoff' "
                                         rf"is defined twice \(first at line {first}\)"):
        load_pack(_broken(tmp_path, twice))
    inline = 'rules = [{id = "x"}]\n' + SES.split("[[rules]]")[0]
    with pytest.raises(RulesError, match=rf"mine.toml:{_line(inline, 'rules =')}: write each rule as its own \[\[rules\]\]"):
        load_pack(_broken(tmp_path, inline))
    with pytest.raises(RulesError, match=r"mine.toml: no \[\[rules\]\] tables"):
        load_pack(_broken(tmp_path, SES.split("[[rules]]")[0]))
    with pytest.raises(RulesError, match=r"mine.toml: not valid TOML: .*\(at line 3"):
        load_pack(_broken(tmp_path, "[pack]\nid = 'x'\ntitle = \n"))


def test_a_bad_pack_in_the_rules_directory_is_a_usage_error(tmp_path, monkeypatch):
    """AUDITOR_RULES_DIR names the user's own rules: a mistake in one of its packs stops the command (exit 2)
    with the file and line, before anything is scanned."""
    shutil.copytree(rules_dir(), tmp_path / "rules")
    pack = tmp_path / "rules" / "packs" / "ses-ats.toml"
    pack.write_text(SES.replace("shadowed_severity", "shadowd_severity"), encoding="utf-8")
    monkeypatch.setenv("AUDITOR_RULES_DIR", str(tmp_path / "rules"))
    expected = f"rule pack {pack}:{_line(SES, 'shadowed_severity')}: rule 'ses-python-sdk-before-cutoff': unknown key 'shadowd_severity'"
    for args in (("scan", ENVS / "py3-old-botocore"), ("rules", "list"), ("truststore", rules_dir() / "anchors")):
        result = run(*args)
        assert result.code == 2, args
        assert expected in result.err and result.out == ""
    (tmp_path / "rules" / "packs" / "copy.toml").write_text(SES.replace("shadowd_severity", "shadowed_severity"))
    pack.write_text(SES, encoding="utf-8")
    result = run("rules", "list")
    assert result.code == 2 and f"{pack}: id 'ses-ats' is taken by {pack.with_name('copy.toml')}" in result.err


# -- the cache of parsed rule data (auditor.rule_data.parsed_toml) ------------------------------------------------

def _cache_entries(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir()} if folder.is_dir() else {}


def _cached_pack(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """(the parse cache's folder, a pack file) for a test of the cache, which starts empty."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(cache))
    pack = tmp_path / "ses-ats.toml"
    pack.write_text(SES, encoding="utf-8")
    return cache, pack


def test_a_pack_is_parsed_once_and_an_edited_pack_is_parsed_again(tmp_path, monkeypatch):
    cache, pack = _cached_pack(tmp_path, monkeypatch)
    first = load_pack(pack)
    entries = _cache_entries(cache)
    assert len(entries) == 1 and (cache / next(iter(entries))).stat().st_mode & 0o077 == 0
    assert load_pack(pack) == first  # from the entry: the same pack, rule for rule
    assert _cache_entries(cache) == entries
    pack.write_text(SES.replace('severity = "high"', 'severity = "low"', 1), encoding="utf-8")
    edited = load_pack(pack)
    assert edited.rules[0].severity == "low" != first.rules[0].severity  # never the older parse
    assert len(_cache_entries(cache)) == 2


def test_a_cache_entry_others_may_write_or_that_is_not_json_is_not_used(tmp_path, monkeypatch):
    cache, pack = _cached_pack(tmp_path, monkeypatch)
    expected = load_pack(pack)
    (entry,) = cache.iterdir()
    forged = SES.replace('severity = "high"', 'severity = "info"', 1)
    entry.write_text(json.dumps(tomli.loads(forged)), encoding="utf-8")
    entry.chmod(0o666)  # another user could have written it
    assert load_pack(pack) == expected
    entry.write_text("{not json", encoding="utf-8")
    entry.chmod(0o600)
    assert load_pack(pack) == expected
    assert json.loads(entry.read_text(encoding="utf-8")) == tomli.loads(SES)  # replaced


def test_the_cache_keeps_its_newest_entries_and_only_its_own_files(tmp_path, monkeypatch):
    """Each content parsed makes an entry; past MAX_ENTRIES the oldest written go when one is written, and so do the
    temporary files a crash left a day ago; another file in a folder AUDITOR_CACHE_DIR names is never touched."""
    import hashlib
    import os
    import time

    from auditor import rule_data

    cache, pack = _cached_pack(tmp_path, monkeypatch)
    cache.mkdir()
    now = time.time()
    old = []
    for n in range(rule_data.MAX_ENTRIES + 10):
        entry = cache / f"{hashlib.sha256(str(n).encode()).hexdigest()}.json"
        entry.write_text("{}", encoding="utf-8")
        os.utime(entry, (now - 10_000 + n, now - 10_000 + n))
        old.append(entry.name)
    crashed, writing = cache / f"{old[0]}.123.tmp", cache / f"{old[1]}.456.tmp"
    for temporary, age in ((crashed, 2 * 24 * 3600), (writing, 60)):
        temporary.write_text("{", encoding="utf-8")
        os.utime(temporary, (now - age, now - age))
    (cache / "notes.txt").write_text("mine", encoding="utf-8")
    (cache / f"{'0' * 64}.json.d").mkdir()
    load_pack(pack)
    names = {path.name for path in cache.iterdir()}
    entries = {name for name in names if len(name) == 69 and name.endswith(".json")}
    written = hashlib.sha256(pack.read_bytes()).hexdigest() + ".json"
    assert entries == {written, *old[-(rule_data.MAX_ENTRIES - 1):]}  # the one just written, and the newest others
    assert crashed.name not in names and writing.name in names
    assert {"notes.txt", f"{'0' * 64}.json.d"} <= names


def test_rule_packs_load_when_the_cache_cannot_be_written(tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("", encoding="utf-8")
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(blocked / "cache"))
    assert "dynamodb-ats" in load_packs()
    assert blocked.read_text(encoding="utf-8") == ""
    assert not list(tmp_path.glob("**/*.tmp"))


def test_the_command_answers_the_same_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "cache"))
    parsed = run("rules", "list")
    assert parsed.code == 0 and _cache_entries(tmp_path / "cache")
    cached = run("rules", "list")
    assert (cached.code, cached.out, cached.err) == (parsed.code, parsed.out, parsed.err)
