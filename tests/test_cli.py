"""The command line end to end: exit codes, formats, output files, help, this machine."""

import json
import os
import subprocess
import sys


from conftest import ENVS, LOCKS, Result, run, scan_json

OLD = ENVS / "py3-old-botocore"
MODERN = ENVS / "py3-venv"


def test_exit_codes_follow_fail_on(tmp_path):
    assert run("scan", "-q", OLD).code == 1
    assert run("scan", "-q", MODERN).code == 0
    unpinned = tmp_path / "requirements.txt"
    unpinned.write_text("boto3>=1.0\n")
    assert run("scan", "-q", unpinned).code == 0  # one low finding, below the default 'high'
    assert run("scan", "-q", "--fail-on", "low", unpinned).code == 1
    assert run("scan", "-q", "--fail-on", "critical", OLD).code == 0


def test_usage_errors_and_nothing_scanned_exit_2(tmp_path):
    assert run("scan", "--format", "yaml").code == 2
    assert run("scan", "--fail-on", "severe").code == 2
    missing = run("scan", "-q", tmp_path / "nope")
    assert missing.code == 2 and "nothing could be scanned" in missing.err and "no such file" in missing.err
    assert "Traceback" not in missing.err
    fifo = tmp_path / "requirements.txt"
    os.mkfifo(fifo)
    assert run("scan", "-q", fifo).code == 2
    assert run("scan", "--pack", "no-such-pack", OLD).code == 2


def test_one_missing_target_among_good_ones_is_an_error_entry_and_exit_2(tmp_path):
    result = run("scan", "--format", "json", "-q", OLD, tmp_path / "nope")
    assert result.code == 2 and f"{tmp_path / 'nope'}: no such file or directory" in result.err
    missing = str(tmp_path / "nope")
    assert result.json["errors"] == [{"location": missing, "message": "no such file or directory", "target": missing}]
    assert {"kind": "unreadable", "location": missing, "details": {"reason": "no such file or directory"}} in result.json["targets"]
    assert result.json["summary"]["not_scanned"] == 1
    assert any(f["severity"] == "high" for f in result.json["findings"])  # the target that was read is still judged


def test_json_output_file_is_valid_and_deterministic(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run("scan", "--format", "json", "-o", first, "-q", LOCKS, ENVS).code == 1
    assert run("scan", "--format", "json", "-o", second, "-q", LOCKS, ENVS).code == 1
    a, b = (json.loads(p.read_text()) for p in (first, second))
    assert Result(0, first.read_text(), "").json  # schema-valid
    a.pop("generated_at"), b.pop("generated_at")
    assert a.pop("run")["command"] == ["auditor", "scan", "--format", "json", "-o", str(first), "-q", str(LOCKS), str(ENVS)]
    assert b.pop("run")["command"][5] == str(second)
    assert a == b
    ids = [c["id"] for c in a["components"]]
    assert len(ids) == len(set(ids))
    assert {f["component"] for f in a["findings"]} <= set(ids)


def test_table_output_names_findings_and_remediation():
    result = run("scan", "-q", "--width", "200", OLD)
    assert "HIGH" in result.out and "botocore 0.21.0 was released before 2013-10-29" in result.out
    assert "result: FAIL" in result.out
    assert "Upgrade botocore" in result.out


def test_tree_scan_skips_vcs_and_node_modules_and_never_loops(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "requirements.txt").write_text("boto==2.9.0\n")
    (repo / "node_modules" / "x").mkdir(parents=True)
    (repo / "node_modules" / "x" / "requirements.txt").write_text("boto==2.9.0\n")
    (repo / "service").mkdir()
    (repo / "service" / "requirements.txt").write_text("botocore==0.21.0\n")
    (repo / "service" / "loop").symlink_to("..")
    (repo / "service" / "up").symlink_to(tmp_path)
    report = scan_json(repo)
    assert [(c["name"], c["location"]) for c in report["components"]] == [("botocore", f"{repo}/service/requirements.txt")]


def test_help_explains_each_command():
    for args in (["--help"], ["scan", "--help"], ["rules", "--help"]):
        result = run(*args)
        assert result.code == 0
    assert "exit codes" in run("scan", "--help").out
    assert "lockfile" in run("scan", "--help").out


def test_rules_list_names_the_default_pack():
    result = run("rules", "list")
    assert result.code == 0
    assert "dynamodb-ats" in result.out and "(default)" in result.out and "before 2013-10-29" in result.out
    assert "ses-ats" in result.out


def test_selecting_another_pack_uses_its_cutoff():
    report = scan_json("--pack", "ses-ats", MODERN)
    assert report["rule_packs"][0]["id"] == "ses-ats"
    assert report["findings"] == []
    report = scan_json("--pack", "ses-ats", OLD)
    assert {f["rule"] for f in report["findings"]} == {"ses-python-sdk-before-cutoff"}


def test_python_dash_m_and_version():
    out = subprocess.run([sys.executable, "-m", "auditor", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("auditor ")
    out = subprocess.run([sys.executable, "-m", "auditor", "scan", "--format", "json", "-q", str(OLD)], capture_output=True, text=True)
    assert out.returncode == 1
    assert Result(1, out.stdout, out.stderr).json["summary"]["findings"]["high"] == 2


def test_schema_command_prints_the_published_schema():
    result = run("schema")
    assert json.loads(result.out)["title"] == "auditor report"


def test_scan_of_this_machine_reads_the_running_interpreter(tmp_path):
    result = run("scan", "--format", "json", "-q")
    assert result.code in (0, 1)
    report = result.json
    kinds = {t["kind"] for t in report["targets"]}
    assert {"machine", "environment"} <= kinds
    running = next(t for t in report["targets"] if t["details"].get("layout") == "running interpreter")
    assert running["location"] == sys.prefix
    assert running["details"]["distributions"] > 0


def test_a_lockfile_named_through_a_symlink_is_read(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "requirements.txt").write_text("-r base.txt\n")
    (tmp_path / "real" / "base.txt").write_text("botocore==0.21.0\n")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real" / "requirements.txt")
    report = scan_json(tmp_path / "link.txt")
    assert [(c["name"], c["version"], c["location"]) for c in report["components"]] == [
        ("botocore", "0.21.0", str(tmp_path / "real" / "base.txt"))]
    assert report["errors"] == []


def test_reports_show_the_command_line_with_keystore_passwords_masked():
    from auditor.cli.parser import shown_command_line

    assert shown_command_line(["auditor", "truststore", "cacerts", "--storepass", "changeit", "--storepass=s3cret",
                               "--storepass-env", "KS_PASS", "https://user:tok@example.com/x"]) == [
        "auditor", "truststore", "cacerts", "--storepass", "***", "--storepass=***", "--storepass-env", "KS_PASS",
        "https://***@example.com/x"]


def test_an_unset_storepass_variable_is_a_usage_error_of_truststore_and_probe(tmp_path, monkeypatch):
    monkeypatch.delenv("AUDITOR_UNSET_KS_PASS", raising=False)
    store = tmp_path / "cacerts"
    store.write_bytes(b"")
    for command in (("truststore", store), ("probe", "--truststore", store)):
        result = run(*command, "--storepass-env", "AUDITOR_UNSET_KS_PASS")
        assert result.code == 2 and "--storepass-env: the variable AUDITOR_UNSET_KS_PASS is not set" in result.err
        assert result.out == ""
