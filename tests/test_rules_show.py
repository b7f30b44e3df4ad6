"""`auditor rules show PACK`: a pack's rules with what each rests on and its sources, as text and JSON; an unknown
pack is a usage error that lists the known ones; a pack with a misspelt key stops the command with its file and line."""

import json
import shutil

import pytest

from auditor.checks.rules import load_packs
from auditor.rule_data import rules_dir
from conftest import run

PACKS = sorted(load_packs())


@pytest.mark.parametrize("pack_id", PACKS)
def test_every_pack_is_shown_as_text_and_json(pack_id):
    pack = load_packs()[pack_id]
    text = run("rules", "show", pack_id)
    assert text.code == 0 and text.err == ""
    assert text.out.splitlines()[0].startswith(f"{pack.id} {pack.version}")
    assert pack.title in text.out and f"source: {pack.source or '(none given)'}" in text.out
    for rule in pack.rules:
        assert f"{rule.id} [{rule.severity}] check {rule.check}" in text.out
        assert f"  documented: {rule.documented}" in text.out
        for reference in rule.references:
            assert f"  reference: {reference}" in text.out

    shown = run("rules", "show", pack_id, "--format", "json")
    assert shown.code == 0
    data = json.loads(shown.out)
    assert (data["id"], data["title"], data["version"], data["source"]) == (pack.id, pack.title, pack.version, pack.source)
    assert [(r["id"], r["check"], r["severity"], r["documented"], r["references"]) for r in data["rules"]] == [
        (r.id, r.check, r.severity, r.documented, list(r.references)) for r in pack.rules]
    assert all("{" not in r["title"] for r in data["rules"])  # placeholders are named, not left as format fields


def test_a_title_keeps_its_fixed_parameters():
    data = json.loads(run("rules", "show", "ses-ats", "--format", "json").out)
    assert data["rules"][0]["title"] == ("<name> <version> was released before 2015-02-05, the cutoff Amazon SES gave "
                                         "for its ATS migration")


def test_an_unknown_pack_lists_the_known_ones():
    result = run("rules", "show", "dynamodb")
    assert result.code == 2 and result.out == ""
    assert f"unknown rule pack 'dynamodb'; known packs: {', '.join(PACKS)}" in result.err


def test_a_misspelt_key_names_the_pack_and_line(tmp_path, monkeypatch):
    shutil.copytree(rules_dir(), tmp_path / "rules")
    pack = tmp_path / "rules" / "packs" / "tls12.toml"
    lines = pack.read_text(encoding="utf-8").splitlines()
    at = next(n for n, line in enumerate(lines) if line.startswith("verify_severity"))
    lines[at] = lines[at].replace("verify_severity", "verfy_severity")
    pack.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("AUDITOR_RULES_DIR", str(tmp_path / "rules"))
    result = run("rules", "show", "tls12")
    assert result.code == 2 and result.out == ""
    assert f"rule pack {pack}:{at + 1}: rule 'tls12-java-client-default': unknown key 'verfy_severity'" in result.err
